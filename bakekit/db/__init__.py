"""Database layer: engine setup, models and Alembic migrations."""
