"""The other stack of the pair: what one stack reads of the other, and what both must agree on.

In ``source`` placement prod reads the POC side (:class:`TargetRef`: the table, the writer role)
from the poc stack's outputs (``pocStackReference``) or from explicit config; in ``target``
placement poc reads the prod side (:class:`SourceRef`: the stream, its consumer) from the prod
stack's outputs (``prodStackReference``) or from explicit config.

* :func:`other_stack` is the one parser of a stack reference's name, and :class:`OtherStack`
  the one reader of the other stack's outputs;
* :data:`AGREEMENTS` is the one list of the settings both stacks must agree on: the stack
  deployed second compares it with the other stack's outputs at deployment, and the tests read
  it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from stream_replica.components.exceptions import StackConfigError

from stack_config.settings import Settings


@dataclass(frozen=True)
class TargetRef:
    """What prod needs to know about the POC side."""

    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    writer_role_arn: pulumi.Input[str] | None
    table_region: pulumi.Input[str]

    def args_fields(self) -> dict[str, Any]:
        """The ``ReplicaSourceArgs`` fields it fills."""
        return {
            "table_name": self.table_name,
            "table_arn": self.table_arn,
            "writer_role_arn": self.writer_role_arn,
            "target_region": self.table_region,
        }


@dataclass(frozen=True)
class SourceRef:
    """What poc needs to know about the prod side in target placement."""

    stream_arn: pulumi.Input[str]
    consumer_arn: pulumi.Input[str] | None

    def args_fields(self) -> dict[str, Any]:
        """The ``ReplicaSourceArgs`` fields it fills."""
        return {"source_stream_arn": self.stream_arn, "stream_consumer_arn": self.consumer_arn}


#: prod keys the poc stack's outputs replace when ``pocStackReference`` is set.
REFERENCE_REPLACES = {
    "tableName": "tableName",
    "tableArn": "tableArn",
    "writerRoleArn": "writerRoleArn",
    "tableRegion": "tableRegion",
}
#: How each backend names a stack (the reference's form), for errors that can't resolve it.
REFERENCE_FORMS = (
    "organization/<project>/<stack> on a self-managed backend (pulumi login s3://…, file://…), "
    "<your-org>/<project>/<stack> on Pulumi Cloud"
)
#: Each side's account id key: an ARN read from that side's stack must be in its account, so
#: both stacks agree on the account ids too.
ACCOUNT_KEYS = {"poc": "pocAccountId", "prod": "prodAccountId"}


def external_id_digest(external_id: str | None) -> str:
    """What the poc stack exports so prod can check that both use the same ``externalId``
    without the value itself in the poc stack's outputs: SHA-256 of it ("" when unset)."""
    return hashlib.sha256((external_id or "").encode("utf-8")).hexdigest()


def _replicator_role_arn(settings: Settings) -> str:
    """The replicator's role in the account it runs in (prod in source placement, POC in target
    placement): the role the other stack trusts (the writer role) or grants (the stream)."""
    account = (
        settings.poc_account_id if settings.placement == "target" else settings.prod_account_id
    )
    return f"arn:aws:iam::{account}:role/{settings.replicator_role_name}"


@dataclass(frozen=True)
class Agreement:
    """A setting both stacks must agree on: the other stack's ``output`` must equal
    ``expected(settings)``, this stack's config in the output's terms."""

    key: str
    """The config key a mismatch names."""
    output: str
    """The other stack's output compared."""
    expected: Callable[[Settings], Any]
    """This stack's value of the output."""
    placements: tuple[str, ...] = ("source", "target")
    """The placements in which the stack deployed second compares it."""
    missing_ok: bool = False
    """Whether the other stack may lack the output. Default: no, a missing output is an error
    too (an older stack: deploy it again)."""
    differs: str | None = None
    """The problem a mismatch reports. Default: both values, "both stacks must agree" and
    which key to set to what in which file."""
    to_config: Callable[[Any], Any] | None = None
    """The other stack's output turned into this stack's config value (the value to set ``key``
    to). Default: the output is the config value."""


#: The placement, compared first: a stack in the other placement also disagrees on, or lacks,
#: what the rest compare, which would only hide the cause. A stack from before placements is in
#: source placement, and a stack not deployed yet has no outputs: a missing output passes.
PLACEMENT = Agreement("placement", "placement", lambda s: s.placement, missing_ok=True)

