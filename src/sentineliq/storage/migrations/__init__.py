"""Alembic migration environment (package data; loaded by Alembic, not imported)."""
