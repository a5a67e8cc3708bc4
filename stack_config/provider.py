"""Checks of a stack file's ``aws:`` provider keys and of the values that name another account:
each would render silently and fail (or do nothing, or leak) only later.

* ``aws:region`` must be one of the AWS provider SDK's regions (``pulumi_aws.Region``): a typo
  such as ``eu-wst-1`` has the form of a region, so only the list can tell.
* ``aws:allowedAccountIds`` must not list the other side's account: the guard is there so a
  stack applied with the other account's credentials fails, and listing both accounts lets it.
* ``aws:accessKey``, ``aws:secretKey``, ``aws:token`` (and any value that holds an access key
  id or a private key) must be secrets (``pulumi config set --secret``), never plain text in a
  stack file that is committed.

Every error names the stack file and the key (:meth:`.reader.StackConfig.error`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pulumi_aws
from pulumi.runtime import config as runtime_config

if TYPE_CHECKING:
    from stack_config.reader import StackConfig

#: Every region the AWS provider SDK knows (``pulumi_aws.Region``).
AWS_REGIONS: frozenset[str] = frozenset(region.value for region in pulumi_aws.Region)

#: Provider keys that hold credentials: only ever as secrets.
CREDENTIAL_KEYS: tuple[str, ...] = ("aws:accessKey", "aws:secretKey", "aws:token")

#: Key material in a value: an AWS access key id (long-term ``AKIA``, temporary ``ASIA``,
#: IAM Access Analyzer's documented prefixes) or a PEM private key.
_KEY_MATERIAL = re.compile(r"\b(AKIA|ASIA)[A-Z2-7]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----")


def region_problem(value: str) -> str | None:
    """Why ``value`` is not an AWS region the provider knows, or ``None``."""
    if value in AWS_REGIONS:
        return None
    return (
        f"is not an AWS region: {value!r} (the AWS provider's regions: "
        f"{', '.join(sorted(AWS_REGIONS))})"
    )


def check_plain_credentials(cfg: StackConfig) -> None:
    """Refuse provider credentials, or any value holding key material, set in plain text."""
    values = runtime_config.CONFIG.get()
    for key in sorted(values):
        if runtime_config.is_config_secret(key):
            continue
        if key in CREDENTIAL_KEYS:
            raise cfg.error(
                key,
                "is a credential in plain text in the stack file: remove it and use a profile "
                "or the environment's credentials, or set it with `pulumi config set --secret "
                f"{key} <value> -s {cfg.stack}`",
            )
        value = values[key]
        if isinstance(value, str) and _KEY_MATERIAL.search(value):
            raise cfg.error(
                key,
                "holds key material (an AWS access key id or a private key) in plain text in "
                f"the stack file; set it with `pulumi config set --secret {key} <value> -s "
                f"{cfg.stack}` or leave it out",
            )


def check_allowed_accounts(cfg: StackConfig, allowed: list[str], other: str, side: str) -> None:
    """Refuse ``aws:allowedAccountIds`` listing ``other``, the other side's account."""
    if other in allowed:
        raise cfg.error(
            "aws:allowedAccountIds",
            f"lists {other}, the other stack's account: the {side} stack must deploy into its "
            "own account only (listing both lets it run with the other account's credentials)",
        )


def check_in_account(
    cfg: StackConfig, key: str, arn: str | None, account: str, region: str, whose: str
) -> None:
    """Refuse ``arn`` (the value of ``key``, when set) outside ``account`` or ``region``."""
    if not arn:
        return
    parts = arn.split(":")
    if len(parts) > 4 and parts[4] and parts[4] != account:
        raise cfg.error(
            key,
            f"is in account {parts[4]}, not {whose} account {account}: the resources that use "
            "it are in that account",
        )
    if len(parts) > 3 and parts[3] and parts[3] != region:
        raise cfg.error(
            key,
            f"is in region {parts[3]}, not the stack's region {region}: the resources that use "
            "it are in that region",
        )