#: Every setting both stacks must agree on, in the order the stack deployed second compares
#: them with the other stack's outputs (the first mismatch is the error). With the account ids
#: (:data:`ACCOUNT_KEYS`) these are the keys ``Pulumi.yaml`` says both stacks must agree on.
AGREEMENTS = (
    PLACEMENT,
    Agreement("accessMode", "accessMode", lambda s: s.access_mode, ("source",)),
    Agreement("consumerMode", "consumerMode", lambda s: s.consumer_mode, ("target",)),
    Agreement(
        "replicatorRoleName",
        "replicatorRoleArn",
        _replicator_role_arn,
        to_config=lambda arn: str(arn).rsplit("/", 1)[-1],
    ),
    Agreement(
        "externalId",
        "externalIdSha256",
        lambda s: external_id_digest(s.external_id),
        ("source",),
        differs=(
            "differs from the poc stack's externalId (its externalIdSha256 output does not "
            "match this value's SHA-256); set the same externalId in both stack files"
        ),
    ),
    Agreement("ttlDays", "ttlDays", lambda s: s.config.value("ttlDays") or 0, ("source",)),
    Agreement("ttlAttribute", "ttlAttribute", lambda s: s.config.get("ttlAttribute"), ("source",)),
)


def plain(value: Any) -> Any:
    """An output value as the stack file writes it: the engine hands numbers over as floats,
    so ``0.0`` is the ``0`` a stack file says."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def agreements(placement: str) -> tuple[Agreement, ...]:
    """What the stack deployed second in ``placement`` compares, in order."""
    return tuple(a for a in AGREEMENTS if placement in a.placements)


class OtherStack:
    """The other stack of the pair (``side``: ``poc`` or ``prod``), named ``name`` by this
    stack's ``<side>StackReference``: the one reader of its outputs. Its StackReference is
    registered when the first output is read."""

    def __init__(self, settings: Settings, side: str, name: str) -> None:
        self.settings = settings
        self.side = side
        self.name = name
        self.key = f"{side}StackReference"
        self._reference: pulumi.StackReference | None = None

    def output(self, output: str) -> pulumi.Output[Any]:
        """The stack's output ``output`` (``None`` when the stack has none)."""
        if self._reference is None:
            self._reference = pulumi.StackReference(self.name)
        return self._reference.get_output(output)

    def missing(self, output: str) -> StackConfigError:
        """The error for an output the stack doesn't have."""
        return self.settings.config.error(
            self.key,
            f"the stack {self.name!r} has no output {output!r}: deploy the {self.side} stack "
            f"first (pulumi up -s {self.side}) with this version of the program, and check the "
            f"name's form: {REFERENCE_FORMS}",
        )

    def mismatch(self, agreement: Agreement, expected: Any, value: Any) -> StackConfigError:
        """The error for the other stack deployed with ``value`` where this stack's config says
        ``expected`` (in the output's terms): both values, and the key to set in which file."""
        cfg = self.settings.config
        if agreement.differs:
            return cfg.error(agreement.key, agreement.differs)
        value = plain(value)
        wanted = agreement.to_config(value) if agreement.to_config else value
        here = agreement.to_config(expected) if agreement.to_config else expected
        return cfg.error(
            agreement.key,
            f"is {here!r} here but the {self.side} stack was deployed with {wanted!r}: the "
            f"{self.side} stack's {agreement.output} output is {value!r}; both stacks must "
            f"agree: set {agreement.key} to {wanted!r} in {cfg.file}, or deploy the "
            f"{self.side} stack again with {here!r}",
        )

    def _first_error(
        self, checks: Sequence[Agreement], expected: Sequence[Any], found: Sequence[Any]
    ) -> StackConfigError | None:
        for check, want, value in zip(checks, expected, found, strict=True):
            if value is None:
                if not check.missing_ok:
                    return self.missing(check.output)
            elif plain(value) != want:
                return self.mismatch(check, want, value)
        return None

    def agree(self, checks: Sequence[Agreement]) -> pulumi.Output[StackConfigError | None]:
        """Compare the stack's outputs with this stack's config, ``checks`` in this order, at
        deployment time and in one output of its own: the first mismatch (or missing output)
        fails the deployment. Returns that error (``None``: every check passes), for
        :meth:`read`."""
        expected = [check.expected(self.settings) for check in checks]
        values = pulumi.Output.all(*(self.output(check.output) for check in checks))

        def check_all(found: list[Any]) -> bool:
            error = self._first_error(checks, expected, found)
            if error is not None:
                raise error
            return True

        values.apply(check_all)
        return values.apply(lambda found: self._first_error(checks, expected, found))

    def read(
        self, output: str, agrees: pulumi.Output[StackConfigError | None], same_region: bool = False
    ) -> pulumi.Output[Any]:
        """An output of the stack that must exist and, if it is an ARN, be in that stack's
        account (and with ``same_region``, in this stack's region). While the stacks disagree
        (which :meth:`agree` reports) the resources get a well-formed stand-in
        (:func:`stand_in`), so that the disagreement is the deployment's one error: a malformed
        value would fail first, e.g. in IAM, with a message hiding the cause."""
        settings = self.settings
        account = settings.poc_account_id if self.side == "poc" else settings.prod_account_id
        label = "POC" if self.side == "poc" else "prod"

        def check(pair: list[Any]) -> Any:
            disagreement, value = pair
            if disagreement is not None:
                return stand_in(output, settings.region, account)
            if value is None or value == "":
                raise self.missing(output)
            if isinstance(value, str) and value.startswith("arn:"):
                owner = value.split(":")[4] if value.count(":") >= 5 else ""
                if owner != account:
                    raise settings.config.error(
                        ACCOUNT_KEYS[self.side],
                        f"is {account} in this stack file, but the stack {self.name!r} "
                        f"({self.key}) exports {output} {value!r}, in account {owner or '?'}: "
                        f"both stacks must agree on {ACCOUNT_KEYS[self.side]} (the {label} "
                        "account); set it to the same value in both stack files",
                    )
                region = value.split(":")[3] if value.count(":") >= 5 else ""
                if same_region and region != settings.region:
                    raise settings.config.error(
                        "aws:region",
                        f"is {settings.region} here but the {self.side} stack's {output} is in "
                        f"{region or '(no region)'}; both stacks must use the same region (an "
                        "event source mapping reads a stream of its own region only)",
                    )
            return value

        return pulumi.Output.all(agrees, self.output(output)).apply(check)


