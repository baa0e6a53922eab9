"""Command line for the directory: `python -m bot.directory migrate|check|load [FILE ...]`.

App environment. Without FILE arguments, `check` and `load` use the sample files in
data/directory/. Exit status 1 and a list of problems when a file is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.directory.data_file import DirectoryFileError
from bot.directory.db import database_url, dispose_engines, session_maker
from bot.directory.loader import load_files, read_all, sample_files
from bot.directory.migrate import upgrade_async


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.directory", description=__doc__)
    parser.add_argument("command", choices=("migrate", "check", "load"))
    parser.add_argument("files", nargs="*", type=Path, help="city data files (YAML)")
    args = parser.parse_args(argv)
    files = args.files or sample_files()
    try:
        if args.command == "check":
            for directory in read_all(files):
                active = sum(1 for s in directory.services if s.status == "active")
                print(
                    f"{directory.city.slug}: {len(directory.services)} services "
                    f"({active} active), no problems"
                )
            return 0
        return asyncio.run(_write(args.command, files))
    except DirectoryFileError as error:
        print(error, file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 1


async def _write(command: str, files: list[Path]) -> int:
    url = database_url()
    try:
        await upgrade_async(url)
        if command == "load":
            for report in await load_files(session_maker(), files):
                print(
                    f"loaded {report.city}: {report.services} services "
                    f"({report.active_services} active)"
                )
        else:
            print("directory database is up to date")
    except OSError as error:
        print(
            f"cannot reach the directory database ({error}); check DIRECTORY_DATABASE_URL",
            file=sys.stderr,
        )
        return 1
    finally:
        await dispose_engines()
    return 0


if __name__ == "__main__":
    sys.exit(main())
