"""The entity lookup tables know every name of the directory's cities and districts."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_lookup_tables_are_up_to_date():
    spec = importlib.util.spec_from_file_location(
        "update_lookups", ROOT / "scripts" / "update_lookups.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, expected in module.expected_files().items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.name} is out of date: run `.venv/app/bin/python scripts/update_lookups.py`"
        )
