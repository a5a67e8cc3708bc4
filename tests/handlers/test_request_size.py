"""BatchWriteItem requests are cut by size as well as by count.

DynamoDB takes at most 25 put or delete requests and 16 MB of data over the network per call
(:data:`.batches.BATCH_WRITE_MAX_BYTES`). Items within the 400 KB item limit can be several
times that size in DynamoDB JSON (a long list of small numbers: ``{"N":"1"}`` for 3 counted
bytes), so 25 valid items can make a request DynamoDB refuses. Both table writers (replicator,
query writer) measure the serialised request and cut it before the limit.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from handler_support import FakeContext, failures, kinesis_record
from stream_replica.handlers import (
    batches,
    clients,
    query_writer,
    records,
    replicator,
    replicator_writes,
)
from stream_replica.handlers.retry import TimeBudget

SEQ = "49590338271490256608559692538361571095921575989136588898"
SHARD = "shardId-000000000000"


class _Sent:
    """A ``before-send`` hook: records each BatchWriteItem body and answers "all written"."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.bodies.append(bytes(request.body))
        body = json.dumps({"UnprocessedItems": {}}).encode()

        class Raw:
            def stream(self, **_: Any) -> Any:
                yield body

        return AWSResponse(request.url, 200, {}, Raw())


def _numbers_payload(count: int) -> str:
    return json.dumps({"v": [1] * count}, separators=(",", ":"))


def _sequence(i: int) -> str:
    return f"{SEQ[:-3]}{i:03d}"


def test_twenty_five_valid_items_over_16_mb_on_the_wire_go_out_in_two_requests(world):
    data = base64.b64encode(_numbers_payload(68_000).encode()).decode()
    item = records.record_item_reference(data, SEQ, SHARD)
    assert 200_000 < records.item_size(item) < records.MAX_ITEM_BYTES
    event = {"Records": [kinesis_record(data, _sequence(i)) for i in range(25)]}
    sent = _Sent()
    clients.add_event_hook("before-send.dynamodb.BatchWriteItem", sent)

    assert failures(world.replicate(event)) == []

    assert len(sent.bodies) == 2
    assert all(len(body) <= batches.BATCH_WRITE_MAX_BYTES for body in sent.bodies)
    written = [
        request["PutRequest"]["Item"]["sequenceNumber"]["S"]
        for body in sent.bodies
        for requests in json.loads(body)["RequestItems"].values()
        for request in requests
    ]
    assert sorted(written) == [_sequence(i) for i in range(25)]


# --------------------------------------------------------------------------- the boundary


def _entry(i: int, item_json: str) -> Any:
    return replicator_writes._Entry(_sequence(i), ("h", _sequence(i)), SHARD, item_json)


