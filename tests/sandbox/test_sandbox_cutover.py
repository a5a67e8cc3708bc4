"""End to end, ``--cutover``: the original hand-made deployment built and fed, then taken over
by the stacks (the table adopted by import) while traffic flows (one run)."""

from __future__ import annotations

import io
import json

import pytest

from sandbox.demo import run
from sandbox.plan import DemoOptions


def test_taking_over_the_original_deployment_loses_and_duplicates_nothing() -> None:
    out = io.StringIO()
    options = DemoOptions(records=90, chunk=10, progress=False, replay=False, cutover=True)
    result = run(options, out=out)
    assert result.ok, result.failures
    # The original wrote some records and skipped others (decimals, KPL aggregates) ...
    assert result.cutover_seed_items is not None and result.cutover_seed_items > 0
    assert result.cutover_seed_skipped is not None and result.cutover_seed_skipped > 0
    # ... and the take-over's early start filled the gaps: every record, once.
    assert (result.cutover_lost, result.cutover_duplicates) == (0, 0)
    assert result.replicated_items == result.produced == 90
    final = json.loads(out.getvalue().strip().splitlines()[-1])
    assert final["cutover_seed_items"] == result.cutover_seed_items
    assert (final["cutover_lost"], final["cutover_duplicates"]) == (0, 0)


def test_an_imported_table_is_read_not_created_and_must_match() -> None:
    from sandbox.emulator import Emulator
    from sandbox.mocks import Deployment, EmulatorMocks, _Context, _import_table
    from sandbox.seed_deployment import SEED_TABLE, build_seed

    with Emulator("eu-west-1") as emulator:
        emulator.client("kinesis", "111111111111").create_stream(StreamName="s", ShardCount=1)
        build_seed(
            emulator,
            prod_account="111111111111",
            poc_account="999999999999",
            region="eu-west-1",
            stream_arn="arn:aws:kinesis:eu-west-1:111111111111:stream/s",
        )
        mocks = EmulatorMocks(emulator, Deployment("poc", "999999999999", "eu-west-1"))
        inputs = {
            "name": SEED_TABLE,
            "hashKey": "seqNumbershardIdHash",
            "rangeKey": "sequenceNumber",
            "billingMode": "PAY_PER_REQUEST",
            "streamEnabled": True,
            "streamViewType": "NEW_IMAGE",
            "pointInTimeRecovery": {"enabled": False},
            "serverSideEncryption": {"enabled": False},
            "deletionProtectionEnabled": False,
            "ttl": {"enabled": False},
        }

        def adopt(**changed: object) -> tuple[str, dict]:
            ctx = _Context(mocks, "t", {**inputs, **changed}, "999999999999", "eu-west-1", {})
            return _import_table(ctx, SEED_TABLE)

        table_id, outputs = adopt()
        assert table_id == SEED_TABLE
        assert outputs["streamArn"].startswith(outputs["arn"] + "/stream/")
        with pytest.raises(RuntimeError, match=r"pointInTimeRecovery: False != True"):
            adopt(pointInTimeRecovery={"enabled": True})
        with pytest.raises(RuntimeError, match=r"streamViewType: 'NEW_IMAGE' != 'NEW_AND_OLD"):
            adopt(streamViewType="NEW_AND_OLD_IMAGES")
