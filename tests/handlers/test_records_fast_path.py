"""The replicator's fast path (``records.decode_payload_and_bound`` + ``check_item``) decides
every record exactly as the exact path does: decode the plain way, walk the whole item.

The reference below is the decode as it was before the fast path, written out again, so the
comparison does not lean on the code under test; ``serialise_item`` without a bound is the walk.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal, DecimalException
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from stream_replica.handlers import records
from stream_replica.handlers.records import PoisonRecordError

SEQ = "49590338271490256608559692538361571095921575989136588898"
SHARD = "shardId-000000000000"
LIMIT = records.MAX_ITEM_BYTES


def b64(text: str | bytes) -> str:
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return base64.b64encode(raw).decode("ascii")


def _reference_decode(data: str) -> dict[str, Any]:
    """``decode_payload`` before the fast path: json.loads with Decimal, nothing else."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise PoisonRecordError(f"data is not base64: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoisonRecordError(f"data is not UTF-8: {exc}") from None
    try:
        payload = json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=records._reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise PoisonRecordError(f"data is not JSON: {exc}") from None
    except RecursionError:
        raise PoisonRecordError("data is JSON nested too deeply to parse") from None
    if not isinstance(payload, dict):
        raise PoisonRecordError(f"data is JSON {type(payload).__name__}, not an object")
    return payload


def exact(data: str, shard: str = SHARD) -> tuple[str, Any]:
    try:
        item = records.build_item(_reference_decode(data), SEQ, shard)
        return "item", records.serialise_item(item)  # no bound: the full walk
    except PoisonRecordError as exc:
        return "poison", exc.reason


def fast(data: str, shard: str = SHARD) -> tuple[str, Any]:
    try:
        return "item", records.record_item(data, SEQ, shard)
    except PoisonRecordError as exc:
        return "poison", exc.reason


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the exact walks (``item_size`` calls) ``check_item`` makes."""
    calls: list[int] = []
    real = records.item_size

    def counting(serialised: Any) -> int:
        calls.append(1)
        return real(serialised)

    monkeypatch.setattr(records, "item_size", counting)
    return calls


# --------------------------------------------------------------------------- JSON-ish text

_WS = st.sampled_from(["", "", "", " ", "\n  ", "\t"])


def _number_text() -> st.SearchStrategy[str]:
    """Any JSON number: long integer parts, long zero runs after the point (1E-131 in plain
    notation), exponents far outside DynamoDB's range, 0 with huge exponents."""
    digits = st.text("0123456789", min_size=1, max_size=6)
    int_part = st.one_of(
        st.just("0"),
        st.builds(lambda d, rest: d + rest, st.sampled_from("123456789"), digits),
        st.integers(120, 135).map(lambda n: "1" + "0" * (n - 1)),
    )
    frac = st.one_of(
        st.just(""),
        digits.map(lambda d: "." + d),
        st.integers(125, 135).map(lambda z: "." + "0" * z + "1"),
    )
    exp = st.one_of(
        st.just(""),
        st.builds(
            lambda e, sign, n: f"{e}{sign}{n}",
            st.sampled_from("eE"),
            st.sampled_from(["", "+", "-"]),
            st.one_of(st.integers(0, 9), st.integers(120, 135), st.integers(0, 400)),
        ),
    )
    adversarial = st.builds(
        lambda sign, i, f, e: sign + i + f + e, st.sampled_from(["", "-"]), int_part, frac, exp
    )
    ordinary = st.one_of(
        st.integers(-(10**20), 10**20).map(str),
        st.floats(-1e20, 1e20, allow_nan=False).map(repr),  # 1e-05, 1.5e+16, ...
    )
    edges = st.sampled_from(
        [
            *("1E+125", "9.99e125", "1E+126", "-5e126", "1e-130", "1E-131", "-2.5E-131", "0e999"),
            *("0." + "0" * 129 + "1", "0." + "0" * 130 + "1", "-" + "9" * 38, "1" + "0" * 126),
        ]
    )
    return st.one_of(ordinary, ordinary, ordinary, ordinary, adversarial, edges)


