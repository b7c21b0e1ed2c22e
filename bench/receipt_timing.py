"""Benchmark (not a test): how long a refused receipt takes, by the kind of mistake.

A wrong receipt must not answer faster or slower than one that never existed, or the
time would tell a guesser how close they came. The test suite checks the cause (every
attempt does the same work: tests/tipline/intake/test_services.py,
``test_every_receipt_attempt_does_the_same_work_before_its_answer``); this prints the
effect, which a clock on a shared machine measures too noisily to assert.

Makes a fresh SQLite database with one tip whose receipt is known, then times, in this
process, ``open_tipster_session`` (the service behind ``POST /api/v1/tipster/session``)
for a near miss (right but for the last four digits), a receipt never issued and a
malformed one, interleaved, and prints each median and the ratio slowest/fastest
(1.00 is ideal; the rate limit is not involved, it sits in the controller).

    .venv/bin/python -m bench.receipt_timing [--rounds 2000] [--dir /tmp/receipt-bench]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import time
from pathlib import Path

from tipline import db
from tipline.crypto import primitives
from tipline.intake import receipts, services
from tipline.intake.exceptions import WrongReceipt
from tipline.intake.tables import Tip
from tipline.settings import Settings


async def _refused_seconds(settings: Settings, receipt: str) -> float:
    started = time.perf_counter()
    try:
        await services.open_tipster_session(settings, receipt)
    except WrongReceipt:
        return time.perf_counter() - started
    raise AssertionError(f"{receipt!r} was accepted")


async def run(rounds: int, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    settings = Settings(data_dir=folder, scheduler=False)
    db.bind(db.make_engine(settings))
    await db.create_all_tables()
    await db.open_pool()
    right = receipts.new_receipt()
    public = primitives.public_bytes(receipts.tipster_private_key(right)).hex()
    async with db.write_transaction():
        await Tip.insert(
            Tip(
                ledger_no="2020-000001",
                ledger_year=2020,
                ledger_seq=1,
                channel="web",
                received_at=dt.datetime(2020, 9, 25, 10, tzinfo=dt.UTC),
                receipt_mac=receipts.receipt_mac(receipts.receipt_key(settings), right),
                tipster_public_key=public,
                content=b"",
            )
        )
    near = right[:-4] + f"{(int(right[-4:]) + 1) % 10000:04d}"
    kinds = {
        "near miss": lambda: near,
        "never issued": receipts.new_receipt,
        "malformed": lambda: "12ab",
    }
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(min(rounds, 50)):  # warm up
        await _refused_seconds(settings, near)
    for _ in range(rounds):
        for kind, attempt in kinds.items():
            timings[kind].append(await _refused_seconds(settings, attempt()))
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    for kind, median in medians.items():
        print(f"{kind}: median {median * 1e6:.0f} µs over {rounds} tries")
    ratio = max(medians.values()) / min(medians.values())
    print(f"slowest/fastest median: {ratio:.2f}")
    await db.close_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/receipt-bench"))
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.dir))


if __name__ == "__main__":
    main()
