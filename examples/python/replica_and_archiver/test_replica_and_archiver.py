"""The orders-replica program under stream_replica.testing's mocks: `pytest` in this folder."""

from pathlib import Path

from stream_replica.testing import Rendered, main_program, render

PROD, ANALYTICS = "111111111111", "222222222222"
CONFIG = {
    "orders-replica:prodAccountId": PROD,
    "orders-replica:analyticsAccountId": ANALYTICS,
    "orders-replica:analyticsDeployRoleArn": f"arn:aws:iam::{ANALYTICS}:role/deployer",
    "orders-replica:sourceStreamName": "orders",
    "orders-replica:region": "eu-central-1",
}


def run_program() -> Rendered:
    main = Path(__file__).with_name("__main__.py")
    return render(main_program(main), config=CONFIG, project="orders-replica", stack="dev")


def test_each_resource_is_deployed_into_its_accounts_provider() -> None:
    rendered = run_program()
    for resource in rendered.resources:
        if not resource.custom or resource.type.startswith("pulumi:"):
            continue
        below_replicator = resource.name.startswith("orders-source-")
        assert resource.provider_name == ("prod" if below_replicator else "analytics"), (
            resource.name
        )
    table = rendered.one("aws:dynamodb/table:Table")
    assert table.state["arn"] == f"arn:aws:dynamodb:eu-central-1:{ANALYTICS}:table/orders-replica"


def test_own_names_and_tags() -> None:
    rendered = run_program()
    functions = {f.inputs["name"] for f in rendered.of_type("aws:lambda/function:Function")}
    assert functions == {"orders-replicator", "orders-archiver"}
    delivery = rendered.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    assert delivery.inputs["name"] == "orders-archive"
    for resource in rendered.resources:
        if resource.custom and "tags" in resource.inputs:
            assert resource.inputs["tags"]["pipeline"] == "orders-replica", resource.name
            assert resource.inputs["tags"]["stack"] == "dev", resource.name


def test_the_archiver_reads_the_replica_tables_stream() -> None:
    rendered = run_program()
    table = rendered.one("aws:dynamodb/table:Table")
    mapping = rendered.one(
        "aws:lambda/eventSourceMapping:EventSourceMapping", "orders-archive-mapping"
    )
    assert mapping.inputs["eventSourceArn"] == table.state["streamArn"]
    policy = rendered.one("aws:iam/rolePolicy:RolePolicy", "orders-archive-policy").document()
    read = next(s for s in policy["Statement"] if "dynamodb:GetRecords" in s["Action"])
    assert read["Resource"] == [table.state["streamArn"]]


def test_exports() -> None:
    outputs = run_program().outputs
    assert outputs["table_name"] == "orders-replica"
    assert outputs["replicator"] == "orders-replicator"
    assert outputs["bucket_name"] == f"orders-archive-{ANALYTICS}-eu-central-1"
