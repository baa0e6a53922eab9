"""Settings from environment variables: defaults for one machine, and a clear message for
every wrong value, before any process starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import REPO_ROOT, SettingsError, settings


def test_without_any_variable_everything_runs_on_this_machine():
    found = settings({})
    assert (found.rasa_port, found.action_port, found.web_port) == (5005, 5055, 8080)
    assert found.rasa_url == "http://127.0.0.1:5005"
    assert found.action_server_url == "http://127.0.0.1:5055/webhook"
    assert found.nlg_url == "http://127.0.0.1:8080/nlg"
    assert found.directory_database_url == f"sqlite+aiosqlite:///{REPO_ROOT}/var/directory.db"


def test_ports_flow_into_the_urls_that_use_them():
    found = settings({"WEB_PORT": "9090", "ACTION_PORT": "6000", "RASA_PORT": "7000"})
    assert found.nlg_url == "http://127.0.0.1:9090/nlg"
    assert found.action_server_url == "http://127.0.0.1:6000/webhook"
    assert found.rasa_url == "http://127.0.0.1:7000"


def test_an_empty_variable_counts_as_unset():
    assert settings({"WEB_PORT": "", "RASA_AUTH_TOKEN": ""}) == settings({})


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("WEB_PORT", "eighty", "WEB_PORT='eighty' is not a port number"),
        ("RASA_PORT", "70000", "RASA_PORT='70000' is not a port number"),
        ("NLG_URL", "localhost:8080/nlg", "NLG_URL='localhost:8080/nlg' is not an http(s) URL"),
        ("RASA_URL", "ftp://rasa", "RASA_URL='ftp://rasa' is not an http(s) URL"),
        ("DIRECTORY_DATABASE_URL", "mysql://u:hunter2@db/wd", "postgresql+asyncpg://"),
        ("RASA_HOST", "0.0.0.0", "set RASA_AUTH_TOKEN"),
        ("WEB_HOST", "my host", "is not a host name"),
        ("LOG_FORMAT", "yaml", "LOG_FORMAT='yaml' must be one of: text, json"),
        ("RASA_WORKERS", "0", "RASA_WORKERS='0' must be a number of processes (1 to 16)"),
        ("RASA_WORKERS", "two", "RASA_WORKERS='two' must be a number of processes"),
    ],
)
def test_a_wrong_value_is_named_with_what_to_write(name, value, words):
    with pytest.raises(SettingsError) as raised:
        settings({name: value})
    assert words in str(raised.value)
    assert "hunter2" not in str(raised.value)  # a database password is never echoed


def test_every_wrong_value_is_listed_at_once():
    with pytest.raises(SettingsError) as raised:
        settings({"WEB_PORT": "x", "ACTION_PORT": "0", "NLG_URL": "nlg"})
    assert "3 setting(s) must be changed" in str(raised.value)


def test_rasa_may_listen_on_the_network_only_with_a_token():
    found = settings({"RASA_HOST": "0.0.0.0", "RASA_AUTH_TOKEN": "a-long-random-secret"})
    assert found.rasa_host == "0.0.0.0"


def run(*command: str, **environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **environment}
    return subprocess.run(
        [sys.executable, *command], env=env, capture_output=True, text=True, timeout=60
    )


def test_exec_runs_the_command_with_every_setting_resolved():
    done = run(
        "-m",
        "bot.settings",
        "exec",
        "--",
        "sh",
        "-c",
        "echo $NLG_URL $RASA_TRACKER_STORE_URL",
        WEB_PORT="9191",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "http://127.0.0.1:9191/nlg",
        f"sqlite:///{REPO_ROOT}/var/rasa-tracker.db",
    ]


@pytest.mark.parametrize(
    "command",
    [
        ("-m", "bot.settings", "exec", "--", "true"),
        ("-m", "bot.web"),
        ("-m", "actions.server"),
    ],
    ids=["make-run", "web-app", "action-server"],
)
def test_a_wrong_setting_stops_each_process_at_start_with_the_reason(command):
    done = run(*command, WEB_PORT="eighty")
    assert done.returncode != 0
    assert "WEB_PORT='eighty' is not a port number" in done.stderr
