"""docker-compose.yml, .env.example and the images, as a city's IT relies on them.

App environment. `docker-compose config` (Debian's docker-compose 1.29, scripts/system-packages;
no Docker engine is needed) validates the file and resolves it with .env.example; the checks
read what it prints. Nothing is built or started here: tests/production/test_nginx.py runs
docker/nginx.conf in a real nginx.
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import NAMES, SECRETS, settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
RASA_DOCKERFILE = REPO / "docker" / "rasa.Dockerfile"
APP_DOCKERFILE = REPO / "docker" / "app.Dockerfile"
# Secrets compose refuses to start without (the others, WhatsApp's, may stay empty).
REQUIRED_SECRETS = ("RASA_AUTH_TOKEN", "NLG_TOKEN", "CHANNEL_SECRET", "CONSOLE_SECRET")
PASSWORDS = ("POSTGRES_PASSWORD",)


def docker_compose(*args: str, env_file: Path = ENV_EXAMPLE) -> subprocess.CompletedProcess:
    """`docker-compose -f docker-compose.yml --env-file ENV_FILE ARGS`, with none of the
    caller's environment variables (they would override the env file's)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not installed: run scripts/system-packages "
            "(Debian's docker-compose package validates docker-compose.yml)"
        )
    return subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), *args],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The compose file as docker-compose resolves it with .env.example."""
    result = docker_compose("config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def rasa_services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the Rasa image's `rasa run`."""
    return {
        name: service
        for name, service in config["services"].items()
        if service.get("command", [])[:1] == ["run"]
    }


def action_services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in config["services"].items()
        if service.get("command") == ["python", "-m", "actions.server"]
    }


