"""Drop and pseudonymise: paths, HMAC-SHA256 values checked against hmac directly, the key read
from an SSM SecureString once per execution environment, and each way of failing to read it a
RedactionKeyError (a configuration fault), never a raw write."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from stream_replica.handlers.exceptions import ConfigError
from stream_replica.handlers.redaction import (
    RedactionKeyError,
    forget_keys,
    parse_paths,
    pseudonym,
    read_key,
    redact,
)

KEY = b"k" * 32


def expected(value: bytes) -> str:
    return hmac.new(KEY, value, hashlib.sha256).hexdigest()


@pytest.fixture(autouse=True)
def _fresh() -> None:
    forget_keys()


def test_paths_parse_from_json():
    assert parse_paths('["ipAddress", "device.id"]', "DROP_FIELDS") == (
        ("ipAddress",),
        ("device", "id"),
    )
    assert parse_paths(None, "DROP_FIELDS") == ()
    for bad in ('"ipAddress"', "[1]", '["a..b"]', '[""]', "not json"):
        with pytest.raises(ConfigError, match="DROP_FIELDS"):
            parse_paths(bad, "DROP_FIELDS")


def test_drop_and_pseudonymise_nested_and_through_lists():
    record = {
        "userEmail": "ana@example.com",
        "ipAddress": "203.0.113.9",
        "device": {"id": "d-1", "os": "ios"},
        "items": [{"sku": "A1"}, {"sku": "B2"}, "not-a-map"],
        "age": Decimal("42"),
        "missing": None,
    }
    redact(
        record,
        drop=[("ipAddress",), ("device", "id"), ("nowhere", "at_all")],
        pseudonymise=[("userEmail",), ("items", "sku"), ("age",), ("missing",)],
        key=KEY,
    )
    assert record == {
        "userEmail": expected(b"ana@example.com"),
        "device": {"os": "ios"},
        "items": [{"sku": expected(b"A1")}, {"sku": expected(b"B2")}, "not-a-map"],
        "age": expected(b"42"),
        "missing": None,
    }


def test_equal_values_give_equal_pseudonyms():
    assert pseudonym(KEY, "x") == pseudonym(KEY, "x") != pseudonym(b"j" * 32, "x")
    assert pseudonym(KEY, "42") == pseudonym(KEY, Decimal("42")) == expected(b"42")
    assert pseudonym(KEY, Decimal("1.50")) == expected(b"1.50")
    assert pseudonym(KEY, True) == expected(b"true")
    assert pseudonym(KEY, {"b": 1, "a": [True]}) == pseudonym(KEY, {"a": [True], "b": 1})
    assert len(pseudonym(KEY, "x")) == 64


def test_a_path_in_both_lists_is_dropped():
    record = {"email": "a@b"}
    redact(record, drop=[("email",)], pseudonymise=[("email",)], key=KEY)
    assert record == {}


def test_pseudonymising_without_a_key_is_refused():
    with pytest.raises(RedactionKeyError):
        redact({"email": "a@b"}, drop=[], pseudonymise=[("email",)], key=None)


def ssm_client() -> Any:
    return boto3.client(
        "ssm", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    )


def test_the_key_is_read_from_a_secure_string_once():
    """GetParameter with WithDecryption=True, once: the stubber holds one answer, so a second
    call would fail the test."""
    ssm = ssm_client()
    with Stubber(ssm) as stub:
        stub.add_response(
            "get_parameter",
            {"Parameter": {"Name": "/replica/hmac", "Type": "SecureString", "Value": "s" * 40}},
            {"Name": "/replica/hmac", "WithDecryption": True},
        )
        assert read_key("/replica/hmac", ssm) == b"s" * 40
        assert read_key("/replica/hmac", ssm) == b"s" * 40
        stub.assert_no_pending_responses()


def test_a_short_key_is_refused():
    ssm = ssm_client()
    with Stubber(ssm) as stub:
        stub.add_response("get_parameter", {"Parameter": {"Value": "short"}})
        with pytest.raises(RedactionKeyError, match="holds 5 bytes; at least 32"):
            read_key("/replica/short", ssm)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "not authorized to perform: ssm:GetParameter"),
        ("AccessDeniedException", "not authorized to perform: kms:Decrypt"),
        ("InvalidKeyId", "the KMS key is disabled"),
        ("ParameterVersionNotFound", "version not found"),
        ("ParameterNotFound", "Parameter /replica/hmac not found."),
    ],
)
def test_every_get_parameter_error_is_a_key_error(code, message):
    ssm = ssm_client()
    with Stubber(ssm) as stub:
        stub.add_client_error("get_parameter", service_error_code=code, service_message=message)
        with pytest.raises(RedactionKeyError, match=f"{code}: {message}"):
            read_key("/replica/hmac", ssm)
