"""Benchmark (not a test): what sealing a tip's data key and stream-encrypting its files
cost, side by side in one run.

A tip's data key is sealed to every recipient (the officers with keys and the escrow
key), and each attachment is encrypted as a stream of chunks; both sit on the tip box's
path. Prints the time per sealing to three recipients, per megabyte streamed, and how
many megabytes stream in the time of one sealing (a ratio, steadier than either figure
on a shared machine).

    .venv/bin/python -m bench.sealing [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import time

from tipline.crypto import primitives
from tipline.crypto.primitives import StreamEncryptor, new_data_key, seal_data_key

CONTEXT = b"tip:17/content"


def _encrypt_stream(key: bytes, plaintext: bytes, piece: int) -> bytes:
    encryptor = StreamEncryptor(key, context=CONTEXT)
    out = [encryptor.update(plaintext[i : i + piece]) for i in range(0, len(plaintext), piece)]
    return b"".join([*out, encryptor.finalize()])


def measure(rounds: int) -> tuple[float, float]:
    """Milliseconds to seal one data key to three recipients, and to stream 1 MB."""
    recipients = [primitives.new_key_pair().public_key() for _ in range(3)]
    data_key = new_data_key()
    start = time.perf_counter()
    for index in range(rounds):
        for public in recipients:
            seal_data_key(data_key, public, tip_id=index, purpose="content")
    seal_ms = (time.perf_counter() - start) / rounds * 1000
    megabyte = os.urandom(1024 * 1024)
    passes = max(1, rounds // 20)
    start = time.perf_counter()
    for _ in range(passes):
        _encrypt_stream(data_key, megabyte, piece=16 * 1024)
    stream_ms = (time.perf_counter() - start) / passes * 1000
    return seal_ms, stream_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="sealings to time")
    args = parser.parse_args(argv)
    seal_ms, stream_ms = measure(args.rounds)
    print(f"seal a 32-byte data key to 3 recipients: {seal_ms:.3f} ms")
    print(f"stream-encrypt 1 MB (16 KiB pieces):     {stream_ms:.2f} ms")
    print(f"ratio stream 1 MB / seal to 3:           {stream_ms / seal_ms:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
