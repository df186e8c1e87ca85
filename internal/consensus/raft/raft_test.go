package raft

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/qbc-chain/qbc/internal/consensus/consensustest"
	"github.com/qbc-chain/qbc/internal/quant"
)

func keys(n int) []ed25519.PrivateKey {
	out := make([]ed25519.PrivateKey, n)
	for i := range out {
		seed := make([]byte, 32)
		seed[0] = byte(i + 1)
		out[i] = ed25519.NewKeyFromSeed(seed)
	}
	return out
}

func paramsFor(ks []ed25519.PrivateKey) Params {
	p := Params{MaxQuantIntervalMs: 10}
	for i, k := range ks {
		p.Members = append(p.Members, Member{ID: fmt.Sprintf("m%d", i), Key: hex.EncodeToString(k.Public().(ed25519.PublicKey))})
	}
	return p
}

func rulesWith(t testing.TB, p Params) *quant.Rules {
	t.Helper()
	r := quant.DefaultRules("raft-test", 1_700_000_000_000)
	r.Engine = Name
	var err error
	if r.EngineParams, err = json.Marshal(p); err != nil {
		t.Fatal(err)
	}
	return &r
}

func newEngine(t testing.TB, r *quant.Rules, k ed25519.PrivateKey) *Engine {
	t.Helper()
	e, err := New(r, k)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestConformance(t *testing.T) {
	consensustest.Run(t, func(t *testing.T) consensustest.Setup {
		ks := keys(3)
		r := rulesWith(t, paramsFor(ks))
		bang, err := quant.NewBang(*r)
		if err != nil {
			t.Fatal(err)
		}
		return consensustest.Setup{Engine: newEngine(t, r, ks[1]), Bang: bang, Outsider: newEngine(t, r, keys(4)[3])}
	})
}

// sealed makes a child of parent sealed by e at (term, index).
func sealed(t *testing.T, e *Engine, parent *quant.Header, term, index uint64) *quant.Header {
	t.Helper()
	h := &quant.Header{ChainID: quant.Hash{1}, Height: parent.Height + 1, Prev: parent.Hash(), Time: parent.Time + 1}
	if err := e.Prepare(nil, parent, h); err != nil {
		t.Fatal(err)
	}
	if err := SetPosition(h, term, index); err != nil {
		t.Fatal(err)
	}
	if err := e.Seal(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSealPositionAndSigner(t *testing.T) {
	ks := keys(3)
	r := rulesWith(t, paramsFor(ks))
	leader := newEngine(t, r, ks[2])
	verifier := newEngine(t, r, nil)
	bang := &quant.Header{Time: 1_700_000_000_000}

	h1 := sealed(t, leader, bang, 2, 7)
	if len(h1.Seal) != SealSize {
		t.Fatalf("seal is %d bytes, want %d", len(h1.Seal), SealSize)
	}
	if err := verifier.VerifySeal(nil, bang, h1); err != nil {
		t.Fatalf("VerifySeal: %v", err)
	}
	s, err := DecodeSeal(h1.Seal)
	if err != nil || s.Term != 2 || s.Index != 7 || s.Member != 2 {
		t.Fatalf("seal %+v, %v; want term 2 index 7 member 2", s, err)
	}
	if term, index, err := Position(h1); err != nil || term != 2 || index != 7 {
		t.Fatalf("Position = %d, %d, %v", term, index, err)
	}
	if w := verifier.Weight(h1); w.Int64() != 1 {
		t.Fatalf("Weight = %v, want 1", w)
	}
	// The next quant must take a later log position.
	for _, tc := range []struct {
		term, index uint64
		ok          bool
	}{
		{2, 8, true}, {3, 8, true}, {2, 7, false}, {1, 9, false}, {3, 6, false},
	} {
		h2 := sealed(t, leader, h1, tc.term, tc.index)
		err := verifier.VerifySeal(nil, h1, h2)
		if tc.ok != (err == nil) {
			t.Errorf("child at (%d, %d) of (2, 7): %v, want ok=%v", tc.term, tc.index, err, tc.ok)
		}
		if err != nil && quant.CodeOf(err) != quant.CodeBadSeal {
			t.Errorf("child at (%d, %d): code %q, want %q", tc.term, tc.index, quant.CodeOf(err), quant.CodeBadSeal)
		}
	}
	// Term and index 0 are not Raft log positions.
	if err := verifier.VerifySeal(nil, bang, sealed(t, leader, bang, 0, 1)); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("term 0: %v", err)
	}
}

// TestRefusals: a quant sealed by a key outside the member list, with a
// forged member index, with a changed position, or unsigned, is refused
// with CodeBadSeal.
func TestRefusals(t *testing.T) {
	ks := keys(4)
	r := rulesWith(t, paramsFor(ks[:3]))
	verifier := newEngine(t, r, nil)
	bang := &quant.Header{Time: 1_700_000_000_000}

	// An outsider: a chain whose member 0 is ks[3] seals; our chain's
	// member 0 is ks[0].
	outsider := newEngine(t, rulesWith(t, paramsFor(ks[3:])), ks[3])
	h := sealed(t, outsider, bang, 1, 1)
	if err := verifier.VerifySeal(nil, bang, h); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("outsider's seal: %v", err)
	}
	// A member index past the list.
	s, _ := DecodeSeal(h.Seal)
	s.Member = 9
	h.Seal = s.Encode()
	if err := verifier.VerifySeal(nil, bang, h); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("member 9 of 3: %v", err)
	}
	// A member's seal moved to another position.
	member := newEngine(t, r, ks[1])
	h = sealed(t, member, bang, 1, 1)
	s, _ = DecodeSeal(h.Seal)
	s.Index = 2
	h.Seal = s.Encode()
	if err := verifier.VerifySeal(nil, bang, h); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("moved seal: %v", err)
	}
	// Unsigned (Prepare only).
	h = &quant.Header{ChainID: quant.Hash{1}, Height: 1, Prev: bang.Hash()}
	if err := member.Prepare(nil, bang, h); err != nil {
		t.Fatal(err)
	}
	if err := verifier.VerifySeal(nil, bang, h); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("unsigned seal: %v", err)
	}
	// Another engine's seal (poa is 66 bytes).
	h.Seal = make([]byte, 66)
	if err := verifier.VerifySeal(nil, bang, h); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("66-byte seal: %v", err)
	}
	// A verifier cannot seal.
	if err := verifier.Prepare(nil, bang, &quant.Header{}); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("Prepare without a member key: %v", err)
	}
	if err := SetPosition(&quant.Header{}, 1, 1); err != ErrNoPosition {
		t.Fatalf("SetPosition on a header without a seal: %v", err)
	}
}

