"""The analyst's view at the end of the demo: SQL over the archive, as Athena would run it.

The Glue table the poc stack deployed (read back from the emulated Glue) says where the archive
is and how it is partitioned: ``storage.location.template`` =
``s3://<bucket>/<prefix>year=${year}/month=${month}/day=${day}/hour=${hour}/``. The archived
objects are copied out of the emulated S3 into a folder with the same keys, and DuckDB (an
embedded SQL engine) reads them with that layout: the template's ``${key}`` become Hive
partition columns (strings, as the Glue table declares them), JSON lines are matched to column
names case-insensitively (as the table's OpenX SerDe does), ``.gz`` objects are decompressed.
The queries de-duplicate on the item key first: the archive is at-least-once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: The attributes of each produced event the checks need.
BRIEF_FIELDS = ("userEmail", "timestamp", "eventType", "url")

#: The SQL the demo runs and prints. ``{events}`` is the de-duplicated archive.
PAGE_VIEWS_PER_USER_PER_DAY = """\
SELECT useremail,
       CAST(to_timestamp("timestamp" / 1e9) AS DATE) AS event_day,
       count(*) AS page_views
FROM events
WHERE eventtype = 'page_view' AND year >= '{first_year}'
GROUP BY useremail, event_day
ORDER BY page_views DESC, useremail, event_day"""
ONE_USERS_CLICKSTREAM = """\
SELECT "timestamp", eventtype, url
FROM events
WHERE useremail = $user
ORDER BY "timestamp", sequencenumber"""


@dataclass
class GlueLayout:
    """What the Glue table declares about the archive."""

    bucket: str
    prefix: str
    partition_keys: list[str]
    columns: list[str]
    compression: str
    first_year: str

    @classmethod
    def from_glue(cls, table: dict[str, Any]) -> GlueLayout:
        """From ``glue.get_table()["Table"]``."""
        params = table.get("Parameters") or {}
        template = params["storage.location.template"]
        match = re.fullmatch(r"s3://([^/]+)/(.*?)((?:\w+=\$\{\w+\}/)+)", template)
        if match is None:
            raise ValueError(f"Glue table {table['Name']}: unexpected location template {template}")
        keys = re.findall(r"(\w+)=\$\{(\w+)\}", match.group(3))
        if any(k != v for k, v in keys):
            raise ValueError(f"Glue table {table['Name']}: template keys differ from names")
        declared = [k["Name"] for k in table.get("PartitionKeys") or []]
        if declared != [k for k, _ in keys]:
            raise ValueError(
                f"Glue table {table['Name']}: partition keys {declared} are not the template's"
            )
        return cls(
            bucket=match.group(1),
            prefix=match.group(2),
            partition_keys=declared,
            columns=[c["Name"] for c in table["StorageDescriptor"].get("Columns") or []],
            compression=params.get("compressionType", "none"),
            first_year=params.get("projection.year.range", "1970,NOW").split(",")[0],
        )

    def key_pattern(self) -> re.Pattern[str]:
        """Object keys the table reads: the prefix, one ``key=value/`` per partition, a name."""
        parts = "".join(rf"{k}=(?P<{k}>[0-9]+)/" for k in self.partition_keys)
        suffix = r"\.gz" if self.compression == "gzip" else ""
        return re.compile(
            rf"{re.escape(self.prefix)}{parts}[^/]+-\d+-[\d-]+-[0-9a-f-]{{36}}{suffix}"
        )


@dataclass
class AnalystResult:
    """The queries, their results and whether they agree with what was produced."""

    ok: bool = False
    objects: int = 0
    rows: int = 0
    distinct_rows: int = 0
    page_view_groups: int = 0
    user: str = ""
    user_events: int = 0
    report: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def copy_archive(objects: Iterable[tuple[str, bytes]], layout: GlueLayout, folder: Path) -> int:
    """Write each ``(key, body)`` under ``folder`` at its key; keys must be the table's layout."""
    pattern = layout.key_pattern()
    count = 0
    for key, body in objects:
        if not pattern.fullmatch(key):
            raise ValueError(f"s3://{layout.bucket}/{key} is not in the Glue table's layout")
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        count += 1
    return count


