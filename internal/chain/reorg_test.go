package chain

import (
	"context"
	"slices"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

// on builds a sealed quant holding txs on parent (any stored quant).
func (f *fixture) on(parent *quant.Quant, txs ...*quant.Tx) *quant.Quant {
	f.t.Helper()
	ph := parent.Header
	q := &quant.Quant{
		Header: quant.Header{ChainID: f.c.ID(), Height: ph.Height + 1, Prev: parent.Hash(),
			TxRoot: quant.TxRoot(txs), Time: ph.Time + 1000, TxCount: uint32(len(txs))},
		Txs: txs,
	}
	if err := f.c.Engine().Prepare(f.st, &ph, &q.Header); err != nil {
		f.t.Fatal(err)
	}
	if err := f.c.Engine().Seal(context.Background(), &q.Header); err != nil {
		f.t.Fatal(err)
	}
	return q
}

func (f *fixture) mustAdd(q *quant.Quant) Result {
	f.t.Helper()
	res, err := f.c.Add(q)
	if err != nil {
		f.t.Fatalf("Add quant %d: %v", q.Header.Height, err)
	}
	return res
}

func hashes(qs []*quant.Quant) []quant.Hash {
	var out []quant.Hash
	for _, q := range qs {
		out = append(out, q.Hash())
	}
	return out
}

func TestReorgToHeavierBranch(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.t = f.clock.t.Add(60_000_000_000) // all quants below are in the past
	bang := f.c.Bang()
	a1tx, a2tx, btx := f.tx(`"a1"`, false), f.tx(`"a2"`, false), f.tx(`"b"`, true)
	a1 := f.on(bang, a1tx)
	a2 := f.on(a1, a2tx)
	f.mustAdd(a1)
	f.mustAdd(a2)

	b1 := f.on(bang, btx)
	b2 := f.on(b1, a1tx) // a1's tx again: allowed, the branch parts below it
	b3 := f.on(b2)
	if res := f.mustAdd(b1); res.Extended() {
		t.Fatal("a lighter branch became the chain")
	}
	if res := f.mustAdd(b2); res.Extended() || f.c.Tip().Hash != a2.Hash() {
		t.Fatal("an equally heavy branch replaced the first seen")
	}
	res := f.mustAdd(b3)
	if got, want := hashes(res.Connected), hashes([]*quant.Quant{b1, b2, b3}); !equal(got, want) {
		t.Fatalf("connected %v, want b1 b2 b3", got)
	}
	if got, want := hashes(res.Disconnected), hashes([]*quant.Quant{a2, a1}); !equal(got, want) {
		t.Fatalf("disconnected %v, want a2 a1", got)
	}
	head := f.c.Tip()
	if head.Hash != b3.Hash() || head.Meta.Height != 3 || head.Meta.Txs != 2 {
		t.Fatalf("head after reorg: %d %s txs %d", head.Meta.Height, head.Hash, head.Meta.Txs)
	}
	if _, err := f.st.TxLocation(a2tx.ID()); err == nil {
		t.Fatal("the abandoned branch's tx is still indexed")
	}
	if loc, err := f.st.TxLocation(a1tx.ID()); err != nil || loc.Height != 2 {
		t.Fatalf("a1's tx after reorg: %+v %v, want height 2", loc, err)
	}
	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatalf("VerifyStored after reorg: %v", err)
	}
	// And back: the old branch grows heavier again.
	a3 := f.on(a2)
	a4 := f.on(a3)
	f.mustAdd(a3)
	res = f.mustAdd(a4)
	if len(res.Connected) != 4 || len(res.Disconnected) != 3 || f.c.Tip().Hash != a4.Hash() {
		t.Fatalf("reorg back: connected %d disconnected %d", len(res.Connected), len(res.Disconnected))
	}
	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatalf("VerifyStored after second reorg: %v", err)
	}
}

func TestReorgRefusesReplayedTx(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.t = f.clock.t.Add(60_000_000_000)
	x := f.tx(`"x"`, false)
	a1 := f.on(f.c.Bang(), x)
	a2 := f.on(a1)
	a3 := f.on(a2)
	for _, q := range []*quant.Quant{a1, a2, a3} {
		f.mustAdd(q)
	}
	b2 := f.on(a1, x) // replays x, committed at height 1, below the fork
	b3 := f.on(b2)
	b4 := f.on(b3)
	f.mustAdd(b2)
	f.mustAdd(b3)
	if _, err := f.c.Add(b4); quant.CodeOf(err) != quant.CodeDuplicate {
		t.Fatalf("heavier branch with a replayed tx: %v, want duplicate", err)
	}
	if f.c.Tip().Hash != a3.Hash() {
		t.Fatal("the chain moved to a branch with a replayed transaction")
	}
	if _, err := f.c.Add(f.on(b4)); quant.CodeOf(err) != quant.CodeBadAncestor {
		t.Fatalf("child of an invalid quant: %v, want bad_ancestor", err)
	}
	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownParent(t *testing.T) {
	f := newFixture(t, nil)
	orphan := f.on(&quant.Quant{Header: quant.Header{ChainID: f.c.ID(), Height: 5, Time: t0 + 5000}})
	if _, err := f.c.Add(orphan); quant.CodeOf(err) != quant.CodeUnknownParent {
		t.Fatalf("orphan: %v", err)
	}
}

func TestLocatorAndHashesAfter(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.t = f.clock.t.Add(60_000_000_000)
	prev := f.c.Bang()
	var main []*quant.Quant
	for i := 0; i < 40; i++ {
		q := f.on(prev)
		f.mustAdd(q)
		main = append(main, q)
		prev = q
	}
	loc, err := f.c.Locator()
	if err != nil {
		t.Fatal(err)
	}
	if loc[0] != main[39].Hash() || loc[len(loc)-1] != f.c.ID() || len(loc) > 20 {
		t.Fatalf("locator of %d hashes: first %s last %s", len(loc), loc[0], loc[len(loc)-1])
	}
	// A peer that has the first 10 quants and one of its own on top.
	// The plan for a sync: the hashes after the same fork point.
	hashes, err := f.c.HashesAfter([]quant.Hash{{1, 2, 3}, main[9].Hash(), f.c.ID()}, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]quant.Hash, 0, 30)
	for _, q := range main[10:] {
		want = append(want, q.Hash())
	}
	if !equal(hashes, want) {
		t.Fatalf("HashesAfter: %d hashes, want the 30 after height 10", len(hashes))
	}
	if hashes, _ := f.c.HashesAfter([]quant.Hash{main[39].Hash()}, 100); len(hashes) != 0 {
		t.Fatalf("HashesAfter the tip: %d hashes", len(hashes))
	}
	if hashes, _ := f.c.HashesAfter(nil, 7); len(hashes) != 7 || hashes[0] != main[0].Hash() {
		t.Fatalf("HashesAfter nothing known: %d hashes", len(hashes))
	}
	if _, err := f.c.HashesAfter(make([]quant.Hash, 500), 1); quant.CodeOf(err) != quant.CodeTooLarge {
		t.Fatalf("huge locator: %v", err)
	}
}

func equal(a, b []quant.Hash) bool { return slices.Equal(a, b) }
