"""The evaluator against decisions the AWS documentation states.

Sources (AWS IAM User Guide): "Policy evaluation logic", "Cross-account policy evaluation logic",
"Condition operators" (missing keys, negated operators, ...IfExists, multiple values), "IAM JSON
policy elements: Action / NotAction / Principal" and the S3 "enforce TLS" bucket-policy example.
Each test names the statement of the docs it reproduces.
"""

from __future__ import annotations

import pytest

from .iam_eval import Request, UnsupportedPolicyElement, evaluate

A = "111111111111"
B = "999999999999"
ROLE_A = f"arn:aws:iam::{A}:role/app"
OTHER_ROLE_A = f"arn:aws:iam::{A}:role/other"
TABLE_B = f"arn:aws:dynamodb:eu-west-1:{B}:table/t"
BUCKET = "arn:aws:s3:::example-bucket"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_PUT = doc({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE_B})


def test_default_is_implicit_deny() -> None:
    # "By default, all requests are implicitly denied."
    assert not evaluate(
        Request(ROLE_A, "dynamodb:PutItem", f"arn:aws:dynamodb:eu-west-1:{A}:table/t")
    )


def test_identity_allow_in_same_account() -> None:
    table_a = f"arn:aws:dynamodb:eu-west-1:{A}:table/t"
    policy = doc({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_a})
    assert evaluate(Request(ROLE_A, "dynamodb:PutItem", table_a), identity_policies=[policy])


def test_explicit_deny_overrides_allow() -> None:
    # "An explicit deny in any policy overrides any allows."
    deny = doc({"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"})
    decision = evaluate(
        Request(ROLE_A, "dynamodb:PutItem", TABLE_B),
        identity_policies=[ALLOW_PUT, deny],
        resource_policy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROLE_A},
                "Action": "dynamodb:PutItem",
                "Resource": TABLE_B,
            }
        ),
    )
    assert not decision
    assert "explicit deny" in decision.reason


def test_cross_account_needs_identity_and_resource_policy() -> None:
    # Cross-account: "the identity-based policy in the trusted account AND the resource-based
    # policy in the trusting account must both allow the request".
    resource = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROLE_A},
            "Action": "dynamodb:PutItem",
            "Resource": TABLE_B,
        }
    )
    request = Request(ROLE_A, "dynamodb:PutItem", TABLE_B)
    assert evaluate(request, identity_policies=[ALLOW_PUT], resource_policy=resource)
    assert not evaluate(request, identity_policies=[ALLOW_PUT])
    assert not evaluate(request, resource_policy=resource)


def test_same_account_resource_policy_naming_the_principal_suffices() -> None:
    # Same account: "If an action is allowed by an identity-based policy, a resource-based
    # policy, or both, then AWS allows the action" — when the resource policy names the principal.
    table_a = f"arn:aws:dynamodb:eu-west-1:{A}:table/t"
    named = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROLE_A},
            "Action": "dynamodb:PutItem",
            "Resource": table_a,
        }
    )
    assert evaluate(Request(ROLE_A, "dynamodb:PutItem", table_a), resource_policy=named)
    # A resource policy that names only the account delegates to identity policies.
    account = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "dynamodb:PutItem",
            "Resource": table_a,
        }
    )
    assert not evaluate(Request(ROLE_A, "dynamodb:PutItem", table_a), resource_policy=account)


def test_role_principal_covers_its_sessions_only() -> None:
    # A role ARN as Principal matches the role's assumed-role sessions, not other roles.
    resource = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROLE_A},
            "Action": "dynamodb:PutItem",
            "Resource": TABLE_B,
        }
    )
    session = f"arn:aws:sts::{A}:assumed-role/app/session-1"
    assert evaluate(
        Request(session, "dynamodb:PutItem", TABLE_B),
        identity_policies=[ALLOW_PUT],
        resource_policy=resource,
    )
    assert not evaluate(
        Request(OTHER_ROLE_A, "dynamodb:PutItem", TABLE_B),
        identity_policies=[ALLOW_PUT],
        resource_policy=resource,
    )


