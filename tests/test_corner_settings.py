"""Settings refused at preview that would otherwise render silently and fail (or do nothing) at
run time, each error naming the stack file and the config key."""

from __future__ import annotations

import pytest
from stream_replica.components import StackConfigError

from stack_config.keys import STAGE_KEYS
from tests.stack_runs import run_stack

POC_REFERENCE = "organization/kinesis-crossaccount-replica/poc"
PROD_REFERENCE = "organization/kinesis-crossaccount-replica/prod"

KEY_ARN = "arn:aws:ssm:eu-west-1:111111111111:parameter/analytics/key"


def _ttl(attribute: str) -> dict[str, object]:
    return {"ttlDays": 7, "ttlAttribute": attribute}


REFUSED: list[tuple[str, dict[str, object], str]] = [
    # the pseudonymisation key parameter: form, region and account
    (
        "prod",
        {
            "pseudonymizeFields": ["userEmail"],
            "pseudonymizationKeyParameter": "arn:aws:ssm:eu-west-1:111111111111:parameter//key",
        },
        "pseudonymizationKeyParameter: is not the ARN of a Systems Manager parameter",
    ),
    (
        "prod",
        {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "/analytics//key"},
        "pseudonymizationKeyParameter: must be an SSM parameter name",
    ),
    (
        "prod",
        {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "analytics/key"},
        "pseudonymizationKeyParameter: must be an SSM parameter name",
    ),
    (
        "prod",
        {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "/a" * 16},
        "pseudonymizationKeyParameter: must be an SSM parameter name",
    ),
    (
        "prod",
        {
            "pseudonymizeFields": ["userEmail"],
            "pseudonymizationKeyParameter": KEY_ARN.replace("eu-west-1", "us-east-1"),
        },
        "pseudonymizationKeyParameter: is in region us-east-1, not the replicator's region "
        "eu-west-1",
    ),
    (
        "prod",
        {
            "pseudonymizeFields": ["userEmail"],
            "pseudonymizationKeyParameter": KEY_ARN.replace("111111111111", "999999999999"),
        },
        "pseudonymizationKeyParameter: is in account 999999999999, not the replicator's account "
        "111111111111",
    ),
    # a TTL attribute the replicator sets itself
    *(
        (stack, _ttl(name), f"ttlAttribute: must not be {name!r}")
        for stack in ("poc", "prod")
        for name in ("shardId", "subSequenceNumber", "sequenceNumber", "seqNumbershardIdHash")
    ),
    # the provider's keys
    (
        "prod",
        {"aws:allowedAccountIds": ["111111111111", "999999999999"]},
        "aws:allowedAccountIds: lists 999999999999, the other stack's account",
    ),
    (
        "poc",
        {"aws:allowedAccountIds": ["999999999999", "111111111111"]},
        "aws:allowedAccountIds: lists 111111111111, the other stack's account",
    ),
    ("poc", {"aws:region": "eu-wst-1"}, "aws:region: is not an AWS region: 'eu-wst-1'"),
    ("prod", {"aws:region": "us-east-9"}, "aws:region: is not an AWS region: 'us-east-9'"),
    ("prod", {"aws:accessKey": "AKIAIOSFODNN7EXAMPLE"}, "aws:accessKey: is a credential in plain"),
    ("poc", {"aws:secretKey": "wJalrXUtnFEMI/K7MDENG"}, "aws:secretKey: is a credential in plain"),
    ("poc", {"aws:token": "IQoJb3JpZ2luX2Vj"}, "aws:token: is a credential in plain"),
    (
        "prod",
        {"externalId": "AKIAIOSFODNN7EXAMPLE"},
        "externalId: holds key material (an AWS access key id or a private key) in plain text",
    ),
    (
        "poc",
        {"deliveryStreamName": "-----BEGIN RSA PRIVATE KEY-----"},
        "deliveryStreamName: holds key material",
    ),
    # a placeholder nothing expands
    ("poc", {"s3Prefix": "data/${stack}/"}, "s3Prefix: has a '${…}' placeholder"),
    # the alarm topic: the stack's own account and region
    (
        "prod",
        {"alarmTopicArn": "arn:aws:sns:eu-west-1:999999999999:alarms"},
        "alarmTopicArn: is in account 999999999999, not the prod stack's account 111111111111",
    ),
    (
        "poc",
        {"alarmTopicArn": "arn:aws:sns:eu-west-1:111111111111:alarms"},
        "alarmTopicArn: is in account 111111111111, not the poc stack's account 999999999999",
    ),
    (
        "poc",
        {"alarmTopicArn": "arn:aws:sns:us-east-1:999999999999:alarms"},
        "alarmTopicArn: is in region us-east-1, not the stack's region eu-west-1",
    ),
    # target placement: the stream is read in this stack's region
    (
        "poc",
        {
            "placement": "target",
            "prodStackReference": "",
            "sourceStreamArn": "arn:aws:kinesis:us-east-1:111111111111:stream/web-analytics",
        },
        "sourceStreamArn: is in region us-east-1, not this stack's region eu-west-1",
    ),
]


