"""Channels: the gateway between the newcomers' channels (the website widget, WhatsApp)
and the Rasa server. App environment (runs inside the web app).

`gateway` checks, de-duplicates and orders each channel's messages, gives each user a
pseudonymous sender id and passes the message to Rasa's REST channel (`rasa`); the replies
come back as `Reply` values (`messages`) that each channel renders in its own form. See
docs/decisions/0006.
"""
