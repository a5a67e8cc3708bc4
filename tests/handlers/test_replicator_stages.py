"""The replicator's staged pipeline against moto: KPL aggregates, gzip, the transform hook and
redaction, end to end through the handler (items in the POC table, dead letters in prod)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from botocore.awsrequest import AWSResponse
from handler_support import blob, dead_letters, error_response, failures, kinesis_record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_replica.handlers import clients, pipeline, records
from stream_replica.handlers.redaction import forget_keys
from stream_replica.handlers.transforms import forget_transforms

KEY_PARAMETER = "/stream-replica/pseudonymization-key"
KEY = "0123456789abcdef0123456789abcdef-prod-only"


@pytest.fixture(autouse=True)
def _fresh_environment() -> Any:
    forget_keys()
    forget_transforms()
    yield
    forget_keys()
    forget_transforms()


def kpl(payloads: list[bytes]) -> bytes:
    aggregator = RecordAggregator()
    for i, payload in enumerate(payloads):
        aggregator.add_user_record(f"user-{i}", payload)
    return bytes(aggregator.clear_and_get().get_contents()[2])


def keyed(world) -> dict[str, dict[str, Any]]:
    return {item["sequenceNumber"]: item for item in world.target.items()}


def transform_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> str:
    """Put a transform module where the asset root would be, and return its TRANSFORM_MODULE."""
    folder = tmp_path / "transform"
    folder.mkdir()
    (folder / "user.py").write_text(body)
    monkeypatch.setattr("stream_replica.handlers.transforms.asset_root", lambda: tmp_path)
    return "transform/user.py"


# --------------------------------------------------------------------------- KPL


def test_an_aggregate_of_three_becomes_three_items_and_a_replay_adds_none(world):
    payloads = [blob({"n": i, "eventType": "click"}) for i in range(3)]
    world.source.put([kpl(payloads)])
    event = world.source.event()
    (sequence_number,) = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]

    assert failures(world.replicate(event)) == []
    items = keyed(world)
    assert sorted(items) == [f"{sequence_number}:{i}" for i in range(3)]
    for i in range(3):
        item = items[f"{sequence_number}:{i}"]
        assert item["n"] == i
        assert item["subSequenceNumber"] == i
        assert item["seqNumbershardIdHash"] == records.partition_key(
            sequence_number, world.source.shard_id
        )

    assert failures(world.replicate(event)) == []  # the replay
    assert len(world.target.items()) == 3


def test_a_mix_of_plain_and_aggregated_records(world):
    plain = blob({"plain": True})
    world.source.put([plain, kpl([blob({"n": 0}), blob({"n": 1})]), plain])
    event = world.source.event()
    assert failures(world.replicate(event)) == []
    first, aggregate, last = (r["kinesis"]["sequenceNumber"] for r in event["Records"])
    assert sorted(keyed(world)) == sorted([first, f"{aggregate}:0", f"{aggregate}:1", last])


def test_a_poison_user_record_is_dead_lettered_and_its_siblings_written(world):
    world.source.put([kpl([blob({"n": 0}), b"not json", blob({"n": 2})])])
    event = world.source.event()
    (sequence_number,) = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert failures(world.replicate(event)) == []
    assert sorted(keyed(world)) == [f"{sequence_number}:0", f"{sequence_number}:2"]
    (letter,) = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    assert letter["subSequenceNumber"] == 1
    assert letter["sequenceNumber"] == sequence_number
    assert letter["reason"].startswith("user record 1: data is not JSON")


def test_a_corrupt_aggregate_is_poison_with_the_checksum_reason(world):
    raw = bytearray(kpl([blob({"n": i}) for i in range(3)]))
    raw[12] ^= 0x40
    event = {"Records": [kinesis_record(base64.b64encode(bytes(raw)).decode(), "4000")]}
    assert failures(world.replicate(event)) == []
    assert world.target.items() == []
    (letter,) = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    assert "checksum mismatch" in letter["reason"]
    assert letter["data"] == base64.b64encode(bytes(raw)).decode()


def test_one_unwritten_user_record_reports_the_kinesis_record_and_the_retry_completes(world):
    world.source.put([kpl([blob({"n": i}) for i in range(30)])])
    event = world.source.event()
    (sequence_number,) = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    state = {"calls": 0}

    def throttle_the_second_chunk(**_: Any) -> Any:
        state["calls"] += 1
        if state["calls"] >= 2:
            return error_response("AccessDeniedException", message="not authorized")
        return None

    clients.add_event_hook("before-call.dynamodb.BatchWriteItem", throttle_the_second_chunk)
    assert failures(world.replicate(event)) == [sequence_number]
    assert 0 < len(world.target.items()) < 30
    clients.clear_event_hooks()
    assert failures(world.replicate(event)) == []
    assert len(world.target.items()) == 30  # the whole aggregate, no duplicates


# --------------------------------------------------------------------------- gzip


def test_a_gzip_record_is_replicated_with_todays_key(world):
    payload = {"compressed": True, "n": 7}
    world.source.put([gzip.compress(blob(payload))])
    event = world.source.event()
    (sequence_number,) = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert failures(world.replicate(event)) == []
    (item,) = world.target.items()
    assert item["sequenceNumber"] == sequence_number
    assert item["compressed"] is True and item["n"] == 7


def test_a_gzip_bomb_is_poison(world):
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(deflate.compress(b" " * 1024 * 1024) for _ in range(16)) + deflate.flush()
    world.source.put([bomb, blob({"ok": 1})])
    event = world.source.event()
    assert failures(world.replicate(event)) == []
    assert len(world.target.items()) == 1
    (letter,) = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    assert "item limit" in letter["reason"]


def test_gzipped_user_records_inside_an_aggregate(world):
    world.source.put([kpl([gzip.compress(blob({"n": i})) for i in range(2)])])
    assert failures(world.replicate(world.source.event())) == []
    assert sorted(item["n"] for item in world.target.items()) == [0, 1]


def test_ttl_expiry_reaches_gzip_and_aggregated_records_from_their_arrival_time(world):
    """The staged path (gzip, KPL) adds the same expiry as the one-pass path: the Kinesis
    record's arrival time + TTL_DAYS, on every user record of an aggregate."""
    world.source.put(
        [
            blob({"n": 0}),
            gzip.compress(blob({"n": 1})),
            kpl([blob({"n": 2}), gzip.compress(blob({"n": 3}))]),
        ]
    )
    event = world.source.event()
    arrivals = [r["kinesis"]["approximateArrivalTimestamp"] for r in event["Records"]]
    record_of_n = {0: 0, 1: 1, 2: 2, 3: 2}
    assert failures(world.replicate(event, TTL_DAYS="3", TTL_ATTRIBUTE="ttl")) == []
    items = {item["n"]: item for item in world.target.items()}
    assert sorted(items) == [0, 1, 2, 3]
    for n, item in items.items():
        assert item["ttl"] == int(arrivals[record_of_n[n]]) + 3 * 86_400