def test_every_service_has_a_health_check_and_restarts_by_itself(config):
    for name, service in config["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("restart") in ("unless-stopped", "always", "on-failure"), name


def test_the_health_checks_written_in_python_are_valid_python(config):
    for name, service in config["services"].items():
        test = service["healthcheck"]["test"]
        if test[:3] == ["CMD", "python", "-c"]:
            compile(test[3], f"{name} health check", "exec")


def test_only_nginx_publishes_a_port_and_it_is_80(config):
    published = {name: s["ports"] for name, s in config["services"].items() if s.get("ports")}
    assert list(published) == ["nginx"]
    assert [port["target"] for port in published["nginx"]] == [80]


def test_rasa_and_the_databases_are_on_a_network_without_a_way_out(config):
    assert config["networks"]["internal"]["internal"] is True
    inside_only = {*rasa_services(config), *action_services(config)}
    inside_only |= {"postgres", "redis"}
    for name in inside_only:
        assert set(config["services"][name]["networks"]) == {"internal"}, name


def test_two_rasa_servers_and_two_action_servers_from_one_image_each(config):
    rasa = rasa_services(config)
    actions = action_services(config)
    assert len(rasa) >= 2 and len(actions) >= 2
    assert len({service["image"] for service in rasa.values()}) == 1
    assert len({service["image"] for service in actions.values()}) == 1


def test_rasa_requires_the_token_and_answers_no_web_page(config):
    token = env_example()["RASA_AUTH_TOKEN"]
    for name, service in rasa_services(config).items():
        command = service["command"]
        assert command[command.index("--auth-token") + 1] == token, name
        assert "--cors" not in command, name
        assert "--enable-api" in command
        # bot.settings refuses RASA_HOST=0.0.0.0 without the token, so both must be set.
        assert service["environment"]["RASA_HOST"] == "0.0.0.0"
        assert service["environment"]["RASA_AUTH_TOKEN"] == token
    assert "--cors" not in RASA_DOCKERFILE.read_text()


def test_the_web_app_migrates_the_directory_before_it_starts(config):
    command = config["services"]["web"]["command"]
    assert command[:2] == ["sh", "-c"]
    steps = [shlex.split(step) for step in command[2].split("&&")]
    assert steps[0] == ["python", "-m", "bot.directory", "migrate"]
    assert steps[-1] == ["exec", "python", "-m", "bot.web"]
    for name in action_services(config):
        depends = config["services"][name]["depends_on"]
        assert depends["web"]["condition"] == "service_healthy", name


def test_postgres_and_redis_keep_their_data_on_named_volumes(config):
    def volume_at(service: str, target: str) -> str:
        # docker-compose 1.29 prints mounts as "source:target:mode"; a named volume's source
        # is a name, a bind mount's a path.
        mounts = [v.split(":") for v in config["services"][service]["volumes"]]
        (source,) = [source for source, at, *_ in mounts if at == target]
        assert "/" not in source, f"{service} keeps {target} in {source}, not a named volume"
        return source

    assert volume_at("postgres", "/var/lib/postgresql/data") in config["volumes"]
    assert volume_at("redis", "/data") in config["volumes"]
    assert config["services"]["redis"]["command"][-2:] == ["--appendonly", "yes"]


def test_containers_get_only_settings_welcome_desk_knows(config):
    for name, service in config["services"].items():
        for variable in service.get("environment", {}):
            assert variable in NAMES or variable.startswith("POSTGRES_"), (name, variable)


def test_each_process_accepts_its_settings(config):
    """bot.settings would stop a process at start on a wrong value; none here."""
    for service in config["services"].values():
        environment = {k: v for k, v in service.get("environment", {}).items() if k in NAMES}
        if environment:
            settings(environment)  # raises SettingsError naming the wrong variable


def test_env_example_holds_placeholders_only():
    for name, value in env_example().items():
        if name in SECRETS or name in PASSWORDS:
            assert value == "" or value.startswith("change-me-"), f"{name}={value!r}"
        random_looking = re.fullmatch(r"[A-Za-z0-9+/=_-]{16,}", value)
        assert not random_looking or value.startswith("change-me-"), f"{name}={value!r}"
    for name in (*REQUIRED_SECRETS, *PASSWORDS):
        assert env_example()[name].startswith("change-me-"), name


def test_every_variable_compose_reads_is_in_env_example_and_each_is_used():
    text = COMPOSE_FILE.read_text()
    read = set(re.findall(r"(?<!\$)\$\{(\w+)", text))
    assert read == set(env_example())
    assert set(REQUIRED_SECRETS) | set(PASSWORDS) <= read
    assert {name for name in SECRETS if name in read} == SECRETS


def test_compose_refuses_to_start_without_a_required_secret(tmp_path):
    # Every use of a required secret is written ${NAME:?...}: missing or empty stops compose.
    text = COMPOSE_FILE.read_text()
    for name in (*REQUIRED_SECRETS, *PASSWORDS):
        uses = re.findall(rf"\$\{{{name}(\W.?)", text)
        assert uses and all(use == ":?" for use in uses), name
    env_file = tmp_path / "env"
    values = {**env_example(), "RASA_AUTH_TOKEN": ""}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    result = docker_compose("config", env_file=env_file)
    assert result.returncode != 0
    assert "set RASA_AUTH_TOKEN in .env" in result.stderr


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


@pytest.mark.parametrize("dockerfile", [RASA_DOCKERFILE, APP_DOCKERFILE], ids=lambda p: p.name)
def test_the_images_run_as_a_user_that_is_not_root(dockerfile):
    users = [
        args for instruction, args in dockerfile_instructions(dockerfile) if instruction == "USER"
    ]
    assert users, f"{dockerfile.name} runs as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "a numeric user lets Kubernetes check runAsNonRoot"


def copied_before(dockerfile: Path, stop: str) -> set[Path]:
    """The repository files a Dockerfile's final stage copies before the RUN that starts
    with `stop` (everything copied, if there is none)."""
    copied: set[Path] = set()
    for instruction, args in dockerfile_instructions(dockerfile):
        if instruction == "FROM":
            copied.clear()
        elif instruction == "RUN" and args.startswith(stop):
            break
        elif instruction == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                path = REPO / source
                copied |= set(path.rglob("*")) if path.is_dir() else {path}
    return copied


def bot_modules_imported_by(path: Path) -> set[Path]:
    """The files of the `bot.*` modules that the Python file at `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.split(".")[0] != "bot":
                continue
            base = REPO.joinpath(*name.split("."))
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.exists():
                    found.add(candidate)
            for parent in base.parents:  # importing bot.x.y runs bot/x/__init__.py too
                if parent.is_relative_to(REPO / "bot") and (parent / "__init__.py").exists():
                    found.add(parent / "__init__.py")
    return found


def test_the_rasa_image_trains_with_every_module_the_training_imports():
    copied = copied_before(RASA_DOCKERFILE, "rasa train")
    config = yaml.safe_load((REPO / "config.yml").read_text())
    components = [step["name"] for step in config["pipeline"] + config["policies"]]
    wanted = {
        REPO.joinpath(*name.split(".")[:-1]).with_suffix(".py")
        for name in components
        if name.startswith("bot.")
    }
    assert wanted, "config.yml names none of our components"
    seen: set[Path] = set()
    while wanted - seen:
        module = (wanted - seen).pop()
        seen.add(module)
        wanted |= bot_modules_imported_by(module)
    missing = sorted(str(path.relative_to(REPO)) for path in wanted - copied)
    assert not missing, f"docker/rasa.Dockerfile copies these only after training: {missing}"
    assert {REPO / "config.yml", REPO / "domain.yml", REPO / "data" / "rules.yml"} <= copied


def test_the_app_image_holds_what_the_app_reads_at_run_time():
    copied = copied_before(APP_DOCKERFILE, "<never>")
    needed = [
        REPO / "domain.yml",  # the responses /nlg renders
        REPO / "locales" / "de" / "LC_MESSAGES" / "messages.po",
        REPO / "locales" / "de" / "LC_MESSAGES" / "console.po",
        REPO / "data" / "directory" / "dortmund.yaml",  # `python -m bot.directory load`
        REPO / "actions" / "__init__.py",
        REPO / "bot" / "web" / "static" / "widget.js",
        REPO / "bot" / "console" / "static" / "console.css",
    ]
    assert [path for path in needed if path not in copied] == []


def test_the_filled_in_env_file_stays_out_of_git_and_of_the_images():
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".env", ".venv", "models", "var", ".git"} <= ignored
    git = subprocess.run(["git", "check-ignore", "--quiet", ".env"], cwd=REPO, timeout=30)
    assert git.returncode == 0, ".env is not in .gitignore"
