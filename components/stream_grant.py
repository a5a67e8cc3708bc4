"""The prod side of ``target`` placement: a read grant on the stream, and nothing that runs.

The replicator runs in the analytics account and reads the prod stream across the account
boundary through Kinesis resource-based policies (Kinesis guide, "Share access using
resource-based policies"; Lambda guide, "Process Amazon Kinesis Data Streams records with
Lambda", cross-account event source mappings). The prod account then holds no function, no role
and no queue: only the stream's resource policy and — in ``efo`` mode — the enhanced fan-out
consumer (it belongs to the stream) and its policy, each granting exactly the replicator's
execution role exactly the reads its event source mapping needs
(:func:`policies.stream_resource_policy`, :func:`policies.consumer_resource_policy`).
"""

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from . import policies
from .exceptions import SettingError
from .outputs import is_output, lift, policy_json
from .settings import fill_defaults, physical_name
from .validation import (
    IAM_ROLE_NAME,
    check_account_id,
    check_choice,
    check_name,
    check_region,
    check_stream,
    check_tags,
    checked_account_id,
)

#: Kinesis consumer names (Kinesis API reference, RegisterStreamConsumer ``ConsumerName``).
KINESIS_CONSUMER_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")

#: An IAM role ARN: partition, 12-digit account, optional path, name (IAM API reference, Role).
IAM_ROLE_ARN = re.compile(
    r"arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})"
)

#: Defaults of :class:`StreamReadGrantArgs`: a field left ``None`` takes its value from here.
STREAM_READ_GRANT_DEFAULTS: dict[str, Any] = {
    "consumer_mode": "shared",
    "replicator_role_path": "/",
    "partition": "aws",
    "tags": {},
}


@dataclass
class StreamReadGrantArgs:
    """Inputs of :class:`StreamReadGrant`. Fields left ``None`` take
    ``STREAM_READ_GRANT_DEFAULTS``."""

    stream_account_id: pulumi.Input[str]
    """The stream's account (prod), 12 digits: where this component's resources live."""
    reader_account_id: pulumi.Input[str]
    """The account the replicator runs in (the analytics/POC account), 12 digits: the only
    account granted."""
    region: pulumi.Input[str]
    """Region of the stream."""
    replicator_role_name: str | None = None
    """Name of the replicator's execution role in ``reader_account_id``. Granted by its
    deterministic ARN (``aws:PrincipalArn``), so the role need not exist yet. Required."""
    source_stream_name: str | None = None
    """Name of the stream to share. Give this or ``source_stream_arn``."""
    source_stream_arn: pulumi.Input[str] | None = None
    """ARN of the stream instead of its name."""
    consumer_mode: str | None = None
    """``shared`` (grant the stream only) or ``efo`` (also register an enhanced fan-out consumer
    and grant it). Default: ``shared``."""
    consumer_name: str | None = None
    """Name of the consumer (``efo``), 1..128 of ``[a-zA-Z0-9_.-]`` (Kinesis
    RegisterStreamConsumer). Default: derived from the component's name."""
    replicator_role_path: str | None = None
    """IAM path of the replicator role. Default: ``/``."""
    partition: str | None = None
    """AWS partition. Default: ``aws``."""
    tags: dict[str, str] | None = None
    """Tags for the consumer (the only taggable resource). Default: none."""
    redrive_role_arn: pulumi.Input[str] | None = None
    """ARN of the IAM role operators run the redrive with (``python -m stream_replica.redrive``,
    docs/redrive.md), in ``reader_account_id`` (where the replicator's on-failure queue is).
    The stream's policy then also grants that role, and only it, the redrive's two reads
    (``kinesis:GetRecords``, ``kinesis:GetShardIterator``). Default: none (the stream admits
    the replicator alone; a redrive from the reader account is denied reading it)."""

    def __post_init__(self) -> None:
        fill_defaults(self, STREAM_READ_GRANT_DEFAULTS)

    def validate(self) -> None:
        """:class:`SettingError` naming the field for settings that can't work."""
        owner = "StreamReadGrantArgs"
        check_account_id(owner, "stream_account_id", self.stream_account_id)
        check_account_id(owner, "reader_account_id", self.reader_account_id)
        check_tags(owner, "tags", self.tags)
        plain = not (is_output(self.reader_account_id) or is_output(self.stream_account_id))
        if plain and self.reader_account_id == self.stream_account_id:
            raise SettingError(
                owner,
                "reader_account_id",
                "must differ from stream_account_id: the grant is for a replicator in another "
                "account",
            )
        check_choice(owner, "consumer_mode", self.consumer_mode, policies.CONSUMER_MODES)
        if not self.replicator_role_name:
            raise SettingError(owner, "replicator_role_name", "is required")
        check_name(owner, "replicator_role_name", self.replicator_role_name, IAM_ROLE_NAME)
        check_name(owner, "consumer_name", self.consumer_name, KINESIS_CONSUMER_NAME)
        if not (self.source_stream_name or self.source_stream_arn):
            raise SettingError(owner, "source_stream_name", "is required (or source_stream_arn)")
        check_region(owner, "region", self.region)
        check_stream(
            owner,
            self.source_stream_name,
            self.source_stream_arn,
            self.region,
            self.stream_account_id,
        )
        self._check_redrive_role(owner)
        try:
            policies.role_arn(
                "123456789012",
                str(self.replicator_role_name),
                str(self.replicator_role_path),
                str(self.partition),
            )
        except ValueError as exc:
            raise SettingError(owner, "replicator_role_path", str(exc)) from exc

    def _check_redrive_role(self, owner: str) -> None:
        arn = self.redrive_role_arn
        if arn is None or is_output(arn):
            return
        found = IAM_ROLE_ARN.fullmatch(str(arn))
        if found is None:
            raise SettingError(
                owner,
                "redrive_role_arn",
                f"must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), got "
                f"{arn!r}",
            )
        if found.group(1) != self.partition:
            raise SettingError(
                owner, "redrive_role_arn", f"must be in partition {self.partition!r}: {arn}"
            )
        reader = self.reader_account_id
        if not is_output(reader) and found.group(2) != str(reader):
            raise SettingError(
                owner,
                "redrive_role_arn",
                f"must be a role in reader_account_id {reader} (the account of the "
                f"replicator's on-failure queue, where the redrive runs): {arn}",
            )

    def replicator_role_arn(self) -> pulumi.Input[str]:
        """The ARN the replicator's execution role has (or will have) in the reader account: a
        string, or an Output when ``reader_account_id`` is one."""
        return lift(
            lambda account: policies.role_arn(
                account,
                str(self.replicator_role_name),
                str(self.replicator_role_path),
                str(self.partition),
            ),
            checked_account_id("StreamReadGrantArgs", "reader_account_id", self.reader_account_id),
        )


