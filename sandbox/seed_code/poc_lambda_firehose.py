"""THE ORIGINAL DESIGN (ported to Python 3): ``PocLambdaFirehose``, the hand-made archiver: each
new image of the table's stream as one JSON line, one ``put_record`` each, errors printed and
skipped."""

import json
import os
from decimal import Decimal

import boto3
from boto3.dynamodb.types import TypeDeserializer

DELIVERY_STREAM = os.environ.get("DELIVERY_STREAM", "prod-s3-firehose")
firehose = boto3.client("firehose")
deserializer = TypeDeserializer()


def _number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(repr(value))


def lambda_handler(event, context):
    for record in event["Records"]:
        try:
            if record["eventName"] in ("INSERT", "MODIFY"):
                image = record["dynamodb"]["NewImage"]
                data = {k: deserializer.deserialize(v) for k, v in image.items()}
                firehose.put_record(
                    DeliveryStreamName=DELIVERY_STREAM,
                    Record={"Data": json.dumps(data, default=_number) + "\n"},
                )
        except Exception as e:  # the original swallows everything
            print(e)
    return "Successfully processed {} records.".format(len(event["Records"]))
