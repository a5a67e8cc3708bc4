"""THE ORIGINAL DESIGN (ported to Python 3): ``ProdKinesisToPocDynamo``, the hand-made replicator.

Kept as it was, faults included, so the take-over can be shown to repair them: it assumes the
writer role on every invocation, writes each record with one ``put_item``, and catches every
exception — a record whose JSON holds a decimal number (boto3 refuses Python floats) or a KPL
aggregate is printed and skipped for good, and Lambda never retries it.
"""

import base64
import json
import os

import boto3

ROLE_ARN = os.environ.get(
    "ROLE_ARN", "arn:aws:iam::999999999999:role/DynamoDB-ProdAnalyticsWrite-role"
)
TABLE_NAME = os.environ.get("TABLE_NAME", "prod-raven-lambda-webanalytics-crossaccount")
REGION = os.environ.get("TABLE_REGION", "eu-west-1")


def lambda_handler(event, context):
    sts = boto3.client("sts")
    credentials = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="ProdKinesisToPocDynamo")[
        "Credentials"
    ]
    dynamodb = boto3.resource(
        "dynamodb",
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    table = dynamodb.Table(TABLE_NAME)
    for record in event["Records"]:
        try:
            payload = base64.b64decode(record["kinesis"]["data"])
            item = json.loads(payload)
            item = {k: v for k, v in item.items() if v is not None and v != ""}
            sequence_number = record["kinesis"]["sequenceNumber"]
            shard_id = record["eventID"].split(":")[0]
            item["sequenceNumber"] = sequence_number
            item["shardId"] = shard_id
            item["seqNumbershardIdHash"] = sequence_number[-3:-1] + "_" + shard_id
            table.put_item(Item=item)
        except Exception as e:  # the original swallows everything
            print(e)
    return "Successfully processed {} records.".format(len(event["Records"]))