def test_trust_policy_with_account_principal_needs_identity_permission() -> None:
    # "If you specify an account as principal in the trust policy, ... an administrator in that
    # account must also grant the principal permission (identity-based) to assume the role."
    role_b = f"arn:aws:iam::{B}:role/writer"
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    can_assume = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_b})
    request = Request(ROLE_A, "sts:AssumeRole", role_b)
    assert evaluate(request, identity_policies=[can_assume], resource_policy=trust)
    assert not evaluate(request, resource_policy=trust)
    assert not evaluate(request, identity_policies=[can_assume])


def test_service_principal_trust() -> None:
    role_b = f"arn:aws:iam::{B}:role/delivery"
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    assert evaluate(
        Request("firehose.amazonaws.com", "sts:AssumeRole", role_b), resource_policy=trust
    )
    assert not evaluate(
        Request("lambda.amazonaws.com", "sts:AssumeRole", role_b), resource_policy=trust
    )
    # An AWS principal is not a service principal.
    assert not evaluate(Request(ROLE_A, "sts:AssumeRole", role_b), resource_policy=trust)


def test_actions_are_case_insensitive_and_wildcards_match() -> None:
    # "Action ... values are case-insensitive"; wildcards: "s3:Get*".
    table_a = f"arn:aws:dynamodb:eu-west-1:{A}:table/t"
    policy = doc({"Effect": "Allow", "Action": "dynamodb:Get*", "Resource": table_a})
    assert evaluate(Request(ROLE_A, "DynamoDB:getitem", table_a), identity_policies=[policy])
    assert not evaluate(Request(ROLE_A, "dynamodb:PutItem", table_a), identity_policies=[policy])


def test_not_action_allows_everything_else() -> None:
    # NotAction docs: "Allow" + "NotAction": "iam:*" allows every action except IAM's.
    policy = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert evaluate(
        Request(ROLE_A, "s3:GetObject", f"{BUCKET}/k"),
        identity_policies=[policy],
        resource_account=A,
    )
    assert not evaluate(
        Request(ROLE_A, "iam:CreateUser", f"arn:aws:iam::{A}:user/u"), identity_policies=[policy]
    )


def test_resource_wildcards_are_case_sensitive_and_object_star_excludes_bucket() -> None:
    policy = doc({"Effect": "Allow", "Action": "s3:*", "Resource": f"{BUCKET}/prefix/*"})
    ok = Request(ROLE_A, "s3:PutObject", f"{BUCKET}/prefix/2024/x.gz")
    assert evaluate(ok, identity_policies=[policy], resource_account=A)
    for resource in (BUCKET, f"{BUCKET}/other/x", f"{BUCKET}/PREFIX/x"):
        req = Request(ROLE_A, "s3:PutObject", resource)
        assert not evaluate(req, identity_policies=[policy], resource_account=A), resource


def test_question_mark_matches_one_character() -> None:
    policy = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/log?"})
    assert evaluate(
        Request(ROLE_A, "s3:GetObject", f"{BUCKET}/log1"),
        identity_policies=[policy],
        resource_account=A,
    )
    assert not evaluate(
        Request(ROLE_A, "s3:GetObject", f"{BUCKET}/log12"),
        identity_policies=[policy],
        resource_account=A,
    )