def _string_text() -> st.SearchStrategy[str]:
    """JSON strings: plain, every character escaped as ``\\uXXXX``, non-ASCII raw, and lone or
    paired surrogate escapes."""
    plain = st.text(max_size=12).map(lambda s: json.dumps(s, ensure_ascii=False))
    escaped = st.text(max_size=12).map(lambda s: json.dumps(s, ensure_ascii=True))
    all_escaped = st.text(max_size=6).map(
        lambda s: '"' + "".join(f"\\u{ord(c):04x}" for c in s if ord(c) < 0x10000) + '"'
    )
    surrogates = st.sampled_from(
        ['"\\ud800"', '"x\\uDFFF"', '"\\ud83d\\ude00"', '"\\\\ud800"', '"\\u00e9"']
    )
    return st.one_of(plain, plain, plain, plain, escaped, escaped, all_escaped, surrogates)


def _value_text() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        _number_text(), _string_text(), st.sampled_from(["true", "false", "null", "[]", "{}"])
    )

    def containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        sep = st.builds(lambda a, b: a + "," + b, _WS, _WS)
        lists = st.builds(
            lambda items, s, w: "[" + w + s.join(items) + w + "]",
            st.lists(children, max_size=6),
            sep,
            _WS,
        )
        maps = st.builds(
            lambda pairs, s: "{" + s.join(f"{k}:{v}" for k, v in pairs) + "}",
            st.lists(st.tuples(_string_text(), children), max_size=5),
            sep,
        )
        return st.one_of(lists, maps)

    tree = st.recursive(leaves, containers, max_leaves=25)
    tiny_numbers = st.integers(1, 300).map(lambda n: "[" + ",".join(["0"] * n) + "]")
    singletons = st.integers(1, 40).map(lambda d: "[" * d + "0" + "]" * d)
    deep = st.builds(
        lambda d, kind, leaf: (kind[0] * d) + leaf + (kind[1] * d),
        st.one_of(st.integers(31, 34), st.integers(28, 40)),
        st.sampled_from([("[", "]"), ('{"a":', "}")]),
        leaves,
    )
    return st.one_of(tree, tree, tree, tree, tiny_numbers, singletons, deep)


def _payload_text() -> st.SearchStrategy[str]:
    names = st.one_of(
        _string_text().map(lambda name: name if name != '""' else '"n"'),
        st.sampled_from(['""', '"sequenceNumber"', '"shardId"', '"seqNumbershardIdHash"']),
    )
    attrs = st.lists(st.tuples(names, _value_text()), max_size=6)
    return st.builds(
        lambda pairs, w: "{" + w + ",".join(f"{k}{w}:{w}{v}" for k, v in pairs) + w + "}",
        attrs,
        _WS,
    )


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_payload_text())
def test_fast_path_decides_every_payload_as_the_exact_walk(text):
    data = b64(text)
    expected = exact(data)
    assert fast(data) == expected
    try:
        payload, bound = records.decode_payload_and_bound(data)
    except PoisonRecordError:
        return
    event(f"{'fast path' if bound is not None else 'exact walk'}: {expected[0]}")
    if bound is not None:
        # The proof, checked directly: the payload's attributes walk without error and within
        # 2·n bytes (serialisation errors are the serialiser's and happen on both paths).
        attrs = {k: v for k, v in payload.items() if v is not None and v != ""}
        try:
            serialised = {k: records._SERIALIZER.serialize(v) for k, v in attrs.items()}
        except (TypeError, DecimalException):  # boto3 refuses it: compared above already
            return
        assert records.item_size(serialised) <= bound == 2 * len(text.encode("utf-8"))


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**37), 10**37)
    | st.decimals(allow_nan=False, allow_infinity=False, places=6)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=6)
    ),
    max_leaves=20,
)


