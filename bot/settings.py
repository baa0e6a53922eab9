"""Every setting of Welcome Desk's processes, read from environment variables in one place.

App environment. `settings()` reads them, fills in the defaults of the single-machine
setup, and raises `SettingsError` naming each wrong variable, its value and what to write
instead. `python -m bot.settings exec -- COMMAND` checks them, puts every resolved value
into the environment and runs COMMAND: `make run` starts the three processes that way, so
a wrong value stops it at once with a clear message, and endpoints.yml and supervisord.conf
get their values from here.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REPO_ROOT = Path(__file__).resolve().parents[1]
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
TRACKER_STORE_SCHEMES = ("sqlite", "postgresql", "redis", "rediss")
REDIS_SCHEMES = ("redis", "rediss", "unix")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Loopback: a reverse proxy on the same machine.
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1"

# The variables, each read only here (the README's configuration table lists them).
NAMES = (
    "RASA_HOST",
    "RASA_PORT",
    "ACTION_HOST",
    "ACTION_PORT",
    "WEB_HOST",
    "WEB_PORT",
    "RASA_URL",
    "ACTION_SERVER_URL",
    "NLG_URL",
    "DIRECTORY_DATABASE_URL",
    "RASA_TRACKER_STORE_URL",
    "RASA_WORKERS",
    "REDIS_URL",
    "TRUSTED_PROXIES",
    "MESSAGES_PER_MINUTE_PER_SENDER",
    "MESSAGES_PER_MINUTE_PER_ADDRESS",
    "RASA_AUTH_TOKEN",
    "NLG_TOKEN",
    "METRICS_TOKEN",
    "CHANNEL_SECRET",
    "CONSOLE_SECRET",
    "CONSOLE_SECURE_COOKIES",
    "LOG_FORMAT",
    "RETENTION_DAYS",
    "CONTENT_GAP_RETENTION_DAYS",
    "HANDOFF_RETENTION_DAYS",
    "FEEDBACK_RETENTION_DAYS",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_API_BASE_URL",
)
SECRETS = frozenset(
    {
        "RASA_AUTH_TOKEN",
        "NLG_TOKEN",
        "METRICS_TOKEN",
        "CHANNEL_SECRET",
        "CONSOLE_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_ACCESS_TOKEN",
    }
)
WHATSAPP_NAMES = (
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
)
# endpoints.yml reads these, and Rasa refuses to start on an unset ${VARIABLE}: unset, they
# are exported empty.
EXPORTED_WHEN_UNSET = ("REDIS_URL",)
LOG_FORMATS = ("text", "json")
# Meta's Graph API, at a pinned version (https://developers.facebook.com/docs/graph-api/).
GRAPH_API_BASE_URL = "https://graph.facebook.com/v21.0"


class SettingsError(ValueError):
    """One or more settings are wrong; the message lists each with what to write instead."""


@dataclass(frozen=True)
class Settings:
    rasa_host: str  # where the Rasa server listens
    rasa_port: int
    action_host: str  # where the action server listens (it has no token: keep it internal)
    action_port: int
    web_host: str  # where the web app listens
    web_port: int
    rasa_url: str  # how the web app reaches Rasa
    action_server_url: str  # how Rasa reaches the action server
    nlg_url: str  # how Rasa reaches the web app's response renderer
    directory_database_url: str
    # Rasa's conversation store: sqlite:///file, postgresql://..., or redis://...
    rasa_tracker_store_url: str
    # Rasa server processes (Sanic workers) on this machine, sharing its port and the model
    # loaded once before them; 2 by default (1 on one core). Without REDIS_URL they take
    # turns per conversation by lock files (decision 0017).
    rasa_workers: int
    # Redis for the locks, de-duplication and rate limits shared by several processes;
    # unset: one machine, kept in each process.
    redis_url: str | None
    # The reverse proxies in front of the web app whose X-Forwarded-For names the client
    # (bot/web/client_address.py): addresses and networks, comma-separated.
    trusted_proxies: str
    # How many messages one user may send per minute, on any channel; and how many the
    # widget takes per minute from one client address (WhatsApp's all come from Meta).
    messages_per_minute_per_sender: int
    messages_per_minute_per_address: int
    rasa_auth_token: str | None  # when set, Rasa's HTTP API requires ?token=...
    # What Rasa shows the web app's response renderer (/nlg); unset: var/nlg-token.
    nlg_token: str | None
    # What a scraper of /metrics (web app, action server) shows as `Authorization: Bearer
    # ...`; unset: only requests from this machine that came through no proxy.
    metrics_token: str | None
    # Keys the pseudonymous sender ids (bot/channels/pseudonyms.py); unset: var/channel-secret.
    channel_secret: str | None
    # Encrypts the staff console's session cookies (bot/console/security.py); unset:
    # var/console-secret. Cookies are sent over HTTPS only unless the web app listens on
    # loopback (CONSOLE_SECURE_COOKIES=true|false overrides).
    console_secret: str | None
    console_secure_cookies: bool
    # How the web app and the action server write their logs: "text" lines for people, or
    # "json", one object per line for a log collector. Neither carries message text.
    log_format: str
    # Days a conversation is kept in Rasa's tracker store after its last message.
    retention_days: int
    # Days a content gap (a question the assistant could not answer) is kept.
    content_gap_retention_days: int
    # Days a conversation handed over to staff is kept after the user's last message.
    handoff_retention_days: int
    # Days a rating of an answer ("helpful" / "not helpful") is kept.
    feedback_retention_days: int
    # WhatsApp Cloud API (bot/channels/whatsapp.py): all four set, or the channel is off.
    whatsapp_verify_token: str | None
    whatsapp_app_secret: str | None
    whatsapp_access_token: str | None
    whatsapp_phone_number_id: str | None
    whatsapp_api_base_url: str

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return _networks(self.trusted_proxies)

    @property
    def whatsapp_enabled(self) -> bool:
        return all(getattr(self, name.lower()) for name in WHATSAPP_NAMES)

    def resolved_nlg_token(self) -> str:
        """NLG_TOKEN, else the token kept in var/nlg-token (made on first use)."""
        from bot.channels.pseudonyms import channel_secret

        return channel_secret(self.nlg_token, REPO_ROOT / "var" / "nlg-token").decode()

    def environment(self) -> dict[str, str]:
        """Every setting as the environment variable it is read from (NLG_TOKEN resolved:
        Rasa shows it to the web app, which checks it)."""
        values = {name: getattr(self, name.lower()) for name in NAMES}
        values["NLG_TOKEN"] = self.resolved_nlg_token()
        return {
            name: "" if value is None else str(value)
            for name, value in values.items()
            if value is not None or name in EXPORTED_WHEN_UNSET
        }


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from `environ` (default: the process environment); an empty variable
    counts as unset. Raises SettingsError listing every wrong value."""
    environ = os.environ if environ is None else environ
    return _settings(tuple(environ.get(name) or None for name in NAMES))


