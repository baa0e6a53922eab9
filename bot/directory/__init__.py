"""The service directory: HSDS-style tables, import from data files, and what the
assistant asks of it. App environment (SQLAlchemy 2, async).

Storage: `models` (tables), `db` (engines), `migrate` (Alembic), `data_file` (the YAML
format and its checks), `loader` (import), `phones`. Reading: `sql` (shared query parts),
`facts` (a few services in one statement), `places` (cities, districts), `answers` (one
office's card and details), `ranking` (the best offices for a topic), `nearest` (the
nearest offices). Time: `opening_hours` (pure), `public_holidays`.
"""
