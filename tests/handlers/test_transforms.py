"""The user's transform module: loaded from a file in the asset, called per record, its answer
normalised; its exceptions and wrong return types are poison, a module that can't load is a
deployment fault (ConfigError)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from stream_replica.handlers.exceptions import ConfigError, PoisonRecordError
from stream_replica.handlers.transforms import (
    TransformMeta,
    apply_transform,
    forget_transforms,
    load_transform,
)

META = TransformMeta(source="kinesis", sequence_number="42", shard_id="shardId-000000000000")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transform_day.py"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    forget_transforms()


def write(tmp_path: Path, body: str) -> str:
    (tmp_path / "transform").mkdir(exist_ok=True)
    (tmp_path / "transform" / "user.py").write_text(body)
    return "transform/user.py"


def test_loaded_once_per_environment(tmp_path):
    path = write(tmp_path, "CALLS = []\ndef transform(record, meta):\n    return record\n")
    first = load_transform(path, tmp_path)
    write(tmp_path, "def transform(record, meta):\n    return None\n")  # not re-read
    assert load_transform(path, tmp_path) is first


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def transform(record meta): pass\n", "failed to import: SyntaxError"),
        ("import no_such_module_here\n", "failed to import: ModuleNotFoundError"),
        ("def reshape(record, meta):\n    return record\n", "defines no function transform"),
        ("transform = 3\n", "defines no function transform"),
    ],
)
def test_a_module_that_cannot_load_is_a_config_error(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_transform(write(tmp_path, body), tmp_path)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_transform("transform/missing.py", tmp_path)


def test_answers_are_normalised():
    assert apply_transform(lambda r, m: r, {"a": 1}, META) == [(None, {"a": 1})]
    assert apply_transform(lambda r, m: None, {"a": 1}, META) == []
    assert apply_transform(lambda r, m: [r, {"b": 2}], {"a": 1}, META) == [
        (0, {"a": 1}),
        (1, {"b": 2}),
    ]
    assert apply_transform(lambda r, m: [], {"a": 1}, META) == []


def test_meta_reaches_the_transform():
    seen: list[TransformMeta] = []
    apply_transform(lambda r, m: seen.append(m), {}, META)
    assert seen == [META]


def test_an_exception_is_poison_with_its_type_and_message():
    def boom(record, meta):
        raise KeyError("userId")

    with pytest.raises(PoisonRecordError, match=r"transform raised KeyError: 'userId'"):
        apply_transform(boom, {}, META)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("text", "returned str, not a dict"),
        (7, "returned int, not a dict"),
        ([{"a": 1}, "x"], "element 1 is str, not a dict"),
        ((1, 2), "returned tuple"),
    ],
)
def test_a_wrong_answer_is_poison(answer, message):
    with pytest.raises(PoisonRecordError, match=message):
        apply_transform(lambda r, m: answer, {}, META)


def test_the_example_transform_derives_a_day(tmp_path):
    transform = load_transform(EXAMPLE.name, EXAMPLE.parent)
    meta = TransformMeta(source="kinesis", sequence_number="1", arrival_time=1764244800.5)
    assert transform({"timestamp": "2026-11-27T10:11:12Z"}, meta)["day"] == "2026-11-27"
    assert transform({}, meta)["day"] == "2025-11-27"
    assert transform({"timestamp": Decimal("1764244800123456789")}, meta)["day"] == "2025-11-27"
    assert transform({"eventType": "heartbeat"}, meta) is None
