"""`rasa run` with Welcome Desk's changes to the Rasa server installed first. Rasa
environment. supervisord.conf starts it: `python -m bot.rasa_ext.rasa_server run ...`
takes `rasa run`'s arguments.

endpoints.yml makes Rasa import bot/rasa_ext/server_calls.py anyway, but only while it
loads the model; what has to be in place before (the model loaded before Sanic forks its
workers, bot/rasa_ext/workers.py) needs this entry.
"""

import sys

from rasa.__main__ import main

import bot.rasa_ext.server_calls  # noqa: F401  (installs the changes)
from bot.rasa_ext.workers import (
    install_connections_shared_evenly,
    install_model_loaded_before_workers,
)

if __name__ == "__main__":
    install_model_loaded_before_workers()
    install_connections_shared_evenly()
    sys.exit(main())
