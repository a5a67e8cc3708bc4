"""The table-archives program under stream_replica.testing's mocks: `pytest` in this folder."""

from collections import Counter
from pathlib import Path

from stream_replica.testing import Rendered, main_program, render

ACCOUNT = "333333333333"
STREAMS = {
    table: f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{table}/stream/2026-01-01T00:00:00.000"
    for table in ("orders", "customers")
}
CONFIG = {
    "table-archives:accountId": ACCOUNT,
    "table-archives:region": "eu-west-1",
    "table-archives:ordersTableStreamArn": STREAMS["orders"],
    "table-archives:customersTableStreamArn": STREAMS["customers"],
}


def run_program() -> Rendered:
    main = Path(__file__).with_name("__main__.py")
    return render(main_program(main), config=CONFIG, project="table-archives", stack="dev")


def test_no_two_resources_share_a_physical_name() -> None:
    rendered = run_program()
    # A log stream's name is scoped to its log group; every other name to the account/region.
    names = Counter(
        (r.type, r.state.get("logGroupName"), r.state.get("name") or r.state.get("bucket"))
        for r in rendered.resources
        if r.custom and (r.state.get("name") or r.state.get("bucket"))
    )
    assert [key for key, count in names.items() if count > 1] == []
    assert len(rendered.of_type("aws:lambda/function:Function")) == 2


def test_each_archiver_reads_its_own_table_and_writes_its_own_bucket() -> None:
    rendered = run_program()
    for table, stream in STREAMS.items():
        mapping = rendered.one(
            "aws:lambda/eventSourceMapping:EventSourceMapping", f"{table}-archive-mapping"
        )
        assert mapping.inputs["eventSourceArn"] == stream
        policy = rendered.one("aws:iam/rolePolicy:RolePolicy", f"{table}-archive-policy")
        read = next(
            s for s in policy.document()["Statement"] if "dynamodb:GetRecords" in s["Action"]
        )
        assert read["Resource"] == [stream]
        bucket = rendered.one("aws:s3/bucket:Bucket", f"{table}-archive-bucket")
        assert bucket.inputs["tags"]["table"] == table
    outputs = rendered.outputs
    assert outputs["orders_bucket"] == f"orders-archive-{ACCOUNT}-eu-west-1"
    assert outputs["customers_bucket"] == f"customers-archive-{ACCOUNT}-eu-west-1"
