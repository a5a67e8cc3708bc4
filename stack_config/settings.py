"""What both sides of the pair share, read and checked: the stack's side, region and accounts,
the access mode, the replicator's role name, the provider's default tags, the placement."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stream_replica.components.exceptions import SettingError
from stream_replica.components.settings import ACCESS_MODES, STARTING_POSITIONS
from stream_replica.components.validation import ALWAYS_SET_TAGS, check_tags

from stack_config.keys import REPLICATOR_KEYS, STAGE_KEYS
from stack_config.provider import (
    check_allowed_accounts,
    check_in_account,
    check_plain_credentials,
)
from stack_config.reader import StackConfig
from stack_config.schema import PROJECT_FILE, SIDES


@dataclass(frozen=True)
class Settings:
    """Everything both sides share, checked."""

    stack: str
    project: str
    side: str
    region: str
    allowed_account_ids: list[str]
    prod_account_id: str
    poc_account_id: str
    access_mode: str
    external_id: str | None
    replicator_role_name: str
    tags: dict[str, str]
    config: StackConfig
    #: ``source`` or ``target`` (where the replicator runs); the args check the value.
    placement: str = "source"
    #: ``shared`` or ``efo``; the args check the value.
    consumer_mode: str = "shared"

    @property
    def account_id(self) -> str:
        """The account this stack deploys into."""
        return self.poc_account_id if self.side == "poc" else self.prod_account_id

    def provider_tags(self, component: str) -> dict[str, str]:
        """Default tags of the provider used for ``component``."""
        return {
            **self.tags,
            "project": self.project,
            "stack": self.stack,
            "component": component,
        }


def _tags(cfg: StackConfig) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in cfg.get("tags"):
        if not isinstance(item, str) or "=" not in item or item.startswith("="):
            raise cfg.error("tags", f"entries are Key=Value strings, got {item!r}")
        key, value = item.split("=", 1)
        if key in tags:
            raise cfg.error("tags", f"tag {key!r} is given twice ({tags[key]!r} and {value!r})")
        tags[key] = value
    try:
        check_tags("provider default tags", "tags", tags, ALWAYS_SET_TAGS)
    except SettingError as exc:
        raise cfg.error("tags", exc.problem) from None
    return tags


def read_settings(stack: str | None = None, project_file: Path = PROJECT_FILE) -> Settings:
    """The stack's config (``stack``: default the running stack) checked against the schema
    (unknown keys, types, keys only the other stack reads) and its shared part read: 12-digit
    account ids that differ, the stack's own account in ``aws:allowedAccountIds``, the tags.
    Raises :class:`StackConfigError` naming the stack file and the key."""
    cfg = StackConfig(stack, project_file)
    cfg.check_keys()
    side = cfg.string("side") or cfg.stack
    if side not in SIDES:
        raise cfg.error(
            "side",
            f"must be poc or prod (the stack is named {cfg.stack!r}, so set side explicitly)",
        )
    region = cfg.aws_region()
    prod_account_id = cfg.account_id("prodAccountId")
    poc_account_id = cfg.account_id("pocAccountId")
    if prod_account_id == poc_account_id:
        raise cfg.error("pocAccountId", "must differ from prodAccountId (cross-account replica)")
    allowed = cfg.allowed_account_ids()
    own = poc_account_id if side == "poc" else prod_account_id
    if own not in allowed:
        raise cfg.error(
            "aws:allowedAccountIds",
            f"must contain the {side} account {own} this stack deploys into, got {allowed}",
        )
    other = prod_account_id if side == "poc" else poc_account_id
    check_allowed_accounts(cfg, allowed, other, side)
    check_plain_credentials(cfg)
    check_in_account(
        cfg, "alarmTopicArn", cfg.arn("alarmTopicArn", "sns"), own, region, f"the {side} stack's"
    )
    # A mapping created from scratch starts here; AT_TIMESTAMP is the program's own choice for
    # a replaced one (deployed_settings.py), not a key's value.
    cfg.string("startingPosition", choices=STARTING_POSITIONS)
    target_placement = cfg.string("placement") == "target"
    cfg.check_side(side, REPLICATOR_KEYS if side == "poc" and target_placement else ())
    if side == "prod" and target_placement:
        cfg.check_moved(STAGE_KEYS, "in target placement the poc stack runs the replicator")
    if side == "prod" and not target_placement and cfg.optional("redriveRoleArn"):
        raise cfg.error(
            "redriveRoleArn",
            "is read in target placement only: in source placement the redrive runs in prod, "
            "next to the stream, and needs no grant on it",
        )
    return Settings(
        stack=cfg.stack,
        project=cfg.project,
        side=side,
        region=region,
        allowed_account_ids=allowed,
        prod_account_id=prod_account_id,
        poc_account_id=poc_account_id,
        access_mode=cfg.string("accessMode", choices=ACCESS_MODES),
        external_id=cfg.optional("externalId"),
        replicator_role_name=cfg.string("replicatorRoleName"),
        tags=_tags(cfg),
        config=cfg,
        placement=cfg.string("placement"),
        consumer_mode=cfg.string("consumerMode"),
    )
