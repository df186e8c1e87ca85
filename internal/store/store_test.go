package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{Dir: "x"}, true},
		{"no dir", Options{}, false},
		{"tiny cache", Options{Dir: "x", CacheSize: 10}, false},
		{"negative cache", Options{Dir: "x", CacheSize: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.EnsureDefaults()
			if err := o.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestConnectAndReadBack(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	if _, _, err := c.Tip(); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("Tip of empty chain: %v, want chain.ErrNotFound", err)
	}
	b := newBuilder(c.ID(), 1)
	qs := grow(t, c, b, bang, 5, 10)

	tipHash, tip, err := c.Tip()
	if err != nil {
		t.Fatal(err)
	}
	if tipHash != qs[5].Hash() || tip.Height != 5 || tip.Work.Cmp(big.NewInt(5)) != 0 {
		t.Fatalf("Tip = %s %+v, want quant 5", short(tipHash), tip)
	}
	got, err := c.Bang()
	if err != nil {
		t.Fatal(err)
	}
	sameQuant(t, got, bang)
	if _, err := quant.CheckBang(got); err != nil {
		t.Fatalf("stored bang does not check: %v", err)
	}
	for i, q := range qs {
		h := q.Hash()
		if got, err := c.HashAt(uint64(i)); err != nil || got != h {
			t.Fatalf("HashAt(%d) = %s, %v", i, short(got), err)
		}
		hdr, err := c.Header(h)
		if err != nil || hdr.Hash() != h {
			t.Fatalf("Header(%d): %v", i, err)
		}
		m, err := c.Meta(h)
		if err != nil || m.Height != uint64(i) || m.Work.Int64() != int64(i) {
			t.Fatalf("Meta(%d) = %+v, %v", i, m, err)
		}
		got, err := c.Quant(h)
		if err != nil {
			t.Fatal(err)
		}
		sameQuant(t, got, q)
		if ok, err := c.Has(h); !ok || err != nil {
			t.Fatalf("Has(%d) = %v, %v", i, ok, err)
		}
	}
	if _, err := c.HashAt(6); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("HashAt(6): %v, want chain.ErrNotFound", err)
	}
	missing := quant.Sum("test", []byte("missing"))
	if ok, err := c.Has(missing); ok || err != nil {
		t.Fatalf("Has(missing) = %v, %v", ok, err)
	}
	for _, f := range []func() error{
		func() error { _, err := c.Header(missing); return err },
		func() error { _, err := c.Meta(missing); return err },
		func() error { _, err := c.Quant(missing); return err },
	} {
		if err := f(); !errors.Is(err, chain.ErrNotFound) {
			t.Fatalf("lookup of a missing quant: %v, want chain.ErrNotFound", err)
		}
	}
	ids, err := db.Chains()
	if err != nil || len(ids) != 1 || ids[0] != c.ID() {
		t.Fatalf("Chains() = %v, %v", ids, err)
	}
}

// TestReturnedQuantIsCallers checks that what a read returns does not share
// memory with the store: changing it changes nothing stored.
func TestReturnedQuantIsCallers(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	qs := grow(t, c, newBuilder(c.ID(), 1), bang, 1, 3)
	h := qs[1].Hash()
	got, err := c.Quant(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range got.Txs {
		clear(tx.Data)
	}
	got.Header.Seal[0]++
	again, err := c.Quant(h)
	if err != nil {
		t.Fatal(err)
	}
	sameQuant(t, again, qs[1])
}

func TestTxLookup(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	qs := grow(t, c, newBuilder(c.ID(), 1), bang, 4, 7)
	for height, q := range qs {
		for i, tx := range q.Txs {
			id := tx.ID()
			want := chain.Location{Height: uint64(height), Index: uint32(i)}
			if loc, err := c.TxLocation(id); err != nil || loc != want {
				t.Fatalf("TxLocation = %+v, %v, want %+v", loc, err, want)
			}
			got, loc, err := c.Tx(id)
			if err != nil || loc != want {
				t.Fatalf("Tx = %+v, %v, want %+v", loc, err, want)
			}
			if !bytes.Equal(got.Encode(), tx.Encode()) {
				t.Fatalf("Tx %d/%d differs", height, i)
			}
			if ok, err := c.HasTx(id); !ok || err != nil {
				t.Fatalf("HasTx = %v, %v", ok, err)
			}
		}
	}
	missing := quant.Sum("test", []byte("no such tx"))
	if _, _, err := c.Tx(missing); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("Tx(missing): %v, want chain.ErrNotFound", err)
	}
	if _, err := c.TxLocation(missing); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("TxLocation(missing): %v, want chain.ErrNotFound", err)
	}
	if ok, err := c.HasTx(missing); ok || err != nil {
		t.Fatalf("HasTx(missing) = %v, %v", ok, err)
	}
}

