"""Test and benchmark tooling: the three processes as `make run` starts them
(`stack`), a throwaway PostgreSQL server (`postgres`). App environment; never shipped
inside the `bot` package."""
