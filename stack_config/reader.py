"""Reading one stack's config: typed access to each key against ``Pulumi.yaml``'s schema, and
errors that name the stack file and the key.

:class:`StackConfig` turns a value of the wrong type, a missing required key or a value out of
range into a :class:`StackConfigError` such as
``Pulumi.prod.yaml: kinesis-crossaccount-replica:batchSize: must be an integer, got 'x'``; it
also refuses a project key the schema doesn't declare (a typo would otherwise be silently
ignored) and a key set in the stack that only the other stack reads.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from stream_replica.components.exceptions import StackConfigError

from stack_config.provider import region_problem
from stack_config.schema import PROJECT_FILE, key_side, load_schema

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})?:.+")


def _present_keys() -> set[str]:
    """Every config key the engine gave the program (``namespace:key``)."""
    keys = set(runtime_config.CONFIG.get())
    keys.update(runtime_config.get_config_env())
    return keys


#: Namespaces whose keys the program doesn't read but the CLI and the engine do.
ENGINE_NAMESPACES = ("pulumi",)


@functools.cache
def aws_config_keys() -> frozenset[str]:
    """Every ``aws:`` config key the AWS provider reads, from the provider SDK's own config
    module (``pulumi_aws.config.vars``: one ``__config__.get…('<key>')`` per setting)."""
    from pulumi_aws.config import vars as aws_vars

    source = inspect.getsource(aws_vars)
    return frozenset(re.findall(r"__config__\.get\w*\(\s*'([A-Za-z0-9]+)'", source))


def nearest(key: str, known: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the known key nearest ``key`` (difflib), else ``""``."""
    match = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


def quote_hint(value: str) -> str:
    """For an account id YAML turned into a shorter number: say to quote it (``""`` else)."""
    if value.isdigit() and len(value) < 12:
        return (
            " (quote account ids in the stack file, e.g. '012345678901': unquoted, YAML reads a "
            "number with a leading 0 as octal or drops the zeros)"
        )
    return ""


