"""The Rasa server's calls to our other processes, made lean. Rasa environment.

Profiled under 50 concurrent conversations (docs/performance.md), two costs of Rasa Open
Source 3.6 grew with every message without serving us:

- **The NLG request**: the callback generator posts the whole tracker (every event of the
  conversation) for each response, and serialises it once more for a debug line even when
  debug logging is off. Our endpoint (bot/web/nlg.py) reads only the slots and the latest
  message's channel, so `SlotsOnlyNaturalLanguageGenerator` sends just those: a request's
  size no longer grows with the conversation.
- **Checking the action server's answer**: `RemoteAction._validate_action_result` calls
  `jsonschema.validate`, which checks the schema itself and builds a validator and a $ref
  resolver on each of the two action calls per message (about 15 ms each, a third of the
  server's CPU). `install_action_result_check` makes it validate with validators built
  once, each event against its own type's schema rather than all 23 (0.75 ms per answer
  before that); an answer that fails still goes through Rasa's own check, so its error
  is Rasa's.
- **A new connection for every call**: `EndpointConfig.request` opens an HTTP session,
  and so a TCP connection, for each action call and each NLG request (about eight per
  topic answer) and closes it again. `install_connection_reuse` keeps one session per
  endpoint and event loop, so calls reuse their connections.

And one cost to users, not to the CPU: **when the action server is down or slow**, Rasa
logged the error and said nothing, so the user met silence. `install_action_failure_answer`
bounds each action call to `ACTION_TIMEOUT` seconds and answers a failed one with
`utter_try_again_later` ("please try again in a moment") in the user's language; the next
message is tried again as usual, so the conversation goes on once the server is back.

endpoints.yml names the generator (`nlg: type: bot.rasa_ext.server_calls.…`), so the Rasa
server imports this module at start; importing it installs these changes, answers a
message sent twice only once (bot/rasa_ext/once.py), keeps a turn's cost flat over long
conversations (bot/rasa_ext/flat_turns.py) and keeps message text out of Rasa's
logs (bot/rasa_ext/quiet_logs.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from jsonschema import Draft7Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import (
    ActionExecutionRejection,
    ActionSessionStart,
    RemoteAction,
    create_bot_utterance,
)
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator, nlg_response_format_spec
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext.flat_turns import (
    install_applied_events_memo,
    install_collection_after_model_load,
    install_event_class_lookup,
    install_recent_events_for_actions,
    install_recent_states,
)
from bot.rasa_ext.once import install_once_per_message_id
from bot.rasa_ext.quiet_logs import install_logs_without_message_text
from bot.rasa_ext.turn_order import install_oldest_first

logger = logging.getLogger(__name__)

# Longest wait for one action call. A message makes two (action_update_context, then the
# answer); when the first timed out, the second apologises at once.
ACTION_TIMEOUT = 5.0
# Said when an action could not run; rendered in the user's language by the web app.
TRY_AGAIN_LATER = "utter_try_again_later"
# Said if the web app cannot render it either.
TRY_AGAIN_LATER_TEXT = "Sorry, I cannot answer this right now. Please try again in a moment."
# The slot-mapping action: when it fails, the answer that follows says so (once).
SILENT_ON_FAILURE = frozenset({"action_update_context"})

# Built once, each with the draft `jsonschema.validate` would pick for its schema.
NLG_RESPONSE_FORMAT = Draft7Validator(nlg_response_format_spec())


def _by_event_type(schema: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Rasa's schema for an action's answer checks each event against all 23 event types
    (`oneOf`, told apart by a constant `event`). The same check in two steps: the answer
    without that `oneOf`, then each event against its own type's schema only."""
    events = schema["properties"]["events"]
    items = {key: value for key, value in events["items"].items() if key != "oneOf"}
    without = {
        **schema,
        "properties": {**schema["properties"], "events": {**events, "items": items}},
    }
    types = {branch["properties"]["event"]["const"]: branch for branch in events["items"]["oneOf"]}
    if len(types) != len(events["items"]["oneOf"]):
        raise RasaException("Rasa's event schemas no longer differ by their `event` value")
    validator = validator_for(schema)
    return validator(without), {name: validator(branch) for name, branch in types.items()}


_ANSWER_WITHOUT_EVENT_TYPES, _EVENT_TYPES = _by_event_type(
    RemoteAction.action_response_format_spec()
)


def action_result_is_valid(result: Any) -> bool:
    """What Rasa's schema for an action's answer says of `result`, in a tenth of the time."""
    if not _ANSWER_WITHOUT_EVENT_TYPES.is_valid(result):
        return False
    for event in result.get("events") or ():  # objects with a string `event`, by now
        event_type = _EVENT_TYPES.get(event["event"])
        if event_type is None or not event_type.is_valid(event):
            return False
    return True


def nlg_request(
    response: str, tracker: DialogueStateTracker, output_channel: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """The body of one NLG request: the response's name and arguments, the slots, and the
    latest message's metadata (its channel)."""
    latest = tracker.latest_message
    return {
        "response": response,
        "id": None,
        "arguments": arguments,
        "tracker": {
            "sender_id": tracker.sender_id,
            "slots": tracker.current_slot_values(),
            "latest_message": {"metadata": (latest.metadata if latest else None) or {}},
        },
        "channel": {"name": output_channel},
    }


class SlotsOnlyNaturalLanguageGenerator(CallbackNaturalLanguageGenerator):
    """Rasa's callback generator, sending the slots instead of the whole tracker."""

    def __init__(self, endpoint_config: EndpointConfig, domain: Domain | None = None) -> None:
        super().__init__(endpoint_config)

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any]:
        kwargs.pop("domain_responses", None)  # the endpoint has the domain's texts itself
        body = nlg_request(utter_action, tracker, output_channel, kwargs)
        response = await self.nlg_endpoint.request(
            method="post", json=body, timeout=DEFAULT_REQUEST_TIMEOUT
        )
        if response is None or response == "":  # the endpoint chose to say nothing
            return response
        if isinstance(response, dict) and NLG_RESPONSE_FORMAT.is_valid(response):
            return response
        raise RasaException("NLG web endpoint returned an invalid response.")


