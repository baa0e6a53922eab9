"""Command line for the directory: `python -m bot.directory migrate|check|load [FILE ...]`,
`python -m bot.directory backup [FILE]` and `python -m bot.directory restore FILE`.

App environment. Without FILE arguments, `check` and `load` use the sample files in
data/directory/. Exit status 1 and a list of problems when a file is wrong. `load` prints
what it changed; services staff edited in the console are kept as they are unless
`--overwrite-staff-edits` is given, and `--dry-run` shows the changes without making them.
`backup` copies the whole directory database (also while the assistant runs), by default to
backups/directory-YYYYmmdd-HHMMSS.sqlite (.dump for PostgreSQL); `restore` checks a backup,
saves the database as it is next to it, puts the backup in its place and migrates it (stop
the web app and the action server first). See bot/directory/backup.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.directory.backup import BackupError, Database, backup, default_backup_file, restore
from bot.directory.data_file import DirectoryFileError
from bot.directory.db import database_url, dispose_engines, session_maker
from bot.directory.loader import load_files, read_all, sample_files
from bot.directory.migrate import upgrade_async


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.directory", description=__doc__)
    parser.add_argument("command", choices=("migrate", "check", "load", "backup", "restore"))
    parser.add_argument(
        "files", nargs="*", type=Path, help="city data files (YAML); backup, restore: the backup"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="load: show what would change, change nothing"
    )
    parser.add_argument(
        "--overwrite-staff-edits",
        action="store_true",
        help="load: take the file's version of services that staff edited (kept in history)",
    )
    args = parser.parse_args(argv)
    if args.command in ("backup", "restore"):
        if len(args.files) > 1 or (args.command == "restore" and not args.files):
            parser.error(f"{args.command} takes one backup file")
        return _backup_or_restore(args.command, args.files[0] if args.files else None)
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
        return asyncio.run(_write(args, files))
    except DirectoryFileError as error:
        print(error, file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 1


async def _write(args: argparse.Namespace, files: list[Path]) -> int:
    url = database_url()
    try:
        await upgrade_async(url)
        if args.command == "load":
            plans = await load_files(
                session_maker(),
                files,
                overwrite_staff_edits=args.overwrite_staff_edits,
                dry_run=args.dry_run,
            )
            for plan in plans:
                print(("would load " if args.dry_run else "loaded ") + plan.summary())
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


def _backup_or_restore(command: str, file: Path | None) -> int:
    database = Database(database_url())
    try:
        if command == "backup":
            print(backup(database, file or default_backup_file(database)))
        else:
            print(restore(database, file))
    except BackupError as error:
        print(f"{command} failed: {error}", file=sys.stderr)
        if command == "restore" and not error.database_changed:
            print("Nothing was changed.", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{command} failed: {error}; nothing was changed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
