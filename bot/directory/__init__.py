"""The service directory: HSDS-style tables, import from data files, queries, opening hours.

App environment (SQLAlchemy 2, async). Modules: `models` (tables), `db` (engines),
`data_file` (the YAML format and its checks), `loader` (import), `migrate` (Alembic),
`opening_hours` (when a service is open), `queries` (what the assistant asks).
"""
