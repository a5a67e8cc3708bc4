# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make demo   - the sandbox: both stacks deployed into an in-process AWS, pipeline run end to end
#   make test   - ruff, mypy and every test
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-thorough lint typecheck unit demo bench serve docs redrive status cost backfill clean

# The virtualenv: uv (pinned in the lock, installed by the venv's own pip) installs the lock in
# seconds where pip takes most of a minute; the result is the same pinned set, pip included.
# Where uv cannot reach the index the way pip is configured to, pip installs the lock instead.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements.lock)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock \
		|| $(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e . \
		|| $(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# ruff first (a second), then mypy and the tests side by side: mypy is one process, pytest runs
# on every core (pytest-xdist), so a cold mypy overlaps the tests instead of preceding them.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory -j2 typecheck unit

typecheck: $(STAMP)
	$(BIN)/mypy .

unit: $(STAMP)
	$(BIN)/pytest -n auto

# Every test, the Hypothesis property tests at 1000 examples each (docs/development.md).
test-thorough: lint
	HYPOTHESIS_PROFILE=thorough $(BIN)/pytest -n auto

# The sandbox (docs/sandbox.md): both stacks deployed into moto, the pipeline run end to end.
# ARGS="--records 100000", "--throttle-writes 0.2 --fail-firehose 0.1", "--access-mode resource-policy" ...
demo: $(STAMP)
	$(BIN)/python -m sandbox $(ARGS)

# The same against moto's server on localhost, kept up for the AWS CLI / boto3 until Ctrl-C.
serve: $(STAMP)
	$(BIN)/python -m sandbox --serve $(ARGS)

# Benchmarks: our handlers against the seed design; prints a table, writes bench/results.md.
# ARGS="--quick" for a short run.
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# Every generated file (docs/generate.py): the README's configuration, permission and rule
# tables, docs/policy.md's legend and suppressions, docs/handlers.md's environment variables and
# the component provider's schema (provider/schema.json); a test fails when one is stale.
docs: $(STAMP)
	$(BIN)/python -m docs.generate

# Redrive an on-failure queue (docs/redrive.md), with the AWS credentials of its account:
# ARGS="--queue-url https://sqs.eu-west-1.amazonaws.com/111111111111/... [--dry-run]"
redrive: $(STAMP)
	$(BIN)/python -m stream_replica.redrive $(ARGS)

# The pipeline on one screen (docs/observability.md), from the stacks' outputs:
# ARGS="--stack poc=poc.json --stack prod=prod.json --profile poc=POC --profile prod=PROD"
status: $(STAMP)
	$(BIN)/python -m stream_replica.status $(ARGS)

# The monthly bill for a volume (docs/cost.md): ARGS="--records-per-second 1000 --record-bytes 1024"
cost: $(STAMP)
	$(BIN)/python -m stream_replica.cost $(ARGS)

# Rebuild a table from the archive (docs/backfill.md), with the POC account's credentials:
# ARGS="--bucket B --prefix data/ --from 2026-01-31T00 --to 2026-01-31T23 --target replica --table T [--dry-run]"
backfill: $(STAMP)
	$(BIN)/python -m stream_replica.backfill $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
