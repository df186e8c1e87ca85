package quant

import (
	"bytes"
	"testing"
)

func zkTxs() []*Tx {
	base := func() *Tx {
		return &Tx{ChainID: Hash{1}, Time: 5, Nonce: 7, Kind: DataJSON, Data: []byte(`{"a":1}`), Key: "polls/1/ballot"}
	}
	m := base()
	m.ZK = &ZK{Circuit: ZKMembership, Root: Hash{2}, Nullifier: Hash{3}, Scope: "polls/1/", Proof: bytes.Repeat([]byte{9}, 324)}
	p := base()
	c := Hash{4}
	p.Lock = &Lock{Commitment: &c}
	p.ZK = &ZK{Circuit: ZKPreimage, Commitment: c, Prev: Hash{5}, Proof: []byte{1}}
	r := base()
	r.ZK = &ZK{Circuit: ZKRange, Commitment: Hash{6}, Min: 18, Max: 1<<64 - 1, Proof: []byte{1, 2}}
	return []*Tx{m, p, r}
}

func TestZKRoundTrip(t *testing.T) {
	for _, tx := range zkTxs() {
		enc := tx.Encode()
		if len(enc) != tx.EncodedSize() {
			t.Fatalf("EncodedSize %d, encoding %d", tx.EncodedSize(), len(enc))
		}
		got, err := DecodeTx(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Encode(), enc) {
			t.Fatal("round trip differs")
		}
		// The bind bytes leave the proof out and nothing else.
		b := tx.BindBytes()
		c := tx.Clone()
		c.ZK.Proof = []byte{0xee}
		if !bytes.Equal(c.BindBytes(), b) {
			t.Error("bind bytes depend on the proof")
		}
		c.Nonce++
		if bytes.Equal(c.BindBytes(), b) {
			t.Error("bind bytes do not depend on the nonce")
		}
		if bytes.Equal(tx.SigningBytes()[len(DomainTxSig):], b[len(DomainTxBind):]) {
			t.Error("signing bytes leave the proof out")
		}
	}
	// Unchanged encoding without a zk part: the flag is not set.
	tx := zkTxs()[0]
	tx.ZK = nil
	if enc := tx.Encode(); enc[54+len(tx.Data)]&flagZK != 0 {
		t.Error("flag set without a zk part")
	}
	if got := zkTxs()[0].WrittenKeys(); len(got) != 2 || got[1] != NullifierKey(Hash{3}) {
		t.Errorf("written keys %q", got)
	}
}

func TestZKMalformed(t *testing.T) {
	for name, mut := range map[string]func(*Tx){
		"no key":      func(tx *Tx) { tx.Key = "" },
		"no proof":    func(tx *Tx) { tx.ZK.Proof = nil },
		"long proof":  func(tx *Tx) { tx.ZK.Proof = make([]byte, MaxZKProof+1) },
		"no scope":    func(tx *Tx) { tx.ZK.Scope = "" },
		"bad circuit": func(tx *Tx) { tx.ZK.Circuit = 9 },
	} {
		tx := zkTxs()[0]
		mut(tx)
		if err := tx.checkExtras(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzDecodeZKTx(f *testing.F) {
	for _, tx := range zkTxs() {
		f.Add(tx.Encode())
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tx, err := DecodeTx(in)
		if err != nil {
			return
		}
		if !bytes.Equal(tx.Encode(), in) {
			t.Fatal("re-encoding differs")
		}
		_ = tx.BindBytes()
	})
}

func TestScopeOfKey(t *testing.T) {
	for key, want := range map[string]string{
		"polls/1/ballot-x": "polls/1/",
		"club/a":           "club/",
		"club/posts/":      "club/posts/",
		"solo":             "solo",
	} {
		if got := ScopeOfKey(key); got != want {
			t.Errorf("ScopeOfKey(%q) = %q, want %q", key, got, want)
		}
	}
}
