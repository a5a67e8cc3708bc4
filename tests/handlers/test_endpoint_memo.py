"""The writer client remembers its BatchWriteItem endpoint (``write_requests.EndpointMemo``):
every request goes where botocore's own resolution sends it, with the same User-Agent (its
features included), and the memo resolves again when the table names or the credentials'
account id change."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.credentials import Credentials
from handler_support import CapturedBatchWrites
from stream_replica.handlers import write_requests

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
TABLE_ARN = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/replica"


def _client(mode: str, memo: bool, credentials: Credentials) -> tuple[Any, CapturedBatchWrites]:
    session = botocore.session.Session()
    session._credentials = credentials
    client = session.create_client(
        "dynamodb",
        region_name="eu-west-1",
        config=Config(account_id_endpoint_mode=mode, retries={"total_max_attempts": 1}),
    )
    capture = CapturedBatchWrites()
    client.meta.events.register("before-send.dynamodb.BatchWriteItem", capture)
    return (write_requests.install(client) if memo else client), capture


def _put(name: str) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"k": {"S": name}}}}


def _where(request: Any) -> tuple[str, str]:
    agent = request.headers["User-Agent"]
    return request.url, agent.decode() if isinstance(agent, bytes) else agent


@pytest.mark.parametrize("mode", ["preferred", "disabled", "required"])
def test_requests_go_where_botocores_own_resolution_sends_them(mode):
    credentials = Credentials("AKIDEXAMPLE", "secret", account_id=ACCOUNT)
    ours, sent = _client(mode, True, credentials)
    theirs, expected = _client(mode, False, credentials)
    calls = [
        {"RequestItems": {"replica": [_put("a")]}},
        {"RequestItems": {"replica": [_put("b")]}},
        {"RequestItems": {TABLE_ARN: [_put("c")]}},
        {"RequestItems": {"replica": [_put("d")], "other": [_put("e")]}},
        {"RequestItems": {"replica": [_put("f")]}},
    ]
    for call in calls:
        ours.batch_write_item(**call)
        theirs.batch_write_item(**call)
    assert [_where(r) for r in sent.requests] == [_where(r) for r in expected.requests]
    if mode != "disabled":
        assert sent.requests[0].url == f"https://{ACCOUNT}.ddb.eu-west-1.amazonaws.com/"


def test_the_endpoint_is_resolved_once_per_tables_and_account(monkeypatch):
    credentials = Credentials("AKIDEXAMPLE", "secret", account_id=ACCOUNT)
    client, sent = _client("preferred", True, credentials)
    memo = client._ruleset_resolver.construct_endpoint
    assert isinstance(memo, write_requests.EndpointMemo)
    resolved: list[int] = []
    real = memo._construct

    def counting(*args: Any, **kwargs: Any) -> Any:
        resolved.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(memo, "_construct", counting)
    for name in "abc":
        client.batch_write_item(RequestItems={"replica": [_put(name)]})
    assert len(resolved) == 1
    client.batch_write_item(RequestItems={"other": [_put("d")]})
    assert len(resolved) == 2
    # The credentials now name another account (a refresh into another role's account): the
    # endpoint is resolved again and the request goes to that account's endpoint.
    credentials.account_id = OTHER_ACCOUNT
    client.batch_write_item(RequestItems={"replica": [_put("e")]})
    assert len(resolved) == 3
    assert sent.requests[-1].url == f"https://{OTHER_ACCOUNT}.ddb.eu-west-1.amazonaws.com/"
    assert sent.requests[0].url == f"https://{ACCOUNT}.ddb.eu-west-1.amazonaws.com/"


def test_install_is_idempotent_and_other_operations_resolve_every_time():
    credentials = Credentials("AKIDEXAMPLE", "secret")
    client, _ = _client("disabled", True, credentials)
    memo = client._ruleset_resolver.construct_endpoint
    assert write_requests.install(client)._ruleset_resolver.construct_endpoint is memo
    model = client.meta.service_model.operation_model("PutItem")
    first = memo(operation_model=model, call_args={"TableName": "t"}, request_context={})
    assert first.url == "https://dynamodb.eu-west-1.amazonaws.com"
    assert not memo._found
