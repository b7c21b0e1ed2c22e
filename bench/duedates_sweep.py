"""Benchmark (not a test): the deadline sweep over many open tips.

Makes a fresh SQLite database with N tips received on 2020-09-25 (three deadlines each,
stored by the same hook the tip box calls), then times, in this process:

* storing the due dates (the receipt hook, per tip);
* the sweep on 2020-09-29, when every transfer window is 60 % gone (one warning each);
* the same sweep again (idempotent: nothing new);
* the sweep on 2020-10-10, when every deadline is breached (escalations).

    .venv/bin/python -m bench.duedates_sweep [--tips 2000] [--dir /tmp/duedates-bench]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import time
from pathlib import Path

from tipline import db
from tipline.cases import lifecycle
from tipline.duedates import services
from tipline.intake.tables import Tip
from tipline.ledger.services import TIPSTER
from tipline.settings import Settings

CHINA = dt.timezone(dt.timedelta(hours=8))


async def run(tips: int, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    settings = Settings(data_dir=folder, scheduler=False)
    db.bind(db.make_engine(settings))
    await db.create_all_tables()
    await db.open_pool()
    services.install()
    received = dt.datetime(2020, 9, 25, 10, tzinfo=CHINA)
    started = time.perf_counter()
    for seq in range(1, tips + 1):
        async with db.write_transaction():
            rows = await Tip.insert(
                Tip(
                    ledger_no=f"2020-{seq:06d}",
                    ledger_year=2020,
                    ledger_seq=seq,
                    channel="web",
                    received_at=received,
                    receipt_mac=f"{seq:064x}",
                    tipster_public_key="00" * 32,
                    content=b"",
                )
            ).returning(Tip.id)
            await lifecycle.announce_received(rows[0]["id"], f"2020-{seq:06d}", received, TIPSTER)
    stored = time.perf_counter() - started
    print(f"{tips} tips: due dates stored in {stored:.2f} s ({stored / tips * 1000:.2f} ms a tip)")
    for label, day in (
        ("warning sweep (60 %)", dt.date(2020, 9, 29)),
        ("same sweep again", dt.date(2020, 9, 29)),
        ("breach sweep", dt.date(2020, 10, 10)),
        ("breach sweep again", dt.date(2020, 10, 10)),
    ):
        began = time.perf_counter()
        result = await services.sweep(today=day, now=dt.datetime(2020, 10, 10, tzinfo=dt.UTC))
        print(f"{label}: {time.perf_counter() - began:.2f} s, {result}")
    began = time.perf_counter()
    await services.next_deadlines(list(range(1, min(tips, 100) + 1)), today=dt.date(2020, 9, 29))
    print(f"next_deadlines for 100 tips: {(time.perf_counter() - began) * 1000:.1f} ms")
    await db.close_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/duedates-bench"))
    args = parser.parse_args()
    asyncio.run(run(args.tips, args.dir))


if __name__ == "__main__":
    main()
