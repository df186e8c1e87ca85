package quant

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
)

func pub(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// keyedTx is a record write with every keyed part: a 2-of-3 lock with a
// hash and time bounds, a reveal, the writer's and one cosigner's
// signature.
func keyedTx() *Tx {
	h := HashLock([]byte("open sesame"))
	tx := &Tx{ChainID: testChain(1), Time: 1700000000000, Nonce: 3, Kind: DataJSON, Data: []byte(`{"total":42}`),
		Key: "orders/42",
		Lock: &Lock{Owners: [][]byte{pub(testKey(1)), pub(testKey(2)), pub(testKey(3))}, Threshold: 2,
			Hash: &h, NotBeforeHeight: 10, NotBeforeTime: 1700000000000, AppendOnly: true},
		Reveal: []byte("previous secret"),
	}
	tx.Sign(testKey(1))
	tx.Cosign(testKey(2))
	return tx
}

func TestKeyedTxRoundTrip(t *testing.T) {
	tx := keyedTx()
	enc := tx.Encode()
	if len(enc) != tx.EncodedSize() {
		t.Fatalf("EncodedSize %d, encoding %d bytes", tx.EncodedSize(), len(enc))
	}
	got, err := DecodeTx(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != tx.Key || !got.Lock.Equal(tx.Lock) || !bytes.Equal(got.Reveal, tx.Reveal) || len(got.Cosigs) != 1 {
		t.Fatalf("decoded %+v, want %+v", got, tx)
	}
	if got.ID() != tx.ID() {
		t.Fatal("id changed in the round trip")
	}
	if err := CheckTxSanity(got, MaxDataSize); err != nil {
		t.Fatalf("a well-signed keyed transaction: %v", err)
	}
	if n := len(got.Signers()); n != 2 {
		t.Fatalf("%d signers, want 2", n)
	}
	// A clone shares nothing.
	c := got.Clone()
	enc[len(enc)-1] ^= 1
	if !bytes.Equal(c.Encode(), tx.Encode()) {
		t.Fatal("Clone aliases the input")
	}
	// An unkeyed transaction encodes as before keys existed.
	plain := signedTx(`{"a":1}`)
	if n := len(plain.Encode()); n != 151+7 {
		t.Fatalf("unkeyed signed transaction is %d bytes, want %d", n, 151+7)
	}
}

// TestCosignatures: every signature counts; a tampered cosignature, or a
// cosigner that signed other bytes, fails single and batch verification.
func TestCosignatures(t *testing.T) {
	tampered := keyedTx()
	tampered.Cosigs[0].Sig[5] ^= 1
	otherBody := keyedTx()
	otherBody.Nonce++
	otherBody.Sign(testKey(1)) // the writer signs again; the cosig is stale
	otherBody.Cosigs = otherBody.Cosigs[:0]
	stale := keyedTx().Cosigs[0]
	otherBody.Cosigs = append(otherBody.Cosigs, stale)
	for name, tx := range map[string]*Tx{"tampered": tampered, "stale": otherBody} {
		if err := CheckTxSignature(tx); CodeOf(err) != CodeBadSignature || !strings.Contains(err.Error(), "cosignature 0") {
			t.Errorf("%s: CheckTxSignature: %v", name, err)
		}
		batch := make([]*Tx, 0, 16)
		for range 12 {
			batch = append(batch, signedTx(`{"a":1}`))
		}
		batch = append(batch, tx)
		if i, err := CheckTxSignatures(batch, nil); i != 12 || CodeOf(err) != CodeBadSignature {
			t.Errorf("%s: batch: %d %v, want 12 bad_signature", name, i, err)
		}
	}
	good := []*Tx{keyedTx()}
	for range 12 {
		good = append(good, signedTx(`{"a":1}`))
	}
	if i, err := CheckTxSignatures(good, nil); err != nil {
		t.Fatalf("good batch: %d %v", i, err)
	}
}

func TestKeyedTxRefused(t *testing.T) {
	build := func(f func(*Tx)) []byte {
		tx := keyedTx()
		f(tx)
		return tx.Encode()
	}
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"lock without key", build(func(tx *Tx) { tx.Key = "" }), "need a key"},
		{"control character in key", build(func(tx *Tx) { tx.Key = "a\nb" }), "control character"},
		{"key too long", build(func(tx *Tx) { tx.Key = strings.Repeat("k", MaxKeyLen+1) }), "key is 257 bytes"},
		{"threshold above owners", build(func(tx *Tx) { tx.Lock.Threshold = 4 }), "threshold 4 of 3"},
		{"owner twice", build(func(tx *Tx) { tx.Lock.Owners[2] = tx.Lock.Owners[0] }), "listed twice"},
		{"small-order owner", build(func(tx *Tx) { tx.Lock.Owners[2] = make([]byte, 32) }), "small order"},
		{"reveal too long", build(func(tx *Tx) { tx.Reveal = make([]byte, MaxRevealLen+1) }), "reveal is 65 bytes"},
		{"writer cosigns", build(func(tx *Tx) { tx.Cosigs[0].PubKey = tx.PubKey }), "writer's own key"},
		{"cosigs without writer", build(func(tx *Tx) { tx.PubKey, tx.Sig = nil, nil }), "need a signed"},
		{"negative time", build(func(tx *Tx) { tx.Lock.NotBeforeTime = -1 }), "negative"},
	}
	for _, c := range cases {
		tx, err := DecodeTx(c.in)
		if err == nil || CodeOf(err) == "" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: DecodeTx = %v, %v; want an error with %q", c.name, tx, err, c.want)
		}
	}
	// Unknown flag bits and unknown lock flags are refused.
	enc := signedTx(`{"a":1}`).Encode()
	enc[1+HashSize+8+8+1+4+7] |= 0x40
	if _, err := DecodeTx(enc); err == nil || !strings.Contains(err.Error(), "unknown flags") {
		t.Errorf("unknown flag: %v", err)
	}
	lock := (&Lock{WriteOnce: true}).Encode()
	lock[1] |= 0x80
	if _, err := DecodeLock(lock); err == nil {
		t.Error("lock with an unknown flag decoded")
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"a", "orders/42", "commande/é", strings.Repeat("x", MaxKeyLen)} {
		if err := CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q): %v", k, err)
		}
	}
	for _, k := range []string{"", "a\x00b", "tab\t", "\x7f", "\xff", "c1\u0085", strings.Repeat("x", MaxKeyLen+1)} {
		if err := CheckKey(k); err == nil {
			t.Errorf("CheckKey(%q) accepted", k)
		}
	}
}

// FuzzDecodeLock: DecodeLock never panics, and what it accepts is a
// checked lock that re-encodes to the input.
func FuzzDecodeLock(f *testing.F) {
	f.Add(keyedTx().Lock.Encode())
	f.Add((&Lock{}).Encode())
	f.Add((&Lock{WriteOnce: true, NotBeforeHeight: 5}).Encode())
	f.Fuzz(func(t *testing.T, in []byte) {
		l, err := DecodeLock(in)
		if err != nil {
			if CodeOf(err) == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if err := l.Check(); err != nil {
			t.Fatalf("accepted lock fails Check: %v", err)
		}
		if !bytes.Equal(l.Encode(), in) {
			t.Fatalf("re-encoding differs")
		}
	})
}
