"""Talking to a person: a conversation handed over to the welcome centre's staff, its
messages, and the pause of the assistant while a person has it. App environment."""
