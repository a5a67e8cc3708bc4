"""The bench's pseudonymised configuration: ours and the peer really pseudonymise the field,
leave no stage variable behind for the plain runs, and the report divides as it says."""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from bench_report_inputs import empty_results
from stream_replica.testing.events import clickstream, kinesis_event

from bench import harness, pseudonymised
from bench.emulation import FAKE_PSEUDONYMIZATION_KEY, emulation
from bench.subjects import apply_env, load_subjects


def test_both_variants_pseudonymise_the_field_and_clean_up(monkeypatch) -> None:
    apply_env()
    found, notes = load_subjects()
    assert not notes, notes
    variants = {s.impl: s for s in pseudonymised.variants(found)}
    assert set(variants) == {"ours-pseudonymised", "peer-pseudonymised"}
    payloads = clickstream(30)
    event = kinesis_event(payloads)
    expected = {
        hmac.new(
            FAKE_PSEUDONYMIZATION_KEY.encode(), p["userId"].encode(), hashlib.sha256
        ).hexdigest()
        for p in payloads
    }
    bodies: list[bytes] = []

    def capture(request, **_):  # the BatchWriteItem bodies, as sent
        bodies.append(request.body)

    for subject in variants.values():
        bodies.clear()
        with emulation(fake=True) as counter:
            subject.reset()
            from botocore.handlers import BUILTIN_HANDLERS

            BUILTIN_HANDLERS.insert(0, ("before-send.dynamodb.BatchWriteItem", capture))
            try:
                assert harness.call(subject, event) == {"batchItemFailures": []}
            finally:
                BUILTIN_HANDLERS.remove(("before-send.dynamodb.BatchWriteItem", capture))
        assert counter.snapshot().get("ssm:GetParameter") == 1
        assert not {name for name in pseudonymised.ENV if name in os.environ}
        items = [
            request["PutRequest"]["Item"]
            for body in bodies
            for requests in json.loads(body)["RequestItems"].values()
            for request in requests
        ]
        assert {item["userId"]["S"] for item in items} == expected, subject.impl
        assert not any(p["userId"] in json.dumps(items) for p in payloads)


def test_the_section_divides_the_pseudonymised_by_the_plain_and_the_peer_by_ours() -> None:

    res = empty_results([1000])

    def run(cpu_s: float, wall_s: float = 1.0) -> harness.Invocations:
        calls = {"dynamodb:BatchWriteItem": 40}
        return harness.Invocations(1000, 0.0, {}, calls, wall_s=[wall_s], cpu_s=[cpu_s])

    sbs = res.side_by_side
    sbs[("clickstream", "replicator", "ours", 1000, 0.0)] = run(0.040)
    sbs[("clickstream", "replicator", "ours-pseudonymised", 1000, 0.0)] = run(0.046)
    sbs[("clickstream", "replicator", "peer-pseudonymised", 1000, 0.0)] = run(0.230)
    sbs[("clickstream", "replicator", "ours-pseudonymised", 1000, 5.0)] = run(0.05, 0.080)
    sbs[("clickstream", "replicator", "peer-pseudonymised", 1000, 5.0)] = run(0.3, 0.800)
    text = pseudonymised.section(res)
    assert "| clickstream | 1,000 | 40.0 | 46.0 | 1.15x | 230.0 | 5.00x |" in text
    assert "| clickstream | 1,000 | — | 12,500 | 1,250 | 10.00x |" in text
    assert "FAIL" not in text and "pass" not in text
