// Package consensustest is the conformance suite every consensus engine
// passes: consensustest.Run(t, newEngine). Run checks the Engine contract
// and each optional capability (consensus.Finalizer, Sealer, TurnTaker,
// Ordered, Nonces, Heartbeat) the engine declares.
//
// It also holds the test engine (Engine, Factory, name "test"): the
// smallest engine that passes Run, for tests that need a chain without
// proof of work or keys, and to show that an engine plugs in through its
// Factory alone.
package consensustest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Setup is what an engine under test comes with: the engine and the bang of
// a chain whose rules name it.
type Setup struct {
	Engine consensus.Engine
	Bang   *quant.Quant
	// Outsider is the same chain's engine on a node that may not seal:
	// built without a key, or with one that is not a sealer's (or a
	// member's). Required when Engine is a consensus.Sealer or
	// consensus.Ordered; Run checks that it verifies the Engine's quants and
	// cannot make one that verifies.
	Outsider consensus.Engine
}

type headers map[quant.Hash]*quant.Header

func (m headers) Header(h quant.Hash) (*quant.Header, error) {
	if hd, ok := m[h]; ok {
		return hd, nil
	}
	return nil, errors.New("consensustest: unknown header")
}

// Run checks the engine contract: a prepared and sealed child verifies and
// has positive weight; a tampered header and a tampered seal do not verify;
// Seal returns promptly once its context ends. Then it checks each
// capability the engine declares (see runCapabilities).
func Run(t *testing.T, newSetup func(t *testing.T) Setup) {
	runCapabilities(t, newSetup)
	t.Run("SealThenVerify", func(t *testing.T) {
		s := newSetup(t)
		chain, parent := start(s)
		h := child(t, s, chain, parent)
		if err := s.Engine.VerifySeal(chain, parent, h); err != nil {
			t.Fatalf("VerifySeal of a sealed child: %v", err)
		}
		if w := s.Engine.Weight(h); w == nil || w.Sign() <= 0 {
			t.Fatalf("Weight = %v, want > 0", w)
		}
	})
	t.Run("ChainOfQuants", func(t *testing.T) {
		s := newSetup(t)
		chain, parent := start(s)
		for i := 0; i < 5; i++ {
			h := child(t, s, chain, parent)
			if err := s.Engine.VerifySeal(chain, parent, h); err != nil {
				t.Fatalf("quant %d: %v", h.Height, err)
			}
			chain[h.Hash()] = h
			parent = h
		}
	})
	t.Run("TamperedHeaderRefused", func(t *testing.T) {
		s := newSetup(t)
		chain, parent := start(s)
		h := child(t, s, chain, parent)
		h.TxRoot[0] ^= 1
		if err := s.Engine.VerifySeal(chain, parent, h); quant.CodeOf(err) != quant.CodeBadSeal {
			t.Fatalf("tampered header: err = %v, want code %s", err, quant.CodeBadSeal)
		}
	})
	t.Run("TamperedSealRefused", func(t *testing.T) {
		s := newSetup(t)
		chain, parent := start(s)
		for i := 0; ; i++ {
			h := child(t, s, chain, parent)
			if i >= len(h.Seal) {
				break
			}
			h.Seal[i] ^= 0x80
			if err := s.Engine.VerifySeal(chain, parent, h); err == nil {
				t.Fatalf("seal byte %d flipped: still verifies", i)
			}
		}
		h := child(t, s, chain, parent)
		h.Seal = h.Seal[:len(h.Seal)-1]
		if err := s.Engine.VerifySeal(chain, parent, h); err == nil {
			t.Fatal("truncated seal verifies")
		}
	})
	t.Run("SealStopsOnCancel", func(t *testing.T) {
		s := newSetup(t)
		chain, parent := start(s)
		h := template(parent)
		if err := s.Engine.Prepare(chain, parent, h); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- s.Engine.Seal(ctx, h) }()
		select {
		case err := <-done:
			// An engine may finish an easy seal before it looks at ctx.
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("Seal with a cancelled context: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Seal did not return after its context was cancelled")
		}
	})
}

func start(s Setup) (headers, *quant.Header) {
	bang := s.Bang.Header
	return headers{bang.Hash(): &bang}, &bang
}

func template(parent *quant.Header) *quant.Header {
	chainID := parent.ChainID
	if parent.IsBang() {
		chainID = parent.Hash()
	}
	return &quant.Header{
		ChainID: chainID,
		Height:  parent.Height + 1,
		Prev:    parent.Hash(),
		TxRoot:  quant.RootOfIDs(nil),
		Time:    parent.Time + 1000,
	}
}

func child(t *testing.T, s Setup, chain headers, parent *quant.Header) *quant.Header {
	t.Helper()
	h := template(parent)
	if err := s.Engine.Prepare(chain, parent, h); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if err := s.Engine.Seal(context.Background(), h); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return h
}
