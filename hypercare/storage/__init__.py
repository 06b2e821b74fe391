"""The store of record, shared by the API and the worker.

Engine, ORM models, Alembic migrations, the event store and the quarantine.
"""
