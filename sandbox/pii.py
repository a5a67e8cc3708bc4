"""Counting raw personal data in the target (analytics) account: the sandbox's
``raw_pii_in_target``.

The replicator pseudonymises ``pseudonymizeFields`` where it runs: in the prod account, or in
the target account in ``target`` placement (docs/handlers.md, "Redaction"). This module
collects the raw values those fields had in the produced records and then counts the places in
the target account that still hold one: table items, archived S3 lines, and messages of the
target account's queues (the archiver's dead-letter and on-failure queues, and in ``target``
placement the replicator's, whose dead-letter queue keeps poison payloads raw). A place counts
once however many raw values it holds. A string matches if it equals a raw value or contains one
as an e-mail-like token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: What can't be part of an e-mail-like token: a string is split on it first, and only pieces no
#: longer than :data:`_MAX_ADDRESS` are searched, so the search stays linear in the string
#: (``_EMAIL`` alone rescans a long run of word characters from every start position: minutes
#: on the 420 KB poison record in a dead-letter queue).
_NOT_EMAIL = re.compile(r"[^\w.+@-]+")
#: Longest e-mail address there is: 254 characters (RFC 5321's 256-octet path limit, less the
#: angle brackets); a longer piece can't be one, nor contain one that the token search finds.
_MAX_ADDRESS = 254


def values_at(record: Any, path: tuple[str, ...]) -> Iterable[Any]:
    """The values at an attribute path (maps followed, lists entered), as the replicator reads
    ``pseudonymizeFields``."""
    if isinstance(record, list):
        for element in record:
            yield from values_at(element, path)
        return
    if not isinstance(record, dict) or path[0] not in record:
        return
    if len(path) == 1:
        yield record[path[0]]
    else:
        yield from values_at(record[path[0]], path[1:])


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _strings(inner)
    elif isinstance(value, list | tuple | set | frozenset):
        for inner in value:
            yield from _strings(inner)


class RawValues:
    """The raw values of the pseudonymised fields seen in the produced records."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = [tuple(p.split(".")) for p in paths]
        self.values: set[str] = set()

    def collect(self, record: dict[str, Any]) -> None:
        for path in self.paths:
            for value in values_at(record, path):
                if value is not None:
                    self.values.add(value if isinstance(value, str) else json.dumps(value))

    def holds_raw(self, value: Any) -> bool:
        """True if ``value`` (any JSON-like structure) holds a raw value anywhere."""
        if not self.values:
            return False
        for text in _strings(value):
            if text in self.values:
                return True
            for part in _NOT_EMAIL.split(text):
                if len(part) > _MAX_ADDRESS or "@" not in part:
                    continue
                if any(token in self.values for token in _EMAIL.findall(part)):
                    return True
        return False
