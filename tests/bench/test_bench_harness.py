"""The benchmark harness measures what it claims: requests are counted by operation, the latency
model really delays each request, the baseline really makes one PutItem per record, the events
are in AWS's format, and the derived figures (extrapolation, cost) follow their formulas."""

from __future__ import annotations

import base64
import json
import time

import boto3
import pytest
from bench_report_inputs import empty_results
from boto3.dynamodb.types import TypeDeserializer
from stream_replica.testing.events import (
    clickstream,
    dynamodb_stream_event,
    item_for,
    kinesis_event,
)

from bench import correctness, cost, harness
from bench.emulation import emulation
from bench.subjects import apply_env, load_subjects


@pytest.fixture
def subjects() -> dict[str, object]:
    apply_env()
    found, notes = load_subjects()
    assert not notes, notes
    return {s.label: s for s in found}


def test_counter_counts_each_request_by_operation() -> None:
    apply_env()
    with emulation(fake=True) as counter:
        ddb = boto3.client("dynamodb")
        for _ in range(3):
            ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {"k": {"S": "v"}}}}]})
        ddb.put_item(TableName="t", Item={"k": {"S": "v"}})
        boto3.client("firehose").put_record_batch(
            DeliveryStreamName="s", Records=[{"Data": b"a"}, {"Data": b"b"}]
        )
    assert counter.snapshot() == {
        "dynamodb:BatchWriteItem": 3,
        "dynamodb:PutItem": 1,
        "firehose:PutRecordBatch": 1,
    }


def test_latency_model_delays_every_request() -> None:
    apply_env()
    client = boto3.client("dynamodb")
    slept: list[float] = []
    with emulation(fake=True, latency_ms=7, sleep=slept.append):
        for _ in range(3):
            client.put_item(TableName="t", Item={"k": {"S": "v"}})
    assert slept == [0.007] * 3
    # and with the real clock: four requests at 25 ms cannot take less than 100 ms
    with emulation(fake=True, latency_ms=25):
        start = time.perf_counter()
        for _ in range(4):
            client.put_item(TableName="t", Item={"k": {"S": "v"}})
        assert time.perf_counter() - start >= 4 * 0.025


def test_fake_refuses_an_operation_it_does_not_know() -> None:
    apply_env()
    with emulation(fake=True), pytest.raises(NotImplementedError, match="dynamodb:DeleteTable"):
        boto3.client("dynamodb").delete_table(TableName="t")


def test_baseline_makes_one_putitem_per_record_and_assumes_role_every_time(subjects) -> None:
    baseline = subjects["replicator (baseline)"]
    run = harness.invoke(baseline, kinesis_event(clickstream(7)), latency_ms=0, repeats=2)
    assert run.first_calls == {"dynamodb:PutItem": 7, "sts:AssumeRole": 1}
    # every invocation, warm or not, assumes the role again and writes record by record
    assert run.warm_calls == {"dynamodb:PutItem": 7, "sts:AssumeRole": 1}


def test_ours_batches_and_assumes_role_once(subjects) -> None:
    ours = subjects["replicator (ours)"]
    run = harness.invoke(ours, kinesis_event(clickstream(60)), latency_ms=0, repeats=1)
    # The cold start also reads the table's key schema once (DescribeTable); warm invocations
    # only write.
    assert run.first_calls == {
        "dynamodb:BatchWriteItem": 3,
        "sts:AssumeRole": 1,
        "dynamodb:DescribeTable": 1,
    }
    assert run.warm_calls == {"dynamodb:BatchWriteItem": 3}


def test_events_carry_the_payload_in_aws_format() -> None:
    payloads = clickstream(3)
    kin = kinesis_event(payloads)["Records"]
    assert [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in kin] == payloads
    assert all(len(r["kinesis"]["sequenceNumber"]) == 56 for r in kin)
    assert kin[0]["eventID"] == f"shardId-000000000000:{kin[0]['kinesis']['sequenceNumber']}"
    ddb = dynamodb_stream_event(payloads)["Records"]
    des = TypeDeserializer()
    image = {k: des.deserialize(v) for k, v in ddb[1]["dynamodb"]["NewImage"].items()}
    assert image == item_for(payloads[1], kin[1]["kinesis"]["sequenceNumber"])
    assert ddb[1]["eventName"] == "INSERT" and ddb[1]["eventSource"] == "aws:dynamodb"


