package quant

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"testing"

	"filippo.io/edwards25519"
	"github.com/hdevalence/ed25519consensus"
)

func signedTxs(n int) []*Tx {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	txs := make([]*Tx, n)
	for i := range txs {
		txs[i] = &Tx{Time: 1, Nonce: uint64(i), Kind: DataJSON, Data: []byte(fmt.Sprintf(`{"i":%d,"pad":"%0180d"}`, i, 0))}
		txs[i].Sign(key)
	}
	return txs
}

func TestCheckTxSignatures(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 64} {
		txs := signedTxs(n)
		if i, err := CheckTxSignatures(txs, nil); i != -1 || err != nil {
			t.Fatalf("n=%d good batch: %d %v", n, i, err)
		}
		if n == 0 {
			continue
		}
		bad := n / 2
		txs[bad].Data = []byte(`{"tampered":true}`)
		if i, err := CheckTxSignatures(txs, nil); i != bad || CodeOf(err) != CodeBadSignature {
			t.Fatalf("n=%d tampered tx %d: got %d %v", n, bad, i, err)
		}
		// Skipped transactions are not checked.
		if i, err := CheckTxSignatures(txs, func(i int) bool { return i == bad }); i != -1 || err != nil {
			t.Fatalf("n=%d skipping the tampered one: %d %v", n, i, err)
		}
	}
	// Unsigned transactions pass; a signature without a key does not.
	txs := append(signedTxs(10), &Tx{Kind: DataJSON, Data: []byte(`1`)})
	if i, err := CheckTxSignatures(txs, nil); i != -1 || err != nil {
		t.Fatalf("with an unsigned tx: %d %v", i, err)
	}
	txs[10].Sig = make([]byte, 64)
	if i, err := CheckTxSignatures(txs, nil); i != 10 || CodeOf(err) != CodeBadSignature {
		t.Fatalf("signature without key: %d %v", i, err)
	}
}

