package chain

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

func recKey(n byte) ed25519.PrivateKey {
	seed := make([]byte, 32)
	seed[0] = n
	return ed25519.NewKeyFromSeed(seed)
}

func pubOf(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// write builds a record write of key, signed by signers (the first is the
// writer, the others cosign), with lock and reveal.
func (f *fixture) write(key, data string, lock *quant.Lock, reveal []byte, signers ...ed25519.PrivateKey) *quant.Tx {
	nonce++
	tx := &quant.Tx{ChainID: f.c.ID(), Time: f.clock.t.UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(data),
		Key: key, Lock: lock, Reveal: reveal}
	if len(signers) > 0 {
		tx.Sign(signers[0])
		for _, k := range signers[1:] {
			tx.Cosign(k)
		}
	}
	return tx
}

// TestCheckWrite: each lock, what it allows, refuses and becomes.
func TestCheckWrite(t *testing.T) {
	a, b, c, d := recKey(1), recKey(2), recKey(3), recKey(4)
	owners := &quant.Lock{Owners: [][]byte{pubOf(a), pubOf(b), pubOf(c)}, Threshold: 2}
	secret := []byte("s3cret")
	h := quant.HashLock(secret)
	hashed := &quant.Lock{Hash: &h}
	hashedOwned := &quant.Lock{Hash: &h, Owners: [][]byte{pubOf(a)}, Threshold: 1}
	timed := &quant.Lock{NotBeforeHeight: 10, NotBeforeTime: 5000}
	appendOnly := &quant.Lock{AppendOnly: true, Owners: [][]byte{pubOf(a)}, Threshold: 1}
	f := newFixture(t, nil)
	cases := []struct {
		name   string
		prev   *quant.Lock // nil with fresh: a new key
		fresh  bool
		tx     *quant.Tx
		height uint64
		at     int64
		rule   *quant.KeyRule
		code   quant.Code
		next   *quant.Lock
	}{
		{name: "new key takes its lock", fresh: true, tx: f.write("k", "1", owners, nil), next: owners},
		{name: "unlocked key: anyone", tx: f.write("k", "1", nil, nil)},
		{name: "2 of 3 owners sign", prev: owners, tx: f.write("k", "1", nil, nil, a, c), next: owners},
		{name: "1 of 3 owners", prev: owners, tx: f.write("k", "1", nil, nil, a), code: quant.CodeLockedOwner},
		{name: "an owner and a stranger", prev: owners, tx: f.write("k", "1", nil, nil, d, b), code: quant.CodeLockedOwner},
		{name: "unsigned on an owned key", prev: owners, tx: f.write("k", "1", nil, nil), code: quant.CodeLockedOwner},
		{name: "owners change the owners", prev: owners, tx: f.write("k", "1", &quant.Lock{Owners: [][]byte{pubOf(d)}, Threshold: 1}, nil, b, c),
			next: &quant.Lock{Owners: [][]byte{pubOf(d)}, Threshold: 1}},
		{name: "owners unlock", prev: owners, tx: f.write("k", "1", &quant.Lock{}, nil, a, b), next: &quant.Lock{}},
		{name: "hash lock opened", prev: hashed, tx: f.write("k", "1", nil, secret), next: nil},
		{name: "hash lock opened, owner kept", prev: hashedOwned, tx: f.write("k", "1", nil, secret, a),
			next: &quant.Lock{Owners: [][]byte{pubOf(a)}, Threshold: 1}},
		{name: "hash lock, wrong preimage", prev: hashed, tx: f.write("k", "1", nil, []byte("guess")), code: quant.CodeLockedHash},
		{name: "hash lock, no preimage", prev: hashed, tx: f.write("k", "1", nil, nil), code: quant.CodeLockedHash},
		{name: "before the height", prev: timed, tx: f.write("k", "1", nil, nil), height: 9, at: 6000, code: quant.CodeLockedTime},
		{name: "before the time", prev: timed, tx: f.write("k", "1", nil, nil), height: 10, at: 4999, code: quant.CodeLockedTime},
		{name: "after both", prev: timed, tx: f.write("k", "1", nil, nil), height: 10, at: 5000, next: timed},
		{name: "write-once", prev: &quant.Lock{WriteOnce: true}, tx: f.write("k", "1", nil, nil), code: quant.CodeWriteOnce},
		{name: "write-once prefix, existing key", tx: f.write("k", "1", nil, nil), rule: &quant.KeyRule{Prefix: "k", WriteOnce: true}, code: quant.CodeWriteOnce},
		{name: "write-once prefix, new key", fresh: true, tx: f.write("k", "1", nil, nil), rule: &quant.KeyRule{Prefix: "k", WriteOnce: true}},
		{name: "append-only: new version", prev: appendOnly, tx: f.write("k", "2", nil, nil, a), next: appendOnly},
		{name: "append-only: lock dropped", prev: appendOnly, tx: f.write("k", "2", &quant.Lock{}, nil, a), code: quant.CodeAppendOnly},
		{name: "append-only: tightened to write-once", prev: appendOnly, tx: f.write("k", "2", &quant.Lock{WriteOnce: true}, nil, a),
			next: &quant.Lock{WriteOnce: true}},
		{name: "append-only: other owners", prev: appendOnly, tx: f.write("k", "2", nil, nil, b), code: quant.CodeLockedOwner},
	}
	for _, tc := range cases {
		var prev *Version
		if !tc.fresh {
			prev = &Version{Key: "k", Height: 1, Lock: tc.prev}
		}
		height, at := tc.height, tc.at
		if height == 0 {
			height, at = 100, 1<<40
		}
		next, err := checkWrite(prev, tc.tx, height, at, tc.rule)
		if got := quant.CodeOf(err); got != tc.code || (tc.code != "" && err == nil) {
			t.Errorf("%s: error %v, want code %q", tc.name, err, tc.code)
			continue
		}
		if err == nil && !next.Equal(tc.next) {
			t.Errorf("%s: lock after is %+v, want %+v", tc.name, next, tc.next)
		}
	}
}

// TestLockedRecordOnChain: a 2-of-3 lock set by the first write is
// enforced at admission and in Add (a quant from a peer holding a
// violating write is refused with the lock's code), and versions and
// history follow.
func TestLockedRecordOnChain(t *testing.T) {
	f := newFixture(t, nil)
	a, b, c := recKey(1), recKey(2), recKey(3)
	lock := &quant.Lock{Owners: [][]byte{pubOf(a), pubOf(b), pubOf(c)}, Threshold: 2}
	first := f.write("orders/42", `{"v":1}`, lock, nil, a)
	f.add(f.quant([]*quant.Tx{first}, nil))

	bad := f.write("orders/42", `{"v":"stolen"}`, nil, nil, f.key)
	if err := f.c.CheckTx(bad, bad.ID()); quant.CodeOf(err) != quant.CodeLockedOwner {
		t.Fatalf("CheckTx of a write by a stranger: %v", err)
	}
	if errs := f.c.CheckTxs([]*quant.Tx{bad}, []quant.Hash{bad.ID()}); quant.CodeOf(errs[0]) != quant.CodeLockedOwner {
		t.Fatalf("CheckTxs: %v", errs[0])
	}
	if _, err := f.c.Add(f.quant([]*quant.Tx{bad}, nil)); quant.CodeOf(err) != quant.CodeLockedOwner {
		t.Fatalf("Add of a quant breaking the lock: %v", err)
	}
	good := f.write("orders/42", `{"v":2}`, nil, nil, b, c)
	if err := f.c.CheckTx(good, good.ID()); err != nil {
		t.Fatalf("CheckTx 2 of 3: %v", err)
	}
	// The template drops a write the lock refuses and keeps the good one.
	q, dropped, err := f.c.Template([]*quant.Tx{bad, good}, nil)
	if err != nil || len(q.Txs) != 1 || len(dropped) != 1 || dropped[0] != bad.ID() {
		t.Fatalf("Template: %d txs, dropped %v, %v", len(q.Txs), dropped, err)
	}
	f.add(f.quant([]*quant.Tx{good}, nil))

	v, err := f.c.Record("orders/42")
	if err != nil || v.TxID != good.ID() || v.Height != 2 || !v.Lock.Equal(lock) || hex.EncodeToString(v.Signer) != hex.EncodeToString(pubOf(b)) {
		t.Fatalf("Record: %+v, %v", v, err)
	}
	hist, err := f.c.History("orders/42", nil, 10)
	if err != nil || len(hist) != 2 || hist[0].TxID != first.ID() || hist[1].TxID != good.ID() {
		t.Fatalf("History: %+v, %v", hist, err)
	}
	loc := hist[0].Location()
	if rest, _ := f.c.History("orders/42", &loc, 10); len(rest) != 1 || rest[0].TxID != good.ID() {
		t.Fatalf("History after the first: %+v", rest)
	}
	if _, err := f.c.Record("orders/43"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Record of an unwritten key: %v", err)
	}
	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatalf("VerifyStored: %v", err)
	}
}

