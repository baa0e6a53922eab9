"""Health, readiness, metrics and logs, as an operator watching Welcome Desk sees them.

The web app is built in-process where its own behaviour is enough (with a real directory
database, or a PostgreSQL port nobody listens on); what needs Rasa, the action server and a
real conversation runs on the three real processes (marked e2e): one stack writing JSON
logs with METRICS_TOKEN and RASA_AUTH_TOKEN set, whose web app and action server are
later restarted with text logs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import aiohttp
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from actions.topics import ActionAnswerTopic
from bot.directory.db import dispose_engines
from bot.directory.models import City
from bot.handoff.models import HandoffCase
from bot.web.app import create_app
from bot.web.nlg import NLG_TOKEN_KEY
from tests.actions.test_actions import responses, run, tracker
from tests.support.stack import Stack, free_port, running_stack
from tests.web.test_nlg import nlg_request

METRICS_TOKEN = "metrics-" + uuid.uuid4().hex
RASA_TOKEN = "rasa-" + uuid.uuid4().hex
DATABASE_PASSWORD = "pw-" + uuid.uuid4().hex
# How long to wait for something a process does on its own time (a readiness check is
# kept 5 s; reloading the model takes a few).
WAIT_SECONDS = 60

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def local_value(name: str, **labels: str) -> float:
    """A sample of this test process's own registry (the in-process web app's and actions')."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def refused_postgres_url() -> str:
    """A PostgreSQL URL with a password, on a port nobody listens on."""
    return f"postgresql+asyncpg://welcome:{DATABASE_PASSWORD}@127.0.0.1:{free_port()}/directory"


