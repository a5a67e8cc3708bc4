"""``ArchiveCatalog``: a Glue database and table over the archive, for Athena, with no crawler.

The table reads the JSON lines the archiver writes, where Firehose writes them:

* location ``s3://<bucket>/<prefix>`` and Hive-style partitions ``year=/month=/day=/hour=``
  (:data:`.archiver.PARTITIONS`, the same constant the delivery stream's prefix is built from);
* **partition projection** on those keys (``projection.*`` table parameters and a
  ``storage.location.template``), so Athena computes the partitions from the query's predicates:
  no crawler, no ``MSCK REPAIR TABLE``, no ``ALTER TABLE ADD PARTITION``
  (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html). ``year`` is a
  ``date`` projection from ``first_year`` to ``NOW`` (it never needs updating); ``month``,
  ``day`` and ``hour`` are two-digit ``integer`` projections. All four are ``string`` columns:
  ``WHERE year = '2026' AND month = '11'``;
* the OpenX JSON SerDe (``org.openx.data.jsonserde.JsonSerDe``), which ignores keys that are
  not columns, so new attributes never break a query; a column missing from a line reads NULL.
  Its documented properties (https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html)
  are set so that every line the archiver writes stays readable
  (:func:`serde_parameters`): ``case.insensitive`` is **false**, because with the default (true)
  the SerDe lower-cases every key, and a line holding two names that differ only in case
  (``url`` and ``URL``, at the top level or nested) becomes a duplicate key that fails the
  query over its whole partition; instead each column or struct field declared with upper-case
  letters gets a ``mapping.<lower-case name>`` property naming the line's key as declared
  (the SerDe applies mappings to struct fields at any depth), so declared names are matched
  exactly and ``URL`` next to ``url`` is an extra key like any other. ``ignore.malformed.json``
  is true: the archiver writes only valid JSON lines, and a foreign or truncated object reads as
  a row of NULLs instead of failing every query of its partition;
* GZIP: Athena decompresses ``.gz`` objects by their extension; the table's ``compressionType``
  says which the archiver is configured for.

Columns come from a declared schema (:class:`ArchiveColumn`, Hive types such as ``string``,
``bigint``, ``double``, ``boolean``, ``struct<...>``, ``array<...>``); the default is the
clickstream's, plus the three key attributes the replicator adds.
"""

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .archiver import COMPRESSIONS, PARTITIONS
from .exceptions import SettingError
from .settings import fill_defaults
from .validation import check_choice, check_range, check_tags

#: Glue database and table names: lower case letters, digits and underscores, at most 255
#: characters (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-catalog-tables.html;
#: Athena needs lower case).
_GLUE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
#: A Hive column type Athena reads, loosely: a primitive, or a struct/array/map
#: (https://docs.aws.amazon.com/athena/latest/ug/data-types.html).
_HIVE_TYPE = re.compile(
    r"^(boolean|tinyint|smallint|int|integer|bigint|float|double|string|binary|date|timestamp"
    r"|decimal\(\d+(,\d+)?\)|char\(\d+\)|varchar\(\d+\))$|^(struct|array|map)<.+>$"
)

JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
#: Integer projections of the partitions after ``year``: ``(range, digits)``.
_INTEGER_PROJECTIONS = {"month": ("1,12", "2"), "day": ("1,31", "2"), "hour": ("0,23", "2")}


@dataclass
class ArchiveColumn:
    """One column of the archive table."""

    name: str
    """The line's attribute (matched case-insensitively; stored lower case, as Glue does)."""
    type: str
    """Hive type: ``string``, ``bigint``, ``double``, ``boolean``, ``struct<a:string>``, ..."""
    comment: str | None = None
    """Column comment. Default: none."""


#: The clickstream's attributes as the archive holds them (plus the replicator's keys and the
#: TTL expiry, when the table has one).
CLICKSTREAM_COLUMNS: tuple[ArchiveColumn, ...] = (
    ArchiveColumn("eventId", "string"),
    ArchiveColumn("userId", "string"),
    ArchiveColumn("userEmail", "string"),
    ArchiveColumn("timestamp", "bigint", "event time, epoch nanoseconds"),
    ArchiveColumn("eventType", "string"),
    ArchiveColumn("url", "string"),
    ArchiveColumn("referrer", "string"),
    ArchiveColumn(
        "context",
        "struct<session:struct<id:string,pageIndex:int>,"
        "device:struct<browser:string,viewport:array<int>,touch:boolean>,"
        "geo:struct<country:string,lat:double,lon:double>,consent:boolean>",
    ),
    ArchiveColumn("timeOnPageS", "double"),
    ArchiveColumn("scrollDepth", "double"),
    ArchiveColumn(
        "order",
        "struct<total:double,currency:string,items:array<struct<sku:string,qty:int>>>",
    ),
    ArchiveColumn("sequenceNumber", "string", "Kinesis sequence number (replicator)"),
    ArchiveColumn("shardId", "string", "Kinesis shard id (replicator)"),
    ArchiveColumn("seqNumbershardIdHash", "string", "replica table hash key (replicator)"),
    ArchiveColumn("expiresAt", "bigint", "replica TTL expiry, epoch seconds (if TTL is on)"),
)


