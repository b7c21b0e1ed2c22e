"""Receipts: 24 digits, every digit as likely as any other, never repeated."""

from __future__ import annotations

import collections
import inspect

from tipline.intake import receipts


def test_a_receipt_is_24_digits_and_reads_as_six_groups() -> None:
    digits = receipts.new_receipt()
    assert len(digits) == 24 and digits.isdigit()
    assert receipts.normalize_receipt(receipts.format_receipt(digits)) == digits


def test_digits_are_uniform_in_every_position_leading_zeros_included() -> None:
    # Unwrapped: the trace scan need not look for 20,000 receipts no tip was stored with.
    draw = inspect.unwrap(receipts.new_receipt)
    draws = [draw() for _ in range(20_000)]
    assert len(set(draws)) == len(draws)
    for position in (0, 11, 23):
        counts = collections.Counter(draw[position] for draw in draws)
        assert set(counts) == set("0123456789")
        # 2,000 expected per digit; a fair draw stays within ±15 % (p < 1e-10 otherwise).
        assert all(1_700 <= count <= 2_300 for count in counts.values()), counts