def stand_in(output: str, region: str, account: str) -> str:
    """A well-formed value of the other stack's ``output`` (an ARN in its account, a name) for
    resources registered while the stacks disagree: never deployed, as the disagreement fails
    the deployment."""
    name = "stacks-disagree"
    arns = {
        "tableArn": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
        "writerRoleArn": f"arn:aws:iam::{account}:role/{name}",
        "sourceStreamArn": f"arn:aws:kinesis:{region}:{account}:stream/{name}",
        "streamConsumerArn": (
            f"arn:aws:kinesis:{region}:{account}:stream/{name}/consumer/{name}:1"
        ),
    }
    return arns.get(output, region if output == "tableRegion" else name)


def other_stack(settings: Settings, side: str) -> OtherStack | None:
    """The other stack (``side``: ``poc`` or ``prod``) when ``<side>StackReference`` names it,
    checked to be ``<organization>/<project>/<stack>``; ``None`` when the key is empty. The one
    parser of a stack reference's name; nothing is registered until an output is read."""
    cfg = settings.config
    key = f"{side}StackReference"
    name = cfg.optional(key)
    if not name:
        return None
    if name.count("/") != 2:
        raise cfg.error(key, f"must be <organization>/<project>/<stack>, got {name!r}")
    return OtherStack(settings, side, name)


def check_other_stack(settings: Settings) -> None:
    """The stack deployed first in its placement (poc in source placement, prod in target
    placement) reads the other stack's ``placement`` output too, when the other stack is
    configured (``prodStackReference`` / ``pocStackReference``) and already deployed: a pair of
    stacks that each think they deploy first would otherwise never meet."""
    other = other_stack(settings, "prod" if settings.side == "poc" else "poc")
    if other is not None:
        other.agree((PLACEMENT,))


# --- prod in source placement: the POC side ----------------------------------------------


