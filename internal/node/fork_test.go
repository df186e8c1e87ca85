package node

import (
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestForks: a fork shares its parent's history up to the fork point
// without copying it, goes its own way after it under its own rules, is
// followed by peers along with its parent, and its lineage verifies back to
// the parent's bang; a fork of a fork works; a fork point that is not in
// the parent's history is refused.
func TestForks(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	eventually(t, "the network connects", 10*time.Second, func() bool { return livePeers(a) == 1 })
	parent := a.Chain().ID()
	for i := 0; i < 5; i++ {
		if _, err := a.Submit(t.Context(), openTx(a, i)); err != nil {
			t.Fatal(err)
		}
		leap(t, a)
	}
	forkPoint, _ := a.def().st.HashAt(3)

	f, err := a.Fork(t.Context(), parent, 3, schemaRules(t, "readings",
		`{"type":"object","required":["reading"],"properties":{"reading":{"type":"number"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	fid := f.Chain.ID()
	if p := f.Chain.Rules().Parent; p == nil || p.Chain != parent || p.Height != 3 || p.Hash != forkPoint {
		t.Fatalf("the fork's rules name %+v", p)
	}
	if f.Store.Iterate(t.Context(), 0, func(q *quant.Quant) error {
		if q.Header.ChainID == parent {
			t.Error("the fork's store holds a parent quant")
		}
		return nil
	}) != nil {
		t.Fatal("iterating the fork")
	}
	// The fork goes its own way under its own rules; the parent goes on.
	if _, err := f.Node.Submit(t.Context(), dataTx(fid, 1, `{"i":1}`)); quant.CodeOf(err) != quant.CodeBadData {
		t.Fatalf("the parent's kind of data on the fork: %v, want bad_data", err)
	}
	if _, err := f.Node.Submit(t.Context(), dataTx(fid, 2, `{"reading":7}`)); err != nil {
		t.Fatal(err)
	}
	fq, err := f.Node.Leap(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	leap(t, a)
	if h := a.Chain().Head().Header.Height; h != 6 {
		t.Fatalf("the parent is at height %d", h)
	}

	// b follows the fork with its parent, and checks the same lineage.
	eventually(t, "b follows the fork and syncs it", 15*time.Second, func() bool {
		l, ok := b.Ledger(fid)
		return ok && l.Chain.Head().Hash == fq.Hash()
	})
	for _, n := range []*Node{a, b} {
		eventually(t, "the lineage verifies", 10*time.Second, func() bool {
			lin, err := n.Lineage(fid)
			return err == nil && len(lin) == 1 && lin[0].Verified && lin[0].Hash == forkPoint && lin[0].Chain == parent
		})
	}

	// A fork of the fork.
	f2, err := a.Fork(t.Context(), fid, 1, schemaRules(t, "readings-2", `{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	lin, err := a.Lineage(f2.Chain.ID())
	if err != nil || len(lin) != 2 || !lin[0].Verified || !lin[1].Verified || lin[0].Chain != fid || lin[1].Chain != parent {
		t.Fatalf("lineage of a fork of a fork: %+v, %v", lin, err)
	}

	// Fork points outside the parent's history are refused.
	bad := schemaRules(t, "bad", `{"type":"object"}`)
	for _, fp := range []quant.ForkPoint{
		{Chain: parent, Height: 3, Hash: quant.Hash{7}},
		{Chain: parent, Height: 4, Hash: forkPoint},
		{Chain: quant.Hash{9}, Height: 1, Hash: forkPoint},
	} {
		bad.Parent = &fp
		if _, err := a.CreateChain(t.Context(), bad); quant.CodeOf(err) != quant.CodeBadRules {
			t.Errorf("fork point %+v: %v, want bad_rules", fp, err)
		}
	}
	if _, err := a.Fork(t.Context(), parent, 99, schemaRules(t, "late", `{"type":"object"}`)); quant.CodeOf(err) != quant.CodeInvalidRequest {
		t.Errorf("a fork past the tip: %v", err)
	}
}