// TestConnectWithIDs: a quant connected with its ids given is indexed as
// one whose ids the store computes.
func TestConnectWithIDs(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	grow(t, c, newBuilder(c.ID(), 1), bang, 1, 3)
	tipHash, _, err := c.Tip()
	if err != nil {
		t.Fatal(err)
	}
	parent, err := c.Header(tipHash)
	if err != nil {
		t.Fatal(err)
	}
	q := newBuilder(c.ID(), 2).child(parent, tipHash, 5)
	e := entry(q, 0)
	e.IDs = quant.TxIDs(q.Txs)
	if err := c.Connect(e); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	for i, id := range e.IDs {
		loc, err := c.TxLocation(id)
		if want := (chain.Location{Height: q.Header.Height, Index: uint32(i)}); err != nil || loc != want {
			t.Fatalf("TxLocation(%d) = %+v, %v, want %+v", i, loc, err, want)
		}
	}
}

func TestIterate(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	qs := grow(t, c, newBuilder(c.ID(), 1), bang, 9, 3)
	ctx := context.Background()

	t.Run("all", func(t *testing.T) {
		var heights []uint64
		err := c.Iterate(ctx, 0, func(q *quant.Quant) error {
			sameQuant(t, q, qs[q.Header.Height])
			heights = append(heights, q.Header.Height)
			return nil
		})
		if err != nil || !slices.Equal(heights, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Fatalf("Iterate: %v, %v", heights, err)
		}
	})
	t.Run("from", func(t *testing.T) {
		var heights []uint64
		err := c.IterateHeaders(ctx, 7, func(h *quant.Header) error {
			heights = append(heights, h.Height)
			return nil
		})
		if err != nil || !slices.Equal(heights, []uint64{7, 8, 9}) {
			t.Fatalf("IterateHeaders(7): %v, %v", heights, err)
		}
	})
	t.Run("past tip", func(t *testing.T) {
		err := c.Iterate(ctx, 10, func(q *quant.Quant) error {
			t.Fatalf("called with quant %d", q.Header.Height)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("stop", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := c.Iterate(ctx, 2, func(q *quant.Quant) error {
			n++
			if q.Header.Height == 4 {
				return stop
			}
			return nil
		})
		if err != stop || n != 3 {
			t.Fatalf("Iterate = %v after %d calls, want stop after 3", err, n)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		n := 0
		err := c.IterateHeaders(ctx, 0, func(h *quant.Header) error {
			n++
			if h.Height == 3 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || n != 4 {
			t.Fatalf("IterateHeaders = %v after %d calls, want Canceled after 4", err, n)
		}
		if err := c.Iterate(ctx, 0, func(*quant.Quant) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Iterate with an ended ctx: %v", err)
		}
	})
	t.Run("snapshot", func(t *testing.T) {
		// Quants connected while iterating are not seen: the snapshot is
		// taken when Iterate is called.
		b := newBuilder(c.ID(), 2)
		n := 0
		err := c.IterateHeaders(ctx, 8, func(h *quant.Header) error {
			n++
			if h.Height == 8 {
				grow(t, c, b, nil, 2, 1)
			}
			return nil
		})
		if err != nil || n != 2 {
			t.Fatalf("IterateHeaders saw %d quants, %v; want 2", n, err)
		}
	})
}

func TestConnectRefuses(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)

	// On an empty chain only its bang may be connected.
	orphan := b.child(&bang.Header, bang.Hash(), 1)
	if err := c.Connect(entry(orphan, 0)); !errors.Is(err, ErrBadLink) {
		t.Fatalf("Connect on empty chain: %v, want ErrBadLink", err)
	}
	other := testBang(t, 2)
	if err := c.Connect(entry(other, 0)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Connect another chain's bang: %v, want ErrInvalid", err)
	}
	qs := grow(t, c, b, bang, 3, 2)
	tip := qs[3]

	wrongHeight := b.child(&tip.Header, tip.Hash(), 1)
	wrongHeight.Header.Height++
	badMeta := entry(b.child(&tip.Header, tip.Hash(), 1), 0)
	badMeta.Meta.Height = 9
	noWork := entry(b.child(&tip.Header, tip.Hash(), 1), 0)
	noWork.Meta.Work = nil
	negWork := entry(b.child(&tip.Header, tip.Hash(), 1), 0)
	negWork.Meta.Work = big.NewInt(-1)
	badCount := b.child(&tip.Header, tip.Hash(), 2)
	badCount.Header.TxCount = 1
	rules := b.child(&tip.Header, tip.Hash(), 1)
	rules.Rules = []byte("{}")

	tests := []struct {
		name string
		e    chain.Entry
		want error
	}{
		{"parent not tip", entry(b.child(&qs[2].Header, qs[2].Hash(), 1), 0), ErrBadLink},
		{"tip again", entry(tip, 0), ErrBadLink},
		{"height skips", entry(wrongHeight, 0), ErrBadLink},
		{"bang again", entry(bang, 0), ErrBadLink},
		{"nil quant", chain.Entry{Meta: chain.Meta{Work: big.NewInt(1)}}, ErrInvalid},
		{"meta height", badMeta, ErrInvalid},
		{"nil work", noWork, ErrInvalid},
		{"negative work", negWork, ErrInvalid},
		{"tx count", entry(badCount, 0), ErrInvalid},
		{"rules in a non-bang", entry(rules, 0), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Connect(tt.e); !errors.Is(err, tt.want) {
				t.Fatalf("Connect: %v, want %v", err, tt.want)
			}
			if h, _, err := c.Tip(); err != nil || h != tip.Hash() {
				t.Fatalf("tip moved to %s (%v)", short(h), err)
			}
		})
	}
}

func TestSaveSideBranch(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	qs := grow(t, c, b, bang, 3, 2)
	side := b.child(&qs[2].Header, qs[2].Hash(), 4)
	if err := c.Save(entry(side, 100)); err != nil {
		t.Fatal(err)
	}
	got, err := c.Quant(side.Hash())
	if err != nil {
		t.Fatal(err)
	}
	sameQuant(t, got, side)
	if m, err := c.Meta(side.Hash()); err != nil || m.Work.Int64() != 103 {
		t.Fatalf("Meta = %+v, %v", m, err)
	}
	if h, err := c.HashAt(3); err != nil || h != qs[3].Hash() {
		t.Fatalf("HashAt(3) = %s, %v: Save changed the main chain", short(h), err)
	}
	if ok, err := c.HasTx(side.Txs[0].ID()); ok || err != nil {
		t.Fatalf("HasTx(side tx) = %v, %v: Save indexed a side transaction", ok, err)
	}
	// Saving again rewrites the meta.
	if err := c.Save(entry(side, 200)); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Meta(side.Hash()); err != nil || m.Work.Int64() != 203 {
		t.Fatalf("Meta after second Save = %+v, %v", m, err)
	}
}

func TestReorg(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	main := grow(t, c, b, bang, 5, 3) // 0..5

	// A branch off quant 3 that re-includes one transaction of quant 4.
	shared := main[4].Txs[1]
	s4 := b.child(&main[3].Header, main[3].Hash(), 2, shared)
	s5 := b.child(&s4.Header, s4.Hash(), 3)
	s6 := b.child(&s5.Header, s5.Hash(), 3)
	if err := c.Save(entry(s4, 10)); err != nil { // one saved beforehand, two not
		t.Fatal(err)
	}
	disconnect := []quant.Hash{main[5].Hash(), main[4].Hash()}
	connect := []chain.Entry{entry(s4, 10), entry(s5, 10), entry(s6, 10)}
	if err := c.Reorg(disconnect, connect); err != nil {
		t.Fatalf("Reorg: %v", err)
	}

	tipHash, tip, err := c.Tip()
	if err != nil || tipHash != s6.Hash() || tip.Height != 6 || tip.Work.Int64() != 16 {
		t.Fatalf("Tip = %s %+v, %v; want s6", short(tipHash), tip, err)
	}
	want := []*quant.Quant{main[0], main[1], main[2], main[3], s4, s5, s6}
	var got []*quant.Quant
	if err := c.Iterate(context.Background(), 0, func(q *quant.Quant) error {
		got = append(got, q)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("main chain has %d quants, want %d", len(got), len(want))
	}
	for i := range want {
		sameQuant(t, got[i], want[i])
		if h, err := c.HashAt(uint64(i)); err != nil || h != want[i].Hash() {
			t.Fatalf("HashAt(%d) = %s, %v", i, short(h), err)
		}
	}
	// The abandoned quants stay stored, but their transactions leave the
	// index, except the one the new branch re-included.
	for _, q := range main[4:] {
		if ok, err := c.Has(q.Hash()); !ok || err != nil {
			t.Fatalf("abandoned quant %d no longer stored: %v", q.Header.Height, err)
		}
		for _, tx := range q.Txs {
			ok, err := c.HasTx(tx.ID())
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tx == shared) {
				t.Fatalf("HasTx(abandoned tx) = %v", ok)
			}
		}
	}
	if loc, err := c.TxLocation(shared.ID()); err != nil || loc != (chain.Location{Height: 4, Index: 2}) {
		t.Fatalf("shared tx at %+v, %v; want 4/2", loc, err)
	}
	for _, q := range []*quant.Quant{s4, s5, s6} {
		for i, tx := range q.Txs {
			if _, loc, err := c.Tx(tx.ID()); err != nil || loc != (chain.Location{Height: q.Header.Height, Index: uint32(i)}) {
				t.Fatalf("Tx(new) at %+v, %v", loc, err)
			}
		}
	}

	// And back, disconnecting 3 and connecting 2: the main chain gets
	// shorter and the heights above it are gone.
	if err := c.Reorg([]quant.Hash{s6.Hash(), s5.Hash(), s4.Hash()}, []chain.Entry{entry(main[4], 0), entry(main[5], 0)}); err != nil {
		t.Fatalf("Reorg back: %v", err)
	}
	if _, err := c.HashAt(6); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("HashAt(6) after shorter reorg: %v, want chain.ErrNotFound", err)
	}
	if h, _, err := c.Tip(); err != nil || h != main[5].Hash() {
		t.Fatalf("Tip = %s, %v; want main 5", short(h), err)
	}
	if ok, _ := c.HasTx(s6.Txs[0].ID()); ok {
		t.Fatal("transaction of abandoned s6 still indexed")
	}
	if loc, err := c.TxLocation(shared.ID()); err != nil || loc != (chain.Location{Height: 4, Index: 1}) {
		t.Fatalf("shared tx at %+v, %v; want 4/1", loc, err)
	}

	// Disconnect only: a rollback of the tip.
	if err := c.Reorg([]quant.Hash{main[5].Hash()}, nil); err != nil {
		t.Fatalf("Reorg disconnect only: %v", err)
	}
	if h, m, err := c.Tip(); err != nil || h != main[4].Hash() || m.Height != 4 {
		t.Fatalf("Tip after rollback = %s, %v", short(h), err)
	}
	// Connect only: the tip's child.
	if err := c.Reorg(nil, []chain.Entry{entry(main[5], 0)}); err != nil {
		t.Fatalf("Reorg connect only: %v", err)
	}
	if h, _, err := c.Tip(); err != nil || h != main[5].Hash() {
		t.Fatalf("Tip after connect-only reorg = %s, %v", short(h), err)
	}
}

func TestReorgRefusesBadLinkage(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	main := grow(t, c, b, bang, 5, 2)
	s4 := b.child(&main[3].Header, main[3].Hash(), 2)
	s5 := b.child(&s4.Header, s4.Hash(), 2)
	s6 := b.child(&s5.Header, s5.Hash(), 2)
	off2 := b.child(&main[2].Header, main[2].Hash(), 2)
	h := func(qs ...*quant.Quant) []quant.Hash {
		var out []quant.Hash
		for _, q := range qs {
			out = append(out, q.Hash())
		}
		return out
	}
	e := func(qs ...*quant.Quant) []chain.Entry {
		var out []chain.Entry
		for _, q := range qs {
			out = append(out, entry(q, 10))
		}
		return out
	}
	badMeta := e(s4, s5, s6)
	badMeta[1].Meta.Height = 1

	tests := []struct {
		name       string
		disconnect []quant.Hash
		connect    []chain.Entry
		want       error
	}{
		{"nothing", nil, nil, ErrInvalid},
		{"not from the tip", h(main[4], main[3]), e(s4), ErrBadLink},
		{"gap in disconnect", h(main[5], main[3]), e(s4, s5, s6), ErrBadLink},
		{"disconnect order reversed", h(main[4], main[5]), e(s4, s5, s6), ErrBadLink},
		{"connect off the wrong quant", h(main[5], main[4]), e(off2), ErrBadLink},
		{"connect too high", h(main[5]), e(s5, s6), ErrBadLink},
		{"gap in connect", h(main[5], main[4]), e(s4, s6), ErrBadLink},
		{"connect order reversed", h(main[5], main[4]), e(s5, s4), ErrBadLink},
		{"connect only, not a child of the tip", nil, e(s4), ErrBadLink},
		{"disconnect the bang", h(main[5], main[4], main[3], main[2], main[1], main[0]), nil, ErrBadLink},
		{"unknown quant", []quant.Hash{quant.Sum("x")}, nil, ErrBadLink},
		{"bad meta", h(main[5], main[4]), badMeta, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Reorg(tt.disconnect, tt.connect); !errors.Is(err, tt.want) {
				t.Fatalf("Reorg: %v, want %v", err, tt.want)
			}
			// Nothing was written.
			if tip, _, err := c.Tip(); err != nil || tip != main[5].Hash() {
				t.Fatalf("tip moved to %s (%v)", short(tip), err)
			}
			for _, q := range main {
				if got, err := c.HashAt(q.Header.Height); err != nil || got != q.Hash() {
					t.Fatalf("HashAt(%d) changed: %v", q.Header.Height, err)
				}
			}
			if ok, _ := c.Has(s4.Hash()); ok {
				t.Fatal("a refused reorg stored a quant")
			}
		})
	}
}

func TestChainsAreSeparate(t *testing.T) {
	db := openTest(t, "")
	bangA, bangB := testBang(t, 1), testBang(t, 2)
	a, b := db.Chain(bangA.Hash()), db.Chain(bangB.Hash())
	qa := grow(t, a, newBuilder(a.ID(), 1), bangA, 3, 2)
	qb := grow(t, b, newBuilder(b.ID(), 2), bangB, 1, 2)
	if ok, _ := b.Has(qa[1].Hash()); ok {
		t.Fatal("chain b sees chain a's quant")
	}
	if ok, _ := b.HasTx(qa[1].Txs[0].ID()); ok {
		t.Fatal("chain b sees chain a's transaction")
	}
	if _, m, _ := b.Tip(); m.Height != 1 {
		t.Fatalf("chain b's tip is at %d", m.Height)
	}
	n := 0
	if err := b.IterateHeaders(context.Background(), 0, func(*quant.Header) error { n++; return nil }); err != nil || n != len(qb) {
		t.Fatalf("chain b iterates %d quants, %v", n, err)
	}
	ids, err := db.Chains()
	want := []quant.Hash{a.ID(), b.ID()}
	slices.SortFunc(want, func(x, y quant.Hash) int { return bytes.Compare(x[:], y[:]) })
	if err != nil || !slices.Equal(ids, want) {
		t.Fatalf("Chains() = %v, %v", ids, err)
	}
}

func TestReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db := openTest(t, dir)
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	qs := grow(t, c, b, bang, 4, 5)
	side := b.child(&qs[2].Header, qs[2].Hash(), 1)
	if err := c.Save(entry(side, 0)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Quant(qs[1].Hash()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Quant after Close: %v, want ErrClosed", err)
	}
	if err := c.Connect(entry(b.child(&qs[4].Header, qs[4].Hash(), 1), 0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Connect after Close: %v, want ErrClosed", err)
	}

	check := func(t *testing.T, db *DB) {
		c := db.Chain(bang.Hash())
		if h, m, err := c.Tip(); err != nil || h != qs[4].Hash() || m.Height != 4 {
			t.Fatalf("Tip after reopen = %s %+v, %v", short(h), m, err)
		}
		for i, q := range qs {
			got, err := c.Quant(q.Hash())
			if err != nil {
				t.Fatal(err)
			}
			sameQuant(t, got, q)
			if h, err := c.HashAt(uint64(i)); err != nil || h != q.Hash() {
				t.Fatalf("HashAt(%d): %v", i, err)
			}
			for _, tx := range q.Txs {
				if ok, err := c.HasTx(tx.ID()); !ok || err != nil {
					t.Fatalf("HasTx after reopen = %v, %v", ok, err)
				}
			}
		}
		if ok, err := c.Has(side.Hash()); !ok || err != nil {
			t.Fatalf("saved side quant lost: %v", err)
		}
	}
	t.Run("read-write", func(t *testing.T) {
		db := openTest(t, dir)
		check(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		db, err := Open(Options{Dir: dir, Logger: discard(), ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		check(t, db)
		c := db.Chain(bang.Hash())
		if err := c.Save(entry(side, 0)); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("Save on a read-only DB: %v", err)
		}
	})
	t.Run("read-only missing", func(t *testing.T) {
		if db, err := Open(Options{Dir: filepath.Join(t.TempDir(), "none"), Logger: discard(), ReadOnly: true}); err == nil {
			db.Close()
			t.Fatal("read-only Open of a missing database succeeded")
		}
	})
}

// TestForkHeights: a fork's bang is stored at its fork point's height and
// its quants above it; the height index starts there, Iterate from below
// it starts at the bang, and a reorg still refuses to disconnect the bang.
func TestForkHeights(t *testing.T) {
	db := openTest(t, "")
	parent := testBang(t, 1)
	r := quant.DefaultRules("fork", 1_700_000_000_002)
	r.Engine = "pow"
	r.Parent = &quant.ForkPoint{Chain: parent.Hash(), Height: 120, Hash: quant.Hash{7}}
	bang, err := quant.NewBang(r)
	if err != nil {
		t.Fatal(err)
	}
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	if err := c.Connect(chain.Entry{Quant: bang, Meta: chain.Meta{Height: 120, Work: big.NewInt(0)}}); err != nil {
		t.Fatalf("Connect the fork's bang: %v", err)
	}
	q := b.child(&bang.Header, bang.Hash(), 2)
	if err := c.Connect(entry(q, 0)); err != nil || q.Header.Height != 121 {
		t.Fatalf("Connect quant %d: %v", q.Header.Height, err)
	}
	if at, err := c.HashAt(120); err != nil || at != bang.Hash() {
		t.Fatalf("HashAt(120) = %s, %v; want the bang", at, err)
	}
	if _, err := c.HashAt(0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("HashAt(0) on a fork: %v, want not found", err)
	}
	got, err := c.Bang()
	if err != nil || got.Hash() != bang.Hash() || string(got.Rules) != string(bang.Rules) {
		t.Fatalf("Bang: %v", err)
	}
	var heights []uint64
	if err := c.Iterate(context.Background(), 0, func(q *quant.Quant) error {
		heights = append(heights, q.Header.Height)
		return nil
	}); err != nil || !slices.Equal(heights, []uint64{120, 121}) {
		t.Fatalf("Iterate(0): %v, %v", heights, err)
	}
	if err := c.Reorg([]quant.Hash{q.Hash(), bang.Hash()}, nil); !errors.Is(err, ErrBadLink) {
		t.Fatalf("Reorg off the fork's bang: %v, want ErrBadLink", err)
	}
}

// TestTxLocations requires TxLocations to answer as TxLocation does for
// each id, in the caller's order, for ids found, missing and repeated, in
// one key range and in several (more ids than minTxLocationsPart).
func TestTxLocations(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	qs := grow(t, c, newBuilder(c.ID(), 1), bang, 5, minTxLocationsPart/2)
	var ids []quant.Hash
	for _, q := range qs {
		for _, tx := range q.Txs {
			ids = append(ids, tx.ID())
		}
	}
	for n, extra := range [][]quant.Hash{
		{quant.Sum("test", []byte("no such tx"))},
		{ids[3], quant.Sum("test", []byte("nor this")), ids[3]},
	} {
		for _, some := range [][]quant.Hash{ids[:9], ids} {
			some := append(append([]quant.Hash(nil), some...), extra...)
			locs, errs := c.TxLocations(some)
			if len(locs) != len(some) || len(errs) != len(some) {
				t.Fatalf("case %d, %d ids: %d locations, %d errors", n, len(some), len(locs), len(errs))
			}
			for i, id := range some {
				want, werr := c.TxLocation(id)
				if locs[i] != want || fmt.Sprint(errs[i]) != fmt.Sprint(werr) || werr != nil && !errors.Is(errs[i], chain.ErrNotFound) {
					t.Fatalf("case %d, id %d: %+v, %v; TxLocation: %+v, %v", n, i, locs[i], errs[i], want, werr)
				}
			}
		}
	}
	if locs, errs := c.TxLocations(ids[:100]); errs != nil || locs[99] != (chain.Location{Height: 1, Index: 99}) {
		t.Fatalf("all found: errs %v, location of the 100th %+v", errs, locs[99])
	}
}
