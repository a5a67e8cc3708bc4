"""Enforcement levels and scope, applied by pulumi-policy's own analyzer (in-process).

Each rule is run at each level, set both ways a team sets it: in the pack's ``__main__.py``
(``serve(levels=...)``) and in the policy config file the CLI sends with ``Configure``. A
``disabled`` rule reports nothing, the others report at the level set. ``scope`` limits the
rules to the resources our components create, read from the resource's URN and parents.
"""

from __future__ import annotations

from typing import Any

import pytest

from policy_pack.stream_replica_policy import pack, rules

from .pack_protocol import Resource, analyze, configure, in_process
from .test_policy_pack_rules import GOOD_AND_BAD

STACK = "urn:pulumi:dev::app::pulumi:pulumi:Stack::app-dev"
TABLE_ARN = "arn:aws:dynamodb:eu-west-1:999999999999:table/t"


def urn(qualified_type: str, name: str) -> str:
    return f"urn:pulumi:dev::app::{qualified_type}::{name}"


def resource(type_: str, name: str, inputs: dict, state: dict | None = None) -> Resource:
    return Resource(type_, name, urn(type_, name), inputs, state or {}, parent=STACK)


def bad_resources(rule_name: str) -> list[Resource]:
    """Resources that violate ``rule_name``: its first bad case, or a small stack."""
    for case_rule, resource_type, _good, bad, _expected in GOOD_AND_BAD:
        if case_rule == rule_name:
            return [resource(resource_type, "r", bad)]
    if rule_name == "s3-bucket-has-public-access-block-and-encryption":
        return [resource("aws:s3/bucket:Bucket", "archive", {"bucket": "archive-1"})]
    if rule_name == "dynamodb-resource-policy-key":
        return [
            resource(
                "aws:dynamodb/table:Table",
                "t",
                {"serverSideEncryption": {"enabled": True}},
                {"arn": TABLE_ARN},
            ),
            resource("aws:dynamodb/resourcePolicy:ResourcePolicy", "p", {"resourceArn": TABLE_ARN}),
        ]
    raise AssertionError(f"no bad resources for {rule_name}")


@pytest.mark.parametrize("how", ["config file", "pack levels"])
@pytest.mark.parametrize("level", rules.LEVELS)
@pytest.mark.parametrize("rule_name", rules.RULE_NAMES)
def test_each_rule_at_each_level(rule_name: str, level: str, how: str) -> None:
    if how == "config file":
        analyzer = in_process(pack.build_policies())
        configure(analyzer, {rule_name: level})
    else:
        analyzer = in_process(pack.build_policies(levels={rule_name: level}))
        configure(analyzer, {})  # the CLI always configures; the pack's level is the default
    found = [d for d in analyze(analyzer, bad_resources(rule_name)) if d.policy == rule_name]
    if level == "disabled":
        assert found == []
    else:
        assert found, f"{rule_name} at {level} reported nothing"
        assert {d.level for d in found} == {level}


def test_all_sets_every_rule_and_a_rule_entry_wins() -> None:
    analyzer = in_process(pack.build_policies())
    sent = configure(
        analyzer,
        {"all": "advisory", "iam-no-broad-managed-policy": {"enforcementLevel": "disabled"}},
    )
    assert {
        level for name, (level, _) in sent.items() if name != "iam-no-broad-managed-policy"
    } == {"advisory"}
    admin = bad_resources("iam-no-broad-managed-policy")
    public = bad_resources("iam-no-public-principal")
    found = analyze(analyzer, [*admin, *public])
    assert {(d.policy, d.level) for d in found} == {("iam-no-public-principal", "advisory")}


def test_pack_levels_are_checked() -> None:
    assert (
        pack.resolve_levels({"all": "disabled", "log-group-retention": "mandatory"})[
            "log-group-retention"
        ]
        == "mandatory"
    )
    assert set(pack.resolve_levels({"all": "disabled"}).values()) == {"disabled"}
    with pytest.raises(ValueError, match=r"unknown rule\(s\) \['log-retention'\]"):
        pack.build_policies(levels={"log-retention": "advisory"})
    with pytest.raises(ValueError, match=r"levels\['log-group-retention'\]: 'warn'"):
        pack.build_policies(levels={"log-group-retention": "warn"})
    with pytest.raises(ValueError, match="scope: 'mine'"):
        pack.build_policies(scope="mine")  # type: ignore[arg-type]