def expected_page_views(events: Iterable[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """Page views per (user e-mail, UTC day of the event's nanosecond timestamp)."""
    counts: Counter[tuple[str, str]] = Counter()
    for event in events:
        if event.get("eventType") == "page_view":
            day = datetime.fromtimestamp(int(event["timestamp"]) / 1e9, UTC).date().isoformat()
            counts[(str(event["userEmail"]), day)] += 1
    return counts


def run(
    folder: Path,
    layout: GlueLayout,
    produced: list[dict[str, Any]],
) -> AnalystResult:
    """Run the two queries over ``folder`` and check them against ``produced`` (every event)."""
    import duckdb

    result = AnalystResult()
    glob = str(folder / layout.prefix) + "/" + "/".join(f"{k}=*" for k in layout.partition_keys)
    connection = duckdb.connect()
    connection.execute(
        f"""CREATE VIEW archive AS SELECT * FROM read_json(
                '{glob}/*', format = 'newline_delimited', hive_partitioning = true,
                hive_types_autocast = false, sample_size = -1, union_by_name = true)"""
    )
    found = {row[0].lower() for row in connection.execute("DESCRIBE archive").fetchall()}
    missing = [c for c in layout.columns if c not in found and c != "expiresat"]
    if missing:
        result.failures.append(f"columns the Glue table declares are not in the archive: {missing}")
    partitions = [k for k in layout.partition_keys if k not in found]
    if partitions:
        result.failures.append(f"partition columns not read from the keys: {partitions}")
    connection.execute(
        """CREATE VIEW events AS SELECT * FROM archive
           QUALIFY row_number() OVER (PARTITION BY shardid, sequencenumber) = 1"""
    )
    result.rows = int(connection.execute("SELECT count(*) FROM archive").fetchone()[0])  # type: ignore[index]
    result.distinct_rows = int(connection.execute("SELECT count(*) FROM events").fetchone()[0])  # type: ignore[index]

    sql = PAGE_VIEWS_PER_USER_PER_DAY.format(first_year=layout.first_year)
    rows = connection.execute(sql).fetchall()
    got = Counter({(str(u), d.isoformat()): int(n) for u, d, n in rows})
    expected = expected_page_views(produced)
    result.page_view_groups = len(rows)
    if got != expected:
        wrong = sorted(set(got.items()) ^ set(expected.items()))[:3]
        result.failures.append(f"page views per user per day differ from the produced: {wrong}")
    result.report.append(sql + ";")
    result.report += [f"  {u:<28} {d}  {n}" for u, d, n in rows[:5]]
    result.report.append(f"  ... {len(rows)} rows")

    by_user = Counter(str(e["userEmail"]) for e in produced)
    user = min(by_user, key=lambda u: (-by_user[u], u)) if by_user else ""
    result.user = user
    clicks = connection.execute(ONE_USERS_CLICKSTREAM, {"user": user}).fetchall()
    expected_clicks = sorted(
        (int(e["timestamp"]), str(e["eventType"]), str(e["url"]))
        for e in produced
        if e["userEmail"] == user
    )
    result.user_events = len(clicks)
    if [(int(t), str(k), str(u)) for t, k, u in clicks] != expected_clicks:
        result.failures.append(f"{user}'s clickstream differs from the produced events")
    result.report.append(ONE_USERS_CLICKSTREAM.replace("$user", f"'{user}'") + ";")
    result.report += [f"  {t}  {k:<12} {u}" for t, k, u in clicks[:5]]
    result.report.append(f"  ... {len(clicks)} rows")
    connection.close()
    result.ok = not result.failures
    return result
