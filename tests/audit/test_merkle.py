"""RFC 6962 trees: the right edge, inclusion and consistency proofs, checked against the definition."""

from __future__ import annotations

import hashlib

import pytest

from harambee_audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(70)]


def mth(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 section 2.1 defines it, recursively."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def nodes(size: int) -> dict[tuple[int, int], bytes]:
    """Every complete subtree of the first size leaves, as the service stores them."""
    frontier, stored = Frontier(), {}
    for index, leaf in enumerate(LEAVES[:size]):
        stored[(0, index)] = leaf
        stored.update({(level, idx): h for level, idx, h in frontier.append(leaf)})
    return stored


def test_hashes_are_domain_separated_as_in_rfc_6962() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


def test_the_frontier_root_is_the_merkle_tree_hash_at_every_size() -> None:
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size in range(1, len(LEAVES) + 1):
        frontier.append(LEAVES[size - 1])
        assert frontier.root() == mth(LEAVES[:size])
        restored = Frontier.from_bytes(size, frontier.to_bytes())
        assert restored.root() == frontier.root()


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 33, 70])
def test_every_inclusion_proof_verifies_and_a_wrong_leaf_does_not(size: int) -> None:
    stored, root = nodes(size), mth(LEAVES[:size])
    for index in range(size):
        proof = inclusion_proof(index, size, lambda lv, i: stored[(lv, i)])
        assert verify_inclusion(index, size, LEAVES[index], proof, root)
        assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
        if size > 1:
            assert not verify_inclusion((index + 1) % size, size, LEAVES[index], proof, root)


@pytest.mark.parametrize("second", [1, 2, 5, 8, 13, 32, 70])
def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not(second: int) -> None:
    stored, new_root = nodes(second), mth(LEAVES[:second])
    for first in range(1, second + 1):
        proof = consistency_proof(first, second, lambda lv, i: stored[(lv, i)])
        old_root = mth(LEAVES[:first])
        assert verify_consistency(first, second, old_root, new_root, proof)
        rewritten = mth([leaf_hash(b"rewritten"), *LEAVES[1:first]])
        assert not verify_consistency(first, second, rewritten, new_root, proof)
