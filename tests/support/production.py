"""The production profile on one machine: two Rasa servers and two action servers behind
nginx, the web app, PostgreSQL and Redis, all on loopback. For the load and fault tests.

App environment. Everything is started by the test itself from Debian's packages
(postgresql, redis-server, nginx) and the project's own command lines (supervisord.conf's
programs, as `make run` and docker-compose.yml start them):

- PostgreSQL holds Rasa's conversations (RASA_TRACKER_STORE_URL), so a conversation's
  next message may go to either Rasa server; a second PostgreSQL holds the directory;
- Redis holds Rasa's conversation locks (bot/rasa_ext/locks.py): one message of a
  conversation at a time, in order, across both Rasa servers;
- nginx spreads the Rasa servers' and the action servers' calls round robin, and passes a
  request the server could not even take to the other.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import aiohttp

from bench.profile import cpu_seconds
from bot.settings import settings
from tests.support.postgres import LocalPostgres
from tests.support.redis_server import LocalRedis
from tests.support.stack import (
    MODEL,
    REPO,
    answers,
    free_port,
    load_sample_directory,
    supervised_commands,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STARTUP_SECONDS = 300
REPLICAS = 2

NGINX_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
  access_log off;
  log_format upstream '$upstream_addr $status';
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  # Bodies stay in memory (an action call carries the conversation): no temporary files,
  # which nginx's workers could not write in the test's private folder anyway.
  client_body_buffer_size 4m;
  client_max_body_size 16m;
  proxy_request_buffering off;
  proxy_buffer_size 64k;
  proxy_buffers 64 64k;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_read_timeout 120s;
  # A server that refuses the connection is passed over; a request it has taken is not
  # sent again (it may have been answered).
  proxy_next_upstream error;
  upstream rasa {{ {rasa_servers} keepalive 64; }}
  upstream actions {{ {action_servers} keepalive 64; }}
  server {{
    listen 127.0.0.1:{rasa_port};
    access_log {dir}/nginx-rasa.log upstream;
    location / {{ proxy_pass http://rasa; }}
  }}
  server {{ listen 127.0.0.1:{action_port}; location / {{ proxy_pass http://actions; }} }}
}}
"""


class ReplicatedStack:
    """The processes, their logs in `workdir`, and how to reach them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        # Rasa's conversations and the directory on servers of their own, so that a test can
        # take the directory away alone.
        self.postgres = LocalPostgres()
        self.directory_postgres = LocalPostgres()
        self.redis = LocalRedis()
        self.ports = {
            "nginx-rasa": free_port(),
            "nginx-actions": free_port(),
            "web": free_port(),
            **{f"rasa-{i}": free_port() for i in range(1, REPLICAS + 1)},
            **{f"actions-{i}": free_port() for i in range(1, REPLICAS + 1)},
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.env: dict[str, str] = {}

    @property
    def rasa(self) -> str:
        """Rasa through nginx: each request to either replica."""
        return f"http://127.0.0.1:{self.ports['nginx-rasa']}"

    @property
    def tracker_store_url(self) -> str:
        return self.postgres.url_of("conversations").replace("+asyncpg", "")

    def start(self) -> None:
        self.postgres.start()
        self.postgres.create_database("conversations")
        self.directory_postgres.start()
        self.directory_postgres.create_database("directory")
        self.redis.start()
        directory_url = self.directory_postgres.url_of("directory")
        asyncio.run(load_sample_directory(directory_url))
        base = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "RASA_MODEL": str(MODEL),
            "DIRECTORY_DATABASE_URL": directory_url,
            "RASA_TRACKER_STORE_URL": self.tracker_store_url,
            "REDIS_URL": self.redis.url(0),
            "RASA_URL": self.rasa,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.ports['nginx-actions']}/webhook",
            "WEB_PORT": str(self.ports["web"]),
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # One process per Rasa replica, as docker-compose.yml runs them.
            "RASA_WORKERS": "1",
        }
        base.update(settings(base).environment())
        self.env = base
        self._start_nginx()
        for i in range(1, REPLICAS + 1):
            self.start_process(f"actions-{i}")
            self.start_process(f"rasa-{i}")
        self.start_process("web")
        asyncio.run(self.wait_until_ready())

    def _start_nginx(self) -> None:
        def servers(kind: str) -> str:
            ports = [self.ports[f"{kind}-{i}"] for i in range(1, REPLICAS + 1)]
            return " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports)

        conf = self.workdir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                dir=self.workdir,
                rasa_servers=servers("rasa"),
                action_servers=servers("actions"),
                rasa_port=self.ports["nginx-rasa"],
                action_port=self.ports["nginx-actions"],
            )
        )
        self._popen("nginx", [NGINX, "-c", str(conf), "-p", str(self.workdir)], self.env)

    def start_process(self, name: str) -> None:
        """Start `rasa-1`, `actions-2`, `web`, ... with its own port."""
        program = name.split("-")[0]
        env = dict(self.env)
        if program == "rasa":
            env["RASA_PORT"] = str(self.ports[name])
        elif program == "actions":
            env["ACTION_PORT"] = str(self.ports[name])
        self._popen(name, supervised_commands()[program], env)

    def _popen(self, name: str, command: list[str], env: dict[str, str]) -> None:
        with open(self.workdir / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, name: str) -> None:
        """End one process at once, as a crash would."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time each process (with its children) has used so far, PostgreSQL and Redis
        included."""
        found = {
            name: cpu_seconds(process.pid)
            for name, process in self.processes.items()
            if process.poll() is None
        }
        if self.redis.process is not None:
            found["redis"] = cpu_seconds(self.redis.process.pid)
        if self.postgres.postmaster_pid:
            found["postgres"] = cpu_seconds(self.postgres.postmaster_pid)
        return found

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]

    async def wait_until_ready(self, *names: str) -> None:
        """Until each named process (default: all) answers; Rasa with its model loaded."""
        names = names or tuple(n for n in self.processes if n != "nginx")
        deadline = time.monotonic() + STARTUP_SECONDS
        async with aiohttp.ClientSession() as http:
            for name in names:
                port, path = self.ports[name], "/health"
                if name.startswith("rasa"):
                    path = f"/status?token={self.env.get('RASA_AUTH_TOKEN', '')}"
                while not await answers(http, f"http://127.0.0.1:{port}{path}"):
                    if self.processes[name].poll() is not None:
                        raise RuntimeError(f"{name} exited:\n{self.log(name)}")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} not ready after {STARTUP_SECONDS} s")
                    await asyncio.sleep(1)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.redis.stop()
        self.postgres.stop()
        self.directory_postgres.stop()