func BenchmarkVerifySingle(b *testing.B) {
	txs := signedTxs(64)
	for i := 0; b.Loop(); i++ {
		if err := CheckTxSignature(txs[i%64]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyBatch64(b *testing.B) {
	txs := signedTxs(64)
	for b.Loop() {
		if i, err := CheckTxSignatures(txs, nil); err != nil {
			b.Fatal(i, err)
		}
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "sigs/s")
}

// TestCheckTxSignaturesParallel: spread over cores, the check finds the
// same (lowest) bad transaction as the serial one, and honours skip.
func TestCheckTxSignaturesParallel(t *testing.T) {
	txs := signedTxs(10*sigChunk + 17)
	if i, err := CheckTxSignaturesParallel(txs, nil, 4); i != -1 || err != nil {
		t.Fatalf("good quant: %d %v", i, err)
	}
	// Two bad ones in different chunks: the lower is reported.
	for _, bad := range []int{7*sigChunk + 5, sigChunk + 1} {
		txs[bad].Data = []byte(`{"tampered":true}`)
	}
	if i, err := CheckTxSignaturesParallel(txs, nil, 4); i != sigChunk+1 || CodeOf(err) != CodeBadSignature {
		t.Fatalf("tampered: got %d %v, want %d", i, err, sigChunk+1)
	}
	skip := func(i int) bool { return i == sigChunk+1 }
	if i, err := CheckTxSignaturesParallel(txs, skip, 4); i != 7*sigChunk+5 || err == nil {
		t.Fatalf("skipping the first tampered one: got %d %v", i, err)
	}
	if i, err := CheckTxSignaturesParallel(txs, nil, 1); i != sigChunk+1 || err == nil {
		t.Fatalf("one worker: got %d %v", i, err)
	}
}

func BenchmarkVerifyQuantParallel(b *testing.B) {
	txs := signedTxs(4096)
	for b.Loop() {
		if i, err := CheckTxSignaturesParallel(txs, nil, runtime.GOMAXPROCS(0)); err != nil {
			b.Fatal(i, err)
		}
	}
	b.ReportMetric(float64(b.N*len(txs))/b.Elapsed().Seconds(), "sigs/s")
}

// BenchmarkVerifyBatchSizes shows why CheckTxSignaturesParallel verifies in
// batches of sigChunk: a batch costs more per signature as it grows.
func BenchmarkVerifyBatchSizes(b *testing.B) {
	for _, n := range []int{64, 256, 512, 4096} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			txs := signedTxs(n)
			for b.Loop() {
				if i, err := CheckTxSignatures(txs, nil); err != nil {
					b.Fatal(i, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "sigs/s")
		})
	}
}

// smallOrder is every 32-byte encoding of a point of small order that
// decodes under ZIP-215: the eight torsion points, with either sign bit
// where it decodes, and the non-canonical y = p, p+1 (y = 0, 1 again). The
// canonical ones are libsodium's blocklist; the rest differ in the sign bit
// or by p.
var smallOrder = []struct{ name, hex string }{
	{"identity (order 1)", "0100000000000000000000000000000000000000000000000000000000000000"},
	{"identity, x=0 with sign bit", "0100000000000000000000000000000000000000000000000000000000000080"},
	{"identity as y=p+1", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"identity as y=p+1 with sign bit", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"order 2 (y=p-1)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"order 2, x=0 with sign bit", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"order 4 (y=0)", "0000000000000000000000000000000000000000000000000000000000000000"},
	{"order 4 (y=0, other x)", "0000000000000000000000000000000000000000000000000000000000000080"},
	{"order 4 as y=p", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"order 4 as y=p, other x", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"},
	{"order 8, other x", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"},
	{"order 8, y negated", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"},
	{"order 8, y negated, other x", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"},
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSmallOrderForgery shows the attack CheckSigEncoding stops: under
// ZIP-215 alone, every small-order key "signs" any message with a
// signature of a small-order R and S = 0 (the all-zero signature among
// them), in single and batch verification; with the rule, every such
// transaction is refused with bad_signature.
func TestSmallOrderForgery(t *testing.T) {
	zeroS := make([]byte, 32)
	for _, k := range smallOrder {
		for _, r := range []string{smallOrder[0].hex, smallOrder[6].hex} { // R = identity; the all-zero signature
			t.Run(k.name+"/R="+r[:4], func(t *testing.T) {
				pub := mustHex(t, k.hex)
				sig := append(mustHex(t, r), zeroS...)
				tx := &Tx{Time: 1, Kind: DataJSON, Data: []byte(`{"forged":true}`), PubKey: pub, Sig: sig}
				msg := tx.SigningBytes()
				if !ed25519consensus.Verify(pub, msg, sig) {
					t.Fatal("ZIP-215 refuses the forgery by itself; the table is wrong")
				}
				bv := ed25519consensus.NewBatchVerifier()
				bv.Add(pub, msg, sig)
				if !bv.Verify() {
					t.Fatal("ZIP-215 batch refuses the forgery by itself")
				}
				if err := CheckTxSignature(tx); CodeOf(err) != CodeBadSignature {
					t.Fatalf("CheckTxSignature: %v", err)
				}
				txs := append(signedTxs(minBatch), tx)
				if i, err := CheckTxSignatures(txs, nil); i != minBatch || CodeOf(err) != CodeBadSignature {
					t.Fatalf("CheckTxSignatures: %d %v", i, err)
				}
				if i, err := CheckTxSignaturesParallel(txs, nil, 2); i != minBatch || CodeOf(err) != CodeBadSignature {
					t.Fatalf("CheckTxSignaturesParallel: %d %v", i, err)
				}
			})
		}
	}
}

// TestCheckSigEncoding: each way a key or signature can be badly encoded,
// refused by code, and an honest signature passed.
func TestCheckSigEncoding(t *testing.T) {
	good := signedTxs(1)[0]
	pub, sig := good.PubKey, good.Sig
	with := func(b []byte, at int, v []byte) []byte {
		c := bytes.Clone(b)
		copy(c[at:], v)
		return c
	}
	// S + L: the same signature, malleated (S < L < 2^253, so no carry out).
	sPlusL := new(big.Int).SetBytes(reverse(sig[32:]))
	sPlusL.Add(sPlusL, groupOrder)
	malleated := with(sig, 32, reverse(sPlusL.FillBytes(make([]byte, 32))))

	cases := []struct {
		name     string
		pub, sig []byte
		ok       bool
	}{
		{"honest", pub, sig, true},
		{"short key", pub[:31], sig, false},
		{"short signature", pub, sig[:63], false},
		{"key with y >= p", nonCanonicalPoint(t), sig, false},
		{"R with y >= p", pub, with(sig, 0, nonCanonicalPoint(t)), false},
		{"S + L", pub, malleated, false},
		{"S all ones", pub, with(sig, 32, bytes.Repeat([]byte{0xff}, 32)), false},
	}
	for _, k := range smallOrder {
		cases = append(cases,
			struct {
				name     string
				pub, sig []byte
				ok       bool
			}{"key " + k.name, mustHex(t, k.hex), sig, false},
			struct {
				name     string
				pub, sig []byte
				ok       bool
			}{"R " + k.name, pub, with(sig, 0, mustHex(t, k.hex)), false})
	}
	// A y with no point on the curve is the verifier's to refuse.
	offCurve := good.Clone()
	for dec := true; dec; dec, _ = hasSmallOrder(offCurve.PubKey) {
		offCurve.PubKey[0]++
	}
	if err := CheckTxSignature(offCurve); CodeOf(err) != CodeBadSignature {
		t.Fatalf("key not on the curve: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSigEncoding(tc.pub, tc.sig)
			if tc.ok != (err == nil) || (err != nil && CodeOf(err) != CodeBadSignature) {
				t.Fatalf("CheckSigEncoding: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// groupOrder is L, the order of the Ed25519 base point.
var groupOrder, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

func reverse(b []byte) []byte {
	c := bytes.Clone(b)
	slices.Reverse(c)
	return c
}

// nonCanonicalPoint returns an encoding y = p + k (k < 19) of a point that
// is on the curve and not of small order, which ZIP-215 decodes.
func nonCanonicalPoint(t testing.TB) []byte {
	t.Helper()
	for k := byte(2); k < 19; k++ {
		b := mustHex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
		b[0] += k
		p, err := new(edwards25519.Point).SetBytes(b)
		if err != nil {
			continue
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 0 {
			return b
		}
	}
	t.Fatal("no non-canonical encoding of a large-order point")
	return nil
}

func BenchmarkCheckSigEncoding(b *testing.B) {
	tx := signedTxs(1)[0]
	for b.Loop() {
		if err := CheckSigEncoding(tx.PubKey, tx.Sig); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCheckSigEncoding: whatever the bytes, the rule does not panic, and
// the points it passes that decode re-encode to themselves (one signature,
// one byte string).
func FuzzCheckSigEncoding(f *testing.F) {
	tx := signedTxs(1)[0]
	f.Add(tx.PubKey, tx.Sig)
	f.Add(make([]byte, 32), make([]byte, 64))
	f.Fuzz(func(t *testing.T, pub, sig []byte) {
		if CheckSigEncoding(pub, sig) != nil {
			return
		}
		for _, b := range [][]byte{pub, sig[:32]} {
			p, err := new(edwards25519.Point).SetBytes(b)
			if err != nil {
				continue // the verifier's to refuse
			}
			if !bytes.Equal(p.Bytes(), b) {
				t.Fatalf("passed a non-canonical point %x", b)
			}
		}
		if s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:]); err != nil || !bytes.Equal(s.Bytes(), sig[32:]) {
			t.Fatalf("passed a non-canonical S %x", sig[32:])
		}
	})
}

// hasSmallOrder is the definition checkPoint's table stands for: b decodes
// to a point P with 8·P the identity.
func hasSmallOrder(b []byte) (decodes, small bool) {
	p, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		return false, false
	}
	return true, new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1
}

// TestTorsionY: every entry of torsionY, with either sign bit, is a point
// of small order, and every small-order encoding in smallOrder is refused.
func TestTorsionY(t *testing.T) {
	for _, y := range torsionY {
		for _, sign := range []byte{0, 0x80} {
			b := y
			b[31] |= sign
			if dec, small := hasSmallOrder(b[:]); !dec || !small {
				t.Errorf("%x: decodes %v, small order %v", b, dec, small)
			}
		}
	}
	for _, k := range smallOrder {
		if dec, small := hasSmallOrder(mustHex(t, k.hex)); !dec || !small {
			t.Errorf("%s: decodes %v, small order %v", k.name, dec, small)
		}
		if checkPoint(mustHex(t, k.hex)) == "" {
			t.Errorf("%s passed", k.name)
		}
	}
}

// FuzzSmallOrder: on any encoding that decodes to a point, checkPoint
// refuses exactly the non-canonical ones and those whose point has small
// order by the cofactor multiplication. Seeds: the small-order encodings,
// and s·B + T for torsion points T.
func FuzzSmallOrder(f *testing.F) {
	for _, k := range smallOrder {
		b, _ := hex.DecodeString(k.hex)
		f.Add(b)
		p, _ := new(edwards25519.Point).SetBytes(b)
		f.Add(new(edwards25519.Point).Add(p, edwards25519.NewGeneratorPoint()).Bytes())
	}
	f.Add(edwards25519.NewGeneratorPoint().Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 32 {
			return
		}
		dec, small := hasSmallOrder(b)
		if !dec {
			return
		}
		p, _ := new(edwards25519.Point).SetBytes(b)
		canonical := bytes.Equal(p.Bytes(), b)
		if want, got := !canonical || small, checkPoint(b) != ""; got != want {
			t.Fatalf("%x: checkPoint refuses %v, want %v (canonical %v, small order %v)", b, got, want, canonical, small)
		}
	})
}