@lru_cache(maxsize=8)
def _settings(values: tuple[str | None, ...]) -> Settings:
    raw = dict(zip(NAMES, values, strict=True))
    problems: list[str] = []

    def whole_number(name: str, default: int, low: int, high: int, kind: str) -> int:
        text = raw[name]
        if text is None:
            return default
        if not text.isdigit() or not low <= int(text) <= high:
            problems.append(f"{name}={text!r} {kind} ({low} to {high}), e.g. {default}")
            return default
        return int(text)

    def port(name: str, default: int) -> int:
        return whole_number(name, default, 1, 65535, "is not a port number")

    def days(name: str, default: int) -> int:
        return whole_number(name, default, 1, 3650, "must be a number of days")

    def workers(name: str, default: int) -> int:
        return whole_number(name, default, 1, 16, "must be a number of processes")

    def per_minute(name: str, default: int) -> int:
        return whole_number(name, default, 1, 100_000, "must be a number of messages per minute")

    def host(name: str) -> str:
        value = raw[name] or "127.0.0.1"
        if any(c.isspace() for c in value) or "/" in value:
            problems.append(f"{name}={value!r} is not a host name or address, e.g. 127.0.0.1")
        return value

    def http_url(name: str, default: str) -> str:
        value = raw[name] or default
        try:
            parts = urlsplit(value)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"{name}={value!r} is not an http(s) URL, e.g. {default}")
        return value

    def flag(name: str, default: bool) -> bool:
        text = raw[name]
        if text is None:
            return default
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            problems.append(f"{name}={text!r} must be true or false")
            return default
        return text.lower() in ("true", "1", "yes")

    def choice(name: str, choices: tuple[str, ...]) -> str:
        value = raw[name] or choices[0]
        if value not in choices:
            problems.append(f"{name}={value!r} must be one of: {', '.join(choices)}")
            return choices[0]
        return value

    rasa_host, web_host = host("RASA_HOST"), host("WEB_HOST")
    action_host = host("ACTION_HOST")
    rasa_port, action_port = port("RASA_PORT", 5005), port("ACTION_PORT", 5055)
    web_port = port("WEB_PORT", 8080)
    token = raw["RASA_AUTH_TOKEN"]
    whatsapp = {name: raw[name] for name in WHATSAPP_NAMES}
    if any(whatsapp.values()) and not all(whatsapp.values()):
        missing = ", ".join(name for name, value in whatsapp.items() if not value)
        problems.append(
            f"the WhatsApp channel needs all four WHATSAPP_ settings; missing: {missing}"
        )
    if token is None and not _is_loopback(rasa_host):
        problems.append(
            f"RASA_HOST={rasa_host!r} makes Rasa's HTTP API reachable from other machines: "
            "set RASA_AUTH_TOKEN to a long random secret, or keep RASA_HOST=127.0.0.1"
        )
    found = Settings(
        rasa_host=rasa_host,
        rasa_port=rasa_port,
        action_host=action_host,
        action_port=action_port,
        web_host=web_host,
        web_port=web_port,
        rasa_url=http_url("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        action_server_url=http_url("ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}/webhook"),
        nlg_url=http_url("NLG_URL", f"http://127.0.0.1:{web_port}/nlg"),
        directory_database_url=_database_url(raw["DIRECTORY_DATABASE_URL"], problems),
        rasa_tracker_store_url=_store_url(
            "RASA_TRACKER_STORE_URL",
            raw["RASA_TRACKER_STORE_URL"] or f"sqlite:///{REPO_ROOT / 'var' / 'rasa-tracker.db'}",
            TRACKER_STORE_SCHEMES,
            problems,
        ),
        rasa_workers=workers("RASA_WORKERS", min(2, os.cpu_count() or 1)),
        redis_url=raw["REDIS_URL"]
        and _store_url("REDIS_URL", raw["REDIS_URL"], REDIS_SCHEMES, problems),
        trusted_proxies=_trusted_proxies(raw["TRUSTED_PROXIES"], problems),
        messages_per_minute_per_sender=per_minute("MESSAGES_PER_MINUTE_PER_SENDER", 20),
        messages_per_minute_per_address=per_minute("MESSAGES_PER_MINUTE_PER_ADDRESS", 120),
        rasa_auth_token=token,
        nlg_token=raw["NLG_TOKEN"],
        metrics_token=raw["METRICS_TOKEN"],
        channel_secret=raw["CHANNEL_SECRET"],
        console_secret=raw["CONSOLE_SECRET"],
        console_secure_cookies=flag("CONSOLE_SECURE_COOKIES", not _is_loopback(web_host)),
        log_format=choice("LOG_FORMAT", LOG_FORMATS),
        retention_days=days("RETENTION_DAYS", 30),
        content_gap_retention_days=days("CONTENT_GAP_RETENTION_DAYS", 90),
        handoff_retention_days=days("HANDOFF_RETENTION_DAYS", 90),
        feedback_retention_days=days("FEEDBACK_RETENTION_DAYS", 90),
        whatsapp_verify_token=raw["WHATSAPP_VERIFY_TOKEN"],
        whatsapp_app_secret=raw["WHATSAPP_APP_SECRET"],
        whatsapp_access_token=raw["WHATSAPP_ACCESS_TOKEN"],
        whatsapp_phone_number_id=raw["WHATSAPP_PHONE_NUMBER_ID"],
        whatsapp_api_base_url=http_url("WHATSAPP_API_BASE_URL", GRAPH_API_BASE_URL),
    )
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        raise SettingsError(f"{len(problems)} setting(s) must be changed:\n{lines}")
    return found


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _networks(text: str) -> tuple[IPNetwork, ...]:
    """ "10.0.0.0/8, 192.168.1.5" -> the networks (one address is a network of one)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def _trusted_proxies(value: str | None, problems: list[str]) -> str:
    if value is None:
        return DEFAULT_TRUSTED_PROXIES
    try:
        if not _networks(value):
            raise ValueError
    except ValueError:
        problems.append(
            f"TRUSTED_PROXIES={value!r} must be addresses or networks, comma-separated, "
            f"e.g. {DEFAULT_TRUSTED_PROXIES} or 172.16.0.0/12"
        )
        return DEFAULT_TRUSTED_PROXIES
    return value


def _database_url(value: str | None, problems: list[str]) -> str:
    default = f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'directory.db'}"
    if value is None:
        return default
    try:
        driver = make_url(value).drivername
    except ArgumentError:
        driver = None
    if driver not in DATABASE_DRIVERS:
        schemes = " or ".join(f"{driver}://" for driver in DATABASE_DRIVERS)
        problems.append(
            f"DIRECTORY_DATABASE_URL must start with {schemes} "
            "(e.g. postgresql+asyncpg://user:password@host/welcome_desk or "
            "sqlite+aiosqlite:///var/directory.db)"
        )
        # Never echo the value: it may hold a password.
    return value


def _store_url(name: str, value: str, schemes: tuple[str, ...], problems: list[str]) -> str:
    try:
        scheme = urlsplit(value).scheme
    except ValueError:
        scheme = ""
    if scheme not in schemes:
        # Never echo the value: it may hold a password.
        problems.append(f"{name} must start with {' or '.join(f'{s}://' for s in schemes)}")
    return value


def announce(found: Settings) -> None:
    """Where the processes about to start will answer."""
    print(
        "\n  Welcome Desk is starting (Rasa needs about half a minute to load its model).\n"
        f"  Demo page:     http://localhost:{found.web_port}/\n"
        f"  Staff console: http://localhost:{found.web_port}/console"
        " (first: make admin EMAIL=... NAME=...)\n"
        f"  Rasa REST API: http://localhost:{found.rasa_port}/webhooks/rest/webhook\n"
        "  Logs:          var/log/rasa.log, var/log/actions.log, var/log/web.log\n"
        "  A process that stops is started again; press Ctrl-C to stop all three.\n",
        flush=True,
    )


def _options_and_command(args: list[str]) -> tuple[set[str], list[str]]:
    """`--announce -- supervisord -c x` -> ({"--announce"}, ["supervisord", "-c", "x"])."""
    if "--" not in args:
        return set(args), []
    cut = args.index("--")
    return set(args[:cut]), args[cut + 1 :]


USAGE = "usage: python -m bot.settings [exec [--announce] -- COMMAND [ARG ...]]"


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.settings`: check the settings and print them (secrets hidden);
    `... exec [--announce] -- COMMAND`: check them and run COMMAND with them set."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        found = settings()
    except SettingsError as error:
        print(f"Welcome Desk cannot start: {error}", file=sys.stderr)
        return 2
    if argv[:1] == ["exec"]:
        options, command = _options_and_command(argv[1:])
        if not command or options - {"--announce"}:
            print(USAGE, file=sys.stderr)
            return 2
        if "--announce" in options:
            announce(found)
        os.execvpe(command[0], command, {**os.environ, **found.environment()})
    if argv:
        print(USAGE, file=sys.stderr)
        return 2
    for name, value in found.environment().items():
        secret = name in SECRETS or (name.endswith("_URL") and "@" in value)
        print(f"{name}={'(hidden)' if secret else value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
