// Package merkle computes Merkle tree roots over transaction ids and the
// inclusion proofs that show one id is under a root, as RFC 6962 (Certificate
// Transparency) defines them: leaves hash as SHA-256(0x00 || leaf), interior
// nodes as SHA-256(0x01 || left || right), so a leaf can never pass for a
// node (the second-preimage attack on naive Merkle trees), and an odd node is
// carried up, not duplicated (the CVE-2012-2459 duplicate-leaf attack).
package merkle

import (
	"crypto/sha256"
	"errors"
)

// Size is the size of a leaf and of every hash.
const Size = 32

// MaxProofLen bounds an inclusion proof: a tree of 2^64 leaves needs 64.
const MaxProofLen = 64

// Errors returned by Verify.
var (
	ErrIndex    = errors.New("merkle: leaf index out of range")
	ErrProofLen = errors.New("merkle: proof has the wrong length")
	ErrMismatch = errors.New("merkle: proof does not lead to the root")
)

// LeafHash is the hash of one leaf.
func LeafHash(leaf [Size]byte) [Size]byte {
	var b [1 + Size]byte
	copy(b[1:], leaf[:])
	return sha256.Sum256(b[:])
}

// NodeHash is the hash of an interior node.
func NodeHash(l, r [Size]byte) [Size]byte {
	var b [1 + 2*Size]byte
	b[0] = 1
	copy(b[1:], l[:])
	copy(b[1+Size:], r[:])
	return sha256.Sum256(b[:])
}

// Root returns the root of the tree over leaves: SHA-256 of nothing for no
// leaves, as RFC 6962 says. It does not keep leaves.
func Root(leaves [][Size]byte) [Size]byte {
	if len(leaves) == 0 {
		return sha256.Sum256(nil)
	}
	level := make([][Size]byte, len(leaves))
	for i, l := range leaves {
		level[i] = LeafHash(l)
	}
	// Pairing left to right and carrying an odd last node up gives the same
	// tree as RFC 6962's split at the largest power of two below n.
	for len(level) > 1 {
		level = up(level, level[:0])
	}
	return level[0]
}

// up hashes one level of the tree into the next, appending to next (which
// may share level's memory: each write lands at or before the reads still to
// come).
func up(level, next [][Size]byte) [][Size]byte {
	for i := 0; i < len(level); i += 2 {
		if i+1 == len(level) {
			next = append(next, level[i])
		} else {
			next = append(next, NodeHash(level[i], level[i+1]))
		}
	}
	return next
}

// Proof returns the inclusion proof (audit path) for leaf index in the tree
// over leaves, from the leaf's sibling up to the root's child.
func Proof(leaves [][Size]byte, index int) ([][Size]byte, error) {
	if index < 0 || index >= len(leaves) {
		return nil, ErrIndex
	}
	level := make([][Size]byte, len(leaves))
	for i, l := range leaves {
		level[i] = LeafHash(l)
	}
	var path [][Size]byte
	for len(level) > 1 {
		sib := index ^ 1
		if sib < len(level) {
			path = append(path, level[sib])
		}
		level = up(level, level[:0])
		index /= 2
	}
	return path, nil
}

// Verify checks that leaf is at index in a tree of size leaves whose root is
// root, given its proof. It stops a peer or server from claiming that a
// transaction is in a quant when it is not. size must come from the same
// authenticated source as root (the header's TxCount): as in RFC 9162, a
// proof for one (index, size) can also fit another pair of the same shape.
func Verify(root, leaf [Size]byte, index, size uint64, proof [][Size]byte) error {
	if index >= size {
		return ErrIndex
	}
	if len(proof) > MaxProofLen {
		return ErrProofLen
	}
	h := LeafHash(leaf)
	used := 0
	for last := size - 1; last > 0; index, last = index/2, last/2 {
		switch {
		case index%2 == 1:
			if used == len(proof) {
				return ErrProofLen
			}
			h = NodeHash(proof[used], h)
			used++
		case index < last:
			if used == len(proof) {
				return ErrProofLen
			}
			h = NodeHash(h, proof[used])
			used++
		}
		// index == last and even: the node is carried up unchanged.
	}
	if used != len(proof) {
		return ErrProofLen
	}
	if h != root {
		return ErrMismatch
	}
	return nil
}
