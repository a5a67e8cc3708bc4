"""``python -m stream_replica.cost``: the pipeline's monthly bill for a volume (``docs/cost.md``).

No AWS calls: prices are data (:mod:`.prices`). Exit status (:data:`EXIT_STATUSES`): 0 with the
bill printed, 2 on a usage error (a value out of range, a region without prices). Flags follow
``python -m stream_replica.redrive``'s (``--region``, ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from .model import Bill, Workload, monthly_bill
from .prices import PRICES

PROG = "python -m stream_replica.cost"
EXIT_DONE = 0
EXIT_USAGE = 2
EXIT_STATUSES = {
    EXIT_DONE: "the bill was printed",
    EXIT_USAGE: "usage error: a value out of range, a region without prices",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Monthly cost of the pipeline, per service and in total, for a volume.",
        epilog="exit status:\n"
        + "\n".join(f"  {code}  {what}" for code, what in EXIT_STATUSES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--records-per-second", type=float, required=True)
    parser.add_argument("--record-bytes", type=float, required=True, help="mean record size")
    parser.add_argument(
        "--retention-days", type=float, default=30, help="days of archive kept (30)"
    )
    parser.add_argument(
        "--region", default="eu-west-1", help=f"one of {', '.join(sorted(PRICES))} (eu-west-1)"
    )
    parser.add_argument("--query-table", action="store_true", help="with the query table")
    parser.add_argument("--efo", action="store_true", help="enhanced fan-out consumer")
    parser.add_argument("--ttl-days", type=float, default=0, help="table hot window (0: none)")
    parser.add_argument("--no-pitr", action="store_true", help="point-in-time recovery off")
    parser.add_argument(
        "--compression-ratio",
        type=float,
        default=1.0,
        help="archive bytes after / before compression (1: none; ~0.15 for gzip of JSON)",
    )
    parser.add_argument(
        "--unpacked", action="store_true", help="one archive line per Firehose record"
    )
    parser.add_argument("--batch-size", type=int, default=300)
    parser.add_argument("--arch", choices=("arm64", "x86_64"), default="arm64")
    parser.add_argument("--json", action="store_true", help="the bill as JSON")
    return parser


def workload_from_args(argv: list[str] | None = None) -> tuple[Workload, bool]:
    """The workload the flags describe and whether JSON was asked for; a usage error exits 2."""
    parser = _parser()
    args = parser.parse_args(argv)
    workload = Workload(
        records_per_second=args.records_per_second,
        mean_record_bytes=args.record_bytes,
        retention_days=args.retention_days,
        region=args.region,
        query_table=args.query_table,
        efo=args.efo,
        ttl_days=args.ttl_days,
        pitr=not args.no_pitr,
        compression_ratio=args.compression_ratio,
        packed=not args.unpacked,
        batch_size=args.batch_size,
        arch=args.arch,
    )
    try:
        workload.validate()
    except ValueError as exc:
        parser.error(str(exc))
    return workload, args.json


def print_bill(bill: Bill, out: TextIO) -> None:
    """The bill as a table: one line per item, a subtotal per service, the total."""
    width = max(len(line.item) for line in bill.lines) + 2
    subtotals = bill.by_service()
    service = None
    for line in bill.lines:
        if line.service != service:
            service = line.service
            print(f"{service:<{width + 24}}{subtotals[service]:>12,.2f} USD", file=out)
        print(
            f"  {line.item:<{width}}{line.quantity:>14,.1f} x {line.price.value:<12.6g}"
            f"{line.monthly_usd:>10,.2f}",
            file=out,
        )
    print(f"{'total a month':<{width + 24}}{bill.total:>12,.2f} USD", file=out)
    unchecked = sorted({line.price.source for line in bill.lines if line.price.checked != "page"})
    if unchecked:
        print(
            "prices not read on the page itself (see stream_replica.cost.prices): "
            + ", ".join(unchecked),
            file=out,
        )


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    workload, as_json = workload_from_args(argv)
    bill = monthly_bill(workload)
    if as_json:
        print(json.dumps(bill.as_dict(), indent=2), file=out)
    else:
        print_bill(bill, out)
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
