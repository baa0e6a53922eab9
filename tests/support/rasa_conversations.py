"""Rasa's own tracker store, driven line by line, for the retention tests.

Rasa environment. Started once by a test in the app environment; reads one JSON command
per line on stdin and answers one JSON line on stdout (importing Rasa takes seconds, so the
process stays):

    {"write": URL, "conversations": {"SENDER": AGE_DAYS, ...}}  -> {"written": n}
    {"read": URL, "senders": ["SENDER", ...]}                    -> {"SENDER": n_events | null}
    {"ttl": URL, "sender": "SENDER"}                             -> {"ttl": seconds (Redis)}

The store is bot/rasa_ext/stores.py's ConversationStore, as endpoints.yml names it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_ext.stores import ConversationStore

DAY = 24 * 60 * 60


async def answer(command: dict[str, Any]) -> dict[str, Any]:
    url = command.get("write") or command.get("read") or command.get("ttl")
    store = ConversationStore(domain=Domain.empty(), host=url, retention_days=30)
    if "write" in command:
        for sender, age in command["conversations"].items():
            when = time.time() - float(age) * DAY
            tracker = DialogueStateTracker(sender, [])
            for event in (
                ActionExecuted("action_listen", timestamp=when),
                UserUttered("Wo kann ich mich anmelden?", timestamp=when + 1),
                BotUttered("Diese Stellen helfen Ihnen:", timestamp=when + 2),
            ):
                tracker.update(event)
            await store.save(tracker)
        return {"written": len(command["conversations"])}
    if "read" in command:
        found = {}
        for sender in command["senders"]:
            tracker = await store.retrieve(sender)
            found[sender] = len(tracker.events) if tracker else None
        return found
    return {"ttl": store.inner.red.ttl(store.inner.key_prefix + command["sender"])}


def main() -> None:
    for line in sys.stdin:
        try:
            reply = asyncio.run(answer(json.loads(line)))
        except Exception as error:  # the test shows it
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
