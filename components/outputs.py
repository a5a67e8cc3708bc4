"""Inputs that may be plain values or Outputs, and IAM documents rendered from them.

A component's ``Input[str]`` is a ``str`` from a Python program and often an Output from another
resource or, through the component provider, from a program in another language. These helpers
keep plain inputs giving plain values (deterministic names, IAM documents at preview) and wait
for Outputs only when there are some.
"""

import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import pulumi
from pulumi.output import UNKNOWN

T = TypeVar("T")


def is_output(value: Any) -> bool:
    """Whether ``value`` is an Output (or another awaitable ``Input``), not a plain value."""
    return isinstance(value, pulumi.Output) or inspect.isawaitable(value)


def lift(fn: Callable[..., T], *values: Any) -> pulumi.Input[T]:
    """``fn(*values)`` right away when every value is plain (the Python API with strings), or an
    Output that calls ``fn`` once they are known when any is an Output (an ``Input[str]`` from
    another resource, or from a program in another language through the component provider).
    So plain inputs keep giving plain values (deterministic names, IAM documents at preview)."""
    if any(is_output(v) for v in values):
        return pulumi.Output.all(*values).apply(lambda known: fn(*known))
    return fn(*values)


def policy_json(
    build: Callable[..., Mapping[str, Any]], /, **arns: pulumi.Input[str]
) -> pulumi.Output[str]:
    """``json.dumps(build(**arns))`` once every ARN in ``arns`` is known.

    While any of them is unknown (a preview) or ``None`` (a resource that reported no ARN, as
    under Pulumi's basic test mocks, which echo inputs back and compute nothing), the document
    is unknown too, as it is in a preview: never a document naming ``None``.
    """

    def render(values: dict[str, Any]) -> pulumi.Input[str]:
        if any(value is None for value in values.values()):
            return pulumi.Output.from_input(cast(str, UNKNOWN))
        return json.dumps(build(**values))

    return pulumi.Output.all(**arns).apply(render)
