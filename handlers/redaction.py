"""Declarative redaction in the replicator, before anything leaves the source account.

* ``DROP_FIELDS``: attribute paths removed from each record.
* ``PSEUDONYMIZE_FIELDS``: attribute paths whose values are replaced by
  ``HMAC-SHA256(key, value)`` as 64 lower-case hex digits: equal values give equal pseudonyms,
  so joins and counts still work in the analytics account, but the raw value never reaches it.
* ``PSEUDONYMIZATION_KEY_PARAMETER``: the SSM parameter (SecureString) holding the HMAC key,
  read once per execution environment with ``GetParameter(WithDecryption=True)``.

Both lists are JSON arrays of strings in the environment (the component writes them). A path is
attribute names joined by ``.`` (``ipAddress``, ``device.id``); it follows maps, and through a
list it applies to each element (``items.sku`` pseudonymises ``sku`` in every map of
``items``). A path that is not in a record is skipped. Attribute names that contain a ``.``
cannot be named.

What is hashed: a string's UTF-8 bytes (so anyone holding the key can compute the pseudonym of
a known value, e.g. to look one user up); any other value's compact JSON text (numbers as their
exact decimal text, ``true``/``false``, maps with sorted keys), so the string ``"42"`` and the
number ``42`` share a pseudonym. ``null`` stays ``null``.

A key that cannot be read (no such parameter, access or KMS denied, an empty or short value) is
a configuration fault: :class:`RedactionKeyError` (a :class:`~.exceptions.ConfigError`); the
replicator reports the whole batch for retry and writes nothing raw.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from . import item_json
from .environment import own_region
from .exceptions import ConfigError, RedactionKeyError

#: The shortest key accepted, in bytes: RFC 2104 (section 3) discourages HMAC keys shorter than
#: the hash's output, 32 bytes for SHA-256.
MIN_KEY_BYTES = 32

Path = tuple[str, ...]


def parse_paths(raw: str | None, variable: str) -> tuple[Path, ...]:
    """Parse a JSON array of dotted paths from the environment variable ``variable``.

    :raises ConfigError: not a JSON array of non-empty strings, or a path with an empty part.
    """
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"environment variable {variable} is not a JSON array: {exc}") from None
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ConfigError(f"environment variable {variable} must be a JSON array of strings")
    paths = []
    for text in value:
        parts = tuple(text.split("."))
        if not text or not all(parts):
            raise ConfigError(
                f"environment variable {variable}: {text!r} is not a path of attribute names "
                "joined by '.'"
            )
        paths.append(parts)
    return tuple(paths)


def _json_text(value: Any) -> str:
    """Compact JSON text with sorted keys; a Decimal is written as its exact number text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        inner = ",".join(
            f"{json.dumps(str(k), ensure_ascii=False)}:{_json_text(v)}"
            for k, v in sorted(value.items())
        )
        return "{" + inner + "}"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return "[" + ",".join(_json_text(v) for v in items) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def _canonical(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return _json_text(value).encode("utf-8")


def pseudonym(key: bytes, value: Any) -> str:
    """``HMAC-SHA256(key, canonical bytes of value)`` as 64 lower-case hex digits."""
    return hmac.new(key, _canonical(value), hashlib.sha256).hexdigest()


def _targets(node: Any, path: Path) -> Iterable[tuple[dict[str, Any], str]]:
    """The (map, attribute name) pairs a path reaches in ``node``."""
    if isinstance(node, list):
        for element in node:
            yield from _targets(element, path)
        return
    if not isinstance(node, dict):
        return
    head, rest = path[0], path[1:]
    if head not in node:
        return
    if not rest:
        yield node, head
    else:
        yield from _targets(node[head], rest)


def redact(
    record: dict[str, Any],
    drop: Sequence[Path],
    pseudonymise: Sequence[Path],
    key: bytes | None,
) -> dict[str, Any]:
    """Drop and pseudonymise ``record``'s paths in place (and return it). Drops go first, so a
    path in both lists is dropped.

    :raises RedactionKeyError: there are paths to pseudonymise but no key.
    """
    for path in drop:
        for node, name in list(_targets(record, path)):
            del node[name]
    if pseudonymise:
        if key is None:
            raise RedactionKeyError("fields to pseudonymise but no key was read")
        for path in pseudonymise:
            for node, name in list(_targets(record, path)):
                if node[name] is not None:
                    node[name] = pseudonym(key, node[name])
    return record


#: Bytes a pseudonym takes as a DynamoDB string (64 hex digits): the most an item can grow by
#: per value pseudonymised, since the value replaced took at least one byte of JSON text.
PSEUDONYM_BYTES = 64


def _with_decimals(value: Any) -> Any:
    """A value of :func:`.item_json.decode_object`'s tree with its numbers as ``Decimal``, the
    way :func:`.records.decode_payload` decodes them."""
    kind = type(value)
    if kind is item_json.Number:
        return Decimal(value)
    if kind is dict:
        return {k: _with_decimals(v) for k, v in value.items()}
    if kind is list:
        return [_with_decimals(v) for v in value]
    return value


def one_pass_redaction(
    drop: Sequence[Path], pseudonymise: Sequence[Path], key: bytes | None
) -> Callable[[dict[str, Any]], int]:
    """:func:`redact` for records decoded by :func:`.item_json.decode_object` (numbers as their
    JSON text, :class:`.item_json.Number`), prepared once for a batch: the returned function
    drops and pseudonymises a record in place exactly as :func:`redact` does the record decoded
    with ``Decimal`` numbers (the same paths in the same order, the same pseudonyms: a number,
    or a map or list holding numbers, is hashed as that record's value would be), and returns an
    upper bound on the bytes the item grew by (:data:`PSEUDONYM_BYTES` per value
    pseudonymised). A one-name path is looked up directly; the HMAC's keyed state is computed
    once and copied per value.

    :raises RedactionKeyError: (from the returned function) there are paths to pseudonymise but
        no key.
    """
    drops = tuple(path[0] if len(path) == 1 else path for path in drop)
    pseudonyms = tuple(path[0] if len(path) == 1 else path for path in pseudonymise)
    keyed = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None

    def hashed(value: Any) -> str:
        assert keyed is not None
        state = keyed.copy()
        if type(value) is str:
            state.update(value.encode("utf-8"))
        else:
            state.update(_canonical(_with_decimals(value)))
        return state.hexdigest()

    def redact_record(record: dict[str, Any]) -> int:
        for path in drops:
            if isinstance(path, str):
                record.pop(path, None)
            else:
                for node, name in list(_targets(record, path)):
                    del node[name]
        if not pseudonyms:
            return 0
        if keyed is None:
            raise RedactionKeyError("fields to pseudonymise but no key was read")
        count = 0
        for path in pseudonyms:
            if isinstance(path, str):
                value = record.get(path)
                if value is not None:
                    record[path] = hashed(value)
                    count += 1
            else:
                for node, name in list(_targets(record, path)):
                    value = node[name]
                    if value is not None:
                        node[name] = hashed(value)
                        count += 1
        return PSEUDONYM_BYTES * count

    return redact_record


# --------------------------------------------------------------------------- the key

_lock = threading.Lock()
_keys: dict[tuple[Any, ...], bytes] = {}


def read_key(parameter: str, ssm: Any, cache_key: tuple[Any, ...] = ()) -> bytes:
    """The HMAC key: the SecureString ``parameter``'s value (UTF-8 bytes), read with ``ssm``
    (a botocore SSM client) once per ``(parameter, *cache_key)`` and execution environment.

    :raises RedactionKeyError: GetParameter failed (the error code and message are in the
        reason: ``ParameterNotFound``, ``AccessDeniedException``, a KMS error, ...), or the value
        is shorter than :data:`MIN_KEY_BYTES` bytes.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    full_key = (parameter, *cache_key)
    with _lock:
        found = _keys.get(full_key)
    if found is not None:
        return found
    try:
        response = ssm.get_parameter(Name=parameter, WithDecryption=True)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise RedactionKeyError(
            f"cannot read the pseudonymization key parameter {parameter!r}: "
            f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}"
        ) from exc
    except BotoCoreError as exc:
        raise RedactionKeyError(
            f"cannot read the pseudonymization key parameter {parameter!r}: {exc}"
        ) from exc
    value = str(response.get("Parameter", {}).get("Value", "")).encode("utf-8")
    if len(value) < MIN_KEY_BYTES:
        raise RedactionKeyError(
            f"the pseudonymization key parameter {parameter!r} holds {len(value)} bytes; at "
            f"least {MIN_KEY_BYTES} are needed (RFC 2104: no shorter than the SHA-256 output)"
        )
    with _lock:
        _keys[full_key] = value
    return value


def key_from_parameter(parameter: str, region: str | None = None) -> bytes:
    """:func:`read_key` with an SSM client of the function's own account (execution role
    credentials; botocore's standard retries, 3 attempts, for throttling), cached per
    execution environment and credentials."""
    from botocore.config import Config

    from . import clients

    def factory() -> Any:
        config = clients.client_config().merge(Config(retries={"mode": "standard"}))
        return clients.new_botocore_session().create_client(
            "ssm", region_name=region or own_region(), config=config
        )

    ssm = clients.cached_client(("ssm-key", region), factory)
    return read_key(parameter, ssm, (region, id(ssm)))


def forget_keys() -> None:
    """Forget the keys read (tests; a new execution environment reads them again)."""
    with _lock:
        _keys.clear()
