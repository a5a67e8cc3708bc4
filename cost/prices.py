"""AWS list prices the cost model uses, as data: one :class:`Price` per (region, key).

Every price names the pricing page it belongs to, the date it was recorded, and how it was
checked (:attr:`Price.checked`):

* ``"page"``: the figure was read in a stored copy of that AWS page;
* ``"secondary"``: the figure was read in a third-party page quoting AWS (named in ``note``), not
  on AWS's page itself (AWS renders most of its price tables with a script, which stored copies
  lack);
* ``"unverified"``: the figure is the public list price as the author knew it and could not be
  checked against a copy of the page here. Check it on the page before relying on it.

Prices are on-demand, first tier, no free tier, in US dollars. Update a price by editing its entry
(value, date, checked) — nothing else holds a figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The day the prices below were recorded.
RECORDED = "2026-12-08"

KINESIS_PAGE = "https://aws.amazon.com/kinesis/data-streams/pricing/"
LAMBDA_PAGE = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB_PAGE = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
FIREHOSE_PAGE = "https://aws.amazon.com/firehose/pricing/"
S3_PAGE = "https://aws.amazon.com/s3/pricing/"
SQS_PAGE = "https://aws.amazon.com/sqs/pricing/"
CLOUDWATCH_PAGE = "https://aws.amazon.com/cloudwatch/pricing/"
PIPES_PAGE = "https://aws.amazon.com/eventbridge/pricing/"

Checked = Literal["page", "secondary", "unverified"]


@dataclass(frozen=True)
class Price:
    """One list price: ``value`` US dollars per ``unit``, from ``source`` as of ``date``."""

    value: float
    unit: str
    source: str
    date: str = RECORDED
    checked: Checked = "unverified"
    note: str = ""


def _us_east_1() -> dict[str, Price]:
    return {
        # Kinesis Data Streams: only what this pipeline adds to an existing stream. A shared-
        # throughput consumer (GetRecords) costs nothing beyond the stream's own price.
        "kinesis_efo_consumer_shard_hour": Price(0.015, "consumer-shard-hour", KINESIS_PAGE),
        "kinesis_efo_data_gb": Price(0.013, "GB retrieved", KINESIS_PAGE),
        # Lambda (bench/cost.py cites the same page for these three).
        "lambda_request": Price(0.20 / 1e6, "request", LAMBDA_PAGE, checked="unverified"),
        "lambda_gb_s_arm64": Price(0.0000133334, "GB-second", LAMBDA_PAGE),
        "lambda_gb_s_x86_64": Price(0.0000166667, "GB-second", LAMBDA_PAGE),
        # DynamoDB on-demand, Standard table class.
        "dynamodb_write_request_unit": Price(
            0.625 / 1e6,
            "write request unit (1 KB)",
            DYNAMODB_PAGE,
            checked="secondary",
            note="https://airbyte.com/data-engineering-resources/dynamodb-pricing "
            "(after the November 2024 price cut)",
        ),
        "dynamodb_storage_gb_month": Price(0.25, "GB-month", DYNAMODB_PAGE),
        "dynamodb_pitr_gb_month": Price(0.20, "GB-month", DYNAMODB_PAGE),
        # GetRecords by a Lambda trigger is free; other readers pay per 100,000 calls.
        "dynamodb_streams_read_request": Price(
            0.0,
            "streams read request",
            DYNAMODB_PAGE,
            note="GetRecords calls made by a Lambda trigger are not charged",
        ),
        # Firehose, Direct PUT and Kinesis Data Streams as source, first tier.
        "firehose_ingest_gb": Price(
            0.029,
            "GB ingested, each record rounded up to 5 KB",
            FIREHOSE_PAGE,
            note="the 5 KB rounding is read on the page (stored copies in other languages "
            "and https://www.shigemk2.com/entry/2022/01/12/210322); the rate is not",
        ),
        # S3 Standard.
        "s3_put_request": Price(0.005 / 1000, "PUT request", S3_PAGE),
        "s3_storage_gb_month": Price(0.023, "GB-month", S3_PAGE),
        # SQS standard queues.
        "sqs_request": Price(0.40 / 1e6, "request (64 KB chunk)", SQS_PAGE),
        # CloudWatch.
        "logs_ingest_gb": Price(0.50, "GB ingested", CLOUDWATCH_PAGE),
        "logs_storage_gb_month": Price(0.03, "GB-month (compressed)", CLOUDWATCH_PAGE),
        "custom_metric_month": Price(0.30, "metric-month", CLOUDWATCH_PAGE),
        "dashboard_month": Price(3.00, "dashboard-month", CLOUDWATCH_PAGE),
        "alarm_month": Price(0.10, "standard-resolution alarm metric-month", CLOUDWATCH_PAGE),
        # EventBridge Pipes (for the alternatives in docs/cost.md).
        "pipes_request": Price(0.40 / 1e6, "request (64 KB chunk)", PIPES_PAGE),
    }


def _eu_west_1() -> dict[str, Price]:
    us = _us_east_1()
    same = {
        # The same figure as US East (N. Virginia) on the page, as far as recorded.
        key: us[key]
        for key in (
            "lambda_request",
            "lambda_gb_s_arm64",
            "lambda_gb_s_x86_64",
            "dynamodb_streams_read_request",
            "s3_put_request",
            "s3_storage_gb_month",
            "sqs_request",
            "dashboard_month",
            "alarm_month",
            "pipes_request",
        )
    }
    return {
        **same,
        "kinesis_efo_consumer_shard_hour": Price(0.0165, "consumer-shard-hour", KINESIS_PAGE),
        "kinesis_efo_data_gb": Price(0.0143, "GB retrieved", KINESIS_PAGE),
        "dynamodb_write_request_unit": Price(
            0.7068 / 1e6,
            "write request unit (1 KB)",
            DYNAMODB_PAGE,
            note="half the pre-November-2024 rate of $1.4135 per million",
        ),
        "dynamodb_storage_gb_month": Price(0.283, "GB-month", DYNAMODB_PAGE),
        "dynamodb_pitr_gb_month": Price(0.2263, "GB-month", DYNAMODB_PAGE),
        "firehose_ingest_gb": Price(
            0.031, "GB ingested, each record rounded up to 5 KB", FIREHOSE_PAGE
        ),
        "logs_ingest_gb": Price(0.57, "GB ingested", CLOUDWATCH_PAGE),
        "logs_storage_gb_month": Price(0.03, "GB-month (compressed)", CLOUDWATCH_PAGE),
        "custom_metric_month": Price(0.30, "metric-month", CLOUDWATCH_PAGE),
    }


#: Prices by region, then by key.
PRICES: dict[str, dict[str, Price]] = {"us-east-1": _us_east_1(), "eu-west-1": _eu_west_1()}

#: Firehose's ingestion billing increment: each record is billed rounded up to this (bytes; the
#: page says "5KB": taken as 5 x 1,024 bytes here, the larger reading, so estimates are not low).
FIREHOSE_BILLING_INCREMENT_BYTES = 5 * 1024
#: A DynamoDB write request unit writes up to 1 KB (1,024 bytes) of item.
WRITE_REQUEST_UNIT_BYTES = 1024
#: SQS and EventBridge Pipes bill each 64 KB chunk of a payload as one request.
REQUEST_CHUNK_BYTES = 64 * 1024


def prices_for(region: str) -> dict[str, Price]:
    """The prices of ``region``; ValueError naming the regions that have prices otherwise."""
    try:
        return PRICES[region]
    except KeyError:
        raise ValueError(
            f"no prices for region {region!r}; recorded: {', '.join(sorted(PRICES))} "
            "(add them to stream_replica.cost.prices)"
        ) from None
