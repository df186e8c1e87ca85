package node

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// TestForks: a fork shares its parent's history up to the fork point
// without copying it, continues its parent's heights (its first quant one
// above the fork point), reads with the shared history, goes its own way
// after it under its own rules, is followed by peers along with its parent,
// and its lineage verifies back to the parent's bang; a fork of a fork
// works, and one at a shared height is a fork of the parent; a fork point
// that is not in the parent's history is refused.
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
	if h := f.Chain.Tip().Header.Height; h != 3 || !f.Chain.Bang().IsBang() || f.Chain.Bang().Header.Height != 3 {
		t.Fatalf("a new fork at 3 is at height %d", h)
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
	if fq.Header.Height != 4 || fq.Header.Prev != fid {
		t.Fatalf("the fork's first quant is at %d, after %s", fq.Header.Height, fq.Header.Prev)
	}
	leap(t, a)

	// Its reads show the shared history: heights up to the fork point are
	// the parent's, then the fork's own; ?shared=false shows its own only.
	type page struct {
		Quants []struct {
			Height uint64     `json:"height"`
			Hash   quant.Hash `json:"hash"`
			Chain  quant.Hash `json:"chain"`
		} `json:"quants"`
	}
	var all, own page
	getJSON(t, a, "/v1/chains/"+fid.String()+"/quants?from=0&limit=100", &all)
	if len(all.Quants) != 5 || all.Quants[3].Hash != forkPoint || all.Quants[4].Hash != fq.Hash() {
		t.Fatalf("the fork's shared quants: %+v", all.Quants)
	}
	for i, q := range all.Quants {
		if q.Height != uint64(i) {
			t.Fatalf("the fork's shared quants: %d at %d", q.Height, i)
		}
	}
	getJSON(t, a, "/v1/chains/"+fid.String()+"/quants?from=2&limit=2", &all)
	if len(all.Quants) != 2 || all.Quants[0].Height != 2 || all.Quants[1].Hash != forkPoint {
		t.Fatalf("a page of the shared quants: %+v", all.Quants)
	}
	getJSON(t, a, "/v1/chains/"+fid.String()+"/quants?shared=false", &own)
	if len(own.Quants) != 2 || own.Quants[0].Hash != fid || own.Quants[0].Height != 3 || own.Quants[1].Hash != fq.Hash() {
		t.Fatalf("the fork's own quants: %+v", own.Quants)
	}
	var one struct {
		Hash   quant.Hash `json:"hash"`
		Height uint64     `json:"height"`
	}
	getJSON(t, a, "/v1/chains/"+fid.String()+"/quants/1", &one)
	if at1, _ := a.def().st.HashAt(1); one.Hash != at1 {
		t.Fatalf("the fork's quant 1 is %s, the parent's is %s", one.Hash, at1)
	}
	getJSON(t, a, "/v1/chains/"+fid.String()+"/quants/3?shared=false", &one)
	if one.Hash != fid || one.Height != 3 {
		t.Fatalf("the fork's own quant 3: %+v", one)
	}
	var stats struct {
		Height uint64 `json:"height"`
	}
	getJSON(t, a, "/v1/chains/"+fid.String()+"/stats", &stats)
	if stats.Height != 4 {
		t.Fatalf("the fork's stats say height %d", stats.Height)
	}
	if h := a.Chain().Tip().Header.Height; h != 6 {
		t.Fatalf("the parent is at height %d", h)
	}

	// b follows the fork with its parent, and checks the same lineage.
	eventually(t, "b follows the fork and syncs it", 15*time.Second, func() bool {
		l, ok := b.Ledger(fid)
		return ok && l.Chain.Tip().Hash == fq.Hash()
	})
	for _, n := range []*Node{a, b} {
		eventually(t, "the lineage verifies", 10*time.Second, func() bool {
			lin, err := n.Lineage(fid)
			return err == nil && len(lin) == 1 && lin[0].Verified && lin[0].Hash == forkPoint && lin[0].Chain == parent
		})
	}

	// A fork of the fork, after the fork point: its bang at 4, its quants
	// from 5.
	f2, err := a.Fork(t.Context(), fid, 4, schemaRules(t, "readings-2", `{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	lin, err := a.Lineage(f2.Chain.ID())
	if err != nil || len(lin) != 2 || !lin[0].Verified || !lin[1].Verified || lin[0].Chain != fid || lin[1].Chain != parent {
		t.Fatalf("lineage of a fork of a fork: %+v, %v", lin, err)
	}
	f2q, err := f2.Node.Leap(t.Context())
	if err != nil || f2q.Header.Height != 5 {
		t.Fatalf("the fork of the fork's first quant: %v, %v", f2q, err)
	}
	getJSON(t, a, "/v1/chains/"+f2.Chain.ID().String()+"/quants?limit=100", &all)
	if len(all.Quants) != 6 || all.Quants[3].Hash != forkPoint || all.Quants[4].Hash != fq.Hash() || all.Quants[5].Hash != f2q.Hash() {
		t.Fatalf("the fork of the fork's shared quants: %+v", all.Quants)
	}
	// A fork of the fork at a height it shares with its parent is a fork
	// of the parent.
	f3, err := a.Fork(t.Context(), fid, 2, schemaRules(t, "readings-3", `{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := f3.Chain.Rules().Parent; p.Chain != parent || p.Height != 2 {
		t.Fatalf("a fork of the fork at 2 forks %+v", p)
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
	if _, err := a.Fork(t.Context(), parent, 99, schemaRules(t, "late", `{"type":"object"}`)); !errors.Is(err, httpapi.ErrBadRequest) {
		t.Errorf("a fork past the tip: %v", err)
	}
}

// getJSON GETs path from n's API and decodes the 200 answer into v.
func getJSON(t *testing.T, n *Node, path string, v any) {
	t.Helper()
	resp, err := http.Get("http://" + n.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestStaleFork: a fork stored before a fork's bang sat at its fork
// point's height (its bang at 0) is told apart, so that the node skips it
// instead of refusing to start; a current fork and a plain chain are not.
func TestStaleFork(t *testing.T) {
	db, err := store.Open(store.Options{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	r := DefaultRules()
	plain, err := quant.NewBang(r)
	if err != nil {
		t.Fatal(err)
	}
	r.Name = "fork"
	r.Parent = &quant.ForkPoint{Chain: plain.Hash(), Height: 3, Hash: quant.Hash{7}}
	fork, err := quant.NewBang(r)
	if err != nil {
		t.Fatal(err)
	}
	old := *fork
	old.Header.Height = 0
	for _, tc := range []struct {
		name  string
		bang  *quant.Quant
		stale bool
	}{{"a plain chain", plain, false}, {"a fork", fork, false}, {"a fork with its bang at 0", &old, true}} {
		st := db.Chain(tc.bang.Hash())
		if err := st.Connect(chain.Entry{Quant: tc.bang, Meta: chain.Meta{Height: tc.bang.Header.Height, Work: big.NewInt(0)}}); err != nil {
			t.Fatal(err)
		}
		if got := staleFork(st); got != tc.stale {
			t.Errorf("%s: staleFork = %v", tc.name, got)
		}
	}
}
