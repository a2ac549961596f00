"""RFC 6962 / RFC 9162 Merkle trees: leaf and node hashes, the growing right edge, proofs and their checks.

Pure functions over bytes: the service builds proofs from stored nodes, the offline verifier checks them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# A complete subtree: (level, index) covers leaves [index * 2**level, (index + 1) * 2**level).
NodeId = tuple[int, int]
NodeGetter = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The roots of the complete subtrees covering leaves [0, size), largest first (a compact range)."""

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        self.size = size
        self.hashes = list(hashes or [])
        if len(self.hashes) != size.bit_count():
            raise ValueError("a frontier holds one hash per set bit of its size")

    @classmethod
    def from_bytes(cls, size: int, packed: bytes) -> Frontier:
        """Unpacks the concatenated hashes stored with a log head."""
        return cls(size, [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)])

    def to_bytes(self) -> bytes:
        """The hashes concatenated, for storage."""
        return b"".join(self.hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Adds a leaf hash; returns the complete subtrees it closed as (level, index, hash)."""
        closed = []
        h, level, index, size = leaf, 0, self.size, self.size
        while size & 1:
            h = node_hash(self.hashes.pop(), h)
            level, index, size = level + 1, index >> 1, size >> 1
            closed.append((level, index, h))
        self.hashes.append(h)
        self.size += 1
        return closed

    def root(self) -> bytes:
        """The Merkle tree hash of leaves [0, size)."""
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            root = node_hash(h, root)
        return root

    def subtrees(self) -> list[NodeId]:
        """The (level, index) of each hash, largest first."""
        ids, start = [], 0
        for level in range(self.size.bit_length() - 1, -1, -1):
            if self.size >> level & 1:
                ids.append((level, start >> level))
                start += 1 << level
        return ids


def frontier_ids(size: int) -> list[NodeId]:
    """The complete subtrees covering leaves [0, size), largest first."""
    return Frontier(size, [b""] * size.bit_count()).subtrees()


def subtree_hash(start: int, end: int, node: NodeGetter) -> bytes:
    """MTH(D[start:end]) for a range whose complete subtrees are aligned (as in every proof)."""
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return node(level, start >> level)
    k = _split(n)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def inclusion_proof(index: int, size: int, node: NodeGetter) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
    if not 0 <= index < size:
        raise ValueError("the leaf is not in the tree")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*path(m, start, start + k), subtree_hash(start + k, end, node)]
        return [*path(m - k, start + k, end), subtree_hash(start, start + k, node)]

    return path(index, 0, size)


def consistency_proof(first: int, second: int, node: NodeGetter) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 section 2.1.4.1 (empty when first is 0 or second)."""
    if not 0 <= first <= second:
        raise ValueError("the first tree must not be larger than the second")
    if first in (0, second):
        return []

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [subtree_hash(start, end, node)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), subtree_hash(start + k, end, node)]
        return [*subproof(m - k, start + k, end, False), subtree_hash(start, start + k, node)]

    return subproof(first, 0, second, True)


def nodes_needed(build: Callable[[NodeGetter], object]) -> set[NodeId]:
    """The complete subtrees a proof reads (its shape does not depend on hash values)."""
    needed: set[NodeId] = set()

    def record(level: int, index: int) -> bytes:
        needed.add((level, index))
        return bytes(HASH_SIZE)

    build(record)
    return needed


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """Whether proof shows leaf at index in the tree of size with this root (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """Whether proof shows the first tree is a prefix of the second (RFC 9162 2.1.4.2)."""
    if first > second or first < 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