def test_extrapolation_keeps_setup_once_and_scales_per_record_time() -> None:
    calls = {"dynamodb:PutItem": 100, "sts:AssumeRole": 1}
    sample = harness.Invocations(100, 5.0, calls, calls, wall_s=[0.6], cpu_s=[0.06])
    once = {"sts:AssumeRole": 1}
    setup = harness.Invocations(0, 5.0, once, once, wall_s=[0.1], cpu_s=[0.01])
    scaled = harness.extrapolate_sequential(sample, setup, 1000)
    assert scaled.n == 1000 and scaled.scaled_from == 100
    assert scaled.warm_calls == {"dynamodb:PutItem": 1000, "sts:AssumeRole": 1}
    assert scaled.wall == pytest.approx(0.1 + 0.5 * 10)
    assert scaled.cpu == pytest.approx(0.01 + 0.05 * 10)


def test_cost_scales_cpu_time_by_the_memory_share() -> None:
    full = cost.estimate(batch=1000, cpu_s=0.1, io_wait_s=0.0, memory_mb=1769)
    small = cost.estimate(batch=1000, cpu_s=0.1, io_wait_s=0.0, memory_mb=128)
    assert full.duration_cpu_s == pytest.approx(0.1)
    assert small.duration_cpu_s == pytest.approx(0.1 * 1769 / 128)
    # CPU-bound work costs the same GB-s whatever the memory (below one vCPU), plus requests
    per_batch_arm = 0.1 * 1769 / 1024 * cost.PRICE_PER_GB_S["arm64"] + cost.PRICE_PER_REQUEST
    assert small.cost["arm64"][0] == pytest.approx(1000 * per_batch_arm)
    with_io = cost.estimate(batch=1000, cpu_s=0.1, io_wait_s=0.05, memory_mb=512)
    assert with_io.duration_io_s == pytest.approx(0.1 * 1769 / 512 + 0.05)


def test_moto_run_checks_the_whole_path_for_both_designs(subjects) -> None:
    for impl in ("ours", "baseline"):
        result = correctness.run(
            subjects[f"replicator ({impl})"], subjects[f"archiver ({impl})"], 5
        )
        assert result.ok, (impl, result.failures)
        assert result.items_after_redelivery == 5 and result.archived_lines == 5
    assert result.replicator_calls[1] == {"dynamodb:PutItem": 5, "sts:AssumeRole": 1}


def test_the_powertools_peer_batches_and_writes_the_same_items(subjects) -> None:
    """The peer makes ceil(N/25) BatchWriteItem (replicator) and ceil(N/500) PutRecordBatch
    (archiver) calls, and its items are the data contract's, equal to ours."""
    from stream_replica.handlers import records
    from stream_replica.testing.events import nested

    peer_rep, peer_arc = subjects["replicator (peer)"], subjects["archiver (peer)"]
    event = kinesis_event(nested(60))
    with emulation(fake=True) as counter:
        peer_rep.reset()
        assert harness.call(peer_rep, event) == {"batchItemFailures": []}
    assert counter.snapshot() == {"dynamodb:BatchWriteItem": 3, "sts:AssumeRole": 1}
    ours = [
        records.record_item_reference(
            r["kinesis"]["data"], r["kinesis"]["sequenceNumber"], "shardId-000000000000"
        )
        for r in event["Records"]
    ]
    assert peer_rep.transform(event) == ours
    stream_event = dynamodb_stream_event(clickstream(501))
    with emulation(fake=True) as counter:
        peer_arc.reset()
        assert harness.call(peer_arc, stream_event) == {"batchItemFailures": []}
    assert counter.snapshot() == {"firehose:PutRecordBatch": 2}


