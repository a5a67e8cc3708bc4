"""``stream_replica.testing``: the components render under Pulumi's basic mocks, and the
package's own mocks give realistic computed outputs in each provider's account and region."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from stream_replica.components import (
    CrossAccountStreamReplica,
    CrossAccountStreamReplicaArgs,
    ReplicaSourceArgs,
    ReplicaTargetArgs,
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
)
from stream_replica.testing import main_program, render
from stream_replica.testing.mocks import POLICY_FIELDS

PROD, POC = "111111111111", "999999999999"


class BasicMocks(pulumi.runtime.Mocks):
    """The mocks Pulumi's unit-testing guide shows: inputs echoed back, nothing computed."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}_id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def program(access_mode: str = "assume-role") -> dict[str, Any]:
    prod = aws.Provider("prod", region="eu-west-1", allowed_account_ids=[PROD])
    poc = aws.Provider("poc", region="eu-central-1", allowed_account_ids=[POC])
    replica = CrossAccountStreamReplica(
        "clicks",
        CrossAccountStreamReplicaArgs(
            source=ReplicaSourceArgs(
                account_id=PROD,
                region="eu-west-1",
                source_stream_name="clicks",
                access_mode=access_mode,
            ),
            target=ReplicaTargetArgs(source_account_id=PROD),
            source_provider=prod,
            target_provider=poc,
            target_region="eu-central-1",
        ),
    )
    archive = StreamToS3Archiver(
        "clicks-archive",
        StreamToS3ArchiverArgs(
            table_stream_arn=replica.table_stream_arn, account_id=POC, region="eu-central-1"
        ),
        opts=pulumi.ResourceOptions(provider=poc),
    )
    return {"table": replica.table_name, "bucket": archive.bucket_name}


def test_components_render_under_the_basic_mocks_of_pulumis_testing_guide() -> None:
    for mode in ("assume-role", "resource-policy"):
        rendered = render(lambda mode=mode: program(mode), mocks=BasicMocks())
        assert rendered.one("aws:dynamodb/table:Table").provider_name == "poc"
        assert len(rendered.of_type("aws:lambda/function:Function")) == 2
        # Documents built from ARNs the basic mocks never compute stay unknown (as in a
        # preview); the trust policies, built from account ids, are complete.
        rendered_documents = list(rendered.policy_documents())
        assert rendered_documents, "no document at all"
        for resource, field_name, document in rendered_documents:
            text = json.dumps(document)
            assert "null" not in text, (resource.name, field_name)
        roles = rendered.of_type("aws:iam/role:Role")
        assert all(isinstance(r.inputs["assumeRolePolicy"], str) for r in roles)


def test_policy_builders_refuse_missing_arns_with_a_clear_error() -> None:
    from stream_replica.components import policies

    for build in (
        lambda: policies.writer_policy(None),
        lambda: policies.archiver_policy(
            table_stream_arn=None,
            delivery_stream_arn=None,
            log_group_arn="arn:aws:logs:eu-west-1:1:log-group:x",
            queue_arns=[None, None],
        ),
        lambda: policies.firehose_delivery_policy(
            bucket_arn="arn:aws:s3:::b",
            prefixes=["data/"],
            log_stream_arn=None,
        ),
    ):
        try:
            build()
        except ValueError as error:
            assert "not ARNs" in str(error)
        else:
            raise AssertionError("a document naming None was built")


def test_mocks_compute_arns_in_each_providers_account_and_region() -> None:
    rendered = render(program)
    table = rendered.one("aws:dynamodb/table:Table")
    assert table.state["arn"].startswith(f"arn:aws:dynamodb:eu-central-1:{POC}:table/")
    assert table.state["streamArn"].startswith(table.state["arn"] + "/stream/")
    replicator = rendered.one("aws:lambda/function:Function", "clicks-source-function")
    assert replicator.state["arn"].startswith(f"arn:aws:lambda:eu-west-1:{PROD}:function:")
    queue = rendered.of_type("aws:sqs/queue:Queue")[0]
    assert queue.state["url"].startswith("https://sqs.")
    mappings = rendered.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert len({m.state["uuid"] for m in mappings}) == 2
    archiver_mapping = next(m for m in mappings if m.provider_name == "poc")
    assert archiver_mapping.inputs["eventSourceArn"] == table.state["streamArn"]
    assert rendered.outputs["bucket"].endswith(f"-{POC}-eu-central-1")
    # Every IAM document is complete JSON naming only real ARNs.
    types_with_documents = {r.type for r, _, _ in rendered.policy_documents()}
    assert "aws:iam/rolePolicy:RolePolicy" in types_with_documents
    assert types_with_documents <= set(POLICY_FIELDS)
    archiver_policy = rendered.one("aws:iam/rolePolicy:RolePolicy", "clicks-archive-policy")
    resources = json.dumps(archiver_policy.document())
    assert table.state["streamArn"] in resources


def test_render_can_run_repeatedly_and_resets_between_runs() -> None:
    first = render(program)
    second = render(program)
    assert sorted(r.urn for r in first.resources) == sorted(r.urn for r in second.resources)
    assert len(first.resources) == len(second.resources) > 40


def test_render_collects_pulumi_exports_as_outputs() -> None:
    def exporting() -> None:
        result = program()
        pulumi.export("exported_table", result["table"])

    rendered = render(exporting)
    table = rendered.one("aws:dynamodb/table:Table")
    assert rendered.outputs["exported_table"] == table.state["name"]


def test_components_registered_outputs_are_recorded() -> None:
    rendered = render(program)
    replica = rendered.one("stream-replica:index:CrossAccountStreamReplica")
    table = rendered.one("aws:dynamodb/table:Table")
    assert replica.outputs["table_arn"] == table.state["arn"]
    archiver = rendered.one("stream-replica:index:StreamToS3Archiver")
    assert archiver.outputs["bucket_name"] == rendered.outputs["bucket"]


def test_main_program_runs_a_projects_main_with_its_folder_on_sys_path(tmp_path: Path) -> None:
    (tmp_path / "naming.py").write_text("TABLE = 'from-own-module'\n", encoding="utf-8")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, naming\n"
        "from stream_replica.components import ReplicaTarget, ReplicaTargetArgs\n"
        "assert __name__ == '__main__'\n"
        "t = ReplicaTarget('t', ReplicaTargetArgs(source_account_id='111111111111',"
        " replicator_role_name='r', table_name=naming.TABLE))\n"
        "pulumi.export('table', t.table_name)\n",
        encoding="utf-8",
    )
    rendered = render(main_program(tmp_path / "__main__.py"))
    assert rendered.outputs == {"table": "from-own-module"}
    assert str(tmp_path) not in sys.path


def test_render_refuses_a_module_namespace_as_outputs(tmp_path: Path) -> None:
    main = tmp_path / "__main__.py"
    main.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(TypeError, match="main_program"):
        render(lambda: runpy.run_path(str(main)))