# --------------------------------------------------------------------------- plain records


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(st.integers(-(10**20), 10**20), st.text(max_size=20), st.booleans()),
        max_size=6,
    ),
    sequence_number=st.from_regex(r"[1-9][0-9]{0,55}", fullmatch=True),
    expiry=st.none() | st.integers(0, 10**12),
)
def test_the_staged_path_keeps_todays_key_and_item_for_plain_records(
    payload, sequence_number, expiry
):
    """With no transform and no redaction, a plain record through the stages is the very item
    ``record_item_reference`` makes (the exact old typed path): same key, same attributes, with
    the TTL expiry attribute when it is on (``expiry``; it wins over a payload attribute)."""
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    shard = "shardId-000000000003"
    extra = None if expiry is None else {"expiresAt": expiry}
    reference = records.record_item_reference(data, sequence_number, shard, extra)
    staged = pipeline.stage_record(
        {"data": data, "partitionKey": "p"}, sequence_number, shard, pipeline.Stages(), extra
    )
    assert staged.poison == []
    ((key, item),) = staged.items
    assert key == (records.partition_key(sequence_number, shard), sequence_number)
    assert json.loads(item) == reference


def test_plain_records_without_stages_take_record_item(world, monkeypatch):
    """... through its text form, ``record_item_json`` (the one-pass path), as the handler does."""
    calls: list[str] = []
    original = records.record_item_json

    def spy(data: str, sequence_number: str, shard_id: str, extra: Any = None) -> Any:
        calls.append(sequence_number)
        return original(data, sequence_number, shard_id, extra)

    monkeypatch.setattr("stream_replica.handlers.replicator.record_item_json", spy)
    world.source.put([blob({"n": 1}), gzip.compress(blob({"n": 2})), kpl([blob({"n": 3})])])
    event = world.source.event()
    assert failures(world.replicate(event)) == []
    assert calls == [event["Records"][0]["kinesis"]["sequenceNumber"]]
    assert len(world.target.items()) == 3


# --------------------------------------------------------------------------- transform


TRANSFORM = """
def transform(record, meta):
    kind = record.get("kind")
    if kind == "drop":
        return None
    if kind == "fan":
        return [{"part": i, "shard": meta.shard_id} for i in range(3)]
    if kind == "boom":
        raise ValueError("cannot reshape " + str(record.get("n")))
    if kind == "wrong":
        return "a string"
    record["seen_sub"] = meta.sub_sequence_number
    record["sequenceNumber"] = "forged"
    record["seqNumbershardIdHash"] = "forged"
    return record
"""


