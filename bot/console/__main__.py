"""Command line for staff accounts: `python -m bot.console create-admin --email E --name N`.

App environment. The password is asked for twice on the terminal (or read from standard
input with `--password-stdin`, for scripts); it is never a default and never an argument,
so it stays out of the shell history and the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from bot.console.accounts import AccountError, create_user
from bot.directory.db import database_url, dispose_engines, session_maker
from bot.directory.migrate import upgrade_async


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("The same password again: ") != first:
        raise AccountError("the two passwords differ")
    return first


async def _create_admin(email: str, name: str, password: str) -> None:
    try:
        await upgrade_async(database_url())
        async with session_maker()() as session, session.begin():
            await create_user(session, email, name, "admin", password)
    finally:
        await dispose_engines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.console", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_create_admin(args.email, args.name, _password(args.password_stdin)))
    except AccountError as error:
        print(f"No account was created: {error}.", file=sys.stderr)
        return 1
    except OSError as error:
        print(
            f"cannot reach the directory database ({error}); check DIRECTORY_DATABASE_URL",
            file=sys.stderr,
        )
        return 1
    print(f"Admin account created for {args.email}. Log in at /console on the web app.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