#: Defaults of :class:`ArchiveCatalogArgs` (``database_name`` derives from the component's name).
ARCHIVE_CATALOG_DEFAULTS: dict[str, Any] = {
    "compression": "UNCOMPRESSED",
    "table_name": "events",
    "columns": list(CLICKSTREAM_COLUMNS),
    "first_year": 2025,
    "tags": {},
}


@dataclass
class ArchiveCatalogArgs:
    """Inputs of :class:`ArchiveCatalog`. Fields left ``None`` take ``ARCHIVE_CATALOG_DEFAULTS``."""

    bucket_name: pulumi.Input[str]
    """The archive bucket (``StreamToS3Archiver.bucket_name``)."""
    prefix: str
    """The archiver's object prefix (``StreamToS3ArchiverArgs.prefix``, a folder like
    ``data/``, without expressions); the partitions follow it."""
    compression: str | None = None
    """The archiver's ``compression``: ``UNCOMPRESSED`` or ``GZIP``. Default: ``UNCOMPRESSED``."""
    database_name: str | None = None
    """Glue database name (1..255 of lower case letters, digits, ``_``). Default: the
    component's name, lower case, with ``_`` for other characters."""
    table_name: str | None = None
    """Glue table name (1..255 of lower case letters, digits, ``_``). Default: ``events``."""
    columns: list[ArchiveColumn] | None = None
    """The table's columns (names case-insensitive, unique, not a partition key). Default:
    :data:`CLICKSTREAM_COLUMNS`."""
    first_year: int | None = None
    """First year the ``year`` projection covers, 1970..9999 (it ends at ``NOW``).
    Default: 2025."""
    tags: dict[str, str] | None = None
    """Tags for the Glue database (Glue tables take none; merged with the provider's default
    tags). Default: none."""

    def __post_init__(self) -> None:
        fill_defaults(self, ARCHIVE_CATALOG_DEFAULTS)
        self.columns = [
            ArchiveColumn(**c) if isinstance(c, dict) else c for c in self.columns or []
        ]

    def validate(self) -> None:
        """:class:`SettingError` naming ``ArchiveCatalogArgs.<field>`` for settings that can't
        work."""
        owner = "ArchiveCatalogArgs"
        check_choice(owner, "compression", self.compression, COMPRESSIONS)
        prefix = self.prefix
        if not prefix or not prefix.endswith("/") or prefix.startswith("/") or "!{" in prefix:
            raise SettingError(
                owner,
                "prefix",
                "must be the archiver's prefix, a folder like 'data/' without expressions "
                f"(the date partitions are appended), got {prefix!r}",
            )
        for what in ("database_name", "table_name"):
            value = getattr(self, what)
            if value is not None and not _GLUE_NAME.match(value):
                raise SettingError(
                    owner,
                    what,
                    f"must be 1..255 lower case letters, digits and _ (Glue, Athena), "
                    f"got {value!r}",
                )
        check_range(owner, "first_year", self.first_year, 1970, 9999)
        check_tags(owner, "tags", self.tags)
        columns = list(self.columns or [])
        if not columns:
            raise SettingError(owner, "columns", "must name at least one column")
        seen: set[str] = set()
        partition_keys = {key for key, _ in PARTITIONS}
        for column in columns:
            lower = column.name.lower()
            if not column.name or lower in seen:
                raise SettingError(
                    owner,
                    "columns",
                    f"{column.name!r} is empty or given twice (names are case-insensitive)",
                )
            if lower in partition_keys:
                raise SettingError(
                    owner,
                    "columns",
                    f"{column.name!r} is a partition key ({', '.join(sorted(partition_keys))})",
                )
            if not _HIVE_TYPE.match(column.type.replace(" ", "")):
                raise SettingError(
                    owner, "columns", f"{column.name}: {column.type!r} is not a Hive type"
                )
            seen.add(lower)
        spelled: dict[str, str] = {}
        for name in declared_names(columns):
            other = spelled.setdefault(name.lower(), name)
            if other != name:
                raise SettingError(
                    owner,
                    "columns",
                    f"{other!r} and {name!r} differ only in case: the SerDe's mapping of a "
                    "lower-case field name to the line's key holds one spelling for every level; "
                    "declare one spelling",
                )


#: A struct field's name in a Hive type (``struct<name:type,...>``).
_STRUCT_FIELD = re.compile(r"[<,]\s*([A-Za-z_][A-Za-z0-9_]*)\s*:")


