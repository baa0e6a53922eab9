"""Custom actions for the Rasa server (rasa-sdk action server). App environment.

Actions are thin: they read slots and the latest message, call `bot.*`, and return events.
Run with `python -m rasa_sdk --actions actions`; a wrong setting stops it at start.
"""

import sys

from bot.settings import SettingsError, settings

try:
    settings()
except SettingsError as error:
    sys.exit(f"The action server cannot start: {error}")