@settings(deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=8), _JSON_VALUES, max_size=8),
    st.booleans(),
    st.sampled_from([None, 0, 2]),
)
def test_what_producers_send_takes_the_fast_path_with_a_true_bound(payload, ascii_only, indent):
    """Objects as ``json.dumps`` writes them (every non-ASCII character escaped or not, compact or
    indented): the bound holds and the decision is the exact walk's."""
    text = json.dumps(payload, ensure_ascii=ascii_only, indent=indent, default=str)
    data = b64(text)
    assert fast(data) == exact(data)
    decoded, bound = records.decode_payload_and_bound(data)
    if bound is not None:
        event("fast path")
        serialised = {k: records._SERIALIZER.serialize(v) for k, v in decoded.items()}
        assert records.item_size(serialised) <= bound


@pytest.mark.parametrize(
    ("text", "fast_path"),
    [
        ('{"a": "plain ascii", "n": [1, 2.5, -0.001, 1e5, 9.99E+125, 1E-130]}', True),
        ('{"name": "caf\\u00e9"}', True),  # a \u escape that is not a surrogate
        ('{"name": "\\ud83d\\ude00"}', False),  # a surrogate pair: valid, but walked
        ('{"name": "\\ud800"}', False),
        ('{"n": 1E+126}', False),
        ('{"n": -1e-131}', False),
        ('{"n": 0e999}', True),  # zero is in range whatever its exponent
    ],
)
def test_which_payloads_get_a_bound(text, fast_path):
    _, bound = records.decode_payload_and_bound(b64(text))
    assert (bound is not None) is fast_path


def test_a_typical_record_skips_the_walk(walks):
    text = json.dumps(
        {
            "eventId": "3e4f9a",
            "timestampNs": 1795000000000000000,
            "amount": 12.5,
            "tags": ["mobile", "uk"],
            "context": {"geo": {"lat": 51.5, "lon": -0.12}, "empty": {}, "list": []},
            "referrer": None,
        }
    )
    item = records.record_item(b64(text), SEQ, SHARD)
    assert walks == []
    assert item == exact(b64(text))[1]
    assert item["amount"] == {"N": "12.5"}


def test_a_singleton_list_is_exactly_twice_its_text():
    """``[0]``: 3 bytes of text, 3 + 1 + 2 = 6 bytes in DynamoDB, so 2·n is tight."""
    assert records.attribute_value_size({"L": [{"N": "0"}]}) == 2 * len("[0]")


def _keys_size() -> int:
    key = records.partition_key(SEQ, SHARD)
    return sum(
        len(name) + len(value)
        for name, value in (("sequenceNumber", SEQ), ("shardId", SHARD), (records.HASH_KEY, key))
    )


def test_fast_path_threshold(walks):
    """Raw text of n bytes takes the fast path while 2·n + the key attributes ≤ 400 KB."""
    largest = (LIMIT - _keys_size()) // 2
    text = '{"k":"' + "x" * (largest - 8) + '"}'
    assert len(text) == largest
    records.record_item(b64(text), SEQ, SHARD)
    assert walks == []
    bigger = '{"k":"' + "x" * (largest - 7) + '"}'
    assert fast(b64(bigger)) == exact(b64(bigger))
    assert fast(b64(bigger))[0] == "item"
    assert len(walks) >= 1  # one byte more: the exact walk decides


@pytest.mark.parametrize("extra", [0, 1])
def test_item_just_at_and_over_400_kb(extra):
    value_len = LIMIT - _keys_size() - len("k") + extra
    data = b64('{"k":"' + "x" * value_len + '"}')
    assert fast(data) == exact(data)
    if extra:
        assert fast(data) == (
            "poison",
            f"item is {LIMIT + 1} bytes, over DynamoDB's {LIMIT}-byte (400 KB) item limit",
        )
    else:
        assert records.item_size(fast(data)[1]) == LIMIT


@pytest.mark.parametrize(("levels", "accepted"), [(32, True), (33, False)])
def test_nesting_at_32_and_33_levels(levels, accepted, walks):
    data = b64('{"a":' + "[" * levels + "0" + "]" * levels + "}")
    _, bound = records.decode_payload_and_bound(data)
    assert (bound is not None) is accepted  # 33 and 34 brackets
    assert fast(data) == exact(data)
    if accepted:
        assert fast(data)[0] == "item"
    else:
        assert fast(data) == ("poison", "attribute 'a': nesting deeper than DynamoDB's 32 levels")
        assert walks


