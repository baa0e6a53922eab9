# Welcome Desk — every command a developer or a city's IT needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

RASA_BIN := .venv/rasa/bin
# Rasa 3.6's dependencies print pages of deprecation warnings; they are not ours to fix.
RASA := PYTHONWARNINGS=ignore $(RASA_BIN)/rasa
APP_BIN := .venv/app/bin
MODEL := models/welcome-desk.tar.gz

# Settings (ports, URLs, databases) are read and checked by bot/settings.py, which also
# holds their defaults; `$(WITH_SETTINGS) COMMAND` runs COMMAND with all of them set.
export PYTHONPATH := $(CURDIR)
WITH_SETTINGS := $(APP_BIN)/python -m bot.settings exec --
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

# What the model is trained from (bot/rasa_ext also holds the Rasa server's runtime parts: `make eval`'s code, the NLG client, the stores, once.py, quiet_logs.py, flat_turns.py, workers.py, rasa_server.py; they train nothing).
TRAINING_INPUTS := config.yml domain.yml $(filter-out bot/rasa_ext/evaluation.py bot/rasa_ext/server_calls.py bot/rasa_ext/stores.py bot/rasa_ext/locks.py bot/rasa_ext/once.py bot/rasa_ext/quiet_logs.py bot/rasa_ext/flat_turns.py bot/rasa_ext/workers.py bot/rasa_ext/rasa_server.py bot/rasa_ext/turn_order.py bot/rasa_ext/one_message.py,$(shell find data/nlu data/rules.yml data/stories.yml bot/rasa_ext bot/languages.py bot/folding.py -name '*.yml' -o -name '*.py' 2>/dev/null))

.PHONY: help run shell train test lint check-catalogs catalogs validate load-directory admin \
        backup restore \
        test-app test-rasa test-conversations test-e2e bench profile eval envs system-packages clean

help:
	@echo "make run     start Welcome Desk (Rasa, action server, web app; see the README)"
	@echo "make test    install everything, then run every check"
	@echo "make shell   chat with the assistant in the terminal"
	@echo "make train   train the Rasa model (only when data or config changed)"
	@echo "make bench   replies under 1-50 concurrent conversations vs bare Rasa (reports/bench.json)"
	@echo "make profile where a turn's time goes under 50 conversations (py-spy, reports/profile-*.txt)"
	@echo "make eval    NLU quality per language on the held-out sets (reports/eval.json)"
	@echo "make lint    ruff"
	@echo "make load-directory   load data/directory/*.yaml into the directory database"
	@echo "make catalogs         extract and update the translation catalogs"
	@echo "make admin EMAIL=... NAME=...   create the staff console's first admin"
	@echo "make backup           copy the directory and the console's data to backups/ (also while running)"
	@echo "make restore FILE=... put a backup back (stop Welcome Desk first; see the README)"

# --- environments -----------------------------------------------------------------------
envs: .venv/rasa/.installed .venv/app/.installed

# PostgreSQL for the tests and benchmarks that start their own server (apt-get, as root).
system-packages:
	scripts/system-packages

.venv/rasa/.installed: requirements/rasa.lock scripts/make-venv
	scripts/make-venv rasa 3.10 requirements/rasa.lock

.venv/app/.installed: requirements/app.lock scripts/make-venv
	scripts/make-venv app 3.11 requirements/app.lock

# --- model and directory ----------------------------------------------------------------
train: $(MODEL)

$(MODEL): $(TRAINING_INPUTS) | .venv/rasa/.installed
	@echo "==> training the Rasa model (data or config changed)"
	@start=$$(date +%s); \
	$(RASA) train --fixed-model-name welcome-desk --out models && \
	echo "==> trained in $$(( $$(date +%s) - start )) s: $(MODEL)"

load-directory: var/directory.loaded

