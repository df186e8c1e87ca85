package quant

import (
	"bytes"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
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

// CheckSigEncoding refuses an Ed25519 public key or signature that ZIP-215
// verification accepts but no honest signer makes: a public key or R that is
// a point of small order, either of them not canonically encoded, or an S
// not reduced below the group order L. A small-order key with a zero
// signature (or any small-order R and S = 0) verifies every message under
// ZIP-215's cofactored equation, so without this rule an open-signed chain
// takes records "signed" by no key; and a non-canonical encoding of a key,
// R or S is a second byte string for the same signature, so one body gets
// several ids. It runs before every transaction signature verification,
// single and batch, and costs two field reductions and a scalar check. It
// does not keep pub or sig.
func CheckSigEncoding(pub, sig []byte) error {
	if len(pub) != 32 || len(sig) != 64 {
		return Errorf(CodeBadSignature, "public key or signature has the wrong size")
	}
	if why := checkPoint(pub); why != "" {
		return Errorf(CodeBadSignature, "public key %s", why)
	}
	if why := checkPoint(sig[:32]); why != "" {
		return Errorf(CodeBadSignature, "signature R %s", why)
	}
	if _, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:]); err != nil {
		return Errorf(CodeBadSignature, "signature S is not reduced below the group order")
	}
	return nil
}

// torsionY is the y coordinate, as a canonical little-endian encoding, of
// each of the eight points of small order (the points P with 8·P the
// identity): 1 (the identity), p-1 (order 2), 0 (the two of order 4) and
// ±y8 (the four of order 8). A point has small order exactly when its y is
// one of these, since P and -P share a y and both or neither have small
// order. TestTorsionY and FuzzSmallOrder check the table against
// filippo.io/edwards25519's cofactor multiplication.
var torsionY = [...][32]byte{
	{0x01},
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{},
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
		0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
		0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
}

// checkPoint refuses a 32-byte point encoding whose y coordinate is not
// reduced (y >= p) or whose point has small order. The other non-canonical
// encodings, x = 0 with the sign bit set, are those of y = ±1: the identity
// and the point of order 2, so they are refused too. A y with no point is
// left to the verifier, which refuses it. It reduces y with
// filippo.io/edwards25519/field and compares it with torsionY rather than
// decompressing the point and multiplying it by the cofactor: the same
// answer (FuzzSmallOrder) for the cost of a comparison instead of two
// square roots per signature. It returns why b is refused, or "".
func checkPoint(b []byte) string {
	y, err := new(field.Element).SetBytes(b)
	if err != nil {
		return "has the wrong size"
	}
	c := y.Bytes()
	if c[31] != b[31]&0x7f || !bytes.Equal(c[:31], b[:31]) {
		return "is not canonically encoded"
	}
	for _, t := range torsionY {
		if bytes.Equal(c, t[:]) {
			return "is a point of small order"
		}
	}
	return ""
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
		bv  ed25519consensus.BatchVerifier // made at the first signature: unsigned runs allocate nothing
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
		if err := CheckSigEncoding(tx.PubKey, tx.Sig); err != nil {
			return i, err
		}
		if tx.Cosigs != nil {
			// Rare (multisig record writes): checked one by one.
			if err := CheckTxSignature(tx); err != nil {
				return i, err
			}
			continue
		}
		if idx == nil {
			bv = ed25519consensus.NewPreallocatedBatchVerifier(len(txs) - i)
			idx = make([]int, 0, len(txs)-i)
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
