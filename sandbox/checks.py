"""The checks at the end of the run: what the emulated accounts hold against what was produced
(the replica table, the archive, the dead-letter and on-failure queues, the query table, the
analyst's SQL, raw personal data in the target account), and the verdict (:func:`decide`).

Items and objects are read from moto's stores where reading them through the API would cost
minutes on a large run (moto serialises every nested item to JSON)."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from stream_replica.redrive.queue_messages import read_all_messages

from . import analyst
from .drive import Pipeline, Production
from .emulator import Emulator
from .expected import clean_payload
from .lambda_runtime import FunctionRuntime
from .mocks import Deployment
from .pii import RawValues
from .plan import DemoOptions, StackPlan, config_value
from .poller import StreamPoller
from .redrive_pass import count_redriven, dead_letter_bodies
from .report import DemoResult, Progress

#: The three attributes the replicator adds to every item (the data contract).
KEY_ATTRIBUTES = ("sequenceNumber", "shardId", "seqNumbershardIdHash")
#: Attributes the replicator adds to a user record of a KPL aggregate (besides the three above).
SUB_SEQUENCE_ATTRIBUTE = "subSequenceNumber"


def _table_items(account: str, region: str, table: str) -> Iterator[dict[str, str]]:
    """eventId, shardId and sequenceNumber of every item, read from moto's table: a Scan through
    the API costs moto ~3 ms per nested item in JSON serialisation (minutes at 100,000)."""
    from moto.dynamodb.models import dynamodb_backends

    for item in dynamodb_backends[account][region].get_table(table).all_items():
        yield {
            name: str(item.attrs[name].value)
            for name in ("eventId", "shardId", "sequenceNumber", SUB_SEQUENCE_ATTRIBUTE)
            if name in item.attrs
        }


def _count_functions(emulator: Emulator, account: str, region: str) -> int:
    """Lambda functions the account holds (target placement: none in prod)."""
    pages = emulator.client("lambda", account, region).get_paginator("list_functions").paginate()
    return sum(len(page["Functions"]) for page in pages)


def _queue_depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"
    ]
    return int(attrs["ApproximateNumberOfMessages"])


def _object_bytes(account: str, bucket: str, key: str) -> bytes:
    """An object's content, read from the emulator's store. Through the API, moto answers 403:
    it evaluates the bucket's TLS-only Deny without knowing ``aws:SecureTransport``."""
    from moto.s3.models import s3_backends

    obj = s3_backends[account]["aws"].get_object(bucket, key)
    if obj is None:
        raise RuntimeError(f"s3://{bucket}/{key} disappeared")
    body = bytes(obj.value)
    # Firehose with CompressionFormat GZIP writes gzip objects named *.gz.
    return gzip.decompress(body) if key.endswith(".gz") else body


def _raw_object_bytes(account: str, bucket: str, key: str) -> bytes:
    from moto.s3.models import s3_backends

    obj = s3_backends[account]["aws"].get_object(bucket, key)
    if obj is None:
        raise RuntimeError(f"s3://{bucket}/{key} disappeared")
    return bytes(obj.value)


def _check_table(result: DemoResult, ddb: Any, account: str, region: str, table_name: str) -> None:
    event_ids: set[str] = set()
    keys: set[tuple[str, str]] = set()
    items = 0
    for item in _table_items(account, region, table_name):
        items += 1
        event_id = item.get("eventId")
        if event_id is not None:
            if event_id in event_ids:
                result.duplicate_items += 1
            event_ids.add(event_id)
        keys.add((item.get("shardId", ""), item.get("sequenceNumber", "")))
        if SUB_SEQUENCE_ATTRIBUTE in item:
            result.aggregated_items += 1
    result.replicated_items = items
    if items <= 5000:  # the API's count, where it costs little (moto copies every item)
        counted = sum(
            int(page["Count"])
            for page in ddb.get_paginator("scan").paginate(TableName=table_name, Select="COUNT")
        )
        if counted != items:
            result.failures.append(f"Scan counts {counted} items, the table holds {items}")
    if len(keys) != items:
        result.failures.append(f"{items - len(keys)} items share a (shardId, sequenceNumber)")