def target_ref(settings: Settings, poc: OtherStack | None) -> TargetRef:
    """The POC side as prod's config gives it, checked: from explicit config, or, when ``poc``
    (``pocStackReference``) names the poc stack, a stand-in for its outputs (which
    :func:`read_target` reads once every key is checked) after refusing the keys they
    replace."""
    cfg = settings.config
    if poc is not None:
        ignored = [key for key in REFERENCE_REPLACES if cfg.optional(key)]
        if ignored:
            key = ignored[0]
            raise cfg.error(
                key,
                f"is set but ignored: pocStackReference is set, so the poc stack's "
                f"{REFERENCE_REPLACES[key]} output is used; remove {key} from {cfg.file} (or "
                "empty pocStackReference to use the explicit keys)",
            )
        return TargetRef("", "", "", settings.region)
    table_name = cfg.optional("tableName")
    if not table_name:
        raise cfg.error("tableName", "is required on prod when pocStackReference is not set")
    table_arn = cfg.arn("tableArn", "dynamodb")
    if not table_arn:
        raise cfg.error("tableArn", "is required on prod when pocStackReference is not set")
    if not table_arn.endswith(f":table/{table_name}"):
        raise cfg.error("tableArn", f"does not name the table {table_name!r}: {table_arn}")
    if table_arn.split(":")[4] != settings.poc_account_id:
        raise cfg.error("tableArn", f"is not in the POC account {settings.poc_account_id}")
    writer = cfg.arn("writerRoleArn", "iam")
    if settings.access_mode == "assume-role" and not writer:
        raise cfg.error(
            "writerRoleArn",
            "is required on prod in assume-role mode when pocStackReference is not set",
        )
    if writer and writer.split(":")[4] != settings.poc_account_id:
        raise cfg.error(
            "writerRoleArn",
            f"is not in the POC account {settings.poc_account_id}: the replicator would assume "
            "a role outside it",
        )
    table_region = cfg.optional("tableRegion") or settings.region
    return TargetRef(
        table_name=table_name,
        table_arn=table_arn,
        writer_role_arn=writer if settings.access_mode == "assume-role" else None,
        table_region=table_region,
    )


def read_target(settings: Settings, poc: OtherStack) -> TargetRef:
    """The POC side from the poc stack's outputs, which must agree with this stack's config."""
    agrees = poc.agree(agreements(settings.placement))
    return TargetRef(
        table_name=poc.read("tableName", agrees),
        table_arn=poc.read("tableArn", agrees),
        writer_role_arn=(
            poc.read("writerRoleArn", agrees) if settings.access_mode == "assume-role" else None
        ),
        table_region=poc.read("tableRegion", agrees),
    )


# --- poc in target placement: the prod side ----------------------------------------------


def source_ref(settings: Settings, prod: OtherStack | None) -> SourceRef:
    """The prod stream (and consumer) as poc's config gives it in target placement, checked:
    from explicit config, or, when ``prod`` (``prodStackReference``) names the prod stack, a
    stand-in for its outputs (which :func:`read_source` reads once every key is checked)."""
    cfg = settings.config
    efo = settings.consumer_mode == "efo"
    if prod is not None:
        stream = f"arn:aws:kinesis:{settings.region}:{settings.prod_account_id}:stream/s"
        return SourceRef(stream, f"{stream}/consumer/c:1" if efo else None)
    stream_arn = cfg.arn("sourceStreamArn", "kinesis")
    if not stream_arn:
        stream_name = cfg.optional("sourceStreamName")
        if not stream_name:
            raise cfg.error(
                "sourceStreamArn",
                "is required on poc in target placement without prodStackReference",
            )
        stream_arn = (
            f"arn:aws:kinesis:{settings.region}:{settings.prod_account_id}:stream/{stream_name}"
        )
    if stream_arn.split(":")[4] != settings.prod_account_id:
        raise cfg.error("sourceStreamArn", f"is not in the prod account {settings.prod_account_id}")
    if stream_arn.split(":")[3] != settings.region:
        raise cfg.error(
            "sourceStreamArn",
            f"is in region {stream_arn.split(':')[3]}, not this stack's region {settings.region}: "
            "an event source mapping reads a stream of its own region only",
        )
    consumer_arn = cfg.arn("streamConsumerArn", "kinesis")
    if efo and not consumer_arn:
        raise cfg.error(
            "streamConsumerArn",
            "is required on poc in target placement with consumerMode efo when "
            "prodStackReference is not set (the prod stack's streamConsumerArn output)",
        )
    if consumer_arn and not consumer_arn.startswith(f"{stream_arn}/consumer/"):
        raise cfg.error("streamConsumerArn", f"is not a consumer of {stream_arn}: {consumer_arn}")
    return SourceRef(stream_arn=stream_arn, consumer_arn=consumer_arn if efo else None)


def read_source(settings: Settings, prod: OtherStack) -> SourceRef:
    """The prod stream (and, with ``consumerMode: efo``, its consumer) from the prod stack's
    outputs, which must agree with this stack's config."""
    agrees = prod.agree(agreements(settings.placement))
    return SourceRef(
        stream_arn=prod.read("sourceStreamArn", agrees, same_region=True),
        consumer_arn=(
            prod.read("streamConsumerArn", agrees, same_region=True)
            if settings.consumer_mode == "efo"
            else None
        ),
    )
