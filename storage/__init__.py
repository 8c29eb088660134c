"""Persistence: SQLAlchemy models, repositories, Alembic migrations, the FSM storage."""
