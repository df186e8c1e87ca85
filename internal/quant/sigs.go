package quant

import (
	"github.com/hdevalence/ed25519consensus"
)

// Signatures are verified with ZIP-215 rules (github.com/hdevalence/
// ed25519consensus), one at a time or in batches: the rules are defined so
// that a batch accepts exactly the signatures that single verification
// accepts, which every node must agree on. (crypto/ed25519 follows RFC 8032's
// stricter point checks, under which batch and single verification can
// disagree on crafted keys.)

// verify checks one Ed25519 signature under ZIP-215 rules.
func verify(pub, msg, sig []byte) bool {
	return ed25519consensus.Verify(pub, msg, sig)
}

// minBatch is the smallest run of signed transactions worth a batch: below
// it, single verification is as fast.
const minBatch = 8

// CheckTxSignatures verifies the signatures of txs, in batches where that is
// faster, and returns the index of the first transaction that fails (and its
// error), or -1 and nil. Transactions for which skip(i) is true (already
// verified) and unsigned ones are not checked. It does not keep txs.
func CheckTxSignatures(txs []*Tx, skip func(i int) bool) (int, error) {
	var (
		bv  = ed25519consensus.NewPreallocatedBatchVerifier(len(txs))
		idx []int
	)
	for i, tx := range txs {
		if skip != nil && skip(i) {
			continue
		}
		if !tx.Signed() {
			if tx.Sig != nil {
				return i, Errorf(CodeBadSignature, "signature without a public key")
			}
			continue
		}
		if len(tx.PubKey) != 32 || len(tx.Sig) != 64 {
			return i, Errorf(CodeBadSignature, "public key or signature has the wrong size")
		}
		bv.Add(tx.PubKey, tx.SigningBytes(), tx.Sig)
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return -1, nil
	}
	if len(idx) >= minBatch && bv.Verify() {
		return -1, nil
	}
	// A small run, or a batch with a bad signature in it: find it.
	for _, i := range idx {
		if err := CheckTxSignature(txs[i]); err != nil {
			return i, err
		}
	}
	return -1, nil
}
