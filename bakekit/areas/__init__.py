"""The workspace's areas: one module per area of the domain."""