@pytest.mark.parametrize(
    ("stack", "overrides", "message"),
    REFUSED,
    ids=[f"{stack}-{message.split(':')[0]}-{i}" for i, (stack, _, message) in enumerate(REFUSED)],
)
def test_refused_at_preview_naming_the_stack_file_and_key(
    stack: str, overrides: dict[str, object], message: str
) -> None:
    # The other stack not deployed yet: the checks at preview come first, in this stack alone.
    unread: dict[str, dict[str, object]] = {POC_REFERENCE: {}, PROD_REFERENCE: {}}
    with pytest.raises(StackConfigError) as raised:
        run_stack(stack, overrides, stack_outputs=unread)
    text = str(raised.value)
    assert text.startswith(f"Pulumi.{stack}.yaml: "), text
    assert message in text, text


ACCEPTED: list[tuple[str, dict[str, object]]] = [
    ("prod", {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": KEY_ARN}),
    ("prod", {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "/a" * 15}),
    ("prod", {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "key.v1"}),
    ("poc", {"ttlDays": 7, "ttlAttribute": "expiresAt"}),
    ("prod", {"aws:region": "eu-central-2"}),
    ("poc", {"alarmTopicArn": "arn:aws:sns:eu-west-1:999999999999:alarms"}),
]


@pytest.mark.parametrize(("stack", "overrides"), ACCEPTED)
def test_accepted_settings_render(stack: str, overrides: dict[str, object]) -> None:
    assert run_stack(stack, overrides).resources


def test_target_placement_refuses_a_prod_stack_in_another_region() -> None:
    """The poc stack's replicator maps the prod stack's stream: both must be in one region."""
    prod = run_stack(
        "prod",
        {"placement": "target", **dict.fromkeys(STAGE_KEYS)},
        stack_outputs={POC_REFERENCE: {}},
    )
    outputs = {
        **prod.outputs,
        "sourceStreamArn": prod.outputs["sourceStreamArn"].replace("eu-west-1", "us-east-1"),
    }
    with pytest.raises(ValueError) as raised:  # at deployment: the apply's error, wrapped
        run_stack("poc", {"placement": "target"}, stack_outputs={PROD_REFERENCE: outputs})
    text = str(raised.value)
    assert "Pulumi.poc.yaml: aws:region: is eu-west-1 here but the prod stack's " in text, text
    assert "sourceStreamArn is in us-east-1" in text, text


def test_the_replicator_attributes_are_the_handlers_own() -> None:
    from stream_replica.components.validation import REPLICATOR_ATTRIBUTES
    from stream_replica.handlers import pipeline, records

    assert set(REPLICATOR_ATTRIBUTES) == {*records.KEY_ATTRIBUTES, pipeline.SUB_SEQUENCE_KEY}


def test_a_region_is_checked_against_the_provider_sdks_list() -> None:
    import pulumi_aws

    from stack_config.provider import AWS_REGIONS, region_problem

    assert {region.value for region in pulumi_aws.Region} == AWS_REGIONS
    assert region_problem("eu-west-1") is None
    assert region_problem("eu-wst-1")


# --------------------------------------------------------------------------- redaction and keys

KEY = {"pseudonymizationKeyParameter": "/analytics/key"}
GSI_N = {"gsiName": "byUser", "gsiHashKey": "userId", "gsiHashKeyType": "N"}
QUERY_N = {
    "queryTableEnabled": True,
    "queryTableName": "events-by-user",
    "queryTableHashAttribute": "userId",
    "queryTableHashType": "N",
    "queryTableRangeAttribute": "timestampNs",
}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {**GSI_N, "pseudonymizeFields": ["userId"], **KEY},
            "pseudonymizeFields: pseudonymises 'userId', the hash key of index byUser of type N",
        ),
        (
            {**QUERY_N, "pseudonymizeFields": ["userId"], **KEY},
            "pseudonymizeFields: pseudonymises 'userId', the query table's hash attribute of "
            "type N",
        ),
        (
            {**GSI_N, "gsiHashKeyType": "S", "dropFields": ["userId"]},
            "dropFields: drops 'userId', the hash key of index byUser",
        ),
        (
            {**QUERY_N, "dropFields": ["timestampNs"]},
            "dropFields: drops 'timestampNs', the query table's range attribute",
        ),
    ],
)
def test_target_placement_refuses_redaction_that_breaks_a_key_at_preview(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(StackConfigError) as raised:
        run_stack("poc", {"placement": "target", **overrides}, stack_outputs={PROD_REFERENCE: {}})
    text = str(raised.value)
    assert text.startswith("Pulumi.poc.yaml: kinesis-crossaccount-replica:"), text
    assert message in text, text


def test_target_placement_accepts_pseudonymising_a_text_key_or_a_nested_field() -> None:
    overrides = {
        "placement": "target",
        **GSI_N,
        "gsiHashKeyType": "S",
        "pseudonymizeFields": ["userId", "device.userId"],
        "dropFields": ["context.userId"],
        **KEY,
    }
    prod = run_stack(
        "prod",
        {"placement": "target", **dict.fromkeys(STAGE_KEYS)},
        stack_outputs={POC_REFERENCE: {}},
    )
    assert run_stack("poc", overrides, stack_outputs={PROD_REFERENCE: prod.outputs}).resources


def test_source_placement_refuses_it_against_the_poc_stacks_keys_at_deployment() -> None:
    """The redaction is in prod's stack file, the index in poc's: the poc stack exports its
    keys and the prod stack compares."""
    poc = run_stack("poc", GSI_N, stack_outputs={PROD_REFERENCE: {}})
    assert {"attribute": "userId", "type": "N", "key": "the hash key of index byUser"} in (
        poc.outputs["keyAttributes"]
    )
    with pytest.raises(ValueError) as raised:
        run_stack(
            "prod", {"pseudonymizeFields": ["userId"]}, stack_outputs={POC_REFERENCE: poc.outputs}
        )
    text = str(raised.value)
    assert (
        "Pulumi.prod.yaml: kinesis-crossaccount-replica:pseudonymizeFields: pseudonymises " in text
    )
    assert "'userId', the hash key of index byUser of type N" in text
    # the example prod stack's redaction (userEmail) breaks no key of that poc stack
    assert run_stack("prod", stack_outputs={POC_REFERENCE: poc.outputs}).resources


def test_the_replicator_alarms_on_a_batch_refused_alike() -> None:
    """The handler's ``rejected_alike`` metric, under the namespace and service dimension the
    function's environment gives its metrics."""
    prod = run_stack("prod")
    env = prod.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    (alarm,) = [
        a
        for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["metricName"] == "rejected_alike"
    ]
    assert alarm.inputs["namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm.inputs["dimensions"] == {"service": env["POWERTOOLS_SERVICE_NAME"]}
    assert alarm.inputs["statistic"] == "Sum"
    assert alarm.inputs["threshold"] == 0