# --- scope ----------------------------------------------------------------------------------------

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SOURCE = "stream-replica:index:ReplicaSource"
REPLICA = "stream-replica:index:CrossAccountStreamReplica"


def scoped_log_groups() -> list[Resource]:
    """Log groups without retention: one in our component, one inside a team's own component
    that sits in ours (seen only through the parent chain), and two of the team's own."""
    wrapper = urn(f"{REPLICA}$my:index:Wrapper", "w")
    return [
        Resource(SOURCE, "src", urn(SOURCE, "src"), {}, {}, parent=STACK, custom=False),
        Resource(
            LOG_GROUP, "ours", urn(f"{SOURCE}${LOG_GROUP}", "ours"), {}, {}, urn(SOURCE, "src")
        ),
        Resource(REPLICA, "replica", urn(REPLICA, "replica"), {}, {}, parent=STACK, custom=False),
        Resource("my:index:Wrapper", "w", wrapper, {}, {}, urn(REPLICA, "replica"), custom=False),
        Resource(
            LOG_GROUP, "nested", urn(f"my:index:Wrapper${LOG_GROUP}", "nested"), {}, {}, wrapper
        ),
        resource(LOG_GROUP, "theirs", {}),
        Resource(
            LOG_GROUP,
            "theirs-in-their-component",
            urn(f"my:index:App${LOG_GROUP}", "theirs-in-their-component"),
            {},
            {},
            urn("my:index:App", "app"),
        ),
    ]


def reported_names(found: list[Any], policy: str) -> set[str]:
    return {d.message.split("'")[1] for d in found if d.policy == policy}


@pytest.mark.parametrize("how", ["config file", "pack scope"])
def test_components_scope_checks_only_what_our_components_create(how: str) -> None:
    if how == "config file":
        analyzer = in_process(pack.build_policies())
        configure(
            analyzer,
            {"log-group-retention": {"enforcementLevel": "mandatory", "scope": "components"}},
        )
    else:
        analyzer = in_process(pack.build_policies(scope="components"))
        configure(analyzer, {})
    found = analyze(analyzer, scoped_log_groups())
    assert reported_names(found, "log-group-retention") == {"ours", "nested"}


def test_stack_scope_checks_every_resource() -> None:
    analyzer = in_process(pack.build_policies(scope="components"))
    configure(analyzer, {"log-group-retention": {"scope": "stack"}})
    found = analyze(analyzer, scoped_log_groups())
    assert reported_names(found, "log-group-retention") == {
        "ours",
        "nested",
        "theirs",
        "theirs-in-their-component",
    }


def test_stack_rules_follow_the_scope() -> None:
    bucket = "aws:s3/bucket:Bucket"
    archiver = "stream-replica:index:StreamToS3Archiver"
    resources = [
        Resource(archiver, "a", urn(archiver, "a"), {}, {}, parent=STACK, custom=False),
        Resource(bucket, "ours", urn(f"{archiver}${bucket}", "ours"), {}, {}, urn(archiver, "a")),
        resource(bucket, "theirs", {}),
    ]
    policy = "s3-bucket-has-public-access-block-and-encryption"
    for scope, expected in (("components", {"ours"}), ("stack", {"ours", "theirs"})):
        analyzer = in_process(pack.build_policies())
        configure(analyzer, {policy: {"scope": scope}})
        found = [d for d in analyze(analyzer, resources) if d.policy == policy]
        assert {d.message.split("'")[1] for d in found} == expected, scope


def test_a_bad_scope_in_the_config_names_the_rule() -> None:
    analyzer = in_process(pack.build_policies())
    configure(analyzer, {"log-group-retention": {"scope": "team"}})
    with pytest.raises(ValueError, match=r"log-group-retention\.scope: 'team'"):
        analyze(analyzer, [resource(LOG_GROUP, "theirs", {})])


def test_created_by_components_reads_urn_and_parents() -> None:
    assert pack.created_by_components(urn(f"{SOURCE}${LOG_GROUP}", "x"))
    assert pack.created_by_components(urn(LOG_GROUP, "x"), [urn(REPLICA, "r")])
    assert not pack.created_by_components(urn(LOG_GROUP, "x"), [STACK, None])
    # The component itself is not "created by" a component; a lookalike type is not ours.
    assert not pack.created_by_components(urn(SOURCE, "src"))
    assert not pack.created_by_components(urn(f"stream-replicas:index:X${LOG_GROUP}", "x"))
