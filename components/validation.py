"""Checks of component arguments against AWS's rules, each raising :class:`SettingError`.

Every ``check_*`` takes the args class's name (``owner``) and the argument's dotted path
(``field_name``) so the error names both (``ReplicaSourceArgs.mapping.batch_size must be
1..10000, got 0``); a value that is an Output is not known yet and is checked once it is
(:func:`checked_account_id`) or skipped. The patterns are AWS's naming rules, each with the page
it comes from. The checks of the settings objects (function, mapping, alarms) are in
:mod:`.settings`, next to their fields.
"""

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pulumi

from .exceptions import SettingError
from .outputs import is_output, lift

T = TypeVar("T")

#: ASCII digits only (``\d`` would take other scripts' digits too); always ``fullmatch``ed, so a
#: trailing newline from a YAML block scalar is refused.
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
#: An AWS region name (``eu-west-1``, ``us-gov-west-1``, ``us-iso-east-1``).
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]")

#: Tags AWS reserves (``aws:``) and the ones the program always sets on every resource.
RESERVED_TAG_PREFIX = "aws:"
ALWAYS_SET_TAGS: tuple[str, ...] = ("project", "stack", "component")
#: Tag key and value length limits
#: (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256


def must(value: T | None, owner: str, field_name: str) -> T:
    """``value``, or :class:`SettingError` when a required argument is ``None``."""
    if value is None:
        raise SettingError(owner, field_name, "is required")
    return value