class StreamReadGrant(pulumi.ComponentResource):
    """The stream's (and in ``efo`` mode the consumer's) resource policy for a replicator in
    another account; in ``efo`` mode also the consumer.

    Kinesis keeps one resource policy per stream: this component's policy *replaces* any policy
    the stream already has (Kinesis guide: "Updating an existing resource-based policy means
    replacing the existing one").

    Outputs: ``stream_arn``, ``consumer_arn`` (``None`` in ``shared`` mode),
    ``replicator_role_arn`` (the role granted).
    """

    stream_arn: pulumi.Output[str]
    """ARN of the stream granted."""
    consumer_arn: pulumi.Output[str] | None
    """ARN of the enhanced fan-out consumer registered and granted (``efo``); ``None`` in
    ``shared`` mode."""
    replicator_role_arn: pulumi.Output[str]
    """ARN of the replicator execution role granted (``aws:PrincipalArn``)."""

    def __init__(
        self,
        name: str,
        args: StreamReadGrantArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:StreamReadGrant", name, None, opts)
        if isinstance(args, dict):  # the multi-language provider passes a dict
            args = StreamReadGrantArgs(**args)
        args.validate()
        self.args = args
        partition = str(args.partition)
        if args.source_stream_arn is not None:
            stream_arn = pulumi.Output.from_input(args.source_stream_arn)
        else:
            stream_arn = pulumi.Output.from_input(
                lift(
                    lambda region, account: (
                        f"arn:{partition}:kinesis:{region}:{account}:"
                        f"stream/{args.source_stream_name}"
                    ),
                    args.region,
                    checked_account_id(
                        "StreamReadGrantArgs", "stream_account_id", args.stream_account_id
                    ),
                )
            )
        role_arn = args.replicator_role_arn()
        reader = checked_account_id(
            "StreamReadGrantArgs", "reader_account_id", args.reader_account_id
        )

        def grant(
            suffix: str, resource: pulumi.Output[str], build: Any, **extra: pulumi.Input[str]
        ) -> aws.kinesis.ResourcePolicy:
            """``resource``'s policy: ``build(arn, reader account, role ARN, partition,
            **extra)``."""
            return aws.kinesis.ResourcePolicy(
                f"{name}-{suffix}",
                resource_arn=resource,
                policy=policy_json(
                    lambda arn, reader, role, **more: build(arn, reader, role, partition, **more),
                    arn=resource,
                    reader=reader,
                    role=role_arn,
                    **extra,
                ),
                # A consumer's policy depends on the consumer through its ARN (an Output).
                opts=pulumi.ResourceOptions(parent=self),
            )

        redrive: dict[str, pulumi.Input[str]] = {}
        if args.redrive_role_arn is not None:
            redrive["redrive_role_arn"] = args.redrive_role_arn
        self.stream_policy = grant(
            "stream-policy", stream_arn, policies.stream_resource_policy, **redrive
        )
        self.consumer: aws.kinesis.StreamConsumer | None = None
        self.consumer_policy: aws.kinesis.ResourcePolicy | None = None
        consumer_arn: pulumi.Output[str] | None = None
        if args.consumer_mode == "efo":
            self.consumer = aws.kinesis.StreamConsumer(
                f"{name}-consumer",
                name=args.consumer_name or physical_name(name, "", 128, r"\w.-"),
                stream_arn=stream_arn,
                tags=dict(args.tags or {}),
                opts=pulumi.ResourceOptions(parent=self),
            )
            consumer_arn = self.consumer.arn
            # Kinesis accepts a consumer's policy once the consumer is ACTIVE; the provider's
            # create waits for ACTIVE (terraform-provider-aws, waitStreamConsumerCreated).
            self.consumer_policy = grant(
                "consumer-policy", consumer_arn, policies.consumer_resource_policy
            )

        self.stream_arn = stream_arn
        self.consumer_arn = consumer_arn
        self.replicator_role_arn = pulumi.Output.from_input(role_arn)
        self.register_outputs(
            {
                "stream_arn": self.stream_arn,
                "consumer_arn": self.consumer_arn,
                "replicator_role_arn": self.replicator_role_arn,
            }
        )