var/directory.loaded: $(wildcard data/directory/*.yaml) $(wildcard bot/directory/migrations/versions/*.py) | .venv/app/.installed
	@mkdir -p var
	$(APP_BIN)/python -m bot.directory load
	@touch $@

# The staff console's first admin (asks for the password; nothing has a default one).
admin: .venv/app/.installed
	@test -n "$(EMAIL)" -a -n "$(NAME)" || { echo 'usage: make admin EMAIL=you@city.example NAME="Your Name"'; exit 2; }
	$(WITH_SETTINGS) $(APP_BIN)/python -m bot.console create-admin --email "$(EMAIL)" --name "$(NAME)"

# The directory database (directory, staff accounts, handed-over conversations, ratings):
# backups/directory-YYYYmmdd-HHMMSS.sqlite, or .dump for PostgreSQL; FILE=... names another.
backup: .venv/app/.installed
	$(WITH_SETTINGS) $(APP_BIN)/python -m bot.directory backup $(if $(FILE),"$(FILE)")

# Checks FILE, keeps the database as it was next to it, restores and migrates.
restore: .venv/app/.installed
	@test -n "$(FILE)" || { echo 'usage: make restore FILE=backups/directory-YYYYmmdd-HHMMSS.sqlite'; exit 2; }
	$(WITH_SETTINGS) $(APP_BIN)/python -m bot.directory restore "$(FILE)"

# --- run ------------------------------------------------------------------------------------
# supervisord starts the three processes and starts again any that stops (supervisord.conf).
run: envs $(MODEL) var/directory.loaded
	@mkdir -p var/log
	$(APP_BIN)/python -m bot.settings exec --announce -- $(APP_BIN)/supervisord -c supervisord.conf

# The action server and web app under supervisord, Rasa in the terminal.
shell: envs $(MODEL) var/directory.loaded
	@mkdir -p var/log
	$(WITH_SETTINGS) $(APP_BIN)/supervisord -c supervisord.conf >/dev/null & \
	trap '$(APP_BIN)/supervisorctl -c supervisord.conf shutdown >/dev/null' EXIT; \
	sleep 2; $(APP_BIN)/supervisorctl -c supervisord.conf stop rasa >/dev/null; \
	$(WITH_SETTINGS) env PYTHONWARNINGS=ignore $(RASA_BIN)/rasa shell --model $(MODEL) --endpoints endpoints.yml

# --- checks ---------------------------------------------------------------------------------
test: envs system-packages lint check-catalogs validate test-app test-rasa $(MODEL) test-conversations test-e2e
	@echo "==> all checks passed"

lint: .venv/app/.installed
	$(APP_BIN)/ruff check .
	$(APP_BIN)/ruff format --check .

check-catalogs: .venv/app/.installed
	$(APP_BIN)/python -m bot.i18n.check

catalogs: .venv/app/.installed
	$(APP_BIN)/python -m bot.i18n.update_catalogs

validate: .venv/rasa/.installed .venv/app/.installed
	$(APP_BIN)/python -m bot.directory check
	$(APP_BIN)/python scripts/validate_rasa_data.py

test-app: .venv/app/.installed system-packages
	$(APP_BIN)/pytest -q -m "not e2e"

test-rasa: .venv/rasa/.installed
	$(RASA_BIN)/pytest -q -p no:cacheprovider tests/rasa_ext

test-conversations: $(MODEL)
	$(RASA) test core --e2e --stories tests/conversations --model $(MODEL) \
	  --fail-on-prediction-errors --out reports/conversations --quiet

test-e2e: $(MODEL) .venv/app/.installed
	$(APP_BIN)/pytest -q -m e2e

bench: envs system-packages $(MODEL)
	$(APP_BIN)/python -m bench
	$(APP_BIN)/python -m bench.directory_scale

# Where a turn's time goes under 50 conversations (py-spy; root or ptrace rights).
profile: envs system-packages $(MODEL)
	$(APP_BIN)/python -m bench.profile

# NLU quality per language on tests/nlu, for the model of config.yml and for each
# alternative pipeline in eval/pipelines/ (trained NLU-only, when its inputs changed).
EVAL_PIPELINES := $(basename $(notdir $(wildcard eval/pipelines/*.yml)))
EVAL_MODELS := $(foreach p,$(EVAL_PIPELINES),models/eval-$(p).tar.gz)

eval: envs $(MODEL) $(EVAL_MODELS)
	PYTHONWARNINGS=ignore $(RASA_BIN)/python -m bot.rasa_ext.evaluation \
	  --model "config.yml=$(MODEL)" $(foreach p,$(EVAL_PIPELINES),--model "$(p)=models/eval-$(p).tar.gz")

models/eval-%.tar.gz: eval/pipelines/%.yml $(TRAINING_INPUTS) | .venv/rasa/.installed
	@echo "==> training the NLU model of pipeline $*"
	$(RASA) train nlu --config $< --fixed-model-name eval-$* --out models

clean:
	rm -rf models var reports results