def own_network_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.fixture
async def nothing_answers(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """Settings under which neither Rasa nor the directory database answers; yields
    Rasa's URL."""
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", refused_postgres_url())
    monkeypatch.setenv("RASA_AUTH_TOKEN", RASA_TOKEN)
    yield f"http://127.0.0.1:{free_port()}"
    await dispose_engines()


# --- the web app on its own ------------------------------------------------------------


async def test_the_app_is_alive_but_not_ready_and_says_why_without_secrets(
    nothing_answers, aiohttp_client
):
    client = await aiohttp_client(
        create_app({"rasa_url": nothing_answers, "readiness_cache_seconds": 0})
    )
    alive = await client.get("/healthz")
    assert alive.status == 200
    assert await alive.json() == {"status": "ok"}

    ready = await client.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["status"] == "not ready"
    assert body["checks"]["rasa"] == "not reachable"
    assert body["checks"]["directory_database"].startswith("failed (")
    text = await ready.text()
    for secret in (DATABASE_PASSWORD, RASA_TOKEN, "127.0.0.1", "postgresql"):
        assert secret not in text


async def test_metrics_are_served_while_the_database_is_down_without_a_handoff_count(
    nothing_answers, aiohttp_client
):
    client = await aiohttp_client(create_app({"rasa_url": nothing_answers}))
    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    assert "# TYPE welcome_desk_handoffs_waiting gauge" in text
    assert not [name for name, _ in parse_metrics(text) if name == "welcome_desk_handoffs_waiting"]


async def test_without_a_token_only_this_machine_unproxied_may_read_the_metrics(
    directory, aiohttp_client, aiohttp_server, monkeypatch
):
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    client = await aiohttp_client(create_app())
    here = await client.get("/metrics")
    assert here.status == 200
    assert here.content_type == "text/plain"
    assert "welcome_desk_http_requests_total" in await here.text()

    # Behind nginx on the same machine every request comes from loopback.
    proxied = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert proxied.status == 403
    assert "METRICS_TOKEN" in (await proxied.json())["error"]

    address = own_network_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    server = await aiohttp_server(create_app(), host=address)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://{address}:{server.port}/metrics") as remote:
            assert remote.status == 403


async def test_with_a_token_only_its_bearer_may_read_the_metrics(
    directory, aiohttp_client, monkeypatch
):
    monkeypatch.setenv("METRICS_TOKEN", METRICS_TOKEN)
    client = await aiohttp_client(create_app())
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        refused = await client.get("/metrics", headers=headers)
        assert refused.status == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert METRICS_TOKEN not in await refused.text()
    allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert allowed.status == 200


async def test_requests_are_counted_by_route_pattern_never_by_their_path(directory, aiohttp_client):
    client = await aiohttp_client(create_app())
    case_id = str(uuid.uuid4())
    pattern = {"route": "/console/inbox/{id}", "method": "GET"}
    before = local_value("welcome_desk_http_request_duration_seconds_count", **pattern)
    await client.get(f"/console/inbox/{case_id}", allow_redirects=False)
    await client.get(f"/no-such-page/{case_id}")
    await client.put("/")

    scraped = await (await client.get("/metrics")).text()
    assert case_id not in scraped
    samples = parse_metrics(scraped)
    assert value(samples, "welcome_desk_http_request_duration_seconds_count", **pattern) == (
        before + 1
    )
    assert value(
        samples, "welcome_desk_http_requests_total", route="unmatched", method="GET", status="404"
    )
    assert value(
        samples, "welcome_desk_http_requests_total", route="unmatched", method="PUT", status="405"
    )


async def test_handoffs_waiting_for_staff_are_counted_per_city_when_scraped(
    directory, aiohttp_client
):
    now = datetime.now(UTC)
    async with directory() as session, session.begin():
        cities = {c.slug: c.id for c in (await session.scalars(select(City))).all()}
        for city, status in [
            ("dortmund", "new"),  # no one has taken it
            ("dortmund", "claimed"),  # taken, the user wrote last
            ("dortmund", "waiting"),  # staff answered: the user's turn
            ("dortmund", "closed"),
            ("wien", "new"),
        ]:
            session.add(
                HandoffCase(
                    id=str(uuid.uuid4()),
                    city_id=cities[city],
                    sender=uuid.uuid4().hex,
                    channel="widget",
                    language="de",
                    status=status,
                    created_at=now,
                    last_user_at=now,
                )
            )
    client = await aiohttp_client(create_app())
    samples = parse_metrics(await (await client.get("/metrics")).text())
    assert value(samples, "welcome_desk_handoffs_waiting", city="dortmund") == 2
    assert value(samples, "welcome_desk_handoffs_waiting", city="wien") == 1
    assert ("welcome_desk_handoffs_waiting", frozenset({("city", "wien")})) in samples


async def test_fallbacks_and_clarifications_are_counted_per_language(directory, aiohttp_client):
    app = create_app()
    client = await aiohttp_client(app, headers={"Authorization": f"Bearer {app[NLG_TOKEN_KEY]}"})
    fallbacks = local_value("welcome_desk_fallbacks_total", language="ar")
    clarifications = local_value("welcome_desk_clarifications_total", language="uk")
    rendered = local_value("welcome_desk_responses_total", response="utter_default", language="ar")
    for response, language in [("utter_default", "ar"), ("utter_which_topic", "uk")]:
        body = nlg_request(response, language, {"choices": ["human"]})
        assert (await client.post("/nlg", json=body)).status == 200
    assert (await client.post("/nlg", json=nlg_request("utter_greet", "ar"))).status == 200

    assert local_value("welcome_desk_fallbacks_total", language="ar") == fallbacks + 1
    assert local_value("welcome_desk_clarifications_total", language="uk") == clarifications + 1
    assert (
        local_value("welcome_desk_responses_total", response="utter_default", language="ar")
        == rendered + 1
    )


async def test_an_action_that_finds_the_directory_down_is_counted_as_failed(monkeypatch):
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", refused_postgres_url())
    labels = {"action": "action_answer_topic", "kind": "directory_unavailable"}
    before = local_value("welcome_desk_action_failures_total", **labels)
    try:
        messages, _ = await run(
            ActionAnswerTopic(), tracker("Wo melde ich mich an?", "ask_registration", city="x")
        )
    finally:
        await dispose_engines()
    assert responses(messages) == ["utter_directory_unavailable"]
    assert local_value("welcome_desk_action_failures_total", **labels) == before + 1


# --- the three real processes ------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("observability"),
        LOG_FORMAT="json",
        METRICS_TOKEN=METRICS_TOKEN,
        RASA_AUTH_TOKEN=RASA_TOKEN,
        # One Rasa process: the readiness test takes the model away through Rasa's API,
        # which reaches one worker only (decision 0017).
        RASA_WORKERS="1",
    ) as stack:
        yield stack


