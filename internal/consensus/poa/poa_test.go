package poa

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

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

func rulesFor(t testing.TB, ks []ed25519.PrivateKey, period int64) *quant.Rules {
	t.Helper()
	p := Params{PeriodMs: period, WiggleMs: 500}
	for _, k := range ks {
		p.Authorities = append(p.Authorities, hex.EncodeToString(k.Public().(ed25519.PublicKey)))
	}
	r := quant.DefaultRules("poa-test", 1_700_000_000_000)
	r.Engine = Name
	r.EngineParams, _ = json.Marshal(p)
	return &r
}

// farFuture is a clock after every quant in these tests: sealing never waits.
func farFuture() time.Time { return time.UnixMilli(1_800_000_000_000) }

func TestConformance(t *testing.T) {
	consensustest.Run(t, func(t *testing.T) consensustest.Setup {
		ks := keys(1)
		r := rulesFor(t, ks, 1000)
		e, err := New(r, ks[0], farFuture)
		if err != nil {
			t.Fatal(err)
		}
		bang, err := quant.NewBang(*r)
		if err != nil {
			t.Fatal(err)
		}
		out, err := New(r, nil, farFuture)
		if err != nil {
			t.Fatal(err)
		}
		return consensustest.Setup{Engine: e, Bang: bang, Outsider: out}
	})
}

type headers map[quant.Hash]*quant.Header

func (m headers) Header(h quant.Hash) (*quant.Header, error) { return m[h], nil }

func seal(t *testing.T, e *Engine, m headers, parent *quant.Header) *quant.Header {
	t.Helper()
	h := &quant.Header{ChainID: quant.Hash{1}, Height: parent.Height + 1, Prev: parent.Hash(), Time: parent.Time}
	if err := e.Prepare(m, parent, h); err != nil {
		t.Fatal(err)
	}
	if err := e.Seal(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAuthoritiesInTurnAndRecents(t *testing.T) {
	ks := keys(3)
	r := rulesFor(t, ks, 1000)
	var es []*Engine
	for _, k := range ks {
		e, err := New(r, k, farFuture)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	verifier, _ := New(r, nil, farFuture)
	bang := &quant.Header{Time: 1_700_000_000_000}
	m := headers{bang.Hash(): bang}

	h1 := seal(t, es[1], m, bang) // authority 1 is in turn at height 1
	if err := verifier.VerifySeal(m, bang, h1); err != nil {
		t.Fatalf("in-turn seal: %v", err)
	}
	if w := verifier.Weight(h1); w.Int64() != 2 {
		t.Fatalf("in-turn weight %v, want 2", w)
	}
	m[h1.Hash()] = h1
	// Authority 1 sealed the last quant: with 3 authorities it must wait one.
	again := seal(t, es[1], m, h1)
	if err := verifier.VerifySeal(m, h1, again); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("recent signer sealing again: %v", err)
	}
	if es[1].MaySeal(m, h1) || !es[0].MaySeal(m, h1) {
		t.Fatal("MaySeal disagrees with the recents rule")
	}
	// Authority 0 seals height 2 out of turn (2 is in turn): weight 1.
	h2 := seal(t, es[0], m, h1)
	if err := verifier.VerifySeal(m, h1, h2); err != nil {
		t.Fatalf("out-of-turn seal: %v", err)
	}
	if w := verifier.Weight(h2); w.Int64() != 1 {
		t.Fatalf("out-of-turn weight %v, want 1", w)
	}
}

func TestRefusals(t *testing.T) {
	ks := keys(2)
	r := rulesFor(t, ks, 1000)
	verifier, _ := New(r, nil, farFuture)
	outsider, _ := New(rulesFor(t, keys(3)[2:], 1000), keys(3)[2], farFuture)
	bang := &quant.Header{Time: 1_700_000_000_000}
	m := headers{bang.Hash(): bang}
	a, _ := New(r, ks[0], farFuture)

	// A key outside the set.
	h := seal(t, outsider, m, bang)
	if err := verifier.VerifySeal(m, bang, h); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("outsider's seal: %v", err)
	}
	// Too soon after the parent (parent past the bang).
	h1 := seal(t, a, m, bang)
	m[h1.Hash()] = h1
	b, _ := New(r, ks[1], farFuture)
	h2 := seal(t, b, m, h1)
	h2.Time = h1.Time + 10
	h2 = resign(t, b, h2)
	if err := verifier.VerifySeal(m, h1, h2); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("quant inside the period: %v", err)
	}
	// A verifier-only engine cannot seal.
	if err := verifier.Prepare(m, bang, &quant.Header{}); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("Prepare without a signer: %v", err)
	}
	// Bad parameters.
	bad := *r
	bad.EngineParams = json.RawMessage(`{"authorities":["zz"],"period_ms":1}`)
	if _, err := New(&bad, nil, farFuture); quant.CodeOf(err) != quant.CodeBadRules {
		t.Fatalf("bad params: %v", err)
	}
}

func resign(t *testing.T, e *Engine, h *quant.Header) *quant.Header {
	h.Seal = h.Seal[:2]
	if err := e.Seal(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSealWaits: an in-turn authority seals at the quant's time; an
// out-of-turn one waits the wiggle longer.
func TestSealWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ks := keys(2)
		r := rulesFor(t, ks, 1000)
		start := time.Now()
		parent := &quant.Header{ChainID: quant.Hash{1}, Height: 1, Time: start.UnixMilli()}
		for i, wantWait := range []time.Duration{1000 * time.Millisecond, 1500 * time.Millisecond} {
			// Height 2 is authority 0's turn.
			e, _ := New(r, ks[i], time.Now)
			h := &quant.Header{ChainID: quant.Hash{1}, Height: 2, Prev: parent.Hash(), Time: parent.Time}
			if err := e.Prepare(nil, parent, h); err != nil {
				t.Fatal(err)
			}
			if err := e.Seal(context.Background(), h); err != nil {
				t.Fatal(err)
			}
			// Under synctest the clock moves only when every goroutine
			// waits, so the time sealed at is exact.
			if got := time.Since(start); got != wantWait {
				t.Fatalf("authority %d sealed %v after the parent, want %v", i, got, wantWait)
			}
		}
	})
}