def install_action_result_check() -> None:
    """Validate the action server's answers with the prebuilt validator (once per process)."""
    rasas_own = RemoteAction._validate_action_result
    if getattr(rasas_own, "prebuilt", False):
        return

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if action_result_is_valid(result):
            return True
        return rasas_own(self, result)  # raises Rasa's own error, with its message

    validate_action_result.prebuilt = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result


def user_language(tracker: DialogueStateTracker) -> str | None:
    """The conversation's language, else what the channel or the detector says about the
    latest message (the action that would set the slot may be the one that failed)."""
    latest = tracker.latest_message
    metadata = (latest.metadata if latest else None) or {}
    detected = (latest.parse_data.get("language") if latest else None) or {}
    return (
        tracker.get_slot("language")
        or (metadata.get("language") if isinstance(metadata, dict) else None)
        or (detected.get("code") if isinstance(detected, dict) else None)
    )


async def try_again_later(
    output_channel: Any, nlg: Any, tracker: DialogueStateTracker
) -> list[Event]:
    """The apology a user gets instead of silence, in their language if the web app can
    render it."""
    try:
        response = await nlg.generate(
            TRY_AGAIN_LATER,
            tracker,
            output_channel.name(),
            render_in=user_language(tracker),
        )
    except Exception as error:  # the web app is down as well
        logger.error("utter_try_again_later could not be rendered: %s", type(error).__name__)
        response = None
    return [create_bot_utterance(response or {"text": TRY_AGAIN_LATER_TEXT})]


# Conversations whose slot mapping timed out, with when (time.monotonic()).
_TIMED_OUT: dict[str, float] = {}


def _remember_timeout(sender_id: str) -> None:
    now = time.monotonic()
    for sender, when in list(_TIMED_OUT.items()):
        if now - when > ACTION_TIMEOUT:
            del _TIMED_OUT[sender]
    _TIMED_OUT[sender_id] = now


def _timed_out_just_now(sender_id: str) -> bool:
    when = _TIMED_OUT.pop(sender_id, None)
    return when is not None and time.monotonic() - when <= ACTION_TIMEOUT


def install_action_failure_answer() -> None:
    """Bound each action call in time and answer a failed one (once per process)."""
    rasas_own = RemoteAction.run
    if getattr(rasas_own, "answers_failures", False):
        return

    async def run(
        self: RemoteAction,
        output_channel: Any,
        nlg: Any,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> list[Event]:
        if self.name() not in SILENT_ON_FAILURE and _timed_out_just_now(tracker.sender_id):
            # This message's slot mapping already waited out the timeout: apologise now
            # rather than make the user wait for a second one.
            return await try_again_later(output_channel, nlg, tracker)
        try:
            return await asyncio.wait_for(
                rasas_own(self, output_channel, nlg, tracker, domain), ACTION_TIMEOUT
            )
        except ActionExecutionRejection:
            raise  # the action declined (a form's validation): Rasa's own handling
        except (RasaException, asyncio.TimeoutError, aiohttp.ClientError) as error:
            logger.error(
                "action %s failed: %s; the user is asked to try again",
                self.name(),
                type(error).__name__,
            )
            if self.name() in SILENT_ON_FAILURE:
                if isinstance(error, asyncio.TimeoutError):
                    _remember_timeout(tracker.sender_id)
                # Rasa's slot mapping logs a RasaException and goes on to the answer,
                # which apologises (any other error would end the message in silence).
                raise RasaException(f"{self.name()} failed: {type(error).__name__}") from error
            if self.name() == ActionSessionStart().name():
                # Start the session as Rasa would without our override.
                return await ActionSessionStart().run(output_channel, nlg, tracker, domain)
            return await try_again_later(output_channel, nlg, tracker)

    run.answers_failures = True  # type: ignore[attr-defined]
    RemoteAction.run = run


# Where an endpoint keeps its (event loop, session); EndpointConfig is not hashable.
KEPT_SESSION = "_welcome_desk_session"


class _KeptSession:
    """What `async with endpoint.session()` enters: the endpoint's open session, left open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def install_connection_reuse() -> None:
    """Give each endpoint one long-lived session per event loop (once per process)."""
    rasas_own = EndpointConfig.session
    if getattr(rasas_own, "kept", False):
        return

    def session(self: EndpointConfig) -> _KeptSession:
        loop = asyncio.get_running_loop()
        found = getattr(self, KEPT_SESSION, None)
        if found is None or found[0] is not loop or found[1].closed:
            found = (loop, rasas_own(self))  # Rasa's own: headers, auth, timeout
            setattr(self, KEPT_SESSION, found)
        return _KeptSession(found[1])

    session.kept = True  # type: ignore[attr-defined]
    EndpointConfig.session = session


async def close_kept_session(endpoint: EndpointConfig) -> None:
    """Close the endpoint's kept session (its loop is ending)."""
    found = getattr(endpoint, KEPT_SESSION, None)
    if found is not None:
        await found[1].close()


install_action_result_check()
install_connection_reuse()
install_action_failure_answer()
install_once_per_message_id()
install_logs_without_message_text()
install_event_class_lookup()
install_recent_events_for_actions()
install_collection_after_model_load()
install_recent_states()
install_applied_events_memo()
install_oldest_first()