def actions_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.ports['actions']}"


async def scrape(http: aiohttp.ClientSession, url: str) -> Samples:
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with http.get(f"{url}/metrics", headers=headers) as response:
        assert response.status == 200, await response.text()
        return parse_metrics(await response.text())


async def chat(
    http: aiohttp.ClientSession, stack: Stack, conversation: str, text: str
) -> list[dict]:
    body = {
        "conversation": conversation,
        "id": uuid.uuid4().hex,
        "text": text,
        "city": "dortmund",
        "language": "de",
    }
    async with http.post(f"{stack.web}/channels/widget/messages", json=body) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["replies"]


async def converse(stack: Stack, marker: str) -> None:
    """A German user in Dortmund asks about housing, says something unclear, asks for a
    person and writes to the staff; `marker` is in each of their messages."""
    conversation = f"widget-{uuid.uuid4().hex[:16]}"
    async with aiohttp.ClientSession() as http:
        for text in (
            f"Ich suche eine Wohnung in Dortmund, {marker}",
            f"{marker} blorf quix",
            "Mit Menschen reden",
            f"Bitte rufen Sie mich an, {marker}",
        ):
            assert await chat(http, stack, conversation, text)


def log_lines(stack: Stack, name: str, start: int = 0) -> list[str]:
    """The lines a process wrote to its log, from byte `start` on."""
    with open(stack.workdir / f"{name}.log", "rb") as log:
        log.seek(start)
        return log.read().decode(errors="replace").splitlines()


@pytest.fixture(scope="module")
def conversation(stack: Stack) -> dict:
    """One conversation through the widget, with the metrics before and after it."""
    marker = f"okapi{uuid.uuid4().hex[:8]}"

    async def observe() -> dict:
        async with aiohttp.ClientSession() as http:
            before = {"web": await scrape(http, stack.web), "actions": {}}
            before["actions"] = await scrape(http, actions_url(stack))
            await converse(stack, marker)
            after = {"web": await scrape(http, stack.web)}
            after["actions"] = await scrape(http, actions_url(stack))
        return {"marker": marker, "before": before, "after": after}

    return asyncio.run(observe())


def grew(conversation: dict, process: str, name: str, **labels: str) -> float:
    return value(conversation["after"][process], name, **labels) - value(
        conversation["before"][process], name, **labels
    )


@pytest.mark.e2e
def test_a_conversation_is_counted_by_channel_route_response_and_action(conversation):
    widget = {"channel": "widget"}
    messages = "welcome_desk_gateway_messages_total"
    assert grew(conversation, "web", messages, **widget, outcome="assistant") == 3
    assert grew(conversation, "web", messages, **widget, outcome="staff") == 1
    assert grew(conversation, "web", "welcome_desk_gateway_reply_duration_seconds_count", **widget)
    assert (
        grew(
            conversation,
            "web",
            "welcome_desk_http_requests_total",
            route="/channels/widget/messages",
            method="POST",
            status="200",
        )
        == 4
    )
    topic_answer = {"response": "utter_topic_answer", "language": "de"}
    assert grew(conversation, "web", "welcome_desk_responses_total", **topic_answer) == 1
    assert value(conversation["after"]["web"], "welcome_desk_handoffs_waiting", city="dortmund")
    for action in ("action_answer_topic", "action_request_human"):
        assert grew(conversation, "actions", "welcome_desk_actions_total", action=action) == 1
        assert grew(
            conversation, "actions", "welcome_desk_action_duration_seconds_count", action=action
        )


@pytest.mark.e2e
async def test_the_metrics_of_both_processes_need_the_token(stack):
    async with aiohttp.ClientSession() as http:
        for url in (stack.web, actions_url(stack)):
            async with http.get(f"{url}/metrics") as response:
                assert response.status == 401


