package quant

import (
	"github.com/hdevalence/ed25519consensus"
	"golang.org/x/sync/errgroup"
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

// sigChunk is the run of transactions verified as one batch by
// CheckTxSignaturesParallel: small enough to spread a quant over the cores.
// Batches of 64 to 512 verify at about the same rate per core, larger ones
// more slowly (BenchmarkVerifyBatchSizes, one core of this machine: 19,900
// to 24,000 signatures/s at 64, 18,700 to 22,000 at 512, 16,100 to 16,600
// at 4,096).
const sigChunk = 64

// CheckTxSignaturesParallel is CheckTxSignatures for the transactions of a
// whole quant: batches of sigChunk, spread over workers goroutines, each
// taking a contiguous share. It returns the lowest failing index, as
// CheckTxSignatures does. skip may be called concurrently.
func CheckTxSignaturesParallel(txs []*Tx, skip func(i int) bool, workers int) (int, error) {
	chunks := (len(txs) + sigChunk - 1) / sigChunk
	workers = max(min(workers, chunks), 1)
	at := make([]int, workers)
	errs := make([]error, workers)
	var g errgroup.Group
	for w := range workers {
		// Worker w verifies chunks [w*chunks/workers, (w+1)*chunks/workers).
		lo := w * chunks / workers * sigChunk
		hi := min((w+1)*chunks/workers*sigChunk, len(txs))
		g.Go(func() error {
			for c := lo; c < hi; c += sigChunk {
				var sk func(int) bool
				if skip != nil {
					sk = func(i int) bool { return skip(c + i) }
				}
				if i, err := CheckTxSignatures(txs[c:min(c+sigChunk, hi)], sk); err != nil {
					at[w], errs[w] = c+i, err
					return nil
				}
			}
			return nil
		})
	}
	g.Wait()
	for w, err := range errs {
		if err != nil {
			return at[w], err
		}
	}
	return -1, nil
}
