"""Alembic migrations, shipped inside the package so `hotpapers db upgrade` works anywhere."""