def _check_archive(
    result: DemoResult,
    emulator: Emulator,
    poc: Deployment,
    sample: dict[str, dict[str, Any]],
    expected: Callable[[dict[str, Any]], Any] = clean_payload,
    raw: RawValues | None = None,
    replicator_adds: tuple[str, ...] = (),
) -> None:
    s3 = emulator.client("s3", poc.account_id, poc.region)
    buckets = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    distinct: set[tuple[str, str]] = set()
    lines = 0
    for bucket in buckets:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                body = _object_bytes(poc.account_id, bucket, obj["Key"])
                for text in body.decode("utf-8").splitlines():
                    if not text.strip():
                        continue
                    lines += 1
                    line = json.loads(text, parse_float=Decimal)
                    if raw is not None and raw.holds_raw(line):
                        result.raw_pii_in_target += 1
                    if not all(k in line for k in KEY_ATTRIBUTES):
                        result.failures.append(
                            f"archived line without the key attributes: {text[:80]}"
                        )
                        continue
                    distinct.add((line["shardId"], line["sequenceNumber"]))
                    result.archived_keys.add(
                        (str(line["seqNumbershardIdHash"]), str(line["sequenceNumber"]))
                    )
                    original = sample.get(line.get("eventId"))
                    if original is not None:
                        result.fidelity_checked += 1
                        added = (*KEY_ATTRIBUTES, SUB_SEQUENCE_ATTRIBUTE, *replicator_adds)
                        payload = {k: v for k, v in line.items() if k not in added}
                        if payload != expected(original):
                            result.fidelity_mismatches += 1
    result.archived_lines = lines
    result.archived_distinct = len(distinct)


def _check_query_table(
    result: DemoResult, emulator: Emulator, poc: Deployment, replica: str, writer: FunctionRuntime
) -> None:
    """For each user, the query table's Query returns the user's events of the replica, in time
    order. Items are counted from moto's table; users are queried through the API (up to 200,
    the ones with the most events first)."""
    from moto.dynamodb.models import dynamodb_backends

    result.query_table_deployed = True
    env = writer.env_vars
    table, user_key = env["QUERY_TABLE_NAME"], env["QUERY_HASH_ATTRIBUTE"]
    order_key = env["QUERY_RANGE_ATTRIBUTE"]
    backend = dynamodb_backends[writer.function.account_id][writer.function.region]
    result.query_table_items = len(backend.get_table(table).all_items())
    by_user: dict[str, list[tuple[Decimal, str]]] = {}
    for item in backend.get_table(replica).all_items():
        user, at = item.attrs.get(user_key), item.attrs.get(order_key)
        if user is not None and at is not None:
            by_user.setdefault(str(user.value), []).append(
                (Decimal(str(at.value)), str(item.attrs["eventId"].value))
            )
    expected_items = sum(len(v) for v in by_user.values())
    if result.query_table_items != expected_items:
        result.failures.append(
            f"query table holds {result.query_table_items} items, the replica "
            f"{expected_items} events with {user_key} and {order_key}"
        )
    ddb = emulator.client("dynamodb", writer.function.account_id, writer.function.region)
    for user in sorted(by_user, key=lambda u: (-len(by_user[u]), u))[:200]:
        pages = ddb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="#u = :u",
            ExpressionAttributeNames={"#u": user_key},
            ExpressionAttributeValues={":u": {"S": user}},
        )
        got = [(Decimal(i[order_key]["N"]), i["eventId"]["S"]) for p in pages for i in p["Items"]]
        times = [t for t, _ in got]
        if times != sorted(times) or sorted(got) != sorted(by_user[user]):
            result.failures.append(f"query table: {user}'s events differ from the replica's")
        result.query_users_checked += 1


def _check_analyst(
    result: DemoResult,
    emulator: Emulator,
    poc: Deployment,
    briefs: list[dict[str, Any]],
    workdir: Path,
) -> None:
    """The analyst's SQL (DuckDB) over the archive, read with the Glue table's layout."""
    import duckdb

    database, table = poc.outputs.get("glueDatabaseName"), poc.outputs.get("glueTableName")
    if not database or not table:
        return  # no catalog deployed (archiveCatalogEnabled false)
    glue = emulator.client("glue", poc.account_id, poc.region)
    layout = analyst.GlueLayout.from_glue(
        glue.get_table(DatabaseName=database, Name=table)["Table"]
    )
    s3 = emulator.client("s3", poc.account_id, poc.region)
    keys = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=layout.bucket, Prefix=layout.prefix
        )
        for obj in page.get("Contents", [])
    ]
    folder = workdir / "analyst"
    try:
        objects = ((key, _raw_object_bytes(poc.account_id, layout.bucket, key)) for key in keys)
        count = analyst.copy_archive(objects, layout, folder)
        outcome = analyst.run(folder, layout, briefs)
    except (ValueError, RuntimeError, duckdb.Error) as exc:
        result.failures.append(f"analyst query: {exc}")
        return
    outcome.objects = count
    result.analyst = outcome
    result.analyst_query_ok = outcome.ok
    result.failures += [f"analyst query: {f}" for f in outcome.failures]