def declared_names(columns: list[ArchiveColumn]) -> list[str]:
    """Every name a line's keys are matched against: the columns' and, at any depth, their
    struct fields' (``struct<pageIndex:int>`` gives ``pageIndex``)."""
    names: list[str] = []
    for column in columns:
        names.append(column.name)
        names += _STRUCT_FIELD.findall(column.type)
    return names


def serde_parameters(columns: list[ArchiveColumn]) -> dict[str, str]:
    """The OpenX JSON SerDe's properties (module docstring): case-sensitive matching, one
    ``mapping.<lower case>`` per declared name with upper-case letters, malformed lines read as
    NULLs."""
    parameters = {"case.insensitive": "false", "ignore.malformed.json": "true"}
    for name in declared_names(columns):
        if name != name.lower():
            parameters[f"mapping.{name.lower()}"] = name
    return parameters


def location(bucket_name: str, prefix: str) -> str:
    """The table's location: the archive prefix."""
    return f"s3://{bucket_name}/{prefix}"


def location_template(bucket_name: str, prefix: str) -> str:
    """``storage.location.template``: the prefix and one ``key=${key}/`` per partition."""
    partitions = "".join(f"{key}=${{{key}}}/" for key, _ in PARTITIONS)
    return f"{location(bucket_name, prefix)}{partitions}"


def table_parameters(
    bucket_name: str, prefix: str, compression: str, first_year: int
) -> dict[str, str]:
    """The Glue table's parameters: JSON, compression, partition projection."""
    params = {
        "classification": "json",
        "typeOfData": "file",
        "compressionType": "gzip" if compression == "GZIP" else "none",
        "EXTERNAL": "TRUE",
        "projection.enabled": "true",
        "storage.location.template": location_template(bucket_name, prefix),
    }
    for key, pattern in PARTITIONS:
        if key == "year":
            params.update(
                {
                    "projection.year.type": "date",
                    "projection.year.format": pattern,
                    "projection.year.range": f"{first_year},NOW",
                    "projection.year.interval": "1",
                    "projection.year.interval.unit": "YEARS",
                }
            )
        else:
            value_range, digits = _INTEGER_PROJECTIONS[key]
            params.update(
                {
                    f"projection.{key}.type": "integer",
                    f"projection.{key}.range": value_range,
                    f"projection.{key}.digits": digits,
                }
            )
    return params


class ArchiveCatalog(pulumi.ComponentResource):
    """A Glue database and a partition-projected JSON table over the archive prefix.

    Outputs: ``database_name``, ``table_name``, ``location``.
    """

    database_name: pulumi.Output[str]
    """Name of the Glue database."""
    table_name: pulumi.Output[str]
    """Name of the Glue table (what Athena queries as ``<database>.<table>``)."""
    location: pulumi.Output[str]
    """The table's location, ``s3://<bucket>/<prefix>``."""

    def __init__(
        self,
        name: str,
        args: ArchiveCatalogArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:ArchiveCatalog", name, None, opts)
        if isinstance(args, dict):  # the multi-language provider passes a dict
            args = ArchiveCatalogArgs(**args)
        args.validate()
        self.args = args
        database_name = args.database_name or re.sub(r"[^a-z0-9_]", "_", name.lower())
        compression = str(args.compression)
        first_year = int(args.first_year or ARCHIVE_CATALOG_DEFAULTS["first_year"])

        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=database_name,
            description="The stream replica's S3 archive (JSON lines written by Firehose).",
            tags=dict(args.tags or {}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        bucket = pulumi.Output.from_input(args.bucket_name)
        self.table = aws.glue.CatalogTable(
            f"{name}-table",
            name=args.table_name,
            database_name=self.database.name,
            table_type="EXTERNAL_TABLE",
            description="Archived items, one JSON line each; partitions are projected.",
            parameters=bucket.apply(
                lambda b: table_parameters(b, args.prefix, compression, first_year)
            ),
            partition_keys=[
                aws.glue.CatalogTablePartitionKeyArgs(name=key, type="string")
                for key, _ in PARTITIONS
            ],
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                location=bucket.apply(lambda b: location(b, args.prefix)),
                input_format=INPUT_FORMAT,
                output_format=OUTPUT_FORMAT,
                compressed=compression == "GZIP",
                ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                    serialization_library=JSON_SERDE,
                    parameters=serde_parameters(list(args.columns or ())),
                ),
                columns=[
                    aws.glue.CatalogTableStorageDescriptorColumnArgs(
                        name=column.name.lower(), type=column.type, comment=column.comment
                    )
                    for column in args.columns or ()
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.database_name = self.database.name
        self.table_name = self.table.name
        self.location = bucket.apply(lambda b: location(b, args.prefix))
        self.register_outputs(
            {
                "database_name": self.database_name,
                "table_name": self.table_name,
                "location": self.location,
            }
        )