def test_side_by_side_report_states_the_ratios() -> None:
    """The side-by-side table divides the peer's and the seed's CPU per record by ours."""
    from bench import report_performance

    res = empty_results([1000])

    def run(cpu_s: float, gc_s: float) -> harness.Invocations:
        return harness.Invocations(1000, 0.0, {}, {}, wall_s=[1.0], cpu_s=[cpu_s], gc_s=[gc_s])

    res.side_by_side[("clickstream", "replicator", "ours", 1000, 0.0)] = run(0.030, 0.001)
    res.side_by_side[("clickstream", "replicator", "peer", 1000, 0.0)] = run(0.150, 0.010)
    res.side_by_side[("clickstream", "replicator", "baseline", 1000, 0.0)] = run(0.600, 0.0)
    text = report_performance.side_by_side_section(res)
    assert "| replicator | clickstream | 1,000 | 30.0 (1.0) | 150.0 (10.0) | 600.0 (0.0) |" in text
    assert "| 5.0x | 20.0x |" in text


def test_performance_targets_table_states_every_row_with_its_verdict() -> None:
    """Each row of the performance targets table is reported from the side-by-side runs, judged
    against its target; a figure the run did not take is a failure, not a pass."""
    from bench import report_targets

    res = empty_results([1000, 10000])

    def run(n: int, cpu_s: float, wall_s: float = 1.0) -> harness.Invocations:
        return harness.Invocations(n, 0.0, {}, {}, wall_s=[wall_s], cpu_s=[cpu_s], gc_s=[0.0])

    sbs = res.side_by_side
    sbs[("clickstream", "replicator", "ours", 1000, 0.0)] = run(1000, 0.030)  # 30 µs: pass
    sbs[("nested", "replicator", "ours", 1000, 0.0)] = run(1000, 0.070)  # 70 µs: FAIL
    sbs[("clickstream", "replicator", "peer", 1000, 0.0)] = run(1000, 0.150)  # 5.0x
    sbs[("nested", "replicator", "peer", 1000, 0.0)] = run(1000, 0.210)  # 3.0x
    sbs[("clickstream", "replicator", "ours", 10000, 0.0)] = run(10000, 0.320)  # +7 %
    sbs[("clickstream", "replicator", "ours", 1000, 5.0)] = run(1000, 0.03, wall_s=0.05)
    res.runs[("replicator", "baseline", 1000, 5.0)] = run(1000, 0.5, wall_s=6.0)
    res.imports = {
        "import boto3": [0.100],
        "replicator": [0.110],
        "replicator: modules beyond boto3's": [0.012],
        "replicator: boto3 by -X importtime": [0.120],  # the ratio's base when present
        "archiver": [0.125],
        "archiver: modules beyond boto3's": [0.010],
    }
    text = report_targets.performance_targets_section(res)
    lines = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines()}
    for metric, target in report_targets.PERFORMANCE_TARGETS:
        assert metric in lines, metric
        assert f"| {target} |" in lines[metric]
    got = {metric: lines[metric] for metric, _ in report_targets.PERFORMANCE_TARGETS}
    first, nested, growth, rate, seed, peer, archiver, imports, mbs = got.values()
    assert "| 30.0 | **pass** |" in first
    assert "| 70.0 | **FAIL** |" in nested
    # only one of the four function/shape pairs at both sizes: not a pass
    assert "replicator clickstream +7%" in growth and growth.endswith("**FAIL** |")
    assert "| 20,000 | **pass** |" in rate
    assert "| 120x | **pass** |" in seed
    assert "clickstream 5.0x; nested 3.0x" in peer and peer.endswith("**FAIL** |")
    assert "not measured in this run" in archiver and archiver.endswith("**FAIL** |")
    assert "replicator 1.10x (-X importtime 1.10x)" in imports
    assert "archiver 1.25x" in imports and imports.endswith("**FAIL** |")
    assert "replicator clickstream" in mbs