@pytest.mark.parametrize(
    ("number", "accepted"),
    [
        ("1E+125", True),
        ("9.9999999999999999999999999999999999999E+125", True),
        ("1E+126", False),
        ("1E-130", True),
        ("1E-131", False),
        ("0." + "0" * 129 + "1", True),  # 1E-130 in plain notation
        ("0." + "0" * 130 + "1", False),  # 1E-131 in plain notation
    ],
)
def test_number_range_boundaries(number, accepted):
    data = b64('{"x": 1, "n": [' + number + "]}")
    assert fast(data) == exact(data)
    assert (fast(data)[0] == "item") is accepted
    if not accepted:
        assert "outside DynamoDB's range" in fast(data)[1]


def test_lone_surrogate_is_poison_with_the_same_reason():
    data = b64('{"s": "lone \\ud800"}')
    assert fast(data) == exact(data)
    assert fast(data)[1].startswith("text is not valid Unicode (a lone surrogate)")


def test_a_lone_surrogate_in_the_shard_id_is_found_on_the_fast_path(walks):
    """The key attributes are walked exactly even when the payload's are not."""
    data = b64('{"a": 1}')
    shard = "shardId-\udc80"
    assert fast(data, shard) == exact(data, shard)
    assert fast(data, shard)[1].startswith("text is not valid Unicode (a lone surrogate)")


def test_errors_before_an_out_of_range_number_are_reported_as_before():
    """An out-of-range number stops the fast decode; the plain decode then finds what follows."""
    for text in ('{"n": 1E+200, "x": NaN}', '{"n": 1E+200, oops}', "[1E+200]"):
        assert fast(b64(text)) == exact(b64(text))
        assert fast(b64(text))[0] == "poison"


class _CollectingWriter:
    """Stands in for the replicator's ChunkWriter: keeps what ``add`` is given."""

    def __init__(self) -> None:
        self.entries: list[Any] = []

    def add(self, entry: Any) -> None:
        self.entries.append(entry)


def _kinesis_records(payloads: list[str], sequence_numbers: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "eventID": f"{SHARD}:{sequence}",
            "kinesis": {
                "sequenceNumber": sequence,
                "data": data,
                "partitionKey": "p",
                "approximateArrivalTimestamp": 1764417600.5,
            },
        }
        for data, sequence in zip(payloads, sequence_numbers, strict=True)
    ]


def _redactions(min_paths: int = 0) -> st.SearchStrategy[Any]:
    """Stages that drop and pseudonymise (at least ``min_paths`` paths to pseudonymise), with
    the key or without it."""
    from stream_replica.handlers import pipeline

    path = st.one_of(
        st.sampled_from([("userId",), ("a",), ("b",), ("n", "a")]),
        st.lists(st.sampled_from(["a", "b", "n", "userId", "shardId"]), min_size=1, max_size=2).map(
            tuple
        ),
    )
    return st.builds(
        pipeline.Stages,
        drop=st.lists(path, max_size=2).map(tuple),
        pseudonymise=st.lists(path, min_size=min_paths, max_size=2).map(tuple),
        key=st.sampled_from([b"k" * 32, b"k" * 32, None]),
    )


def _stages() -> st.SearchStrategy[Any]:
    """No stages, drops and pseudonyms (with or without a key), or an identity transform."""
    from stream_replica.handlers import pipeline

    redactions = _redactions()
    identity = st.just(pipeline.Stages(transform=lambda record, meta: record))
    return st.one_of(st.none(), st.none(), redactions, identity)


#: Payloads with the attribute names the stages drop and pseudonymise, as producers write them.
_NAMED_PAYLOADS = st.fixed_dictionaries(
    {"userId": st.text(max_size=8), "a": _JSON_VALUES},
    optional={
        "b": _JSON_VALUES,
        "n": st.dictionaries(st.sampled_from(["a", "b", "n"]), _JSON_VALUES, max_size=3),
    },
).map(lambda payload: b64(json.dumps(payload, default=str)))


