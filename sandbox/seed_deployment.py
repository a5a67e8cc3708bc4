"""THE ORIGINAL DESIGN, built by hand in the emulated accounts for ``--cutover``: what the
project's stacks take over (docs/takeover.md).

POC account: the table ``prod-raven-lambda-webanalytics-crossaccount`` (the same key schema and
hash as ours, stream on, no backups, no deletion protection, the AWS-owned key), the role
``DynamoDB-ProdAnalyticsWrite-role`` (trusting the prod account), the bucket and the delivery
stream ``prod-s3-firehose``, and the archiver ``PocLambdaFirehose`` on the table's stream. Prod
account: the replicator ``ProdKinesisToPocDynamo`` on the source stream. The two functions'
code is in ``sandbox/seed_code`` (ported to Python 3, faults kept).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .emulator import Emulator
from .mocks import DeployedFunction

SEED_TABLE = "prod-raven-lambda-webanalytics-crossaccount"
SEED_WRITER_ROLE = "DynamoDB-ProdAnalyticsWrite-role"
SEED_REPLICATOR = "ProdKinesisToPocDynamo"
SEED_ARCHIVER = "PocLambdaFirehose"
SEED_DELIVERY_STREAM = "prod-s3-firehose"
#: The table's settings as built by hand, which the adopting poc stack must state as they are.
SEED_STREAM_VIEW_TYPE = "NEW_IMAGE"
_CODE = Path(__file__).resolve().parent / "seed_code"
_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass
class SeedDeployment:
    """What :func:`build_seed` created: the two functions and their mappings' (account, region,
    UUID), and the seed's bucket."""

    replicator: DeployedFunction
    replicator_mapping: tuple[str, str, str]
    archiver: DeployedFunction
    archiver_mapping: tuple[str, str, str]
    bucket: str


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(_CODE / source, "lambda_function.py")
    return buffer.getvalue()


def _role(emulator: Emulator, account: str, name: str, trust: dict, policy: dict) -> str:
    iam = emulator.client("iam", account)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy)
    )
    return str(arn)


def _function(
    emulator: Emulator,
    account: str,
    region: str,
    name: str,
    role_arn: str,
    source: str,
    environment: dict[str, str],
    timeout: int,
) -> DeployedFunction:
    code = _zip(source)
    lam = emulator.client("lambda", account, region)
    config = lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role_arn,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": code},
        Timeout=timeout,
        MemorySize=128,
        Environment={"Variables": environment},
    )
    return DeployedFunction(
        name=name,
        arn=config["FunctionArn"],
        account_id=account,
        region=region,
        role_arn=role_arn,
        handler="lambda_function.lambda_handler",
        runtime="python3.13",
        timeout=timeout,
        memory_size=128,
        environment=environment,
        zip_bytes=code,
    )


def _statement(actions: list[str], resources: list[str]) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def build_seed(
    emulator: Emulator,
    *,
    prod_account: str,
    poc_account: str,
    region: str,
    stream_arn: str,
) -> SeedDeployment:
    """Build the hand-made deployment (module docstring) in ``emulator``; its replicator reads
    ``stream_arn`` from ``TRIM_HORIZON``."""
    ddb = emulator.client("dynamodb", poc_account, region)
    table = ddb.create_table(
        TableName=SEED_TABLE,
        KeySchema=[
            {"AttributeName": "seqNumbershardIdHash", "KeyType": "HASH"},
            {"AttributeName": "sequenceNumber", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "seqNumbershardIdHash", "AttributeType": "S"},
            {"AttributeName": "sequenceNumber", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": SEED_STREAM_VIEW_TYPE},
    )["TableDescription"]
    table_arn, table_stream = table["TableArn"], table["LatestStreamArn"]
    writer = _role(
        emulator,
        poc_account,
        SEED_WRITER_ROLE,
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{prod_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        {"Version": "2012-10-17", "Statement": [_statement(["dynamodb:PutItem"], [table_arn])]},
    )
    # POC: bucket, delivery stream, archiver.
    bucket = f"prod-kinesis-data-{poc_account}"
    emulator.client("s3", poc_account, region).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
    )
    firehose_role = _role(
        emulator,
        poc_account,
        "firehose_delivery_role",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "firehose.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        {
            "Version": "2012-10-17",
            "Statement": [
                _statement(["s3:PutObject"], [f"arn:aws:s3:::{bucket}/*"]),
            ],
        },
    )
    delivery = emulator.client("firehose", poc_account, region).create_delivery_stream(
        DeliveryStreamName=SEED_DELIVERY_STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": firehose_role,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "prod-kinesis-data/",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
        },
    )["DeliveryStreamARN"]
    archiver_role = _role(
        emulator,
        poc_account,
        "PocLambdaFirehose-role",
        _LAMBDA_TRUST,
        {
            "Version": "2012-10-17",
            "Statement": [
                _statement(
                    [
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams",
                    ],
                    ["*"],
                ),
                _statement(["firehose:PutRecord"], [delivery]),
            ],
        },
    )
    archiver = _function(
        emulator,
        poc_account,
        region,
        SEED_ARCHIVER,
        archiver_role,
        "poc_lambda_firehose.py",
        {"DELIVERY_STREAM": SEED_DELIVERY_STREAM},
        300,
    )
    poc_lambda = emulator.client("lambda", poc_account, region)
    archiver_mapping = poc_lambda.create_event_source_mapping(
        EventSourceArn=table_stream,
        FunctionName=SEED_ARCHIVER,
        BatchSize=300,
        StartingPosition="TRIM_HORIZON",
    )["UUID"]
    # Prod: the replicator.
    replicator_role = _role(
        emulator,
        prod_account,
        "ProdKinesisToPocDynamo-exec-role",
        _LAMBDA_TRUST,
        {
            "Version": "2012-10-17",
            "Statement": [
                _statement(
                    [
                        "kinesis:DescribeStream",
                        "kinesis:DescribeStreamSummary",
                        "kinesis:GetRecords",
                        "kinesis:GetShardIterator",
                        "kinesis:ListShards",
                        "kinesis:ListStreams",
                    ],
                    [stream_arn],
                ),
                _statement(["sts:AssumeRole"], [writer]),
            ],
        },
    )
    replicator = _function(
        emulator,
        prod_account,
        region,
        SEED_REPLICATOR,
        replicator_role,
        "prod_kinesis_to_poc_dynamo.py",
        {"ROLE_ARN": writer, "TABLE_NAME": SEED_TABLE, "TABLE_REGION": region},
        120,
    )
    replicator_mapping = emulator.client(
        "lambda", prod_account, region
    ).create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=SEED_REPLICATOR,
        BatchSize=300,
        StartingPosition="TRIM_HORIZON",
    )["UUID"]
    from .mocks import _detach_moto_delivery

    _detach_moto_delivery(prod_account, region, stream_arn)
    _detach_moto_delivery(poc_account, region, table_stream)
    return SeedDeployment(
        replicator=replicator,
        replicator_mapping=(prod_account, region, replicator_mapping),
        archiver=archiver,
        archiver_mapping=(poc_account, region, archiver_mapping),
        bucket=bucket,
    )