class StackConfig:
    """Typed access to one stack's config, with errors that name the stack file and key."""

    def __init__(self, stack: str | None = None, project_file: Path = PROJECT_FILE) -> None:
        self.stack = stack or pulumi.get_stack()
        self.project, self.schema = load_schema(project_file)
        self.file = f"Pulumi.{self.stack}.yaml"
        self._config = pulumi.Config(self.project)
        self._aws = pulumi.Config("aws")

    def error(self, key: str, problem: str) -> StackConfigError:
        """A StackConfigError for ``key`` (bare keys are in the project namespace)."""
        full = key if ":" in key else f"{self.project}:{key}"
        return StackConfigError(f"{self.file}: {full}: {problem}", file=self.file, key=full)

    def known_keys(self) -> list[str]:
        """Every key a stack file may set here: the project's (``Pulumi.yaml``'s schema) and
        the AWS provider's, each ``namespace:key``."""
        return [f"{self.project}:{key}" for key in self.schema] + [
            f"aws:{key}" for key in sorted(aws_config_keys())
        ]

    def check_keys(self) -> None:
        """Reject keys nothing reads, naming the nearest known key: a project key the schema
        doesn't declare, an ``aws:`` key the AWS provider doesn't read, a key in any other
        namespace (a misspelt project name); then values of the wrong type."""
        prefix = f"{self.project}:"
        aws = aws_config_keys()
        for full in sorted(_present_keys()):
            namespace, _, key = full.partition(":")
            if namespace in ENGINE_NAMESPACES:
                continue
            if namespace == "aws":
                if key not in aws:
                    raise self.error(
                        full,
                        "not a config key of the AWS provider (pulumi_aws.config)"
                        + nearest(full, self.known_keys()),
                    )
                continue
            if not full.startswith(prefix):
                raise self.error(
                    full,
                    f"unknown namespace {namespace!r}: this project's keys are {prefix}<key>, the "
                    "AWS provider's aws:<key>" + nearest(full, self.known_keys()),
                )
            if key not in self.schema:
                raise self.error(
                    full,
                    "not a config key of this project (see Pulumi.yaml's config schema)"
                    + nearest(key, self.schema),
                )
            self.get(key)  # type check, also for keys only the other side reads

    def check_side(self, side: str, read_here: Collection[str] = ()) -> None:
        """Refuse a key set in this stack that only the other stack reads: it would be set but
        ignored (a value meant for the other stack, or a file copied from it). The CLI hands the
        program ``Pulumi.yaml``'s defaults as if they were set, so a value equal to the key's
        default counts as not set. ``read_here``: the other side's keys this stack reads too
        (the replicator's keys in the poc stack in target placement)."""
        prefix = f"{self.project}:"
        other = "prod" if side == "poc" else "poc"
        for full in sorted(_present_keys()):
            key = full[len(prefix) :] if full.startswith(prefix) else ""
            spec = self.schema.get(key)
            if spec is None or key_side(spec) != other or key in read_here:
                continue
            if "default" not in spec or self.get(key) != spec["default"]:
                raise self.error(
                    key,
                    f"is set but ignored: only the {other} stack reads it (this stack is "
                    f"side {side}); move it to Pulumi.<{other} stack>.yaml or remove it",
                )

    def check_moved(self, keys: Collection[str], why: str) -> None:
        """Refuse any of ``keys`` set here (not at its default): ``why`` they belong in the
        other stack. Silently ignoring them would drop a setting such as the redaction, which
        must not be lost on the way."""
        for key in keys:
            spec = self.schema[key]
            if self._config.get(key) is not None and self.get(key) != spec.get("default"):
                raise self.error(
                    key,
                    f"is set but ignored: {why} and its stages (transform, dropped and "
                    "pseudonymised fields, the key parameter); move it to the poc stack's file "
                    "(the parameter then lives in the POC account)",
                )

    def _raw(self, key: str) -> tuple[str | None, dict[str, Any]]:
        spec = self.schema.get(key)
        if spec is None:  # a programming error, not a user's
            raise KeyError(f"{key} is not declared in Pulumi.yaml's config schema")
        return self._config.get(key), spec

    def get(self, key: str) -> Any:
        """The key's value (or its schema default) converted to its schema type."""
        raw, spec = self._raw(key)
        kind = spec.get("type", "string")
        if raw is None:
            if "default" not in spec:
                raise self.error(
                    key,
                    f"is required (pulumi config set {key} <value> -s {self.stack})",
                )
            return spec["default"]
        if kind == "string":
            return raw
        if kind == "integer":
            try:
                return int(raw)
            except ValueError:
                raise self.error(key, f"must be an integer, got {raw!r}") from None
        if kind == "boolean":
            if raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise self.error(key, f"must be true or false, got {raw!r}")
        if kind == "array":
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                raise self.error(key, f"must be a list, got {raw!r}") from None
            if not isinstance(value, list):
                raise self.error(key, f"must be a list, got {raw!r}")
            return value
        raise KeyError(f"{key}: unsupported schema type {kind!r}")

    def string(self, key: str, *, choices: tuple[str, ...] | None = None) -> str:
        value = self.get(key)
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def optional(self, key: str) -> str | None:
        """A string key whose empty value means "not set"."""
        value = self.string(key)
        return value or None

    def integer(self, key: str, low: int, high: int) -> int:
        value = int(self.get(key))
        if not low <= value <= high:
            raise self.error(key, f"must be {low}..{high}, got {value}")
        return value

    def boolean(self, key: str) -> bool:
        return bool(self.get(key))

    def value(self, key: str) -> Any:
        """The key's value converted to its schema type, or ``None`` when the stack file
        leaves it out or sets it empty: the component's own default then applies."""
        raw, _ = self._raw(key)
        if raw is None or raw == "":
            return None
        return self.get(key)

    def account_id(self, key: str) -> str:
        value = self.string(key)
        if not _ACCOUNT_ID.fullmatch(value):
            raise self.error(
                key, f"must be a 12-digit AWS account id, got {value!r}{quote_hint(value)}"
            )
        return value

    def arn(self, key: str, service: str | None = None) -> str | None:
        value = self.optional(key)
        if value is None:
            return None
        if not _ARN.fullmatch(value) or (service and value.split(":")[2] != service):
            what = f"an ARN of the {service} service" if service else "an ARN"
            raise self.error(key, f"must be {what}, got {value!r}")
        return value

    def aws_region(self) -> str:
        value = self._aws.get("region")
        if not value:
            raise self.error("aws:region", "is required: the region both accounts use")
        problem = region_problem(value)
        if problem:
            raise self.error("aws:region", problem)
        return value

    def allowed_account_ids(self) -> list[str]:
        raw = self._aws.get("allowedAccountIds")
        if not raw:
            raise self.error(
                "aws:allowedAccountIds",
                "is required: the stack's own account, so it can't be applied to another one",
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise self.error("aws:allowedAccountIds", f"must be a list, got {raw!r}") from None
        if not isinstance(value, list) or not all(
            isinstance(v, str) and _ACCOUNT_ID.fullmatch(v) for v in value
        ):
            short = (
                next((str(v) for v in value if isinstance(v, int)), "")
                if isinstance(value, list)
                else ""
            )
            raise self.error(
                "aws:allowedAccountIds",
                f"must be a list of 12-digit account ids, got {raw!r}{quote_hint(short)}",
            )
        return value