// TestTwoWritesInOneQuant: the second write of a key in a quant is checked
// against the first, not the store.
func TestTwoWritesInOneQuant(t *testing.T) {
	f := newFixture(t, nil)
	a := recKey(1)
	own := f.write("k", "1", &quant.Lock{Owners: [][]byte{pubOf(a)}, Threshold: 1}, nil)
	steal := f.write("k", "2", nil, nil)
	if _, err := f.c.Add(f.quant([]*quant.Tx{own, steal}, nil)); quant.CodeOf(err) != quant.CodeLockedOwner {
		t.Fatalf("a quant locking a key and breaking the lock: %v", err)
	}
	q, dropped, err := f.c.Template([]*quant.Tx{own, steal}, nil)
	if err != nil || len(q.Txs) != 1 || len(dropped) != 1 {
		t.Fatalf("Template: %d txs, %d dropped, %v", len(q.Txs), len(dropped), err)
	}
}

// TestKeyRulesWriters: a prefix's writer list refuses other keys.
func TestKeyRulesWriters(t *testing.T) {
	a := recKey(1)
	f := newFixture(t, func(r *quant.Rules) {
		r.KeyRules = []quant.KeyRule{{Prefix: "orders/", Writers: []string{hex.EncodeToString(pubOf(a))}}}
	})
	if tx := f.write("orders/1", "1", nil, nil, f.key); quant.CodeOf(f.c.CheckTx(tx, tx.ID())) != quant.CodeNotAllowed {
		t.Fatal("a key under orders/ written by an unlisted key")
	}
	if tx := f.write("orders/1", "1", nil, nil); quant.CodeOf(f.c.CheckTx(tx, tx.ID())) != quant.CodeNotAllowed {
		t.Fatal("a key under orders/ written unsigned")
	}
	if tx := f.write("orders/1", "1", nil, nil, a); f.c.CheckTx(tx, tx.ID()) != nil {
		t.Fatal("a listed writer refused")
	}
	if tx := f.write("other/1", "1", nil, nil); f.c.CheckTx(tx, tx.ID()) != nil {
		t.Fatal("a key under no rule refused")
	}
}

