# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make demo   - the sandbox: both stacks deployed into an in-process AWS, pipeline run end to end
#   make test   - ruff, mypy and every test
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-thorough lint demo bench serve schema redrive backfill clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: lint
	$(BIN)/pytest

# Every test, the Hypothesis property tests at 1000 examples each (README: Running the tests).
test-thorough: lint
	HYPOTHESIS_PROFILE=thorough $(BIN)/pytest

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

# The component provider's schema (provider/schema.json), inferred from the components' type
# annotations; a test fails when the committed file is stale.
schema: $(STAMP)
	$(BIN)/python provider/stream_replica_provider.py

# Redrive an on-failure queue (docs/redrive.md), with the AWS credentials of its account:
# ARGS="--queue-url https://sqs.eu-west-1.amazonaws.com/111111111111/... [--dry-run]"
redrive: $(STAMP)
	$(BIN)/python -m stream_replica.redrive $(ARGS)

# Rebuild a table from the archive (docs/backfill.md), with the POC account's credentials:
# ARGS="--bucket B --prefix data/ --from 2026-01-31T00 --to 2026-01-31T23 --target replica --table T [--dry-run]"
backfill: $(STAMP)
	$(BIN)/python -m stream_replica.backfill $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