@pytest.mark.e2e
def test_json_logs_are_one_object_a_line_with_request_fields_and_no_users_words(
    stack, conversation
):
    for name in ("web", "actions"):
        entries = [json.loads(line) for line in log_lines(stack, name)]
        assert entries, name
        for entry in entries:
            assert {"time", "level", "logger", "message"} <= entry.keys()
    access = [
        e for e in map(json.loads, log_lines(stack, "web")) if e["logger"] == "aiohttp.access"
    ]
    widget = [e for e in access if e["route"] == "/channels/widget/messages"]
    assert len(widget) == 4
    assert {e["status"] for e in widget} == {200} and all(e["method"] == "POST" for e in widget)
    for name in ("rasa", "actions", "web"):
        assert conversation["marker"] not in "\n".join(log_lines(stack, name)), name


@pytest.mark.e2e
async def test_a_failed_action_is_counted_and_neither_its_answer_nor_its_log_quotes_the_user(
    stack,
):
    marker = f"ibis{uuid.uuid4().hex[:8]}"
    # A call without the conversation's sender id: rasa_sdk cannot build the tracker.
    call = {
        "next_action": "action_answer_topic",
        "domain": {},
        "tracker": {"latest_message": {"text": f"Wo wohne ich, {marker}?"}},
    }
    failed = {"action": "action_answer_topic", "kind": "error"}
    async with aiohttp.ClientSession() as http:
        before = await scrape(http, actions_url(stack))
        async with http.post(f"{actions_url(stack)}/webhook", json=call) as response:
            assert response.status == 500
            assert marker not in await response.text()
        after = await scrape(http, actions_url(stack))
    assert value(after, "welcome_desk_action_failures_total", **failed) == (
        value(before, "welcome_desk_action_failures_total", **failed) + 1
    )
    log = "\n".join(log_lines(stack, "actions"))
    assert "Action action_answer_topic failed: KeyError" in log
    assert marker not in log


@pytest.mark.e2e
async def test_in_text_logs_too_no_line_carries_the_users_words(stack):
    starts = {name: (stack.workdir / f"{name}.log").stat().st_size for name in stack.processes}
    stack.env["LOG_FORMAT"] = "text"
    stack.stop("web", "actions")
    stack.start_process("web")
    stack.start_process("actions")
    await stack.wait_until_ready()

    marker = f"gecko{uuid.uuid4().hex[:8]}"
    await converse(stack, marker)
    web = log_lines(stack, "web", starts["web"])
    assert any(" INFO aiohttp.access: POST /channels/widget/messages 200 " in line for line in web)
    assert not any(line.startswith("{") for line in web)
    for name, start in starts.items():
        assert marker not in "\n".join(log_lines(stack, name, start)), name


async def readiness(http: aiohttp.ClientSession, stack: Stack) -> tuple[int, dict]:
    async with http.get(f"{stack.web}/readyz") as response:
        return response.status, await response.json()


async def wait_for_readiness(http: aiohttp.ClientSession, stack: Stack, status: int) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while (found := await readiness(http, stack))[0] != status:
        assert time.monotonic() < deadline, f"/readyz never answered {status}: {found}"
        await asyncio.sleep(0.5)
    return found[1]


@pytest.mark.e2e
async def test_ready_only_while_rasa_has_its_model(stack):
    token = {"token": RASA_TOKEN}
    async with aiohttp.ClientSession() as http:
        body = await wait_for_readiness(http, stack, 200)
        assert body == {
            "status": "ready",
            "checks": {"rasa": "ready", "directory_database": "ready"},
        }
        async with http.delete(f"{stack.rasa}/model", params=token) as unloaded:
            assert unloaded.status == 204
        try:
            body = await wait_for_readiness(http, stack, 503)
            assert body["checks"] == {"rasa": "no model loaded", "directory_database": "ready"}
            alive = await http.get(f"{stack.web}/healthz")
            assert alive.status == 200
        finally:
            model = {"model_file": str(stack.model)}
            async with http.put(f"{stack.rasa}/model", params=token, json=model) as loaded:
                assert loaded.status == 204, await loaded.text()
        await wait_for_readiness(http, stack, 200)
