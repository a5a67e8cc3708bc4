"""The replicator against moto: two accounts, real Kinesis records, the real table."""

from __future__ import annotations

from handler_support import POC_ACCOUNT, blob, failures


def test_batch_is_written_to_the_other_account(world):
    payloads = [{"userId": f"u{i}", "n": i, "price": 1.25, "empty": "", "gone": None} for i in range(30)]
    world.source.put(blob(p) for p in payloads)
    event = world.source.event()
    response = world.replicate(event)
    assert failures(response) == []
    items = world.target.items()
    assert len(items) == 30
    assert world.target.table_arn.split(":")[4] == POC_ACCOUNT
