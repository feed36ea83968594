"""Alembic migrations, shipped inside the package so `hotpapers db upgrade` works
anywhere. It may import storage and the base modules.
"""
