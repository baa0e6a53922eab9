"""The WhatsApp Cloud API channel: Meta's webhook at `/webhooks/whatsapp`, answered through
the channel gateway. App environment.

On when WHATSAPP_VERIFY_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_ACCESS_TOKEN and
WHATSAPP_PHONE_NUMBER_ID are set (bot/settings.py); otherwise the route does not exist
(404) and the start log says so once. `GET` answers Meta's verification handshake; every
`POST` must carry Meta's signature of its raw body, is answered 200 at once, and its
messages are handled in the background, one at a time per user and in order (the
gateway's turn). A user over the rate limit (MESSAGES_PER_MINUTE_PER_SENDER; all requests
come from Meta's servers, so there is no limit per address) is told once to wait a
minute, and those messages never reach Rasa. Phone numbers stay in this process's memory
(whatsapp_senders.py): Rasa and the logs only see the gateway's pseudonymous sender id,
and logs carry no text.

A sender this process has not seen before gets the list of languages after their first
answer (unless that answer offers the languages itself, or they just chose one): no
extra request to Rasa, and after a restart a returning user sees the list once more.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.gateway import CHANNEL_SETTINGS_KEY, GATEWAY_KEY, Gateway
from bot.channels.messages import TOO_MANY_MESSAGES, Inbound, Reply
from bot.channels.rasa import RasaUnavailable
from bot.channels.rate_limits import RateLimited
from bot.channels.whatsapp_client import GraphClient, GraphError
from bot.channels.whatsapp_render import (
    ONLY_TEXT,
    SHORT_ID_PREFIX,
    TRY_AGAIN_SOON,
    language_menu,
    whatsapp_messages,
)
from bot.channels.whatsapp_senders import WhatsAppSender, WhatsAppSenders
from bot.channels.whatsapp_webhook import (
    SIGNATURE_HEADER,
    MessageStatus,
    UserMessage,
    signature_is_valid,
    updates_in,
)
from bot.i18n.catalog import gettext
from bot.languages import is_supported
from bot.settings import WHATSAPP_NAMES, Settings

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
ROUTE = "/webhooks/whatsapp"
# How long a stopping app waits for answers still being sent.
SHUTDOWN_WAIT_SECONDS = 5.0
GRAPH_TIMEOUT_SECONDS = 30
CHOSEN_LANGUAGE = re.compile(r'^/choose_language\{"language": ?"([a-z]{2})"\}$')


class WhatsAppChannel:
    """Turns Meta's notifications into gateway turns and the replies into Graph API calls."""

    def __init__(
        self, gateway: Gateway, graph: GraphClient, senders: WhatsAppSenders | None = None
    ):
        self.gateway, self.graph = gateway, graph
        self.senders = senders or WhatsAppSenders()
        self.status_counts: Counter[str] = Counter()
        # Running background work; kept here so that it is not garbage-collected.
        self.tasks: set[asyncio.Task[None]] = set()

    def accept(self, payload: object) -> None:
        """Start handling every message of one notification (in order) and count statuses."""
        for update in updates_in(payload):
            if isinstance(update, MessageStatus):
                self.record_status(update)
            else:
                self._spawn(self.answer(update))

    def record_status(self, update: MessageStatus) -> None:
        """Count what became of a sent message; never answered."""
        self.status_counts[update.status] += 1
        if update.status == "failed":
            codes = ", ".join(map(str, update.error_codes)) or "none given"
            logger.warning("A WhatsApp message was not delivered (error %s).", codes)
        else:
            logger.debug("WhatsApp message %s.", update.status)

    async def answer(self, message: UserMessage) -> None:
        """Handle one user message. Nothing is awaited before the gateway's turn is joined,
        so messages started in arrival order are answered in that order."""
        sender_id = self.gateway.sender(CHANNEL, message.phone)
        sender, new = self.senders.seen(sender_id, message.phone)
        deliver = self._delivery(sender)
        if message.kind == "unreadable":
            text, answer, delivery = "", [Reply(gettext(sender.language, ONLY_TEXT))], deliver
        else:
            text, answer = rasa_text(message, sender), None
            if text is None:
                return
            chosen = CHOSEN_LANGUAGE.match(text)
            if chosen and is_supported(chosen[1]):
                sender.language = chosen[1]
            delivery = self._delivery(sender, offer_languages=new and not chosen)
        inbound = Inbound(
            CHANNEL, message.phone, text, message_id=message.message_id, location=message.location
        )

        def mark_read() -> None:
            self._spawn(self._mark_read(message.message_id))

        try:
            passed_on = await self.gateway.receive(
                inbound, delivery, answer=answer, accepted=mark_read
            )
        except RasaUnavailable:
            reply = Reply(gettext(sender.language, TRY_AGAIN_SOON))
            await self.gateway.push(CHANNEL, message.phone, [reply], deliver)
            return
        except RateLimited as limited:
            # Told once a minute; the messages after it in that minute go unanswered.
            logger.info("A WhatsApp sender is over the rate limit; the message was dropped.")
            if limited.first:
                reply = Reply(gettext(sender.language, TOO_MANY_MESSAGES))
                await self.gateway.push(CHANNEL, message.phone, [reply], deliver)
            return
        if not passed_on:
            # Not its id: a wamid encodes the user's phone number.
            logger.info("A WhatsApp message arrived again; ignored.")

    async def push(
        self, sender_id: str, replies: Sequence[Reply], language: str | None = None
    ) -> bool:
        """Send `replies` to a sender without a new message from them (a staff answer),
        with the channel's own words in `language` (the conversation's, when known).
        False when this process no longer knows their number (see whatsapp_senders) or
        the Graph API refused a message (e.g. 131047: they last wrote over 24 hours ago)."""
        sender = self.senders.get(sender_id)
        if sender is None:
            return False
        if is_supported(language):
            sender.language = language
        sent = False

        async def deliver(batch: Sequence[Reply]) -> None:
            nonlocal sent
            sent = await self._send(sender, batch)

        await self.gateway.push(CHANNEL, sender.phone, replies, deliver)
        return sent

    async def settled(self) -> None:
        """Return once all background work (also work it started) has finished."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def _delivery(self, sender: WhatsAppSender, offer_languages: bool = False):
        async def deliver(replies: Sequence[Reply]) -> None:
            await self._send(sender, replies, offer_languages)

        return deliver

    async def _send(
        self, sender: WhatsAppSender, replies: Sequence[Reply], offer_languages: bool = False
    ) -> bool:
        """Send `replies` as WhatsApp messages; False once the Graph API refuses one."""
        messages = whatsapp_messages(replies, sender)
        offered = any(
            choice.payload.startswith("/choose_language")
            for reply in replies
            for choice in reply.choices
        )
        if offer_languages and not offered:
            messages.append(language_menu(sender.language))
        for message in messages:
            try:
                await self.graph.send(sender.phone, message)
            except GraphError:
                # Logged by the client; what follows would fail alike or arrive out of order.
                return False
        return True

    async def _mark_read(self, message_id: str) -> None:
        try:
            await self.graph.mark_read(message_id)
        except GraphError:
            pass  # logged by the client; a missing read receipt harms nobody

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(_logged(work))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def rasa_text(message: UserMessage, sender: WhatsAppSender) -> str | None:
    """What Rasa gets for `message`: a tapped button's payload, the payload behind a
    menu number, "/inform_location" for a shared position, else the words."""
    if message.kind == "location":
        return "/inform_location"
    if message.kind == "reply":
        if not message.text.startswith(SHORT_ID_PREFIX):
            return message.text
        payload = sender.short_ids.get(message.text)
        if payload is None:
            logger.warning("A WhatsApp button of a forgotten menu was tapped; ignored.")
        return payload
    number = message.text.strip()
    if sender.numbered_payloads and number.isdigit():
        if 1 <= int(number) <= len(sender.numbered_payloads):
            return sender.numbered_payloads[int(number) - 1]
    return message.text


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    try:
        await work
    except Exception as error:  # a background task has nobody else to tell
        logger.error("WhatsApp message handling failed: %s.", type(error).__name__)


WHATSAPP_KEY = web.AppKey("whatsapp", WhatsAppChannel)


def setup(app: web.Application) -> None:
    """Add the WhatsApp webhook to `app` when the channel is configured."""
    found: Settings = app[CHANNEL_SETTINGS_KEY]
    if not found.whatsapp_enabled:
        logger.info("The WhatsApp channel is off: set %s to turn it on.", ", ".join(WHATSAPP_NAMES))
        return

    async def channel(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=GRAPH_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            graph = GraphClient(
                http,
                found.whatsapp_api_base_url,
                found.whatsapp_phone_number_id,
                found.whatsapp_access_token,
            )
            app[WHATSAPP_KEY] = WhatsAppChannel(app[GATEWAY_KEY], graph)
            yield
            await _finish(app[WHATSAPP_KEY])

    async def verify(request: web.Request) -> web.Response:
        return verification_answer(request.query, found.whatsapp_verify_token)

    async def notify(request: web.Request) -> web.Response:
        return await notification_answer(request, found.whatsapp_app_secret)

    app.cleanup_ctx.append(channel)
    app.add_routes([web.get(ROUTE, verify), web.post(ROUTE, notify)])
    logger.info("The WhatsApp channel is on: Meta's webhook is %s.", ROUTE)


def verification_answer(query: Any, verify_token: str) -> web.Response:
    """Meta's subscription handshake: echo `hub.challenge` when mode and token are right."""
    mode, token = query.get("hub.mode"), query.get("hub.verify_token") or ""
    if mode != "subscribe" or not hmac.compare_digest(token.encode(), verify_token.encode()):
        logger.warning("WhatsApp webhook verification refused: wrong mode or verify token.")
        return web.Response(status=403, text="Wrong hub.mode or hub.verify_token.")
    challenge = query.get("hub.challenge")
    if not challenge:
        return web.Response(status=400, text="Missing hub.challenge.")
    return web.Response(text=challenge, content_type="text/plain")


async def notification_answer(request: web.Request, app_secret: str) -> web.Response:
    """Check a notification's signature, start handling it, answer at once (its size is
    checked before: bot/web/body_limits.py)."""
    body = await request.read()
    if not signature_is_valid(app_secret, body, request.headers.get(SIGNATURE_HEADER)):
        logger.warning("WhatsApp webhook: a POST without a valid signature was refused.")
        return web.Response(status=403, text=f"Missing or wrong {SIGNATURE_HEADER}.")
    try:
        payload = json.loads(body)
    except ValueError:
        logger.warning("WhatsApp webhook: a signed POST was not JSON; ignored.")
        return web.Response(status=400, text="The body is not JSON.")
    request.app[WHATSAPP_KEY].accept(payload)
    return web.Response(text="OK")


async def _finish(channel: WhatsAppChannel) -> None:
    """Give answers in progress a moment to go out, then stop them."""
    if not channel.tasks:
        return
    _, pending = await asyncio.wait(set(channel.tasks), timeout=SHUTDOWN_WAIT_SECONDS)
    for task in pending:
        task.cancel()
    if pending:
        logger.warning("Stopping: %d WhatsApp message(s) left unanswered.", len(pending))
        await asyncio.gather(*pending, return_exceptions=True)
