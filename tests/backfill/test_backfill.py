"""The backfill against moto: the local run (python -m stream_replica.backfill) restores the
replica table and backfills the query table from archive objects laid out as Firehose writes
them; idempotent, resumable, bounded, dry run, poison report, tombstones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from stream_replica.backfill import FileCheckpoints, run_backfill
from stream_replica.backfill.__main__ import main
from stream_replica.handlers import backfill_objects, images
from stream_replica.handlers.backfill_lines import QUERY, REPLICA, LineRules
from stream_replica.handlers.backfill_objects import (
    MemoryCheckpoints,
    ObjectJob,
    WriteRate,
    list_window,
    parse_hour,
    window_prefixes,
)
from stream_replica.handlers.backfill_worker import QueryKeyRules
from stream_replica.handlers.records import record_item
from stream_replica.testing.tables import create_replica_table

from tests.moto_accounts import moto_accounts

REGION = "eu-west-1"
BUCKET = "archive"
PREFIX = "data/"
SHARD = "shardId-000000000000"
START = datetime(2026, 1, 31, 5, tzinfo=UTC)
_DES = TypeDeserializer()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    with moto_accounts(monkeypatch, REGION):
        session = boto3.Session(region_name=REGION)
        session.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield session


def _item(n: int, user: str) -> dict[str, Any]:
    data = json.dumps({"user": user, "ts": 1_700_000_000 + n, "n": n, "tags": ["a", n]})
    import base64

    return record_item(base64.b64encode(data.encode()).decode(), str(1000 + n), SHARD)


def _key(hour: int, index: int) -> str:
    return (
        f"{PREFIX}year=2026/month=01/day=31/hour={5 + hour:02d}/"
        f"stream-1-2026-01-31-{5 + hour:02d}-00-{index:02d}-"
        f"0000000{index}-0000-0000-0000-000000000000"
    )


def archive(session: boto3.Session, objects: list[list[bytes]]) -> list[dict[str, Any]]:
    """Put ``objects`` (lines each) into the archive, one per hour partition; returns the
    original items (typed) the lines were made from."""
    s3 = session.client("s3")
    for index, lines in enumerate(objects):
        s3.put_object(Bucket=BUCKET, Key=_key(index % 3, index), Body=b"".join(lines))
    return []


def lines_of(items: list[dict[str, Any]]) -> list[bytes]:
    return [images.image_to_json_line(item) for item in items]


def tombstone(item: dict[str, Any]) -> bytes:
    keys = {k: item[k] for k in ("seqNumbershardIdHash", "sequenceNumber")}
    return images.image_to_json_line(keys, {"_deleted": True})


def scan(session: boto3.Session, table: str) -> dict[tuple[str, ...], dict[str, Any]]:
    items = session.client("dynamodb").scan(TableName=table)["Items"]
    out = {}
    for item in items:
        plain = {k: _DES.deserialize(v) for k, v in item.items()}
        key_names = (
            ("seqNumbershardIdHash", "sequenceNumber")
            if "eventKey" not in plain
            else ("user", "eventKey")
        )
        out[tuple(plain[k] for k in key_names)] = plain
    return out


def job(session: boto3.Session, table: str, rules: LineRules, **kwargs: Any) -> ObjectJob:
    return ObjectJob(
        bucket=BUCKET,
        s3=session.client("s3"),
        dynamodb=session.client("dynamodb"),
        table=table,
        rules=rules,
        checkpoints=kwargs.pop("checkpoints", MemoryCheckpoints()),
        rate=kwargs.pop("rate", WriteRate(1e9)),
        **kwargs,
    )


def objects(session: boto3.Session) -> list[backfill_objects.ArchiveObject]:
    return list_window(session.client("s3"), BUCKET, PREFIX, START, parse_hour("2026-01-31T07"))


ITEMS = [_item(n, f"u{n % 3}@example.com") for n in range(40)]


def _standard_archive(session: boto3.Session) -> None:
    lines = lines_of(ITEMS)
    archive(session, [lines[0:10], lines[10:20] + lines[5:8], lines[20:30], lines[30:40]])


def test_the_window_is_the_archives_hour_partitions(aws):
    assert window_prefixes("data/", START, parse_hour("2026-01-31T06")) == [
        "data/year=2026/month=01/day=31/hour=05/",
        "data/year=2026/month=01/day=31/hour=06/",
    ]
    _standard_archive(aws)
    found = list_window(aws.client("s3"), BUCKET, PREFIX, START, START)
    assert [o.key for o in found] == [_key(0, 0), _key(0, 3)]
    assert found[0].time == datetime(2026, 1, 31, 5, 0, 0, tzinfo=UTC).timestamp()
    with pytest.raises(ValueError, match="ends"):
        window_prefixes("", START, parse_hour("2026-01-30T00"))


def test_a_lost_replica_table_is_restored_exactly_and_a_second_run_changes_nothing(aws, tmp_path):
    _standard_archive(aws)
    create_replica_table(aws.client("dynamodb"), "restored")
    checkpoints = FileCheckpoints(tmp_path / "cp.json", {"run": 1})
    report = run_backfill(
        job(aws, "restored", LineRules(REPLICA), checkpoints=checkpoints), objects(aws)
    )
    table = scan(aws, "restored")
    expected = {
        (i["seqNumbershardIdHash"]["S"], i["sequenceNumber"]["S"]): {
            k: _DES.deserialize(v) for k, v in i.items()
        }
        for i in ITEMS
    }
    assert table == expected
    assert report.written == 43 and report.lines == 43 and not report.poison  # 3 duplicates
    again = run_backfill(
        job(
            aws,
            "restored",
            LineRules(REPLICA),
            checkpoints=FileCheckpoints(tmp_path / "cp.json", {"run": 1}),
        ),
        objects(aws),
    )
    assert again.written == 0 and again.resumed == 8
    assert scan(aws, "restored") == expected


def test_a_killed_run_resumes_at_the_object_it_was_writing(aws, tmp_path):
    lines = lines_of(ITEMS)
    # Hour 05: 10 lines; hour 06: 13 (3 repeat hour 05's); hour 07: 30 (10 repeat hour 05's),
    # written in chunks of 25 and 5.
    archive(aws, [lines[0:10], lines[10:20] + lines[5:8], lines[20:40] + lines[0:10]])
    create_replica_table(aws.client("dynamodb"), "restored")
    client = aws.client("dynamodb")
    writes: list[int] = []

    class Killed(BaseException):
        """The process dies mid-object (between two BatchWriteItem calls of hour 07)."""

    def record(params: dict[str, Any], **_: Any) -> None:
        if len(writes) == 3 and not killed:
            killed.append(True)
            raise Killed
        writes.append(len(next(iter(params["RequestItems"].values()))))

    killed: list[bool] = []
    client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", record)
    path = tmp_path / "cp.json"
    first = job(aws, "restored", LineRules(REPLICA), checkpoints=FileCheckpoints(path, {"r": 1}))
    first.dynamodb = client
    with pytest.raises(Killed):
        run_backfill(first, objects(aws))
    assert writes == [10, 13, 25]  # hour 07's first chunk went out, its second did not
    second = job(aws, "restored", LineRules(REPLICA), checkpoints=FileCheckpoints(path, {"r": 1}))
    second.dynamodb = client
    report = run_backfill(second, objects(aws))
    # Only the object being written when the run died is written again; the two before it
    # resume from their checkpoints.
    assert writes[3:] == [25, 5]
    assert report.resumed == 3 + 2 and report.written == 30
    assert len(scan(aws, "restored")) == 40


def test_a_dry_run_counts_and_changes_nothing(aws, tmp_path):
    _standard_archive(aws)
    create_replica_table(aws.client("dynamodb"), "restored")
    report = run_backfill(job(aws, "restored", LineRules(REPLICA), dry_run=True), objects(aws))
    assert report.would_write == 43 and report.written == 0
    assert scan(aws, "restored") == {}


def test_the_write_budget_paces_the_writes():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    rate = WriteRate(50, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        rate.acquire(25)
    assert slept == [0.5, 0.5, 0.5]  # 100 items: the first 25 at once, then 50/s
    with pytest.raises(ValueError):
        WriteRate(0)


def test_tombstones_replay_user_deletes_in_any_object_order(aws):
    items = ITEMS[:6]
    lines = lines_of(items)
    # The delete of item 1 is archived before its line (another hour): still deleted.
    archive(aws, [[tombstone(items[1])], lines[:3], [*lines[3:], tombstone(items[4])]])
    create_replica_table(aws.client("dynamodb"), "restored")
    client = aws.client("dynamodb")
    client.put_item(TableName="restored", Item=items[4])
    report = run_backfill(job(aws, "restored", LineRules(REPLICA)), objects(aws))
    kept = sorted(k[1] for k in scan(aws, "restored"))
    assert kept == ["1000", "1002", "1003", "1005"]
    # Item 1: its tombstone (hour 05) and its line (hour 06) are each a delete; item 4's line
    # and tombstone are in one object and collapse onto one delete.
    assert report.deleted == 3


def _query_table(session: boto3.Session) -> None:
    session.client("dynamodb").create_table(
        TableName="query",
        KeySchema=[
            {"AttributeName": "user", "KeyType": "HASH"},
            {"AttributeName": "eventKey", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user", "AttributeType": "S"},
            {"AttributeName": "eventKey", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def test_the_query_table_is_backfilled_by_user(aws):
    _standard_archive(aws)
    _query_table(aws)
    rules = LineRules(QUERY, query=QueryKeyRules("user", "ts"))
    report = run_backfill(job(aws, "query", rules), objects(aws))
    table = scan(aws, "query")
    assert report.written == 43 and len(table) == 40
    by_user: dict[str, int] = {}
    for user, _ in table:
        by_user[user] = by_user.get(user, 0) + 1
    assert by_user == {"u0@example.com": 14, "u1@example.com": 13, "u2@example.com": 13}


def test_the_command_reports_poison_with_object_key_and_line(aws, tmp_path, capsys):
    lines = lines_of(ITEMS[:3])
    archive(aws, [[lines[0], b"{broken\n", lines[1]], [lines[2]]])
    create_replica_table(aws.client("dynamodb"), "restored")
    argv = [
        "--bucket",
        BUCKET,
        "--prefix",
        PREFIX,
        "--from",
        "2026-01-31T05",
        "--to",
        "2026-01-31T07",
        "--target",
        "replica",
        "--table",
        "restored",
        "--checkpoint",
        str(tmp_path / "c.json"),
    ]
    assert main([*argv, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["written"] == 3
    assert report["poison"] == [
        {"object": _key(0, 0), "line": 2, "reason": "line is not JSON: JSONDecodeError"}
    ]
    assert main([*argv, "--quiet"]) == 1  # resumed: nothing written again, poison still listed
    out = capsys.readouterr().out
    assert f"poison: {_key(0, 0)} line 2" in out and '"written": 0' in out


def test_aws_errors_are_one_line_and_status_3(aws, tmp_path, capsys):
    argv = [
        "--bucket",
        "no-such-bucket",
        "--from",
        "2026-01-31T05",
        "--to",
        "2026-01-31T05",
        "--target",
        "replica",
        "--table",
        "t",
        "--dry-run",
    ]
    assert main(argv) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m stream_replica.backfill: error: the bucket does not exist")
    assert "\n" not in err


def test_usage_errors_exit_2(capsys):
    base = ["--bucket", "b", "--table", "t", "--target", "replica"]
    for extra in (
        ["--from", "2026-01-31T05", "--to", "2026-01-30T05"],
        ["--from", "yesterday", "--to", "2026-01-30T05"],
        ["--from", "2026-01-31T05", "--to", "2026-01-31T05", "--rate", "0"],
    ):
        with pytest.raises(SystemExit) as exit_:
            main([*base, *extra])
        assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        main(
            [
                "--bucket",
                "b",
                "--table",
                "t",
                "--target",
                "query",
                "--from",
                "2026-01-31T05",
                "--to",
                "2026-01-31T05",
            ]
        )


def test_the_backfill_policy_allows_exactly_the_calls_the_backfill_makes(aws):
    """Every call of a dry run and a real run with S3 checkpoints is allowed by
    :func:`backfill_policy`, and the policy allows nothing the runs don't call."""
    from stream_replica.components.backfill_policy import backfill_policy
    from stream_replica.handlers.backfill_objects import S3Checkpoints

    from tests.policy.documents import IamDocument
    from tests.policy.iam_eval import Request, evaluate
    from tests.policy.lint import lint

    _standard_archive(aws)
    create_replica_table(aws.client("dynamodb"), "restored")
    table_arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/restored"
    calls: set[tuple[str, str, str | None]] = set()

    def recording(service: str) -> Any:
        client = aws.client(service)

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            name = model.name
            if service == "dynamodb":
                calls.add((f"dynamodb:{name}", table_arn, None))
            elif name == "ListObjectsV2":
                calls.add(("s3:ListBucket", f"arn:aws:s3:::{params['Bucket']}", params["Prefix"]))
            else:
                resource = f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"
                calls.add((f"s3:{name}", resource, None))

        client.meta.events.register("provide-client-params", record)
        return client

    s3 = recording("s3")
    checkpoints = S3Checkpoints(s3, "checkpoints", "backfill/")
    aws.client("s3").create_bucket(
        Bucket="checkpoints", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    for dry_run in (True, False):
        run = job(aws, "restored", LineRules(REPLICA), checkpoints=checkpoints, dry_run=dry_run)
        run.s3, run.dynamodb = s3, recording("dynamodb")
        found = list_window(s3, BUCKET, PREFIX, START, parse_hour("2026-01-31T07"))
        run_backfill(run, found)
    document = backfill_policy(
        archive_bucket_arn=f"arn:aws:s3:::{BUCKET}",
        archive_prefix=PREFIX,
        table_arn=table_arn,
        checkpoint_bucket_arn="arn:aws:s3:::checkpoints",
    )
    operator = "arn:aws:iam::123456789012:role/backfill"
    for action, resource, prefix in sorted(calls, key=str):
        context = {"s3:prefix": prefix} if prefix is not None else {}
        decision = evaluate(
            Request(operator, action, resource, context),
            identity_policies=[document],
            resource_account="123456789012",
        )
        assert decision.allowed, f"{action} {resource}: {decision.reason}"
    granted = {(a, s["Sid"]) for s in document["Statement"] for a in s["Action"]}
    made = {action for action, _, _ in calls}
    assert {a for a, _ in granted} == made
    for action, resource, context in [
        ("dynamodb:PutItem", table_arn, {}),
        ("dynamodb:BatchWriteItem", table_arn.replace("restored", "other"), {}),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/errors/x", {}),
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/{PREFIX}x", {}),
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": "errors/"}),
        ("s3:DeleteObject", "arn:aws:s3:::checkpoints/backfill/x", {}),
    ]:
        assert not evaluate(
            Request(operator, action, resource, context),
            identity_policies=[document],
            resource_account="123456789012",
        ).allowed, (action, resource)
    assert [r.describe() for r in lint(IamDocument("identity", "backfill", "t", document))] == []
    with pytest.raises(ValueError, match="inside the archive prefix"):
        backfill_policy(
            archive_bucket_arn="arn:aws:s3:::a",
            archive_prefix="data/",
            table_arn=table_arn,
            checkpoint_bucket_arn="arn:aws:s3:::a",
            checkpoint_prefix="data/backfill/",
        )
