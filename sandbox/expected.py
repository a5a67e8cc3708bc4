"""The reference the archive is checked against (:func:`expectation`): the replicator's stages
as the run configured them, computed here rather than by the handler's code."""

from __future__ import annotations

import copy
import hashlib
import hmac
import importlib.util
from collections.abc import Callable
from typing import Any

from .plan import DemoOptions, StackPlan, config_value, pseudonymization_key


def clean_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the data contract stores it: top-level null and "" attributes dropped."""
    return {k: v for k, v in payload.items() if v is not None and v != ""}


def expectation(plan: StackPlan, options: DemoOptions) -> Callable[[dict[str, Any]], Any]:
    """What an archived line must equal for a produced payload: the replicator's stages
    applied as configured (the transform file, then drop/pseudonymise with the sandbox key,
    then top-level null/"" dropped). Pseudonyms are computed here with ``hmac`` directly."""
    config = plan.replicator_config
    transform_path = config_value(config, plan.project, "transformModule")
    transform = None
    if transform_path:
        spec = importlib.util.spec_from_file_location(
            "sandbox_expected_transform", str(transform_path)
        )
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load {transform_path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        transform = module.transform
    drop = [p.split(".") for p in config_value(config, plan.project, "dropFields") or []]
    pseudo = [p.split(".") for p in config_value(config, plan.project, "pseudonymizeFields") or []]
    key = pseudonymization_key(options).encode()

    def walk(node: Any, path: list[str], change: Callable[[dict[str, Any], str], None]) -> None:
        if isinstance(node, list):
            for element in node:
                walk(element, path, change)
        elif isinstance(node, dict) and path[0] in node:
            if len(path) == 1:
                change(node, path[0])
            else:
                walk(node[path[0]], path[1:], change)

    def pseudonymise(node: dict[str, Any], name: str) -> None:
        value = node[name]
        if isinstance(value, str):
            node[name] = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def expect(original: dict[str, Any]) -> Any:
        payload = copy.deepcopy(original)
        if transform is not None:
            payload = transform(payload, None)
        for path in drop:
            walk(payload, path, lambda node, name: node.pop(name))
        for path in pseudo:
            walk(payload, path, pseudonymise)
        return clean_payload(payload)

    return expect