def _padded_item(i: int, wire_bytes: int, text: str = "x") -> str:
    """An item text of exactly ``wire_bytes`` UTF-8 bytes, padded with ``text`` then ``x``."""
    head = f'{{"seqNumbershardIdHash":{{"S":"h"}},"sequenceNumber":{{"S":"{_sequence(i)}"}},'
    head += '"p":{"S":"'
    tail = '"}}'
    room = wire_bytes - len((head + tail).encode())
    per = len(text.encode())
    return head + text * (room // per) + "x" * (room % per) + tail


def _body_bytes(table: str, entries: list[Any]) -> int:
    from stream_replica.handlers import write_requests

    return len(write_requests.body_text({table: [e.put_request() for e in entries]}).encode())


@pytest.mark.parametrize("text", ["x", "é", "😀"])
def test_the_replicator_measures_its_request_exactly(text):
    table = "prod-raven-lambda-webanalytics-crossaccount"
    entries = [_entry(i, _padded_item(i, 1_200 * 4 + 12 * i, text)) for i in range(25)]
    limit = replicator_writes.request_limit(table)
    measured = sum(replicator_writes.entry_bytes(e) for e in entries)
    assert _body_bytes(table, entries) == batches.BATCH_WRITE_MAX_BYTES - limit + measured


@pytest.mark.parametrize(("extra", "requests"), [(0, 1), (1, 2)])
def test_a_request_of_exactly_the_limit_goes_out_whole_one_byte_more_is_cut(
    extra, requests, monkeypatch
):
    """Two items whose request body is exactly 16,000,000 bytes (+ ``extra``)."""
    table = "t"
    first = _entry(0, _padded_item(0, 8_000_000))
    envelope_and_first = _body_bytes(table, [first, _entry(1, _padded_item(1, 200))]) - 200
    second = _entry(1, _padded_item(1, batches.BATCH_WRITE_MAX_BYTES - envelope_and_first + extra))
    assert _body_bytes(table, [first, second]) == batches.BATCH_WRITE_MAX_BYTES + extra
    chunks = _replicator_chunks(table, [first, second], monkeypatch)
    assert [len(c) for c in chunks] == ([2] if requests == 1 else [1, 1])


def _replicator_chunks(table: str, entries: list[Any], monkeypatch) -> list[list[Any]]:
    chunks: list[list[Any]] = []
    monkeypatch.setattr(replicator_writes, "writer_client", lambda config: object())
    monkeypatch.setattr(replicator_writes.write_requests, "install", lambda client: client)

    def write_chunk(client, chunk_table, chunk, budget):
        chunks.append(list(chunk))
        return replicator_writes.chunk_writes.WriteOutcome(written=len(chunk))

    monkeypatch.setattr(replicator_writes.chunk_writes, "write_chunk", write_chunk)
    # no DynamoDB behind this writer: the table's key schema is taken as checked
    monkeypatch.setattr(
        replicator_writes.target_table, "key_schema_problem", lambda *_a, **_k: None
    )
    config = replicator.ReplicatorConfig(
        access_mode="resource-policy",
        table=table,
        region="eu-west-1",
        role_arn=None,
        session_name="tests",
        external_id=None,
        session_seconds=3600,
        dead_letter_queue_url=None,
        concurrency=1,
        safety_margin_ms=10_000,
    )
    writer = replicator.ChunkWriter(config, TimeBudget(FakeContext(), 10_000), log=None)
    for entry in entries:
        writer.add(entry)
    writer.finish()
    return chunks


def test_twenty_five_small_items_are_still_one_request(monkeypatch):
    entries = [_entry(i, _padded_item(i, 1_000)) for i in range(26)]
    assert [len(c) for c in _replicator_chunks("t", entries, monkeypatch)] == [25, 1]


# --------------------------------------------------------------------------- the query writer


def _query_config() -> Any:
    return query_writer.QueryWriterConfig(
        table="query",
        hash_attribute="userId",
        hash_type="S",
        range_attribute="sequenceNumber",
        sort_key_attribute="eventTs",
        ttl_attribute=None,
        ttl_days=0,
        source_ttl_days=0,
        dead_letter_queue_url=None,
        concurrency=1,
        safety_margin_ms=10_000,
    )


def _put(i: int, numbers: int) -> Any:
    item = {
        "userId": {"S": "u"},
        "eventTs": {"N": str(i)},
        "v": {"L": [{"N": "1"}] * numbers},
        "b": {"B": b"\x00" * 30},
    }
    return query_writer._Request(str(i), (("eventTs", str(i)),), put=item)


def test_the_query_writer_cuts_its_requests_by_size(monkeypatch):
    requests = [_put(i, 68_000) for i in range(25)]
    sent = _Sent()
    client = clients.apply_hooks(_dynamodb_client())
    client.meta.events.register("before-send.dynamodb.BatchWriteItem", sent)

    outcome = query_writer.write_requests(
        client, _query_config(), requests, TimeBudget(FakeContext(), 10_000)
    )

    assert outcome.written == 25
    assert len(sent.bodies) >= 2
    assert all(len(body) <= batches.BATCH_WRITE_MAX_BYTES for body in sent.bodies)


def test_the_query_writer_measures_its_request_exactly():
    config = _query_config()
    requests = [_put(i, 1_000 + i) for i in range(5)]
    client = _dynamodb_client()
    sent = _Sent()
    client.meta.events.register("before-send.dynamodb.BatchWriteItem", sent)
    client.batch_write_item(RequestItems={config.table: [r.body() for r in requests]})
    measured = sum(query_writer.request_bytes(r) for r in requests)
    limit = query_writer.request_limit(config.table)
    assert len(sent.bodies[0]) == batches.BATCH_WRITE_MAX_BYTES - limit + measured


def _dynamodb_client() -> Any:
    import botocore.session

    return botocore.session.Session().create_client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