def _check_queues(
    result: DemoResult,
    emulator: Emulator,
    replicator: FunctionRuntime,
    archiver: FunctionRuntime,
    pollers: list[StreamPoller],
) -> None:
    distinct: set[tuple[str, str, str]] = set()
    for runtime in (replicator, archiver):
        url = runtime.env_vars.get("DEAD_LETTER_QUEUE_URL")
        if not url:
            result.failures.append(f"{runtime.function.name}: no DEAD_LETTER_QUEUE_URL")
            continue
        sqs = emulator.client("sqs", runtime.function.account_id, runtime.function.region)
        for message in read_all_messages(sqs, url):
            result.dead_letter_messages += 1
            body = json.loads(message["Body"])
            if not body.get("reason"):
                result.failures.append(f"dead letter without a reason: {sorted(body)}")
            reason = str(body.get("reason", "<no reason>")).split(":")[0]
            if not any(k.startswith(("data", "payload")) for k in body):
                result.failures.append(f"dead letter without the raw payload: {sorted(body)}")
            if "sequenceNumber" not in body:
                result.failures.append(f"dead letter without a sequenceNumber: {sorted(body)}")
                continue
            source = str(body.get("shardId") or body.get("eventSourceARN") or "")
            key = (runtime.function.name, source, str(body["sequenceNumber"]))
            if key not in distinct:
                distinct.add(key)
                result.dead_letter_reasons[reason] = result.dead_letter_reasons.get(reason, 0) + 1
    # A record redelivered after a partial failure is dead-lettered again (at-least-once);
    # what counts is that each poison record is kept.
    result.dead_lettered = len(distinct)
    for poller in pollers:
        destination = poller.settings.on_failure_arn
        if not destination:
            result.failures.append(f"{poller.runtime.function.name}: no on-failure destination")
            continue
        account = destination.split(":")[4]
        sqs = emulator.client("sqs", account, destination.split(":")[3])
        url = sqs.get_queue_url(QueueName=destination.split(":")[5])["QueueUrl"]
        result.on_failure_records += _queue_depth(sqs, url)


def raw_pii_in_table_and_queues(
    emulator: Emulator, account: str, region: str, table: str, raw: RawValues
) -> int:
    """Items of the replica table, and messages of every queue of the target account, that hold
    a raw value of a pseudonymised field."""
    from moto.dynamodb.models import dynamodb_backends

    found = 0
    for item in dynamodb_backends[account][region].get_table(table).all_items():
        if raw.holds_raw(item.to_json()):
            found += 1
    sqs = emulator.client("sqs", account, region)
    for url in sqs.list_queues().get("QueueUrls", []):
        for message in read_all_messages(sqs, url):
            if raw.holds_raw(json.loads(message["Body"])):
                found += 1
    return found


def decide(result: DemoResult, options: DemoOptions | None = None) -> None:
    """The verdict: every figure in ``result`` against what a correct run gives (the placement
    and consumer mode ``options`` asked for, when given); a failed check is added to
    ``result.failures``, and ``result.ok`` says whether there is none."""
    wanted = options.placement if options and options.placement else result.placement
    checks = [
        (result.placement == wanted, f"the replicator runs in {wanted} placement"),
        (
            result.placement == "source" or result.prod_functions == 0,
            "in target placement the prod account holds no Lambda function",
        ),
        (
            not options
            or not options.consumer_mode
            or result.consumer_mode == options.consumer_mode,
            "the mapping reads the stream in the requested consumer mode",
        ),
        (result.replicated_items == result.produced, "every produced record is an item"),
        (result.duplicate_items == 0, "no event is stored twice"),
        (result.dead_lettered == result.poison, "every poison record is dead-lettered"),
        (result.archived_distinct == result.replicated_items, "every item is archived"),
        (result.archived_lines >= result.archived_distinct, "archive line count"),
        (result.fidelity_mismatches == 0, "archived lines equal the payloads"),
        (result.on_failure_records == 0, "no batch is left in an on-failure queue"),
        (result.redrive_expired == 0, "no record expired before the redrive"),
        (not result.replay_new_items, "a replay adds no item"),
        (result.crossaccount_denied == 0, "no cross-account call was denied"),
        (result.raw_pii_in_target == 0, "no raw value of a pseudonymised field in the target"),
    ]
    if result.cutover_seed_items is not None:
        checks += [
            (result.cutover_lost == 0, "the take-over lost no record"),
            (result.cutover_duplicates == 0, "the take-over stored no record twice"),
        ]
    if result.switch_overlap_records is not None:
        checks.append(
            (
                result.archived_lines - result.archived_distinct <= result.switch_overlap_records,
                "no duplicate archive line beyond the consumer-mode switches' overlap",
            )
        )
    if result.query_table_deployed:
        checks.append(
            (
                result.query_table_items == result.replicated_items,
                "every replicated event is in the query table",
            )
        )
    if result.analyst is not None:
        checks.append((result.analyst_query_ok, "the analyst's SQL agrees with the produced"))
    for ok, what in checks:
        if not ok:
            result.failures.append(f"check failed: {what}")
    result.ok = not result.failures


