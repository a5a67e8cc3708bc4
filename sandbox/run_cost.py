"""The cost model (``stream_replica.cost``) applied to a sandbox run: what this run's requests
and bytes would cost on AWS, in total and per million records.

Counted from what the emulated accounts received: Lambda invocations and the records they were
given (the pollers), DynamoDB write request units of the items in the tables (moto's item sizes,
1 KB units), Firehose records each rounded up to 5 KB and the S3 objects it wrote
(:mod:`.service_metrics`), SQS messages in the on-failure and dead-letter queues. Lambda
GB-seconds use the model's CPU per record (``bench/results.md``), not the sandbox's wall clock
(moto's own time would dominate it). Storage is not priced: a run holds its data for minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TextIO

from stream_replica.components.assets import ARCHIVER_HANDLER, QUERY_WRITER_HANDLER
from stream_replica.cost.lambda_cost import gb_seconds
from stream_replica.cost.model import CPU_US_PER_RECORD, Line
from stream_replica.cost.prices import WRITE_REQUEST_UNIT_BYTES, prices_for

from .poller import StreamPoller
from .service_metrics import Counted

#: The cost model's function roles by handler (the replicator: any other handler).
_ROLES = {ARCHIVER_HANDLER: "archiver", QUERY_WRITER_HANDLER: "query_writer"}


@dataclass
class FunctionUsage:
    name: str
    handler: str
    memory_mb: int
    invocations: int
    records: int

    @property
    def role(self) -> str:
        return _ROLES.get(self.handler, "replicator")


@dataclass
class RunUsage:
    """What one sandbox run sent to the emulated services."""

    region: str
    records: int
    functions: list[FunctionUsage] = field(default_factory=list)
    #: table name -> write request units of the items it holds
    write_units: dict[str, int] = field(default_factory=dict)
    firehose_records: int = 0
    firehose_billed_bytes: int = 0
    s3_objects: int = 0
    sqs_messages: int = 0


def table_write_units(account: str, region: str, table: str) -> int:
    """Write request units of writing every item ``table`` holds once (moto's item sizes)."""
    from moto.dynamodb.models import dynamodb_backends

    items = dynamodb_backends[account][region].get_table(table).all_items()
    return sum(max(1, math.ceil(item.size() / WRITE_REQUEST_UNIT_BYTES)) for item in items)


def firehose_usage(usage: RunUsage, counted: Counted) -> None:
    """Fill the Firehose and S3 figures from the recorder's counts."""
    usage.firehose_records = counted.firehose_records
    usage.firehose_billed_bytes = counted.firehose_billed_bytes
    usage.s3_objects = counted.firehose_calls


def run_lines(usage: RunUsage) -> list[Line]:
    """The run's requests priced at ``usage.region``'s prices, one line per item."""
    p = prices_for(usage.region)
    lines: list[Line] = []
    for f in usage.functions:
        cpu_s = CPU_US_PER_RECORD[f.role] * f.records / 1e6
        lines.append(Line("Lambda", f"{f.name} requests", f.invocations, p["lambda_request"]))
        lines.append(
            Line(
                "Lambda",
                f"{f.name} duration ({f.memory_mb} MB)",
                gb_seconds(cpu_s, f.memory_mb),
                p["lambda_gb_s_arm64"],
            )
        )
    for table, units in usage.write_units.items():
        lines.append(Line("DynamoDB", f"{table} writes", units, p["dynamodb_write_request_unit"]))
    lines.append(
        Line(
            "Firehose",
            f"ingestion, {usage.firehose_records} records",
            usage.firehose_billed_bytes / 1024**3,
            p["firehose_ingest_gb"],
        )
    )
    lines.append(Line("S3", "PUT requests", usage.s3_objects, p["s3_put_request"]))
    lines.append(
        Line("SQS", "messages (send, receive, delete)", 3 * usage.sqs_messages, p["sqs_request"])
    )
    return lines


def print_run_cost(usage: RunUsage, out: TextIO) -> None:
    """Per service: this run's cost and the cost per million records produced."""
    lines = run_lines(usage)
    services: dict[str, float] = {}
    for line in lines:
        services[line.service] = services.get(line.service, 0.0) + line.monthly_usd
    per_million = 1e6 / usage.records if usage.records else 0.0
    print(
        f"\nthis run on AWS ({usage.region} prices, stream_replica.cost; requests and bytes the "
        "emulated accounts received; storage not priced):",
        file=out,
    )
    print(f"  {'service':<10}  {'this run, USD':>14}  {'per 1M records, USD':>20}", file=out)
    for service, usd in services.items():
        print(f"  {service:<10}  {usd:>14.6f}  {usd * per_million:>20.4f}", file=out)
    total = sum(services.values())
    print(f"  {'total':<10}  {total:>14.6f}  {total * per_million:>20.4f}", file=out)


def usage_of_run(
    region: str,
    produced: int,
    pollers: list[StreamPoller],
    replica_table: tuple[str, str, str],
    counted: Counted,
    sqs_messages: int,
) -> RunUsage:
    """Count a finished run: ``replica_table`` is (account, region, name); a query writer's
    table is found in its environment (``QUERY_TABLE_NAME``)."""
    usage = RunUsage(region=region, records=produced, sqs_messages=sqs_messages)
    account, table_region, table = replica_table
    usage.write_units[table] = table_write_units(account, table_region, table)
    for poller in pollers:
        function = poller.runtime.function
        usage.functions.append(
            FunctionUsage(
                function.name,
                function.handler,
                function.memory_size,
                poller.stats.invocations,
                poller.stats.records_delivered,
            )
        )
        query_table = poller.runtime.env_vars.get("QUERY_TABLE_NAME")
        if function.handler == QUERY_WRITER_HANDLER and query_table:
            usage.write_units[query_table] = table_write_units(
                function.account_id, function.region, query_table
            )
    firehose_usage(usage, counted)
    return usage
