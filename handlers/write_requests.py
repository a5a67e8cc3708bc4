"""BatchWriteItem requests whose body the replicator writes itself, handed to botocore as text.

botocore normally serialises ``RequestItems`` from a tree of typed attribute values; the
replicator already holds each item's DynamoDB JSON text (:func:`.records.record_item_json`), so
building that tree only for botocore to walk it again would double the work. Instead:

* each put request in ``RequestItems`` is a :class:`PutRequest`: a real
  ``{"PutRequest": {"Item": {<hash key>, <range key>}}}`` dict holding only the key attributes
  (so that hooks and response handling that read request keys keep working), which carries the
  full item's text in ``item_json``;
* a ``before-parameter-build`` hook, registered last, turns those into the request body text
  and leaves botocore a placeholder with the same table names (one empty put request per
  table): endpoint
  resolution sees the same ``RequestItems`` keys (DynamoDB's ``ResourceArnList``), and the
  serialiser has nothing to walk;
* a ``before-call`` hook, registered first, puts that body into the serialised request.
  Everything after it is botocore's own: the headers, SigV4 signing of the body, endpoints,
  retries, response parsing (UnprocessedItems come back as typed dicts, as before).

If another hook leaves something that is not a :class:`PutRequest` in ``RequestItems``, every
:class:`PutRequest` is expanded into its full typed item and botocore serialises the request as
usual: a request never goes out with key-only items.

Endpoint resolution is remembered: botocore resolves the endpoint of every call from its
ruleset (the operation's context parameters, the client's settings, the credentials' account
id), about a seventh of the CPU of a 25-item BatchWriteItem call. :class:`EndpointMemo` keeps
the result per table names and account id, so every later call with the same tables and the
same account id gets the same endpoint (URL, headers, signing properties) without resolving it
again; the user-agent features that resolution registers are registered again on every call.

:func:`install` registers both hooks and the memo on a client (idempotent); the replicator
installs them on its writer client before the first write.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

from botocore.context import get_context

_CONTEXT_KEY = "stream_replica_body"
_OPERATION = "dynamodb.BatchWriteItem"
#: What botocore serialises (and, with parameter validation on, validates) in place of a table's
#: requests; the body it makes is then replaced as a whole.
_PLACEHOLDER: dict[str, Any] = {"PutRequest": {"Item": {}}}


class PutRequest(dict[str, Any]):
    """``{"PutRequest": {"Item": <key attributes>}}`` plus the full item's DynamoDB JSON text."""

    __slots__ = ("item_json",)

    def __init__(self, key: dict[str, dict[str, str]], item_json: str) -> None:
        super().__init__(PutRequest={"Item": key})
        self.item_json = item_json

    def typed(self) -> dict[str, Any]:
        """The request with the full typed item, for botocore's own serialiser."""
        return {"PutRequest": {"Item": json.loads(self.item_json)}}


def key_attributes(
    hash_name: str, hash_value: str, range_name: str, range_value: str
) -> dict[str, dict[str, str]]:
    """The item key in DynamoDB's typed form (both key attributes are strings, S)."""
    return {hash_name: {"S": hash_value}, range_name: {"S": range_value}}


def body_text(request_items: dict[str, list[PutRequest]]) -> str:
    """The BatchWriteItem request body for ``request_items`` (table -> put requests)."""
    return (
        '{"RequestItems":{'
        + ",".join(
            encode_basestring(table)
            + ":["
            + ",".join(['{"PutRequest":{"Item":' + r.item_json + "}}" for r in requests])
            + "]"
            for table, requests in request_items.items()
        )
        + "}}"
    )


def _encode_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """``before-parameter-build``: take the body out of the parameters (see the module doc)."""
    request_items = params.get("RequestItems")
    if not isinstance(request_items, dict):
        return
    ours = all(
        type(request) is PutRequest for requests in request_items.values() for request in requests
    )
    if ours:
        context[_CONTEXT_KEY] = body_text(request_items).encode("utf-8")
        params["RequestItems"] = {table: [_PLACEHOLDER] for table in request_items}
        return
    # Something else in the list (a hook's own request): botocore serialises all of it.
    params["RequestItems"] = {
        table: [r.typed() if isinstance(r, PutRequest) else r for r in requests]
        for table, requests in request_items.items()
    }


def _insert_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """``before-call``: the serialised request gets the body written by :func:`_encode_body`."""
    body = context.pop(_CONTEXT_KEY, None)
    if body is not None:
        params["body"] = body


class EndpointMemo:
    """A botocore ``EndpointRulesetResolver.construct_endpoint`` that remembers its result for
    BatchWriteItem (other operations are resolved every time).

    The resolver's answer for one operation depends on the call's context parameters (for
    BatchWriteItem: ``ResourceArnList``, the table names of ``RequestItems``), the client's
    settings (region, FIPS, dual-stack, endpoint URL, account-id endpoint mode: fixed when the
    client is made) and the credentials' account id, the one builtin read at each call (the
    callables among the resolver's builtins). The memo's key is the table names and the value of
    every such callable, so a credential refresh that changes the account id resolves again.
    Resolution also registers user-agent features (the account-id mode); those registered by a
    resolution are registered again on each call that reuses it. What it does not see: a hook
    registered on the client's ``before-endpoint-resolution`` event after the first call
    (botocore's Stubber registers one); nothing in the handlers does."""

    def __init__(self, resolver: Any) -> None:
        self._construct: Callable[..., Any] = resolver.construct_endpoint
        builtins = getattr(resolver, "_builtins", None)
        self._deferred = tuple(v for v in (builtins or {}).values() if callable(v))
        self._found: dict[tuple[Any, ...], tuple[Any, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, operation_model: Any, call_args: Any, request_context: Any) -> Any:
        items = call_args.get("RequestItems") if isinstance(call_args, dict) else None
        if operation_model.name != "BatchWriteItem" or not isinstance(items, dict):
            return self._construct(operation_model, call_args, request_context)
        key = (tuple(items), tuple(deferred() for deferred in self._deferred))
        found = self._found.get(key)
        context = get_context()
        if found is None:
            before = set(context.features) if context is not None else set()
            endpoint = self._construct(operation_model, call_args, request_context)
            after = set(context.features) if context is not None else set()
            with self._lock:
                found = self._found.setdefault(key, (endpoint, frozenset(after - before)))
            return endpoint
        endpoint, features = found
        if features and context is not None:
            context.features.update(features)
        return endpoint


def install(client: Any) -> Any:
    """Register the two hooks on ``client`` (a botocore DynamoDB client) and remember its
    BatchWriteItem endpoints (:class:`EndpointMemo`; not for a client without an endpoint
    ruleset resolver); idempotent."""
    events = client.meta.events
    events.register_last(
        f"before-parameter-build.{_OPERATION}", _encode_body, unique_id=_CONTEXT_KEY + "-encode"
    )
    events.register_first(
        f"before-call.{_OPERATION}", _insert_body, unique_id=_CONTEXT_KEY + "-insert"
    )
    resolver = getattr(client, "_ruleset_resolver", None)
    if resolver is not None and not isinstance(
        getattr(resolver, "construct_endpoint", None), EndpointMemo
    ):
        resolver.construct_endpoint = EndpointMemo(resolver)
    return client