// TestRecordsAcrossReorg: versions of a key on the losing branch leave
// its latest and its history; the winning branch's writes are checked
// against the locks at the fork point.
func TestRecordsAcrossReorg(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.t = f.clock.t.Add(60_000_000_000)
	a := recKey(1)
	bang := f.c.Bang()
	base := f.write("k", `"base"`, &quant.Lock{Owners: [][]byte{pubOf(a)}, Threshold: 1}, nil, a)
	q1 := f.on(bang, base)
	f.mustAdd(q1)
	a2 := f.on(q1, f.write("k", `"a2"`, nil, nil, a), f.write("only-on-a", `1`, nil, nil))
	f.mustAdd(a2)
	if v, _ := f.c.Record("k"); v.Height != 2 {
		t.Fatalf("latest before the reorg at %d", v.Height)
	}
	// A rival branch breaking the lock never becomes the chain.
	r2 := f.on(q1, f.write("k", `"stolen"`, nil, nil))
	r3 := f.on(r2)
	f.mustAdd(r2)
	if _, err := f.c.Add(r3); quant.CodeOf(err) != quant.CodeLockedOwner {
		t.Fatalf("reorg to a branch breaking the lock: %v", err)
	}
	if f.c.Tip().Hash != a2.Hash() {
		t.Fatal("the chain left the valid branch")
	}
	// An honest heavier branch wins.
	b2 := f.on(q1, f.write("k", `"b2"`, nil, nil, a))
	b3 := f.on(b2)
	f.mustAdd(b2)
	if res := f.mustAdd(b3); !res.Extended() {
		t.Fatal("no reorg")
	}
	v, err := f.c.Record("k")
	if err != nil || v.TxID != b2.Txs[0].ID() {
		t.Fatalf("latest after the reorg: %+v %v", v, err)
	}
	hist, _ := f.c.History("k", nil, 10)
	if len(hist) != 2 || hist[0].TxID != base.ID() || hist[1].TxID != b2.Txs[0].ID() {
		t.Fatalf("history after the reorg: %+v", hist)
	}
	if _, err := f.c.Record("only-on-a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a key written only on the losing branch: %v", err)
	}
	if keys, _ := f.c.Keys("", "", 10); len(keys) != 1 || keys[0] != "k" {
		t.Fatalf("keys after the reorg: %v", keys)
	}
	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatalf("VerifyStored: %v", err)
	}
}
