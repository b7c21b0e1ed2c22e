"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0) over custody events, pure code.

Why a tree on top of the hash chain: the chain proves nothing to someone who holds
only one event. A signed tree head (checkpoint) plus an inclusion proof of
``log2 n`` hashes lets a tipster or a competent authority check that *their* event is
in the ledger the inspector watches, and a consistency proof lets anyone check that a
later checkpoint extends an earlier one (nothing was removed or rewritten).

Hashes (RFC 9162 §2.1.1): ``leaf = SHA-256(0x00 ‖ data)``, ``node = SHA-256(0x01 ‖ l ‖ r)``,
the empty tree's root is ``SHA-256()``. Leaves are indexed from 0 (leaf ``i`` is the
event with ``seq = i + 1``).

A *perfect node* ``(level, index)`` is the root of the complete subtree over leaves
``[index·2^level, (index+1)·2^level)``. Every subtree an RFC proof names is either a
perfect node or folds from a few of them, so proofs need only stored perfect nodes
(``plan_*`` lists which, :func:`assemble` folds them). Nothing here touches a database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""``(level, index)`` of a perfect node; level 0 are the leaves."""


class ProofError(ValueError):
    """A proof does not verify (or cannot be asked for these indices and sizes)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


# --- the frontier: the compact state of an append-only tree ---------------------------------


def frontier_append(
    frontier: Sequence[bytes], size: int, leaf: bytes
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append one leaf to a tree of ``size`` leaves; O(log n).

    ``frontier`` holds the roots of the perfect subtrees that make up the tree, largest
    first (one per set bit of ``size``). Returns the new frontier and the perfect nodes
    this append completed, ``(level, index, hash)``, starting with the leaf itself.
    """
    if len(frontier) != size.bit_count():
        raise ValueError(f"a frontier of a {size}-leaf tree has {size.bit_count()} hashes")
    stack = list(frontier)
    completed = [(0, size, leaf)]
    current, level, index, rest = leaf, 0, size, size
    while rest & 1:
        current = node_hash(stack.pop(), current)
        level, index, rest = level + 1, index >> 1, rest >> 1
        completed.append((level, index, current))
    stack.append(current)
    return stack, completed


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """The tree head from the frontier: fold the subtree roots from the right."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        root = node_hash(subtree, root)
    return root


def frontier_from_leaves(leaves: Sequence[bytes]) -> list[bytes]:
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        frontier, _ = frontier_append(frontier, size, leaf)
    return frontier


def root_of_leaves(leaves: Sequence[bytes]) -> bytes:
    return frontier_root(frontier_from_leaves(leaves))


# --- proof plans: which perfect nodes a proof needs ----------------------------------------


def _range_nodes(start: int, end: int) -> list[NodeId]:
    """The perfect nodes covering ``[start, end)``, largest first.

    Holds for the subtrees RFC proofs name: ``start`` is a multiple of a power of two
    at least ``end - start``, so the range splits along the set bits of its length.
    """
    nodes = []
    position, length = start, end - start
    for level in range(length.bit_length() - 1, -1, -1):
        if length >> level & 1:
            nodes.append((level, position >> level))
            position += 1 << level
    return nodes


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[start:end]) as leaf ranges, bottom first."""
    n = end - start
    if n == 1:
        return []
    k = _largest_power_below(n)
    if index < k:
        return [*_inclusion_ranges(index, start, start + k), (start + k, end)]
    return [*_inclusion_ranges(index - k, start + k, end), (start, start + k)]


def _consistency_ranges(m: int, start: int, end: int, whole: bool) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b) as leaf ranges."""
    n = end - start
    if m == n:
        return [] if whole else [(start, end)]
    k = _largest_power_below(n)
    if m <= k:
        return [*_consistency_ranges(m, start, start + k, whole), (start + k, end)]
    return [*_consistency_ranges(m - k, start + k, end, False), (start, start + k)]


Plan = list[list[NodeId]]
"""One entry per proof hash: the perfect nodes that fold into it."""


def plan_inclusion(index: int, size: int) -> Plan:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of {size} leaves")
    return [_range_nodes(a, b) for a, b in _inclusion_ranges(index, 0, size)]


def plan_consistency(old_size: int, new_size: int) -> Plan:
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
    return [_range_nodes(a, b) for a, b in _consistency_ranges(old_size, 0, new_size, True)]


def plan_root(size: int) -> list[NodeId]:
    return _range_nodes(0, size)


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root of consecutive perfect subtrees, largest first (fold from the right)."""
    if not hashes:
        return EMPTY_ROOT
    return frontier_root(hashes)


def needed_nodes(plan: Plan) -> set[NodeId]:
    return {node for element in plan for node in element}


def assemble(plan: Plan, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """The proof hashes of ``plan`` from looked-up perfect nodes."""
    return [fold([nodes[node] for node in element]) for element in plan]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ----------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1–6: the root a proof leads to (raises when malformed)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of {size} leaves")
    _check_hash(leaf, "the leaf hash")
    fn, sn, r = index, size - 1, leaf
    for position, p in enumerate(proof):
        _check_hash(p, f"proof hash {position}")
        if sn == 0:
            raise ProofError("the proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``leaf`` is leaf ``index`` of the tree ``root``."""
    _check_hash(root, "the root")
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("the proof does not lead to the checkpoint's root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise unless tree ``new_root`` extends tree ``old_root``."""
    _check_hash(old_root, "the first root")
    _check_hash(new_root, "the second root")
    for position, p in enumerate(proof):
        _check_hash(p, f"proof hash {position}")
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency from size {old_size} to {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if old_root != new_root:
            raise ProofError("equal sizes but different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofError("the empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("the proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the path")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path")
    if fr != old_root:
        raise ProofError("the proof does not lead to the first root")
    if sr != new_root:
        raise ProofError("the proof does not lead to the second root")