_SEQUENCES = st.lists(
    st.sampled_from(["1", "42", SEQ, "49590338271490256608559692538361571095921575989136588899"]),
    min_size=6,
    max_size=6,
)
_TTLS = st.sampled_from([None, ("expiresAt", 7), ("a", 1)])


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            _payload_text().map(b64),
            _NAMED_PAYLOADS,
            st.sampled_from(["not base64 ***", b64("[1]"), b64(b"\xff"), b64("H4sI")]),
        ),
        max_size=6,
    ),
    _SEQUENCES,
    _stages(),
    _TTLS,
)
def test_the_replicators_inline_loop_decides_as_decode_and_accept(payloads, sequences, stages, ttl):
    """``replicator._prepare`` writes a record that is not packed inline when there is no
    transform (no stages, or drops and pseudonyms; with or without the TTL attribute): the same
    entries (sequence number, key, shard, item text) and the same dead letters (body with its
    reason), in the same order, as the per-record ``_decode`` + ``_accept`` it skips (the path
    every record took before, which packed records and transforms still take), or the same
    exception. Repeated sequence numbers take the copies' rule on both sides."""
    _inline_matches_decode_and_accept(payloads, sequences, stages, ttl)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_NAMED_PAYLOADS, min_size=1, max_size=4),
    _SEQUENCES,
    _redactions(min_paths=1),
    _TTLS,
)
def test_the_inline_loop_drops_and_pseudonymises_as_the_staged_path(
    payloads, sequences, stages, ttl
):
    """The same, for payloads that hold the fields the stages drop and pseudonymise."""
    _inline_matches_decode_and_accept(payloads, sequences, stages, ttl)


def _inline_matches_decode_and_accept(
    payloads: list[str], sequences: list[str], stages: Any, ttl: Any
) -> None:
    from stream_replica.handlers import replicator

    events = _kinesis_records(payloads, sequences[: len(payloads)])
    metas = [replicator._metadata(record) for record in events]
    seen: set[tuple[str, str]] = set()
    repeated: set[tuple[str, str]] = set()
    for meta in metas:
        (repeated if meta.key in seen else seen).add(meta.key)

    def inline() -> tuple[Any, ...]:
        writer, poison = _CollectingWriter(), list[Any]()
        try:
            filtered = replicator._prepare(events, metas, repeated, writer, poison, stages, ttl)
        except Exception as exc:  # the same exception on both sides
            return "raised", type(exc), str(exc)
        return writer.entries, poison, filtered

    def reference() -> tuple[Any, ...]:
        writer, poison = _CollectingWriter(), list[Any]()
        filtered = 0
        copies: dict[tuple[str, str], list[int]] = {}
        try:
            for index, (record, meta) in enumerate(zip(events, metas, strict=True)):
                if meta.key in repeated:
                    copies.setdefault(meta.key, []).append(index)
                    continue
                try:
                    decoded = replicator._decode(record, meta, stages, ttl)
                except (PoisonRecordError, ValueError) as exc:
                    poison.append(replicator._poison(record, meta, exc))
                    continue
                filtered += replicator._accept(record, meta, decoded, writer, poison, [])
            for indexes in copies.values():
                chosen = None
                for index in indexes:
                    try:
                        chosen = (
                            index,
                            replicator._decode(events[index], metas[index], stages, ttl),
                        )
                    except (PoisonRecordError, ValueError) as exc:
                        poison.append(replicator._poison(events[index], metas[index], exc))
                if chosen is not None:
                    index, decoded = chosen
                    filtered += replicator._accept(
                        events[index], metas[index], decoded, writer, poison, []
                    )
        except Exception as exc:
            return "raised", type(exc), str(exc)
        return writer.entries, poison, filtered

    expected = reference()
    event("raised" if expected[0] == "raised" else f"{len(expected[0])} written")
    assert inline() == expected
