package consensustest

import (
	"context"
	"testing"

	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/quant"
)

// runCapabilities checks each optional capability the engine declares; a
// capability it does not declare is skipped.
func runCapabilities(t *testing.T, newSetup func(t *testing.T) Setup) {
	t.Run("Finalizer", func(t *testing.T) {
		s := newSetup(t)
		f, ok := s.Engine.(consensus.Finalizer)
		if !ok {
			t.Skip("not a consensus.Finalizer")
		}
		checkFinalizer(t, f)
	})
	t.Run("Ordered", func(t *testing.T) {
		s := newSetup(t)
		o, ok := s.Engine.(consensus.Ordered)
		if !ok {
			t.Skip("not a consensus.Ordered")
		}
		checkOrdered(t, s, o)
	})
	t.Run("Sealer", func(t *testing.T) {
		s := newSetup(t)
		sl, ok := s.Engine.(consensus.Sealer)
		if !ok {
			t.Skip("not a consensus.Sealer")
		}
		checkSealer(t, s, sl)
	})
	t.Run("TurnTaker", func(t *testing.T) {
		s := newSetup(t)
		tt, ok := s.Engine.(consensus.TurnTaker)
		if !ok {
			t.Skip("not a consensus.TurnTaker")
		}
		checkTurnTaker(t, s, tt)
	})
	t.Run("Nonces", func(t *testing.T) {
		s := newSetup(t)
		n, ok := s.Engine.(consensus.Nonces)
		if !ok {
			t.Skip("not a consensus.Nonces")
		}
		checkNonces(t, s, n)
	})
	t.Run("Heartbeat", func(t *testing.T) {
		s := newSetup(t)
		h, ok := s.Engine.(consensus.Heartbeat)
		if !ok {
			t.Skip("not a consensus.Heartbeat")
		}
		if b := h.Heartbeat(); b < 0 {
			t.Fatalf("Heartbeat = %v, want 0 (none) or more", b)
		}
	})
}

// checkFinalizer: Finality is one of the known values and does not change.
func checkFinalizer(t *testing.T, f consensus.Finalizer) {
	got := f.Finality()
	if got != consensus.FinalityDepth && got != consensus.FinalityFinal {
		t.Fatalf("Finality = %q, want %q or %q", got, consensus.FinalityDepth, consensus.FinalityFinal)
	}
	if again := f.Finality(); again != got {
		t.Fatalf("Finality changed from %q to %q", got, again)
	}
}

// checkOrdered: an Ordered engine is FinalityFinal, the engine under test
// is a member and the outsider is not, every quant has the same positive
// weight (the log orders quants; weight does not choose among branches),
// and the outsider cannot seal.
func checkOrdered(t *testing.T, s Setup, o consensus.Ordered) {
	if f := o.Finality(); f != consensus.FinalityFinal {
		t.Fatalf("an Ordered engine's Finality is %q, want %q", f, consensus.FinalityFinal)
	}
	if !o.Member() {
		t.Fatal("the engine under test seals, but Member() is false")
	}
	chain, parent := start(s)
	var first *quant.Header
	for i := 0; i < 5; i++ {
		h := child(t, s, chain, parent)
		w := s.Engine.Weight(h)
		if w == nil || w.Sign() <= 0 {
			t.Fatalf("quant %d: Weight = %v, want > 0", h.Height, w)
		}
		if first != nil {
			if w0 := s.Engine.Weight(first); w.Cmp(w0) != 0 {
				t.Fatalf("quant %d weighs %v, quant %d %v: an Ordered engine's quants weigh the same", h.Height, w, first.Height, w0)
			}
		} else {
			first = h
		}
		chain[h.Hash()] = h
		parent = h
	}
	out := outsider(t, s)
	if oo, ok := out.(consensus.Ordered); !ok || oo.Member() {
		t.Fatalf("the outsider is not an Ordered engine with Member() false (%T)", out)
	}
	checkOutsider(t, s, out)
}

// checkSealer: the engine under test can seal, the outsider says it
// cannot, and indeed cannot.
func checkSealer(t *testing.T, s Setup, sl consensus.Sealer) {
	if !sl.CanSeal() {
		t.Fatal("the engine under test seals, but CanSeal() is false")
	}
	out := outsider(t, s)
	if os, ok := out.(consensus.Sealer); !ok || os.CanSeal() {
		t.Fatalf("the outsider is not a Sealer with CanSeal() false (%T)", out)
	}
	checkOutsider(t, s, out)
}

// checkTurnTaker: along a chain of quants the engine seals, MaySeal(parent)
// is true exactly when the child it seals verifies; an outsider (if given)
// never may seal.
func checkTurnTaker(t *testing.T, s Setup, tt consensus.TurnTaker) {
	chain, parent := start(s)
	for i := 0; i < 6; i++ {
		may := tt.MaySeal(chain, parent)
		h := template(parent)
		err := s.Engine.Prepare(chain, parent, h)
		if err == nil {
			err = s.Engine.Seal(context.Background(), h)
		}
		if err == nil {
			err = s.Engine.VerifySeal(chain, parent, h)
		}
		if may != (err == nil) {
			t.Fatalf("quant %d: MaySeal = %v, but sealing and verifying gave %v", h.Height, may, err)
		}
		if !may {
			break
		}
		if ot, ok := s.Outsider.(consensus.TurnTaker); ok && ot.MaySeal(chain, parent) {
			t.Fatalf("quant %d: the outsider's MaySeal is true", h.Height)
		}
		chain[h.Hash()] = h
		parent = h
	}
}

// checkNonces: Nonce reads the seal of a sealed header, the same on every
// call and on a decoded copy, and leaves the header unchanged.
func checkNonces(t *testing.T, s Setup, n consensus.Nonces) {
	chain, parent := start(s)
	h := child(t, s, chain, parent)
	hash := h.Hash()
	got := n.Nonce(h)
	if again := n.Nonce(h); again != got {
		t.Fatalf("Nonce = %d, then %d", got, again)
	}
	if h.Hash() != hash {
		t.Fatal("Nonce changed the header")
	}
	c, err := quant.DecodeHeader(h.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if nc := n.Nonce(c); nc != got {
		t.Fatalf("Nonce of a decoded copy = %d, of the header %d", nc, got)
	}
}

func outsider(t *testing.T, s Setup) consensus.Engine {
	t.Helper()
	if s.Outsider == nil {
		t.Fatalf("%T declares who may seal: Setup.Outsider must be set", s.Engine)
	}
	return s.Outsider
}

// checkOutsider: the outsider verifies the engine's quants (a node that
// may not seal still follows the chain), but neither a child it prepares
// nor one the engine prepared and it seals verifies (or sealing errs).
func checkOutsider(t *testing.T, s Setup, out consensus.Engine) {
	chain, parent := start(s)
	h := child(t, s, chain, parent)
	if err := out.VerifySeal(chain, parent, h); err != nil {
		t.Fatalf("the outsider refuses a sealed child: %v", err)
	}

	own := template(parent)
	err := out.Prepare(chain, parent, own)
	if err == nil {
		err = out.Seal(context.Background(), own)
	}
	if err == nil && s.Engine.VerifySeal(chain, parent, own) == nil {
		t.Fatal("a child the outsider prepared and sealed verifies")
	}

	theirs := template(parent)
	if err := s.Engine.Prepare(chain, parent, theirs); err != nil {
		t.Fatal(err)
	}
	if err := out.Seal(context.Background(), theirs); err == nil && s.Engine.VerifySeal(chain, parent, theirs) == nil {
		t.Fatal("a child the engine prepared and the outsider sealed verifies")
	}
}
