"""Pseudonymous sender ids: a channel's user id (a phone number on WhatsApp) never reaches
Rasa's tracker store or a log. App environment.

The id Rasa sees is a keyed hash (HMAC-SHA256) of the channel and the user's id, with a
secret from `CHANNEL_SECRET`. Without it (one machine, `make run`), a random secret is
made once and kept in var/channel-secret (readable by its owner only), so a user keeps
their conversation across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def channel_secret(configured: str | None, key_file: Path) -> bytes:
    """The configured secret, else the one kept in `key_file` (made on first use)."""
    if configured:
        return configured.encode()
    try:
        return key_file.read_bytes()
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    # Created readable by its owner only, and never overwritten by a second process.
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_bytes()
    with os.fdopen(descriptor, "wb") as file:
        file.write(key)
    return key


def sender_id(secret: bytes, channel: str, user: str) -> str:
    """The pseudonymous id of `user` on `channel` ("whatsapp-3f9a…", 32 hex digits)."""
    digest = hmac.new(secret, f"{channel}\x00{user}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:32]}"