def read_back_placement(
    result: DemoResult, emulator: Emulator, plan: StackPlan, pipeline: Pipeline
) -> None:
    """Where the replicator's mapping really is (``source``: in the stream's account), what it
    reads (``efo``: a consumer), and how many functions the prod account holds, read back from
    the emulator into ``result``."""
    replicator_poller = pipeline.replicator_poller
    stream_account = replicator_poller.settings.stream_arn.split(":")[4]
    mapping_account = pipeline.replicator.function.account_id
    result.placement = "source" if mapping_account == stream_account else "target"
    result.consumer_mode = "efo" if replicator_poller.settings.consumer_arn else "shared"
    result.access_mode = str(
        config_value(plan.poc_config, plan.project, "accessMode", "assume-role")
    )
    result.prod_functions = _count_functions(emulator, plan.prod_account, plan.prod_region)


def check_pipeline(
    result: DemoResult,
    emulator: Emulator,
    plan: StackPlan,
    poc: Deployment,
    pipeline: Pipeline,
    production: Production,
    workdir: Path,
    progress: Progress | None = None,
) -> None:
    """Every check of what the drained pipeline left in the accounts; the figures and failures
    go to ``result``. ``workdir``: a folder for the analyst's copy of the archive;
    ``progress``: where each check's phase line goes (default: nowhere)."""
    phase = (progress or Progress(False, sys.stderr)).phase
    account, region, table = pipeline.table_account, plan.poc_region, pipeline.table_name
    poc_ddb = emulator.client("dynamodb", account, region)
    with phase("checking the replica table"):
        _check_table(result, poc_ddb, account, region, table)
    # With a hot window the replicator adds the expiry attribute to every item (and line).
    replicator_config = plan.replicator_config
    ttl_on = int(config_value(replicator_config, plan.project, "ttlDays", 0) or 0) > 0
    ttl_attribute = str(config_value(replicator_config, plan.project, "ttlAttribute", "expiresAt"))
    added = (ttl_attribute,) if ttl_on else ()
    with phase("checking the archive in S3"):
        _check_archive(
            result, emulator, poc, production.sample, production.expected, production.raw, added
        )
    with phase("checking the dead-letter and on-failure queues"):
        _check_queues(result, emulator, pipeline.replicator, pipeline.archiver, pipeline.pollers)
    if pipeline.query_poller is not None:
        with phase("checking the query table"):
            _check_query_table(result, emulator, poc, table, pipeline.query_poller.runtime)
    with phase("the analyst's SQL over the archive (DuckDB)"):
        _check_analyst(result, emulator, poc, production.briefs, workdir)
    with phase("looking for raw personal data in the target account"):
        result.raw_pii_in_target += raw_pii_in_table_and_queues(
            emulator, account, region, table, production.raw
        )
    if production.redriven_ranges is not None:
        kinesis_ranges, table_stream_ranges = production.redriven_ranges
        with phase("counting the redriven records"):
            result.redriven = _count_redriven(
                emulator,
                pipeline,
                account,
                region,
                table,
                kinesis_ranges,
                table_stream_ranges,
                result.archived_keys,
            )


def _count_redriven(
    emulator: Emulator,
    pipeline: Pipeline,
    account: str,
    region: str,
    table: str,
    kinesis_ranges: Any,
    table_stream_ranges: Any,
    archived_keys: set[tuple[str, str]],
) -> int:
    """The redriven records found in the table, S3 or a dead-letter queue."""
    return count_redriven(
        kinesis_ranges,
        (
            (item.get("shardId", ""), item.get("sequenceNumber", ""))
            for item in _table_items(account, region, table)
        ),
        dead_letter_bodies(emulator, pipeline.replicator),
        table_stream_ranges,
        archived_keys,
        dead_letter_bodies(emulator, pipeline.archiver),
    )
