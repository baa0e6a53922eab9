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
  server's CPU). `install_action_result_check` makes it validate with one validator built
  once; an answer that fails still goes through Rasa's own check, so its error is Rasa's.
- **A new connection for every call**: `EndpointConfig.request` opens an HTTP session,
  and so a TCP connection, for each action call and each NLG request (about eight per
  topic answer) and closes it again. `install_connection_reuse` keeps one session per
  endpoint and event loop, so calls reuse their connections.

endpoints.yml names the generator (`nlg: type: bot.rasa_ext.server_calls.…`), so the Rasa
server imports this module at start; importing it installs both changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from jsonschema import Draft7Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator, nlg_response_format_spec
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

# Built once, each with the draft `jsonschema.validate` would pick for its schema.
NLG_RESPONSE_FORMAT = Draft7Validator(nlg_response_format_spec())
_ACTION_RESULT_SCHEMA = RemoteAction.action_response_format_spec()
ACTION_RESULT_FORMAT = validator_for(_ACTION_RESULT_SCHEMA)(_ACTION_RESULT_SCHEMA)


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
        if ACTION_RESULT_FORMAT.is_valid(result):
            return True
        return rasas_own(self, result)  # raises Rasa's own error, with its message

    validate_action_result.prebuilt = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result


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
