"""docker/nginx.conf in a real nginx: what the internet can reach, and the replicas behind it.

App environment. Debian's nginx (scripts/system-packages) runs a copy of the file with its
ports moved to free loopback ports and each upstream server pointed at an aiohttp stand-in
that answers with its own name. The copy drops only `resolve` (Docker's DNS, nginx 1.27.3+;
Debian's nginx is older), so every location, limit and proxy setting is the file's own.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.support.stack import free_port

REPO = Path(__file__).resolve().parents[2]
NGINX_CONF = REPO / "docker" / "nginx.conf"
NGINX = "/usr/sbin/nginx"
STARTUP_SECONDS = 15
REPLICAS = ("web", "rasa-1", "rasa-2", "actions-1", "actions-2")


@dataclass
class StandIn:
    """An upstream server that answers every request with its name and remembers the paths."""

    name: str
    paths: list[str] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.paths.append(request.path)
        if request.path.endswith("/events"):
            # A server-sent event stream: one event, then open until the test ends.
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(b"data: hello\n\n")
            await self.closing.wait()
            return response
        return web.json_response({"server": self.name, "host": request.headers.get("Host")})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        self.closing.set()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def loopback_copy(conf: str, ports: dict[str, int], stand_ins: dict[str, StandIn]) -> str:
    """docker/nginx.conf with its listen ports and upstream servers moved to loopback."""
    replaced = 0

    def sub(pattern: str, replacement: str, text: str) -> str:
        nonlocal replaced
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"docker/nginx.conf no longer has {pattern!r} once"
        replaced += count
        return text

    conf = sub(
        r"listen 80 default_server;", f"listen 127.0.0.1:{ports['public']} default_server;", conf
    )
    conf = sub(r"listen 5005;", f"listen 127.0.0.1:{ports['rasa']};", conf)
    conf = sub(r"listen 5055;", f"listen 127.0.0.1:{ports['actions']};", conf)
    for name, stand_in in stand_ins.items():
        conf = sub(rf"server {name}:\d+ resolve;", f"server 127.0.0.1:{stand_in.port};", conf)
    assert " resolve;" not in conf
    return conf


@dataclass
class Proxy:
    public: str
    rasa: str
    actions: str
    stand_ins: dict[str, StandIn]


def start_nginx(workdir: Path, conf: str, port: int) -> subprocess.Popen:
    """Debian's nginx on `conf`, its files in `workdir`; returns once it answers on `port`."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: run scripts/system-packages (Debian's nginx)")
    # nginx's buffers for large bodies, in the test's folder (workers may run as nobody).
    temp = workdir / "temp"
    temp.mkdir()
    temp.chmod(0o777)
    paths = "".join(
        f"    {kind}_temp_path {temp / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (workdir / "nginx.conf").write_text(conf.replace("http {\n", "http {\n" + paths, 1))
    log = workdir / "nginx.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e", "stderr"]
            + ["-g", f"daemon off; pid {workdir / 'nginx.pid'};"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"nginx exited:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                stop_nginx(process)
                pytest.fail(f"nginx did not answer in {STARTUP_SECONDS} s")
            time.sleep(0.1)


def stop_nginx(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGQUIT)  # graceful: open event streams are closed
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
async def proxy(tmp_path: Path) -> AsyncIterator[Proxy]:
    stand_ins = {name: StandIn(name) for name in REPLICAS}
    try:
        for stand_in in stand_ins.values():
            await stand_in.start()
        ports = {"public": free_port(), "rasa": free_port(), "actions": free_port()}
        conf = loopback_copy(NGINX_CONF.read_text(), ports, stand_ins)
        nginx = await asyncio.to_thread(start_nginx, tmp_path, conf, ports["public"])
        try:
            yield Proxy(
                f"http://127.0.0.1:{ports['public']}",
                f"http://127.0.0.1:{ports['rasa']}",
                f"http://127.0.0.1:{ports['actions']}",
                stand_ins,
            )
        finally:
            # The stand-ins first: nginx waits for the event stream it passes on to end.
            for stand_in in stand_ins.values():
                stand_in.closing.set()
            await asyncio.to_thread(stop_nginx, nginx)
    finally:
        for stand_in in stand_ins.values():
            await stand_in.stop()


async def fetch(method: str, url: str, **kwargs) -> tuple[int, dict | None]:
    async with aiohttp.ClientSession() as http, http.request(method, url, **kwargs) as response:
        is_json = response.content_type == "application/json"
        return response.status, (await response.json() if is_json else None)


PUBLIC = [
    ("GET", "/"),
    ("GET", "/?city=wien"),
    ("GET", "/widget.js"),
    ("POST", "/channels/widget/messages"),
    ("GET", "/channels/widget/texts"),
    ("GET", "/webhooks/whatsapp"),
    ("POST", "/webhooks/whatsapp"),
    ("GET", "/console"),
    ("POST", "/console/login"),
    ("GET", "/console/static/console.css"),
    ("GET", "/api/openapi.json"),
]
# The response renderer, the health and metrics endpoints, Rasa's own API and channels.
INTERNAL = [
    ("POST", "/nlg"),
    ("GET", "/health"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/webhooks/rest/webhook"),
    ("GET", "/status"),
    ("PUT", "/model"),
    ("GET", "/conversations/someone/tracker"),
    ("POST", "/webhook"),
    ("GET", "/socket.io/"),
    ("GET", "/consolex"),
]


async def test_the_public_paths_reach_the_web_app_with_the_host_the_browser_used(proxy):
    for method, path in PUBLIC:
        status, body = await fetch(method, proxy.public + path, data=b"{}")
        assert status == 200, (method, path)
        assert body["server"] == "web", (method, path)
    # The demo page builds the widget's URL from the Host header: the port must stay in it.
    assert body["host"] == proxy.public.removeprefix("http://")


async def test_nlg_metrics_health_and_rasa_are_not_reachable_from_outside(proxy):
    for method, path in INTERNAL:
        status, _ = await fetch(method, proxy.public + path, data=b"{}")
        assert status == 404, (method, path)
    reached = [p for stand_in in proxy.stand_ins.values() for p in stand_in.paths]
    assert reached == []


async def test_a_widget_message_larger_than_64_kb_is_refused_before_the_web_app(proxy):
    status, _ = await fetch(
        "POST", proxy.public + "/channels/widget/messages", data=b"x" * (65 * 1024)
    )
    assert status == 413
    assert proxy.stand_ins["web"].paths == []


async def test_the_widgets_event_stream_reaches_the_browser_while_it_stays_open(proxy):
    # The stand-in's stream ends only when the test does: the event must come through first.
    async with (
        aiohttp.ClientSession() as http,
        http.get(proxy.public + "/channels/widget/events") as response,
    ):
        line = await asyncio.wait_for(response.content.readline(), timeout=10)
    assert line == b"data: hello\n"


async def test_rasa_and_action_server_requests_take_turns_between_the_replicas(proxy):
    servers = [(await fetch("GET", f"{proxy.rasa}/status"))[1]["server"] for _ in range(4)]
    assert sorted(servers) == ["rasa-1", "rasa-1", "rasa-2", "rasa-2"]
    servers = [
        (await fetch("POST", f"{proxy.actions}/webhook", json={}))[1]["server"] for _ in range(4)
    ]
    assert sorted(servers) == ["actions-1", "actions-1", "actions-2", "actions-2"]


async def test_a_replica_that_is_down_is_skipped(proxy):
    await proxy.stand_ins["rasa-1"].stop()
    await proxy.stand_ins["actions-2"].stop()
    for _ in range(4):
        status, body = await fetch("POST", f"{proxy.rasa}/webhooks/rest/webhook", json={})
        assert (status, body["server"]) == (200, "rasa-2")
        status, body = await fetch("POST", f"{proxy.actions}/webhook", json={})
        assert (status, body["server"]) == (200, "actions-1")
