"""The state store: SQLAlchemy Core tables, Alembic migrations, engine setup, run/leader locks and bulk helpers.

Modules: :mod:`.tables` (the tables), :mod:`.types` (aware-UTC timestamps), :mod:`.db` (engines and error
mapping), :mod:`.migrate` (schema upgrades), :mod:`.locks` (one run at a time, one leader), :mod:`.bulk` (batched
writes and compact readers used by a sync's single apply transaction).
"""