func TestParams(t *testing.T) {
	ks := keys(2)
	good := paramsFor(ks)
	base := rulesWith(t, good)
	e := newEngine(t, base, ks[0])
	if b := e.Batch(); b.MaxTxs != base.MaxQuantTxs || b.MaxBytes != base.MaxQuantBytes || b.MaxInterval.Milliseconds() != 10 {
		t.Fatalf("default batch %+v", b)
	}
	if m, ok := e.Self(); !ok || m.ID != "m0" {
		t.Fatalf("Self = %+v, %v", m, ok)
	}
	if i, ok := e.MemberIndex("m1"); !ok || i != 1 {
		t.Fatalf("MemberIndex(m1) = %d, %v", i, ok)
	}
	edit := func(f func(p *Params)) Params {
		p := paramsFor(ks)
		f(&p)
		return p
	}
	for _, tc := range []struct {
		name string
		p    Params
		ok   bool
	}{
		{"good", good, true},
		{"limits", edit(func(p *Params) { p.MaxQuantTxs = 100; p.MaxQuantBytes = 2 << 20 }), true},
		{"no members", edit(func(p *Params) { p.Members = nil }), false},
		{"bad id", edit(func(p *Params) { p.Members[0].ID = "a b" }), false},
		{"empty id", edit(func(p *Params) { p.Members[0].ID = "" }), false},
		{"duplicate id", edit(func(p *Params) { p.Members[1].ID = p.Members[0].ID }), false},
		{"duplicate key", edit(func(p *Params) { p.Members[1].Key = p.Members[0].Key }), false},
		{"upper-case key", edit(func(p *Params) { p.Members[0].Key = "AB" + p.Members[0].Key[2:] }), false},
		{"short key", edit(func(p *Params) { p.Members[0].Key = "abcd" }), false},
		{"txs over the chain's", edit(func(p *Params) { p.MaxQuantTxs = base.MaxQuantTxs + 1 }), false},
		{"negative txs", edit(func(p *Params) { p.MaxQuantTxs = -1 }), false},
		{"bytes too small", edit(func(p *Params) { p.MaxQuantBytes = 1000 }), false},
		{"bytes over the chain's", edit(func(p *Params) { p.MaxQuantBytes = base.MaxQuantBytes + 1 }), false},
		{"no interval", edit(func(p *Params) { p.MaxQuantIntervalMs = 0 }), false},
		{"long interval", edit(func(p *Params) { p.MaxQuantIntervalMs = MaxIntervalMs + 1 }), false},
	} {
		_, err := New(rulesWith(t, tc.p), nil)
		if (err == nil) != tc.ok {
			t.Errorf("%s: New = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && quant.CodeOf(err) != quant.CodeBadRules {
			t.Errorf("%s: code %q, want %q", tc.name, quant.CodeOf(err), quant.CodeBadRules)
		}
	}
	r := *base
	r.EngineParams = json.RawMessage(`{"members":[],"max_quant_interval_ms":5,"voters":3}`)
	if _, err := New(&r, nil); quant.CodeOf(err) != quant.CodeBadRules {
		t.Errorf("unknown field: %v", err)
	}
	r.Engine = "poa"
	if _, err := New(&r, nil); quant.CodeOf(err) != quant.CodeBadRules {
		t.Errorf("engine poa: %v", err)
	}
}

func TestSealStopsOnCancel(t *testing.T) {
	ks := keys(1)
	e := newEngine(t, rulesWith(t, paramsFor(ks)), ks[0])
	bang := &quant.Header{}
	h := &quant.Header{ChainID: quant.Hash{1}, Height: 1, Prev: bang.Hash()}
	if err := e.Prepare(nil, bang, h); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Seal(ctx, h); err != context.Canceled {
		t.Fatalf("Seal with a cancelled context: %v", err)
	}
}

// FuzzDecodeSeal: DecodeSeal never panics; what it accepts re-encodes to
// the same bytes.
func FuzzDecodeSeal(f *testing.F) {
	f.Add(make([]byte, PositionSize))
	f.Add(make([]byte, SealSize))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSeal(b)
		if err != nil {
			if quant.CodeOf(err) != quant.CodeBadSeal {
				t.Fatalf("error without CodeBadSeal: %v", err)
			}
			return
		}
		if !bytes.Equal(s.Encode(), b) {
			t.Fatalf("re-encoding differs: %x from %x", s.Encode(), b)
		}
		h := &quant.Header{ChainID: quant.Hash{1}, Height: 2, Seal: b}
		if _, err := newEngine(t, rulesWith(t, paramsFor(keys(2))), nil).checkSigner(h); err == nil {
			t.Fatal("fuzzed seal verifies")
		}
	})
}
