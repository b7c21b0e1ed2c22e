"""RFC 9162 Merkle tree: roots and proofs against an independent implementation
(pymerkle, a dev-only dependency, which hashes as RFC 9162: 0x00 leaves, 0x01 nodes)
and a naive recursive reference written here from the RFC's definitions; broken
proofs of every kind are refused. The expectations never come from the module under
test: the leaf and node hashes below are written out with hashlib, and the RFC 6962
test vectors (the Certificate Transparency reference test data) are pinned as hex."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from tipline.ledger import merkle


def ref_leaf(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + data).digest()


def ref_node(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def ref_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, literally (over leaf hashes)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return ref_node(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


class Tree:
    """Leaves appended through the frontier, with the perfect-node cache it produces."""

    def __init__(self, count: int) -> None:
        self.data = [f"event {i}".encode() for i in range(count)]
        self.leaves = [ref_leaf(d) for d in self.data]
        self.nodes: dict[merkle.NodeId, bytes] = {}
        self.frontiers: list[list[bytes]] = [[]]
        frontier: list[bytes] = []
        for size, data in enumerate(self.data):
            leaf = merkle.leaf_hash(data)
            assert leaf == self.leaves[size]
            frontier, completed = merkle.frontier_append(frontier, size, leaf)
            self.frontiers.append(frontier)
            for level, index, value in completed:
                self.nodes[(level, index)] = value

    def root(self, size: int) -> bytes:
        return merkle.frontier_root(self.frontiers[size])

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.assemble(merkle.plan_inclusion(index, size), self.nodes)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return merkle.assemble(merkle.plan_consistency(old, new), self.nodes)


TREE = Tree(72)


def test_roots_and_proofs_match_pymerkle_and_the_rfc_reference() -> None:
    other = InmemoryTree(algorithm="sha256")
    for data in TREE.data:
        other.append_entry(data)
    for size in range(1, len(TREE.data) + 1):
        root = TREE.root(size)
        assert root == other.get_root(size) == ref_mth(TREE.leaves[:size])
        for index in range(size):
            proof = TREE.inclusion(index, size)
            assert proof == ref_path(index, TREE.leaves[:size])
            theirs = other.prove_inclusion(index + 1, size).serialize()["path"]
            assert [bytes.fromhex(h) for h in theirs[1:]] == proof
            merkle.verify_inclusion(index, size, TREE.leaves[index], proof, root)
        for old in range(1, size + 1):
            proof = TREE.consistency(old, size)
            assert proof == ref_subproof(old, TREE.leaves[:size], True)
            merkle.verify_consistency(old, size, TREE.root(old), root, proof)


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    empty = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert merkle.frontier_root([]) == empty
    merkle.verify_consistency(0, 5, empty, TREE.root(5), [])


# RFC 6962 test data (certificate-transparency's reference tests): eight leaves, the root
# of every prefix, and some inclusion and consistency proofs, as published hex.
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
_H = {
    "0": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "1": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0-2": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "2-4": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0-4": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4-6": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "6-8": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "4-8": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
}
RFC6962_INCLUSION = [  # (leaf index, tree size, path)
    (0, 8, ["1", "2-4", "4-8"]),
    (5, 8, ["4", "6-8", "0-4"]),
    (2, 3, ["0-2"]),
    (1, 5, ["0", "2-4", "4"]),
]
RFC6962_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["1", "2-4", "4-8"]),
    (6, 8, ["4-6", "6-8", "0-4"]),
    (2, 5, ["2-4", "4"]),
]


def _rfc6962_tree() -> tuple[list[list[bytes]], dict[merkle.NodeId, bytes]]:
    frontiers: list[list[bytes]] = [[]]
    nodes: dict[merkle.NodeId, bytes] = {}
    for size, data in enumerate(RFC6962_LEAVES):
        frontier, completed = merkle.frontier_append(frontiers[-1], size, merkle.leaf_hash(data))
        frontiers.append(frontier)
        nodes.update({(level, index): value for level, index, value in completed})
    return frontiers, nodes


def test_rfc6962_test_vectors() -> None:
    """Roots of every prefix of the RFC 6962 test leaves, and the published proofs."""
    assert merkle.leaf_hash(b"").hex() == RFC6962_ROOTS[0]
    assert merkle.leaf_hash(b"\x00").hex() == _H["1"]
    assert merkle.node_hash(merkle.leaf_hash(b""), merkle.leaf_hash(b"\x00")).hex() == _H["0-2"]
    frontiers, nodes = _rfc6962_tree()
    for size, expected in enumerate(RFC6962_ROOTS, start=1):
        leaves = [merkle.leaf_hash(d) for d in RFC6962_LEAVES[:size]]
        assert merkle.root_of_leaves(leaves).hex() == expected, size
        assert merkle.frontier_root(frontiers[size]).hex() == expected, size
    for index, size, names in RFC6962_INCLUSION:
        proof = merkle.assemble(merkle.plan_inclusion(index, size), nodes)
        assert [p.hex() for p in proof] == [_H[n] for n in names], (index, size)
        leaf = merkle.leaf_hash(RFC6962_LEAVES[index])
        root = bytes.fromhex(RFC6962_ROOTS[size - 1])
        merkle.verify_inclusion(index, size, leaf, proof, root)
    for old, new, names in RFC6962_CONSISTENCY:
        proof = merkle.assemble(merkle.plan_consistency(old, new), nodes)
        assert [p.hex() for p in proof] == [_H[n] for n in names], (old, new)
        first, second = (bytes.fromhex(RFC6962_ROOTS[s - 1]) for s in (old, new))
        merkle.verify_consistency(old, new, first, second, proof)


def _flips(proof: list[bytes]) -> list[list[bytes]]:
    broken = []
    for position in range(len(proof)):
        for bit in (0, 7, 255):
            changed = bytearray(proof[position])
            changed[bit // 8] ^= 1 << (bit % 8)
            broken.append([*proof[:position], bytes(changed), *proof[position + 1 :]])
    return broken


@pytest.mark.parametrize(("index", "size"), [(0, 2), (1, 3), (5, 7), (6, 7), (12, 64), (69, 71)])
def test_broken_inclusion_proofs_fail(index: int, size: int) -> None:
    proof = TREE.inclusion(index, size)
    root, leaf = TREE.root(size), TREE.leaves[index]
    merkle.verify_inclusion(index, size, leaf, proof, root)
    bad = [
        *(lambda p=p: merkle.verify_inclusion(index, size, leaf, p, root) for p in _flips(proof)),
        lambda: merkle.verify_inclusion(index, size, leaf, proof[:-1], root),
        lambda: merkle.verify_inclusion(
            index, size, leaf, [*proof, proof[0] if proof else leaf], root
        ),
        lambda: merkle.verify_inclusion(index, size, leaf, [*proof, b"\x00" * 32], root),
        lambda: merkle.verify_inclusion(index, size + 1, leaf, proof, TREE.root(size + 1)),
        lambda: merkle.verify_inclusion(index, size, leaf, proof, TREE.root(size - 1 or 2)),
        lambda: merkle.verify_inclusion(index, size, TREE.leaves[(index + 1) % 70], proof, root),
        lambda: merkle.verify_inclusion(size, size, leaf, proof, root),
        lambda: merkle.verify_inclusion(-1, size, leaf, proof, root),
        lambda: merkle.verify_inclusion(index, size, leaf, [p[:31] for p in proof], root),
        lambda: merkle.verify_inclusion(index, size, leaf, proof, root[:31]),
    ]
    if size > 1:
        bad.append(lambda: merkle.verify_inclusion(index ^ 1, size, leaf, proof, root))
        if len(proof) > 1:
            bad.append(lambda: merkle.verify_inclusion(index, size, leaf, proof[::-1], root))
    for attempt in bad:
        with pytest.raises(merkle.ProofError):
            attempt()


@pytest.mark.parametrize(("old", "new"), [(1, 2), (3, 7), (4, 8), (6, 8), (7, 70), (32, 33)])
def test_broken_consistency_proofs_fail(old: int, new: int) -> None:
    proof = TREE.consistency(old, new)
    first, second = TREE.root(old), TREE.root(new)
    merkle.verify_consistency(old, new, first, second, proof)
    bad = [
        *(lambda p=p: merkle.verify_consistency(old, new, first, second, p) for p in _flips(proof)),
        lambda: merkle.verify_consistency(old, new, first, second, proof[:-1]),
        lambda: merkle.verify_consistency(old, new, first, second, proof[1:]),
        lambda: merkle.verify_consistency(old, new, first, second, [*proof, proof[0]]),
        lambda: merkle.verify_consistency(old, new, first, second, []),
        lambda: merkle.verify_consistency(old, new + 1, first, TREE.root(new + 1), proof),
        lambda: merkle.verify_consistency(old + 1, new, TREE.root(old + 1), second, proof),
        lambda: merkle.verify_consistency(old, new, second, first, proof),
        lambda: merkle.verify_consistency(new, old, first, second, proof),
        lambda: merkle.verify_consistency(old, new, TREE.root(old + 1), second, proof),
    ]
    for attempt in bad:
        with pytest.raises(merkle.ProofError):
            attempt()


def test_plans_refuse_impossible_indices() -> None:
    for index, size in [(0, 0), (3, 3), (-1, 2)]:
        with pytest.raises(merkle.ProofError):
            merkle.plan_inclusion(index, size)
    for old, new in [(0, 3), (4, 3)]:
        with pytest.raises(merkle.ProofError):
            merkle.plan_consistency(old, new)


def test_frontier_has_one_hash_per_set_bit() -> None:
    for size, frontier in enumerate(TREE.frontiers):
        assert len(frontier) == size.bit_count()
    with pytest.raises(ValueError):
        merkle.frontier_append([], 3, TREE.leaves[0])


sizes = st.integers(min_value=1, max_value=70)


def _bit_flipper(data: st.DataObject) -> Callable[[bytes], bytes]:
    """Flip one drawn bit (of the first 32 bytes) of a hash."""
    bit = data.draw(st.integers(0, 255))
    return lambda value: bytes(
        b ^ (1 << (bit % 8)) if i == bit // 8 else b for i, b in enumerate(value)
    )


def _flip_one(
    data: st.DataObject, proof: list[bytes], flip: Callable[[bytes], bytes]
) -> list[bytes]:
    """``proof`` with one drawn hash flipped."""
    position = data.draw(st.integers(0, len(proof) - 1))
    return [flip(p) if i == position else p for i, p in enumerate(proof)]


@settings(max_examples=300, deadline=None)
@given(size=sizes, data=st.data())
def test_every_inclusion_proof_verifies_and_any_change_fails(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1))
    proof = TREE.inclusion(index, size)
    root, leaf = TREE.root(size), TREE.leaves[index]
    merkle.verify_inclusion(index, size, leaf, proof, root)
    what = data.draw(st.sampled_from(["proof", "leaf", "root", "index", "size"]))
    if what == "proof" and not proof:
        what = "leaf"
    if what == "size" and index == 69:
        what = "root"
    flip = _bit_flipper(data)
    if what == "proof":
        proof = _flip_one(data, proof, flip)
    elif what == "leaf":
        leaf = flip(leaf)
    elif what == "root":
        root = flip(root)
    elif what == "index":
        index = data.draw(st.integers(0, size).filter(lambda i: i != index))
    else:
        # A wrong size comes with that size's real root: the size is bound by the signed
        # checkpoint, and two sizes can share a path shape (leaf 1 of 3 and of 4).
        size = data.draw(st.integers(index + 1, 70).filter(lambda s: s != size))
        root = TREE.root(size)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, leaf, proof, root)


@settings(max_examples=300, deadline=None)
@given(new=sizes, data=st.data())
def test_every_consistency_proof_verifies_and_any_change_fails(
    new: int, data: st.DataObject
) -> None:
    old = data.draw(st.integers(1, new))
    proof = TREE.consistency(old, new)
    first, second = TREE.root(old), TREE.root(new)
    merkle.verify_consistency(old, new, first, second, proof)
    what = data.draw(st.sampled_from(["proof", "first", "second", "old", "new"]))
    if what == "proof" and not proof:
        what = "first"
    if (what == "old" and new == 1) or (what == "new" and old == 70):
        what = "second"
    flip = _bit_flipper(data)
    if what == "proof":
        proof = _flip_one(data, proof, flip)
    elif what == "first":
        first = flip(first)
    elif what == "second":
        second = flip(second)
    elif what == "old":
        old = data.draw(st.integers(1, new).filter(lambda s: s != old))
        first = TREE.root(old)
    else:
        new = data.draw(st.integers(old, 70).filter(lambda s: s != new))
        second = TREE.root(new)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, new, first, second, proof)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.text(), min_size=5, max_size=5),
    actor_id=st.none() | st.text(),
    seq=st.integers(1, 2**40),
    moment=st.datetimes(timezones=st.timezones()),
)
def test_canonical_event_is_canonical_json_of_the_event(
    texts: list[str], actor_id: str | None, seq: int, moment: object
) -> None:
    """The hand-written encoding equals the definition (sorted-key json.dumps)."""
    from tipline.ledger.services import canonical_event, canonical_event_reference

    fields = dict(
        seq=seq,
        occurred_at=moment,
        actor_type=texts[0],
        actor_id=actor_id,
        action=texts[1],
        object_type=texts[2],
        object_id=texts[3],
        payload=texts[4],
        prev_hash="ab" * 32,
    )
    assert canonical_event(**fields) == canonical_event_reference(**fields)  # type: ignore[arg-type]
