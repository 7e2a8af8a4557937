"""Stock: the items lots hold, the lots and their ledger, the FIFO walk, the lot queries."""