def test_the_transform_filters_fans_out_and_cannot_forge_keys(world, tmp_path, monkeypatch):
    module = transform_file(tmp_path, monkeypatch, TRANSFORM)
    world.source.put(
        [
            blob({"kind": "keep", "n": 1}),
            blob({"kind": "drop"}),
            blob({"kind": "fan"}),
            blob({"kind": "boom", "n": 4}),
            blob({"kind": "wrong"}),
            kpl([blob({"kind": "keep", "n": 6})]),
        ]
    )
    event = world.source.event()
    seq = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert failures(world.replicate(event, TRANSFORM_MODULE=module)) == []

    items = keyed(world)
    assert sorted(items) == sorted(
        [seq[0], f"{seq[2]}#0", f"{seq[2]}#1", f"{seq[2]}#2", f"{seq[5]}:0"]
    )
    assert items[seq[0]]["seqNumbershardIdHash"] == records.partition_key(
        seq[0], world.source.shard_id
    )
    assert "seen_sub" not in items[seq[0]]  # None: a top-level null is dropped, as always
    assert items[f"{seq[5]}:0"]["seen_sub"] == 0
    assert items[f"{seq[2]}#1"] == {
        "part": 1,
        "shard": world.source.shard_id,
        "shardId": world.source.shard_id,
        "sequenceNumber": f"{seq[2]}#1",
        "seqNumbershardIdHash": records.partition_key(seq[2], world.source.shard_id),
    }
    letters = {
        letter["sequenceNumber"]: letter["reason"]
        for letter in dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    }
    assert letters == {
        seq[3]: "transform raised ValueError: cannot reshape 4",
        seq[4]: "transform returned str, not a dict, a list of dicts or None",
    }

    assert failures(world.replicate(event, TRANSFORM_MODULE=module)) == []  # replay
    assert len(world.target.items()) == 5


# --------------------------------------------------------------------------- redaction


class FakeParameterStore:
    """SSM's GetParameter for the key, answered by a ``before-call`` hook on the handler's own
    client (moto's SSM backend costs seconds to import; the sandbox uses it)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        clients.add_event_hook("before-call.ssm.GetParameter", self)

    def __call__(self, params: dict[str, Any], **_: Any) -> Any:
        request = json.loads(params["body"])
        self.requests.append(request)
        name = request["Name"]
        if name not in self.values:
            return error_response("ParameterNotFound", message=f"Parameter {name} not found.")
        http = AWSResponse("https://ssm.invalid", 200, {}, None)
        return http, {
            "Parameter": {"Name": name, "Type": "SecureString", "Value": self.values[name]}
        }


def put_key(world, value: str = KEY) -> FakeParameterStore:
    store = FakeParameterStore()
    store.values[KEY_PARAMETER] = value
    return store


def redaction_env() -> dict[str, str]:
    return {
        "DROP_FIELDS": json.dumps(["ipAddress", "device.id"]),
        "PSEUDONYMIZE_FIELDS": json.dumps(["userEmail"]),
        "PSEUDONYMIZATION_KEY_PARAMETER": KEY_PARAMETER,
    }


def test_fields_are_dropped_and_pseudonymised_before_the_write(world):
    store = put_key(world)
    payload = {
        "userEmail": "ana@example.com",
        "ipAddress": "203.0.113.9",
        "device": {"id": "d-1", "os": "ios"},
        "n": 1,
    }
    world.source.put([blob(payload), kpl([blob(payload)])])
    event = world.source.event()
    assert failures(world.replicate(event, **redaction_env())) == []

    pseudonym = hmac.new(KEY.encode(), b"ana@example.com", hashlib.sha256).hexdigest()
    items = world.target.items()
    assert len(items) == 2
    for item in items:
        assert item["userEmail"] == pseudonym
        assert "ipAddress" not in item
        assert item["device"] == {"os": "ios"}
    assert "ana@example.com" not in json.dumps(items, default=str)
    assert store.requests == [{"Name": KEY_PARAMETER, "WithDecryption": True}]

    world.source.put([blob(payload)])
    assert failures(world.replicate(world.source.event(), **redaction_env())) == []
    assert len(store.requests) == 1  # read once per execution environment


def test_a_missing_key_parameter_reports_the_batch_and_writes_nothing(world):
    store = FakeParameterStore()
    world.source.put([blob({"userEmail": "ana@example.com"}), blob({"n": 2})])
    event = world.source.event()
    assert failures(world.replicate(event, **redaction_env())) == [
        r["kinesis"]["sequenceNumber"] for r in event["Records"]
    ]
    assert world.target.items() == []
    assert dead_letters(world.prod.client("sqs"), world.replicator_dlq) == []
    assert world.calls["dynamodb.BatchWriteItem"] == 0

    store.values[KEY_PARAMETER] = KEY  # the fix: the next delivery writes the batch, redacted
    assert failures(world.replicate(event, **redaction_env())) == []
    assert len(world.target.items()) == 2


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "User is not authorized to perform: ssm:GetParameter"),
        ("AccessDeniedException", "not authorized to perform: kms:Decrypt on the key"),
        ("InvalidKeyId", "The KMS key is disabled"),
    ],
)
def test_a_denied_key_read_reports_the_batch(world, code, message):
    clients.add_event_hook(
        "before-call.ssm.GetParameter", lambda **_: error_response(code, message=message)
    )
    world.source.put([blob({"userEmail": "ana@example.com"})])
    event = world.source.event()
    assert failures(world.replicate(event, **redaction_env())) == [
        event["Records"][0]["kinesis"]["sequenceNumber"]
    ]
    assert world.target.items() == []
    assert dead_letters(world.prod.client("sqs"), world.replicator_dlq) == []