def check_range(
    owner: str, field_name: str, value: int | None, low: int, high: int, source: str = ""
) -> None:
    """:class:`SettingError` unless ``low <= value <= high`` (``source``: the AWS doc)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(owner, field_name, f"must be an integer {low}..{high}, got {value!r}")
    if not low <= value <= high:
        where = f" ({source})" if source else ""
        raise SettingError(owner, field_name, f"must be {low}..{high}{where}, got {value}")


def check_choice(owner: str, field_name: str, value: Any, choices: Sequence[Any]) -> None:
    """:class:`SettingError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise SettingError(owner, field_name, f"must be one of {allowed}, got {value!r}")


def check_name(owner: str, field_name: str, value: str | None, pattern: re.Pattern[str]) -> None:
    """:class:`SettingError` unless ``value`` (when set) fully matches ``pattern``."""
    if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
        raise SettingError(
            owner, field_name, f"must match {pattern.pattern} (AWS naming rules), got {value!r}"
        )


def check_account_id(owner: str, field_name: str, value: Any) -> None:
    """:class:`SettingError` unless ``value`` is exactly a 12-digit AWS account id (a trailing
    newline from a YAML block scalar is refused too). An Output (an ``Input`` another resource
    or language passes) is not known yet: :func:`checked_account_id` checks it once it is."""
    if is_output(value):
        return
    if not isinstance(value, str) or not _ACCOUNT_ID.fullmatch(value):
        raise SettingError(owner, field_name, f"must be a 12-digit AWS account id, got {value!r}")


def checked_account_id(owner: str, field_name: str, value: Any) -> pulumi.Input[str]:
    """``value`` after :func:`check_account_id`: now when plain, when known when an Output."""

    def check(known: Any) -> str:
        check_account_id(owner, field_name, known)
        return str(known)

    return lift(check, value)


def check_region(owner: str, field_name: str, value: Any) -> None:
    """:class:`SettingError` unless ``value`` (when known: a ``str``) is an AWS region name."""
    if isinstance(value, str) and not _REGION.fullmatch(value):
        raise SettingError(owner, field_name, f"is not an AWS region, got {value!r}")


def arn_account(value: Any) -> str | None:
    """The account id field of an ARN given as a ``str`` (None for an Output or no account)."""
    if not isinstance(value, str) or value.count(":") < 5:
        return None
    return value.split(":")[4] or None


def arn_region(value: Any) -> str | None:
    """The region field of an ARN given as a ``str`` (None for an Output or no region)."""
    if not isinstance(value, str) or value.count(":") < 5:
        return None
    return value.split(":")[3] or None


#: A Systems Manager parameter name: one segment of ``a-zA-Z0-9_.-``, or a hierarchy ``/a/b/c``
#: of at most 15 such segments, whole name at most 1011 characters (Systems Manager API
#: reference, ``PutParameter`` Name: naming constraints,
#: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html). A
#: name with a ``/`` must begin with one ("for parameters in a hierarchy, you must include a
#: leading forward slash").
_SSM_SEGMENT = r"[A-Za-z0-9_.\-]+"
_SSM_NAME = re.compile(rf"(/{_SSM_SEGMENT}(/{_SSM_SEGMENT}){{0,14}}|{_SSM_SEGMENT})")
#: A parameter's ARN: the name after ``parameter/`` without the hierarchy's leading slash
#: (``/a/b`` is ``…:parameter/a/b``; ``…:parameter//a/b`` names no parameter).
_SSM_ARN = re.compile(
    rf"arn:(?P<partition>aws[a-z-]*):ssm:(?P<region>[^:]*):(?P<account>[^:]*):parameter/"
    rf"(?P<path>{_SSM_SEGMENT}(/{_SSM_SEGMENT}){{0,14}})"
)
MAX_SSM_NAME_LENGTH = 1011


def check_ssm_parameter(
    owner: str, field_name: str, value: Any, region: Any, account_id: Any
) -> None:
    """:class:`SettingError` unless ``value`` (when set) is a Systems Manager parameter name or
    the ARN of one in ``region`` and ``account_id`` (each checked when known: a ``str``): the
    function that reads it runs there, and GetParameter reads its own account and region only.
    An ARN with an empty path segment (``parameter//name``) or a name with one (``/a//b``)
    would be copied into IAM and grant nothing."""
    if value is None or is_output(value):
        return
    text = value if isinstance(value, str) else ""
    match = _SSM_ARN.fullmatch(text)
    if text.startswith("arn:"):
        if match is None:
            raise SettingError(
                owner,
                field_name,
                f"is not the ARN of a Systems Manager parameter, got {value!r} (expected "
                "arn:<partition>:ssm:<region>:<account>:parameter/<name>, the name without its "
                "leading '/', no empty segment, at most 15 levels)",
            )
        where = match["region"]
        if isinstance(region, str) and where != region:
            raise SettingError(
                owner,
                field_name,
                f"is in region {where or '(none)'}, not the replicator's region {region}: "
                "the function can only read a parameter of its own region",
            )
        whose = match["account"]
        if isinstance(account_id, str) and whose != account_id:
            raise SettingError(
                owner,
                field_name,
                f"is in account {whose or '(none)'}, not the replicator's account "
                f"{account_id}: the function can only read a parameter of its own account",
            )
        text = "/" + match["path"]
    if len(text) > MAX_SSM_NAME_LENGTH or not _SSM_NAME.fullmatch(text):
        raise SettingError(
            owner,
            field_name,
            "must be an SSM parameter name (a-z, A-Z, 0-9, _ . -; a hierarchy starts with '/', "
            f"has no empty segment and at most 15 levels) or its ARN, got {value!r} (Systems "
            "Manager parameter naming constraints)",
        )


#: The attributes the replicator sets on every item it writes: the table's keys
#: (``seqNumbershardIdHash``, ``sequenceNumber``), the shard (``shardId``) and, for a KPL user
#: record, ``subSequenceNumber`` (``handlers/records.py``, ``handlers/pipeline.py``).
REPLICATOR_ATTRIBUTES: tuple[str, ...] = (
    "seqNumbershardIdHash",
    "sequenceNumber",
    "shardId",
    "subSequenceNumber",
)


def check_ttl_attribute(owner: str, field_name: str, value: Any) -> None:
    """:class:`SettingError` unless ``value`` is an attribute name the replicator does not set
    itself (:data:`REPLICATOR_ATTRIBUTES`): the expiry and that attribute would overwrite one
    another, and a key or a shard id is not an epoch-seconds number TTL can read."""
    if not value or not isinstance(value, str):
        raise SettingError(owner, field_name, f"must be an attribute name, got {value!r}")
    if value in REPLICATOR_ATTRIBUTES:
        raise SettingError(
            owner,
            field_name,
            f"must not be {value!r}: the replicator sets that attribute on every item "
            f"({', '.join(REPLICATOR_ATTRIBUTES)}), so the expiry would overwrite it or be "
            "overwritten",
        )


#: ``sts:ExternalId``: 2..1224 of these, no spaces (STS API reference, ``AssumeRole``
#: ExternalId). The trust policy's condition would accept any string; STS refuses the call.
EXTERNAL_ID = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")


def check_external_id(owner: str, field_name: str, value: Any, access_mode: str | None) -> None:
    """:class:`SettingError` for an ExternalId STS refuses, or one given in ``resource-policy``
    mode (there is no AssumeRole there, so it would be set but ignored)."""
    if value is None:
        return
    if not isinstance(value, str) or not EXTERNAL_ID.fullmatch(value):
        raise SettingError(
            owner,
            field_name,
            "must be 2..1224 characters of A-Z a-z 0-9 and _+=,.@:/- with no spaces (STS "
            f"AssumeRole ExternalId), got {value!r}",
        )
    if access_mode == "resource-policy":
        raise SettingError(
            owner,
            field_name,
            "is only used in assume-role mode (the sts:ExternalId of the AssumeRole call); "
            "remove it, or use access_mode assume-role",
        )


def check_tags(owner: str, field_name: str, tags: Any, reserved: tuple[str, ...] = ()) -> None:
    """:class:`SettingError` for tags AWS refuses: a key with the reserved ``aws:`` prefix, keys
    over 128 or values over 256 characters, an empty key; and any key in ``reserved`` (the
    program passes the ``project``/``stack``/``component`` tags it always sets; a component
    user's own ``project`` tag is theirs)."""
    if not tags:
        return
    if not isinstance(tags, Mapping):
        raise SettingError(
            owner, field_name, f"must be a mapping of tag keys to values, got {tags!r}"
        )
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise SettingError(owner, field_name, f"has an empty tag key ({key!r})")
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            raise SettingError(
                owner, field_name, f"tag {key!r}: the aws: prefix is reserved for AWS's own tags"
            )
        if key in reserved:
            raise SettingError(
                owner,
                field_name,
                f"tag {key!r} is always set by the program ({', '.join(reserved)}); "
                "use another key",
            )
        if len(key) > MAX_TAG_KEY_LENGTH:
            raise SettingError(
                owner, field_name, f"tag key {key[:20]!r}… is over {MAX_TAG_KEY_LENGTH} characters"
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_LENGTH:
            raise SettingError(
                owner,
                field_name,
                f"tag {key!r}: the value must be a string of at most {MAX_TAG_VALUE_LENGTH} "
                "characters",
            )


#: Firehose delivery stream names: 1..64 of these (Firehose ``CreateDeliveryStream``
#: DeliveryStreamName).
DELIVERY_STREAM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: Lambda layer version ARNs (Lambda API reference, ``Layers`` of ``CreateFunction``).
LAYER_VERSION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+"
)
#: General purpose bucket names: 3..63 lower-case letters, digits, dots and hyphens, starting
#: and ending with a letter or digit, no two adjacent dots (S3 User Guide, "General purpose
#: bucket naming rules").
_BUCKET_NAME = re.compile(r"(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(owner: str, field_name: str, value: Any) -> None:
    """:class:`SettingError` for an S3 general purpose bucket name S3 refuses (when given)."""
    if value is None or is_output(value):
        return
    rules = "S3 general purpose bucket naming rules"
    if not isinstance(value, str) or not _BUCKET_NAME.fullmatch(value):
        raise SettingError(
            owner,
            field_name,
            "must be 3..63 characters of lower-case letters, digits, dots and hyphens, "
            f"starting and ending with a letter or digit, no '..' ({rules}), got {value!r}",
        )
    if _IP_ADDRESS.fullmatch(value):
        raise SettingError(
            owner, field_name, f"must not be formatted as an IP address ({rules}), got {value!r}"
        )
    if value.startswith(_BUCKET_PREFIXES) or value.endswith(_BUCKET_SUFFIXES):
        raise SettingError(
            owner,
            field_name,
            f"uses a prefix or suffix S3 reserves ({', '.join(_BUCKET_PREFIXES)}; "
            f"{', '.join(_BUCKET_SUFFIXES)}; {rules}), got {value!r}",
        )


#: Kinesis stream names: 1..128 of these (Kinesis API reference, ``CreateStream`` StreamName).
KINESIS_STREAM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
#: A Kinesis stream ARN (Kinesis API reference, StreamARN).
_STREAM_ARN = re.compile(
    r"arn:aws[a-z-]*:kinesis:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"stream/(?P<name>[A-Za-z0-9_.-]{1,128})"
)


def check_stream(owner: str, name: Any, arn: Any, region: Any, account: Any) -> None:
    """:class:`SettingError` for a ``source_stream_name`` Kinesis refuses, or a
    ``source_stream_arn`` that is not a Kinesis stream ARN, names another stream than
    ``source_stream_name``, or is in another ``region`` (an event source mapping reads a stream
    of its own region) or ``account`` than the stream's. Outputs are not known yet: skipped."""
    check_name(owner, "source_stream_name", name or None, KINESIS_STREAM_NAME)
    if not isinstance(arn, str):
        return
    match = _STREAM_ARN.fullmatch(arn)
    if not match:
        raise SettingError(
            owner,
            "source_stream_arn",
            f"must be a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>), "
            f"got {arn!r}",
        )
    arn_region, arn_account, arn_name = match.group("region", "account", "name")
    if name and arn_name != name:
        raise SettingError(
            owner,
            "source_stream_arn",
            f"names stream {arn_name!r}, but source_stream_name is {name!r}: give one of them, "
            "or the same stream in both",
        )
    if isinstance(region, str) and arn_region != region:
        raise SettingError(
            owner,
            "source_stream_arn",
            f"is in region {arn_region}, not the stack's region {region}: an event source "
            "mapping reads a stream in its own region",
        )
    if isinstance(account, str) and arn_account != account:
        raise SettingError(
            owner,
            "source_stream_arn",
            f"is in account {arn_account}, not the stream's account {account}",
        )


#: IAM role names: 1..64 of these (IAM quotas, "IAM name requirements").
IAM_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
#: Lambda function names: 1..64 of these (Lambda ``CreateFunction`` FunctionName).
LAMBDA_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: CloudWatch Logs accepts only these retention periods (``PutRetentionPolicy``).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip


#: Attributes the replicator adds after redaction (naming them in a field list does nothing).
_KEY_ATTRIBUTES = ("seqNumbershardIdHash", "sequenceNumber", "shardId", "subSequenceNumber")


def check_field_paths(owner: str, field_name: str, paths: Sequence[str] | None) -> None:
    """:class:`SettingError` unless ``paths`` is a list of attribute paths: names joined by
    ``.`` (``device.id``), none empty, none a key attribute the replicator adds itself."""
    if paths is None:
        return
    if isinstance(paths, str) or not all(isinstance(p, str) for p in paths):
        raise SettingError(owner, field_name, f"must be a list of strings, got {paths!r}")
    for path in paths:
        if not path or not all(path.split(".")):
            raise SettingError(owner, field_name, f"{path!r} is not attribute names joined by '.'")
        if path in _KEY_ATTRIBUTES:
            raise SettingError(
                owner,
                field_name,
                f"names {path!r}, a key attribute the replicator adds after redaction",
            )


def check_transform_module(owner: str, field_name: str, path: str | None) -> None:
    """:class:`SettingError` unless ``path`` is an existing ``.py`` file (it is bundled into
    the function's asset at preview)."""
    if path is None:
        return
    if not path.endswith(".py"):
        raise SettingError(owner, field_name, f"must be a Python file (*.py), got {path!r}")
    if not Path(path).is_file():
        raise SettingError(owner, field_name, f"{path!r} is not a file (relative to {Path.cwd()})")
