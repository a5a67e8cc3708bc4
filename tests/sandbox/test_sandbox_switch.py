"""End to end, ``--switch-consumer-mode``: the stacks updated to the other consumerMode and back
while the clickstream flows (one run): nothing lost, no duplicate item, and no duplicate archive
line beyond the records both mappings wrote."""

from __future__ import annotations

import io
import json

from sandbox.demo import run
from sandbox.plan import DemoOptions


def test_switching_the_consumer_mode_and_back_loses_nothing() -> None:
    out = io.StringIO()
    options = DemoOptions(
        records=60, chunk=10, progress=False, replay=False, switch_consumer_mode=True
    )
    result = run(options, out=out)
    assert result.ok, result.failures
    assert result.replicated_items == result.produced == 60
    assert result.duplicate_items == 0
    # efo (the stack files') -> shared -> efo, each replacement starting AT_TIMESTAMP
    assert [s.split(" at ")[0] for s in result.switches] == ["shared", "efo"]
    assert all(" at AT_TIMESTAMP " in s for s in result.switches)
    assert result.consumer_mode == "efo"
    # The overlap is real and stated; the archive's extra lines come from it alone.
    overlap = result.switch_overlap_records
    assert overlap is not None and overlap > 0
    assert 0 < result.archived_lines - result.archived_distinct <= overlap
    final = json.loads(out.getvalue().strip().splitlines()[-1])
    assert final["switch_overlap_records"] == overlap
    assert "records both mappings wrote (the switches' overlap)" in out.getvalue()
