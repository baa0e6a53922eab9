"""The NLG requests Rasa sends: the slots and the channel, not the conversation, so a
request's size stays the same however long the conversation is. Rasa environment; a
small HTTP server on loopback stands in for the web app's /nlg."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import datetime

import pytest
from aiohttp import web
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext.server_calls import SlotsOnlyNaturalLanguageGenerator, close_kept_session


def conversation(turns: int) -> DialogueStateTracker:
    events = [SlotSet("language", "ar"), SlotSet("city", "dortmund")]
    for turn in range(turns):
        events += [
            UserUttered(f"سؤال {turn}", {"name": "ask_housing"}, metadata={"channel": "widget"}),
            ActionExecuted("action_answer_topic"),
            BotUttered(f"answer {turn}"),
        ]
    return DialogueStateTracker.from_events("widget-0123", events)


def generate(turns: int, answer: object) -> dict:
    """The body /nlg received for one response after `turns` turns, and Rasa's result."""
    received: dict = {}
    connections: set = set()

    async def nlg(request: web.Request) -> web.Response:
        if not received:
            received.update(await request.json())
        connections.add(request.transport)
        return web.json_response(answer)

    async def run() -> object:
        app = web.Application()
        app.router.add_post("/nlg", nlg)
        runner = web.AppRunner(app)
        await runner.setup()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/nlg")
            generator = SlotsOnlyNaturalLanguageGenerator(endpoint)
            try:
                first = await generator.generate(
                    "utter_topic_answer", conversation(turns), "rest", topic="housing"
                )
                # A second request goes over the same connection.
                await generator.generate("utter_topic_answer", conversation(turns), "rest")
                return first
            finally:
                await close_kept_session(endpoint)
        finally:
            await runner.cleanup()

    try:
        result = asyncio.run(run())
    except RasaException as error:
        result = error
    return {"body": received, "result": result, "connections": len(connections)}


def test_the_request_holds_the_slots_and_channel_and_stays_small_in_a_long_conversation():
    short, long = generate(2, {"text": "ok"}), generate(200, {"text": "ok"})
    body = long["body"]
    assert body["response"] == "utter_topic_answer"
    assert body["arguments"] == {"topic": "housing"}
    assert body["tracker"]["slots"]["language"] == "ar"
    assert body["tracker"]["latest_message"]["metadata"] == {"channel": "widget"}
    assert "events" not in body["tracker"]
    assert len(json.dumps(body)) == len(json.dumps(short["body"]))
    assert long["result"] == {"text": "ok"}
    assert long["connections"] == 1  # both requests on one kept connection


def test_an_invalid_answer_from_the_endpoint_is_an_error():
    assert isinstance(generate(1, {"text": 42})["result"], RasaException)


def test_the_action_servers_answers_are_checked_as_rasa_checks_them():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_answer_topic", None)
    good = {
        "events": [{"event": "slot", "name": "shown_topic", "value": "housing"}],
        "responses": [{"response": "utter_topic_answer", "topic": "housing"}],
    }
    assert action._validate_action_result(good)
    assert getattr(RemoteAction._validate_action_result, "prebuilt", False)
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "slot", "name": 7}]})


def every_event_type() -> list[dict]:
    """One event of each type Rasa's schema knows, as Rasa writes them."""
    from rasa.shared.core import events as e

    made = [
        e.UserUttered("hallo", {"name": "greet", "confidence": 0.9}, [], message_id="m1"),
        e.ActionExecuted("action_answer_topic", policy="RulePolicy", confidence=1.0),
        e.SlotSet("city", "dortmund"),
        e.EntitiesAdded([{"entity": "city", "value": "dortmund"}]),
        e.DefinePrevUserUtteredFeaturization(use_text_for_featurization=False),
        e.ReminderCancelled(name="r"),
        e.ReminderScheduled("remind", datetime(2026, 12, 5, 9, 0), name="r"),
        e.ActionExecutionRejected("action_x", policy="RulePolicy"),
        e.LoopInterrupted(True),
        e.ActiveLoop("form"),
        e.AllSlotsReset(),
        e.ConversationResumed(),
        e.ConversationPaused(),
        e.FollowupAction("action_listen"),
        e.StoryExported("story.yml"),
        e.Restarted(),
        e.ActionReverted(),
        e.UserUtteranceReverted(),
        e.BotUttered("Hallo!", {"buttons": [{"title": "a", "payload": "/b"}]}),
        e.SessionStarted(),
        e.AgentUttered("hi"),
    ]
    return [event.as_dict() for event in made]


def answers_good_and_bad() -> list[object]:
    """Real answers, and each broken in the ways a faulty action server breaks them."""
    events = every_event_type()
    answers: list[object] = [{}, {"events": []}, {"events": events, "responses": [{}]}]
    for event in events:
        answers.append({"events": [event]})
        for key in event:
            answers.append({"events": [{k: v for k, v in event.items() if k != key}]})
            for wrong in (7, "x", None, [], {}, 1.5, True):
                answers.append({"events": [{**event, key: wrong}]})
        answers.append({"events": [{**event, "event": "no_such_event"}]})
    answers += [[], "x", None, {"events": None}, {"events": {}}, {"events": [7]}]
    answers += [{"responses": [7]}, {"responses": {}}, {"events": [{}]}]
    return answers


def test_each_event_checked_against_its_own_type_decides_as_rasas_whole_schema():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    from bot.rasa_ext.server_calls import action_result_is_valid

    schema = RemoteAction.action_response_format_spec()
    rasas = validator_for(schema)(schema)
    answers = answers_good_and_bad()
    decided = [(action_result_is_valid(a), rasas.is_valid(a)) for a in answers]
    assert [ours for ours, _ in decided] == [theirs for _, theirs in decided]
    assert sum(ours for ours, _ in decided) > 30  # many good answers...
    assert sum(not ours for ours, _ in decided) > 100  # ...and many bad ones
