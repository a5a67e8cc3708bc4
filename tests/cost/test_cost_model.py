"""The cost model against a hand calculation, and the ``stream_replica.cost`` command."""

from __future__ import annotations

import io
import json

import pytest
from stream_replica.cost.__main__ import main
from stream_replica.cost.model import Workload, monthly_bill
from stream_replica.cost.prices import PRICES, Price

#: 1,000 records/s of 1 KB for a 30-day month-of-730-hours, us-east-1, no query table, PITR on.
WORKLOAD = Workload(records_per_second=1000, mean_record_bytes=1024, region="us-east-1")


def _line(bill, service: str, starts: str):
    (found,) = [x for x in bill.lines if x.service == service and x.item.startswith(starts)]
    return found


def test_figures_match_a_hand_calculation():
    bill = monthly_bill(WORKLOAD)
    records = 1000 * 730 * 3600  # 2,628,000,000 a month

    # DynamoDB: an item is 1,024 + 140 key bytes = 1,164 bytes: 2 write request units.
    writes = _line(bill, "DynamoDB", "replica table writes")
    assert writes.quantity == records * 2
    assert writes.monthly_usd == pytest.approx(5_256 * 0.625)  # 3,285.00 USD
    storage_gb = 1000 * 86_400 * 30 * 1164 / 2**30  # 2,809.86 GB held
    assert _line(bill, "DynamoDB", "replica table storage").monthly_usd == pytest.approx(
        storage_gb * 0.25
    )
    assert _line(bill, "DynamoDB", "replica table point-in-time").monthly_usd == pytest.approx(
        storage_gb * 0.20
    )

    # Firehose: lines of 1,165 bytes, 4 to a packed record of 4,660 bytes, billed as 5 KB.
    firehose = _line(bill, "Firehose", "ingestion")
    assert firehose.quantity == pytest.approx(records / 4 * 5120 / 2**30)
    assert firehose.monthly_usd == pytest.approx(90.85, abs=0.01)

    # Lambda: 8,760,000 batches of 300 per function; the replicator's 138.6 µs a record at
    # 512 MB (512/1769 of a vCPU): 0.04158 s CPU -> 0.14366 s billed -> 0.07183 GB-s a batch.
    batches = records / 300
    assert _line(bill, "Lambda", "replicator requests").monthly_usd == pytest.approx(
        batches * 0.20 / 1e6
    )
    gb_s = batches * (138.6 * 300 / 1e6) * 1769 / 512 * 512 / 1024
    assert _line(bill, "Lambda", "replicator duration").monthly_usd == pytest.approx(
        gb_s * 0.0000133334
    )

    # S3: 1,165 bytes x 1,000/s x 300 s = 349.5 MB a buffer: 67 objects of 5 MB per flush.
    flushes = 730 * 3600 / 300
    assert _line(bill, "S3", "PUT").quantity == flushes * 67
    assert _line(bill, "S3", "storage").quantity == pytest.approx(1000 * 86_400 * 30 * 1165 / 2**30)

    assert bill.total == pytest.approx(sum(line.monthly_usd for line in bill.lines))
    assert bill.total == pytest.approx(4744.59, abs=0.01)


def test_packing_cuts_firehose_to_about_a_quarter_for_1_kb_records():
    packed = _line(monthly_bill(WORKLOAD), "Firehose", "ingestion").monthly_usd
    unpacked = _line(
        monthly_bill(Workload(1000, 1024, region="us-east-1", packed=False)), "Firehose", "ing"
    ).monthly_usd
    assert unpacked == pytest.approx(4 * packed)


def test_options_add_their_lines():
    bill = monthly_bill(
        Workload(1000, 1024, region="eu-west-1", efo=True, query_table=True, ttl_days=7)
    )
    services = {line.service for line in bill.lines}
    assert "Kinesis" in services
    assert _line(bill, "Kinesis", "enhanced fan-out,").quantity == 730  # one shard
    assert _line(bill, "DynamoDB", "query table writes").quantity > 0
    assert "7 days" in _line(bill, "DynamoDB", "replica table storage").item
    assert "Kinesis" not in {line.service for line in monthly_bill(WORKLOAD).lines}


def test_every_price_names_its_page_and_date_in_both_regions():
    assert {"us-east-1", "eu-west-1"} <= set(PRICES)
    keys = set(PRICES["us-east-1"])
    for region, prices in PRICES.items():
        assert set(prices) == keys, region
        for key, price in prices.items():
            assert isinstance(price, Price)
            assert price.source.startswith("https://aws.amazon.com/"), key
            assert price.date and price.checked in ("page", "secondary", "unverified"), key
            if price.checked == "secondary":
                assert price.note.startswith("https://"), key


def test_the_command_prints_json_and_refuses_bad_values(capsys):
    out = io.StringIO()
    assert (
        main(
            [
                "--records-per-second",
                "1000",
                "--record-bytes",
                "1024",
                "--json",
                "--region",
                "us-east-1",
            ],
            out,
        )
        == 0
    )
    bill = json.loads(out.getvalue())
    assert bill["total_usd"] == pytest.approx(4744.59, abs=0.01)
    assert set(bill["by_service"]) >= {"Lambda", "DynamoDB", "Firehose", "S3", "CloudWatch"}

    with pytest.raises(SystemExit) as exit_:
        main(["--records-per-second", "1", "--record-bytes", "1", "--region", "mars-1"])
    assert exit_.value.code == 2
    assert "no prices for region 'mars-1'" in capsys.readouterr().err
