package chain

import (
	"math"
	"slices"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

func TestCheckForkPoint(t *testing.T) {
	f := newFixture(t, nil)
	f.add(f.quant(nil, nil))
	q2 := f.quant(nil, nil)
	f.add(q2)
	// A quant stored without its parent: its history breaks.
	orphan := &quant.Quant{Header: quant.Header{ChainID: f.c.ID(), Height: 7, Prev: quant.Hash{1}, TxRoot: quant.RootOfIDs(nil)}}
	if err := f.st.Save(Entry{Quant: orphan, Meta: Meta{Height: 7, Work: f.c.Tip().Meta.Work}}); err != nil {
		t.Fatal(err)
	}
	id := f.c.ID()
	for _, tc := range []struct {
		name string
		fp   quant.ForkPoint
		ok   bool
	}{
		{"the bang", quant.ForkPoint{Chain: id, Height: 0, Hash: id}, true},
		{"a main-chain quant", quant.ForkPoint{Chain: id, Height: 2, Hash: q2.Hash()}, true},
		{"wrong height", quant.ForkPoint{Chain: id, Height: 1, Hash: q2.Hash()}, false},
		{"unknown quant", quant.ForkPoint{Chain: id, Height: 2, Hash: quant.Hash{9}}, false},
		{"broken history", quant.ForkPoint{Chain: id, Height: 7, Hash: orphan.Hash()}, false},
		{"another chain's id", quant.ForkPoint{Chain: quant.Hash{3}, Height: 2, Hash: q2.Hash()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.c.CheckForkPoint(&tc.fp)
			if tc.ok != (err == nil) {
				t.Fatalf("CheckForkPoint: %v, want ok %v", err, tc.ok)
			}
			if err != nil && quant.CodeOf(err) != quant.CodeBadRules {
				t.Fatalf("CheckForkPoint: %v, want code %s", err, quant.CodeBadRules)
			}
			if tc.fp.Chain == id {
				if err2 := CheckForkPoint(f.st, &tc.fp); (err2 == nil) != (err == nil) {
					t.Fatalf("the function says %v, the method %v", err2, err)
				}
			}
		})
	}
}

// TestCheckForkPointOfAFork checks a fork point on a chain that is itself
// a fork: its history links back to the fork's bang, at the bang's height.
func TestCheckForkPointOfAFork(t *testing.T) {
	f := newFixture(t, forkAt(40))
	q41 := f.quant(nil, nil)
	f.add(q41)
	q42 := f.quant(nil, nil)
	f.add(q42)
	id := f.c.ID()
	for _, tc := range []struct {
		name string
		fp   quant.ForkPoint
		ok   bool
	}{
		{"the fork's first quant", quant.ForkPoint{Chain: id, Height: 41, Hash: q41.Hash()}, true},
		{"the fork's second quant", quant.ForkPoint{Chain: id, Height: 42, Hash: q42.Hash()}, true},
		{"the fork's bang", quant.ForkPoint{Chain: id, Height: 40, Hash: id}, true},
		{"the second quant at 2", quant.ForkPoint{Chain: id, Height: 2, Hash: q42.Hash()}, false},
	} {
		if err := f.c.CheckForkPoint(&tc.fp); tc.ok != (err == nil) {
			t.Errorf("%s: CheckForkPoint: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestLineage(t *testing.T) {
	// Chains forked from each other's bangs: chains[i+1] from chains[i].
	var chains []*Chain
	byID := map[quant.Hash]*Chain{}
	for i := 0; i <= MaxLineage+1; i++ {
		var parent *quant.ForkPoint
		if i > 0 {
			p := chains[i-1].ID()
			parent = &quant.ForkPoint{Chain: p, Height: 0, Hash: p}
		}
		f := newFixture(t, func(r *quant.Rules) { r.Name = "lineage"; r.Parent = parent })
		chains = append(chains, f.c)
		byID[f.c.ID()] = f.c
	}
	resolve := func(id quant.Hash) *Chain { return byID[id] }

	lin, err := Lineage(chains[3].Rules(), resolve)
	if err != nil || len(lin) != 3 {
		t.Fatalf("Lineage of the fourth chain: %d ancestors, %v", len(lin), err)
	}
	for i, a := range lin {
		if a.Point.Chain != chains[2-i].ID() || a.Err != nil || a.Name != "lineage" {
			t.Fatalf("ancestor %d: %+v", i, a)
		}
	}
	if lin, err := Lineage(chains[0].Rules(), resolve); err != nil || len(lin) != 0 {
		t.Fatalf("a chain with no parent: %v, %v", lin, err)
	}
	if lin, err := Lineage(chains[MaxLineage+1].Rules(), resolve); quant.CodeOf(err) != quant.CodeBadRules || len(lin) != MaxLineage {
		t.Fatalf("a lineage %d deep: %d ancestors, %v", MaxLineage+1, len(lin), err)
	}
	// A fork as deep as MaxLineage may be made; one deeper may not.
	if err := CheckForkDepth(chains[MaxLineage].Rules().Parent, resolve); err != nil {
		t.Fatalf("a fork %d deep: %v", MaxLineage, err)
	}
	if err := CheckForkDepth(chains[MaxLineage+1].Rules().Parent, resolve); quant.CodeOf(err) != quant.CodeBadRules {
		t.Fatalf("a fork %d deep: %v, want bad_rules", MaxLineage+1, err)
	}
	if err := CheckForkDepth(&quant.ForkPoint{Chain: quant.Hash{0xee}}, resolve); err != nil {
		t.Fatalf("a fork of a chain not followed: %v", err)
	}
	delete(byID, chains[1].ID())
	lin, err = Lineage(chains[3].Rules(), resolve)
	if err != nil || len(lin) != 2 || lin[0].Err != nil || lin[1].Err == nil || lin[1].Name != "" {
		t.Fatalf("a parent not followed: %+v, %v", lin, err)
	}
}

// TestHistory checks the spans of a fork's history: the parent's heights
// up to the fork point, then the fork's own after its bang; and only the
// fork's own (from its bang) when the parent is not followed or no longer
// holds the fork point.
func TestHistory(t *testing.T) {
	p := newFixture(t, nil)
	for i := 0; i < 4; i++ {
		p.add(p.quant(nil, nil))
	}
	at2, err := p.st.HashAt(2)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(r *quant.Rules) {
		r.Name = "fork"
		r.Parent = &quant.ForkPoint{Chain: p.c.ID(), Height: 2, Hash: at2}
	})
	f.add(f.quant(nil, nil))
	byID := map[quant.Hash]*Chain{p.c.ID(): p.c, f.c.ID(): f.c}
	resolve := func(id quant.Hash) *Chain { return byID[id] }

	spans, err := History(f.c, resolve)
	if err != nil || len(spans) != 2 ||
		spans[0] != (Span{Chain: p.c, From: 0, To: 2}) || spans[1] != (Span{Chain: f.c, From: 3, To: math.MaxUint64}) {
		t.Fatalf("History of the fork: %+v, %v", spans, err)
	}
	for h, want := range map[uint64]*Chain{0: p.c, 2: p.c, 3: f.c, 99: f.c} {
		if s, ok := SpanAt(spans, h); !ok || s.Chain != want {
			t.Errorf("SpanAt(%d) = %+v, %v", h, s, ok)
		}
	}
	if spans, err := History(p.c, resolve); err != nil || len(spans) != 1 || spans[0].From != 0 || spans[0].Chain != p.c {
		t.Fatalf("History of the parent: %+v, %v", spans, err)
	}
	own := []Span{{Chain: f.c, From: 2, To: math.MaxUint64}}
	delete(byID, p.c.ID())
	if spans, err := History(f.c, resolve); err != nil || !slices.Equal(spans, own) {
		t.Fatalf("History with the parent not followed: %+v, %v", spans, err)
	}
	// A parent whose main chain no longer holds the fork point there.
	other := newFixture(t, func(r *quant.Rules) { r.Name = "other" })
	other.add(other.quant(nil, nil))
	other.add(other.quant(nil, nil))
	byID[p.c.ID()] = other.c
	if spans, err := History(f.c, resolve); err != nil || !slices.Equal(spans, own) {
		t.Fatalf("History with the fork point gone: %+v, %v", spans, err)
	}
}
