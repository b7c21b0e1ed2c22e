"""Benchmark (not a test): ``tipline ledger verify`` over 1,000,000 events, and one
inclusion proof at 1,000,000 leaves (issue 5; targets: verify <= 20 s, proof <= 5 ms).

Makes a fresh SQLite data dir, runs ``tipline migrate``, then writes the events
directly (one ``executemany`` transaction each for the events and the Merkle node
cache, with hashes, leaves, frontier and a signed checkpoint computed exactly as
``append_event`` and ``sign_checkpoint`` do), and times, in this process:

* ``verify_chain`` with the log's key (every chain hash, leaf, node, the head, the
  checkpoint's signature and root);
* ``inclusion_proof`` of one event against the 1,000,000-leaf checkpoint (median of
  several runs, each reading its nodes from the database), plus its verification.

    .venv/bin/python -m bench.ledger_verify [--events 1000000] [--dir /tmp/ledger-bench]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from piccolo.engine import sqlite as piccolo_sqlite  # noqa: F401  (registers its adapters)

from tipline import db
from tipline.ledger import checkpoints, merkle, notes
from tipline.ledger.services import (
    GENESIS_HASH,
    canonical_json,
    event_bytes,
    format_frontier,
    node_key,
    verify_chain,
)
from tipline.ledger.tables import MerkleNode
from tipline.settings import Settings


def populate(path: Path, count: int, settings: Settings) -> float:
    started = time.perf_counter()
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    prev = GENESIS_HASH
    frontier: list[bytes] = []
    events: list[tuple[object, ...]] = []
    nodes: list[tuple[int, str]] = []
    for i in range(count):
        row = {
            "seq": i + 1,
            "occurred_at": base + dt.timedelta(seconds=i),
            "actor_type": "system",
            "actor_id": None,
            "action": "bench.event",
            "object_type": "thing",
            "object_id": str(i % 1000),
            "payload": canonical_json({"i": i}).decode(),
            "prev_hash": prev,
        }
        data = event_bytes(row)
        row["hash"] = prev = hashlib.sha256(data).hexdigest()
        frontier, completed = merkle.frontier_append(frontier, i, merkle.leaf_hash(data))
        nodes.extend((node_key(level, index), h.hex()) for level, index, h in completed)
        events.append(tuple(row.values()))
    root = merkle.frontier_root(frontier)
    signer = checkpoints.log_signer(settings)
    text = notes.sign_checkpoint(signer, signer.name, count, root)
    connection = sqlite3.connect(path)
    with connection:
        connection.executemany(
            "INSERT INTO custody_event (seq, occurred_at, actor_type, actor_id, action, "
            "object_type, object_id, payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            events,
        )
        connection.executemany("INSERT INTO merkle_node (key, hash) VALUES (?, ?)", nodes)
        connection.execute(
            "INSERT INTO ledger_head (id, seq, hash, frontier) VALUES (1, ?, ?, ?)",
            (count, prev, format_frontier(frontier)),
        )
        connection.execute(
            "INSERT INTO checkpoint (size, root, text, created_at) VALUES (?, ?, ?, ?)",
            (count, root.hex(), text, dt.datetime.now(dt.UTC)),
        )
    connection.close()
    return time.perf_counter() - started


async def measure(settings: Settings, count: int) -> dict[str, float | int | bool]:
    db.bind(db.make_engine(settings))
    verifier = checkpoints.log_verifier(settings)
    started = time.perf_counter()
    result = await verify_chain(verifier)
    verify_seconds = time.perf_counter() - started
    latest = await checkpoints.latest_checkpoint()
    assert latest is not None
    root = bytes.fromhex(latest.root)
    timings = []
    for index in (count // 3, count - 1, 0, count // 2, 123_457 % count):
        started = time.perf_counter()
        proof = await checkpoints.inclusion_proof(index, count)
        timings.append(time.perf_counter() - started)
    check_started = time.perf_counter()
    leaf_row = await MerkleNode.select(MerkleNode.hash).where(MerkleNode.key == index).first()
    assert leaf_row is not None
    leaf = bytes.fromhex(leaf_row["hash"])
    merkle.verify_inclusion(index, count, leaf, proof, root)
    verify_proof_seconds = time.perf_counter() - check_started
    return {
        "events": result.events,
        "verify_ok": result.ok,
        "verify_seconds": round(verify_seconds, 2),
        "proof_ms_median": round(statistics.median(timings) * 1000, 2),
        "proof_ms_max": round(max(timings) * 1000, 2),
        "proof_hashes": len(proof),
        "leaf_lookup_and_check_ms": round(verify_proof_seconds * 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", default="/tmp/tipline-ledger-bench")
    args = parser.parse_args()
    data_dir = Path(args.dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(data_dir=data_dir, scheduler=False)
    env = {"TIPLINE_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "tipline", "migrate"], env=env, check=True)
    populate_seconds = populate(settings.sqlite_path, args.events, settings)
    figures = asyncio.run(measure(settings, args.events))
    figures["populate_seconds"] = round(populate_seconds, 1)
    figures["sqlite_mb"] = round(settings.sqlite_path.stat().st_size / 1e6, 1)
    print(json.dumps(figures, indent=2))
    ok = figures["verify_ok"] and figures["verify_seconds"] <= 20
    ok = ok and figures["proof_ms_median"] <= 5
    print("targets (verify <= 20 s, one proof <= 5 ms):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