def test_secure_transport_deny_blocks_plain_http() -> None:
    # S3 docs example: Deny s3:* when aws:SecureTransport is false.
    bucket_policy = doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [BUCKET, f"{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    allow = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    https = Request(ROLE_A, "s3:GetObject", f"{BUCKET}/k")
    http = Request(ROLE_A, "s3:GetObject", f"{BUCKET}/k", {"aws:SecureTransport": False})
    assert evaluate(
        https, identity_policies=[allow], resource_policy=bucket_policy, resource_account=A
    )
    assert not evaluate(
        http, identity_policies=[allow], resource_policy=bucket_policy, resource_account=A
    )


def test_missing_condition_key_semantics() -> None:
    # "If the key ... is not present in the request context, the values do not match and the
    # condition is false. If the condition requires that the key is not matched, such as
    # StringNotLike or ArnNotLike, and the right key is not present, the condition is true."
    # "...IfExists: if the condition key is not present, the condition evaluates to true."
    table_a = f"arn:aws:dynamodb:eu-west-1:{A}:table/t"

    def allowed(condition: dict, context: dict) -> bool:
        policy = doc(
            {
                "Effect": "Allow",
                "Action": "dynamodb:PutItem",
                "Resource": table_a,
                "Condition": condition,
            }
        )
        return bool(
            evaluate(
                Request(ROLE_A, "dynamodb:PutItem", table_a, context), identity_policies=[policy]
            )
        )

    assert not allowed({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, {})
    assert allowed({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, {})
    assert allowed({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::x"}}, {})
    assert allowed({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {})
    assert not allowed(
        {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-2"}
    )
    assert allowed({"Null": {"aws:SourceVpc": "true"}}, {})
    assert not allowed({"Null": {"aws:SourceVpc": "false"}}, {})


def test_multiple_values_are_or_and_multiple_keys_are_and() -> None:
    # "If a single condition key has multiple values, they are evaluated with a logical OR";
    # multiple keys / operators with a logical AND; negated operators must match none of them.
    table_a = f"arn:aws:dynamodb:eu-west-1:{A}:table/t"
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": table_a,
            "Condition": {
                "StringEquals": {
                    "aws:RequestedRegion": ["eu-west-1", "eu-west-2"],
                    "aws:SourceVpc": "vpc-1",
                },
                "StringNotEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]},
            },
        }
    )

    def allowed(context: dict) -> bool:
        return bool(
            evaluate(
                Request(ROLE_A, "dynamodb:PutItem", table_a, context), identity_policies=[policy]
            )
        )

    base = {
        "aws:RequestedRegion": "eu-west-2",
        "aws:SourceVpc": "vpc-1",
        "aws:SourceVpce": "vpce-9",
    }
    assert allowed(base)
    assert not allowed({**base, "aws:RequestedRegion": "us-east-1"})
    assert not allowed({**base, "aws:SourceVpc": "vpc-2"})
    assert not allowed({**base, "aws:SourceVpce": "vpce-2"})


def test_principal_arn_condition_uses_role_arn_for_sessions() -> None:
    # aws:PrincipalArn carries the role's ARN for an assumed-role session.
    role_b = f"arn:aws:iam::{B}:role/writer"
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE_A}},
        }
    )
    can_assume = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_b})
    session = f"arn:aws:sts::{A}:assumed-role/app/s"
    assert evaluate(
        Request(session, "sts:AssumeRole", role_b),
        identity_policies=[can_assume],
        resource_policy=trust,
    )
    assert not evaluate(
        Request(OTHER_ROLE_A, "sts:AssumeRole", role_b),
        identity_policies=[can_assume],
        resource_policy=trust,
    )


def test_unmodelled_grammar_is_refused_not_guessed() -> None:
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
        }
    )
    with pytest.raises(UnsupportedPolicyElement, match="DateGreaterThan"):
        evaluate(
            Request(ROLE_A, "s3:GetObject", f"{BUCKET}/k"),
            identity_policies=[policy],
            resource_account=A,
        )


def test_public_resource_policy_allows_without_identity_policy() -> None:
    # A resource policy with Principal "*" grants everyone, so it allows on its own (this is
    # what makes a public bucket public).
    public = doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}
    )
    request = Request(ROLE_A, "s3:GetObject", f"{BUCKET}/k")
    assert evaluate(request, resource_policy=public, resource_account=A)
    aws_star = doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
         "Resource": f"{BUCKET}/*"}
    )  # fmt: skip
    assert evaluate(request, resource_policy=aws_star, resource_account=A)
