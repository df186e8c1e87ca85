package store

import (
	"errors"
	"math/big"
	"testing"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// epochChain connects, on a fresh chain, quants whose metas count enough
// transactions before them to put their index entries in epochs 0, 0, 3
// and 5 (the store takes the counts as given; the chain package keeps them
// true), and returns them, the bang first.
func epochChain(t *testing.T, c *Chain, b *builder, bang *quant.Quant) []*quant.Quant {
	t.Helper()
	if err := c.Connect(entry(bang, 0)); err != nil {
		t.Fatal(err)
	}
	qs := []*quant.Quant{bang}
	parent, parentHash := &bang.Header, bang.Hash()
	for _, before := range []uint64{0, 4, 3 << epochShift, 5<<epochShift + 7} {
		q := b.child(parent, parentHash, 4)
		e := entry(q, 0)
		e.Meta.Txs = before + 4
		if err := c.Connect(e); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
		parent, parentHash = &q.Header, q.Hash()
	}
	return qs
}

// wantIndexed checks that every transaction of qs is found, where it is,
// by Tx, TxLocation, TxLocations and HasTx, and that ids not on the chain
// are not.
func wantIndexed(t *testing.T, c *Chain, qs []*quant.Quant, absent ...quant.Hash) {
	t.Helper()
	var ids []quant.Hash
	var want []chain.Location
	for _, q := range qs {
		for i, tx := range q.Txs {
			ids = append(ids, tx.ID())
			want = append(want, chain.Location{Height: q.Header.Height, Index: uint32(i)})
		}
	}
	for i, id := range ids {
		loc, err := c.TxLocation(id)
		if err != nil || loc != want[i] {
			t.Fatalf("TxLocation(%d): %+v, %v; want %+v", i, loc, err, want[i])
		}
		tx, loc, err := c.Tx(id)
		if err != nil || loc != want[i] || tx.ID() != id {
			t.Fatalf("Tx(%d): %+v, %v", i, loc, err)
		}
		if has, err := c.HasTx(id); err != nil || !has {
			t.Fatalf("HasTx(%d): %v, %v", i, has, err)
		}
	}
	locs, errs := c.TxLocations(append(ids, absent...))
	for i := range ids {
		if errs != nil && errs[i] != nil || locs[i] != want[i] {
			t.Fatalf("TxLocations[%d]: %+v (%v), want %+v", i, locs[i], errs, want[i])
		}
	}
	for j, id := range absent {
		if errs == nil || !errors.Is(errs[len(ids)+j], ErrNotFound) {
			t.Fatalf("TxLocations of an absent id: %v, want ErrNotFound", errs)
		}
		if _, err := c.TxLocation(id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("TxLocation of an absent id: %v, want ErrNotFound", err)
		}
		if has, err := c.HasTx(id); err != nil || has {
			t.Fatalf("HasTx of an absent id: %v, %v", has, err)
		}
	}
}

// TestIndexEpochs: index entries in several epochs are found by every
// lookup, before and after a reopen; a reorg deletes the entries of the
// quants it disconnects from their epochs, and the same transactions
// connected again in another epoch are found there.
func TestIndexEpochs(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	qs := epochChain(t, c, b, bang)
	stranger := b.tx().ID()
	wantIndexed(t, c, qs, stranger)
	if n := c.epochs.Load(); n != 6 {
		t.Fatalf("epochs after connecting into epoch 5: %d, want 6", n)
	}
	// The filter (built by HasTx) knows which epochs hold ids: lookups
	// skip the others.
	for e, want := range []bool{true, false, false, true, false, true} {
		if got := c.filter.epochs[e] != nil; got != want {
			t.Fatalf("epoch %d has a filter: %v, want %v", e, got, want)
		}
	}
	for _, tx := range qs[3].Txs {
		if !c.filter.mayHaveIn(tx.ID(), 3) || c.filter.mayHaveIn(tx.ID(), 4) {
			t.Fatal("the filter does not place an id of epoch 3 there")
		}
	}
	// The keys are where the epochs say.
	for i, q := range qs[1:] {
		epoch := []uint32{0, 0, 3, 5}[i]
		for _, tx := range q.Txs {
			if ok, err := has(db.pdb, c.appendTxIndexKey(nil, epoch, tx.ID())); err != nil || !ok {
				t.Fatalf("quant %d: no index key in epoch %d: %v", q.Header.Height, epoch, err)
			}
		}
	}

	// Replace the last two quants (epochs 3 and 5) by one in epoch 1 that
	// holds the transactions of the last.
	last, gone := qs[4], qs[3]
	re := b.child(&qs[2].Header, qs[2].Hash(), 2, last.Txs...)
	e := entry(re, 10)
	e.Meta.Txs = 1<<epochShift + uint64(len(re.Txs))
	if err := c.Reorg([]quant.Hash{last.Hash(), gone.Hash()}, []chain.Entry{e}); err != nil {
		t.Fatal(err)
	}
	now := append(qs[:3:3], re)
	wantIndexed(t, c, now, gone.Txs[0].ID(), gone.Txs[3].ID(), stranger)
	for _, tx := range last.Txs {
		if ok, err := has(db.pdb, c.appendTxIndexKey(nil, 5, tx.ID())); err != nil || ok {
			t.Fatalf("an entry of a disconnected quant is left in epoch 5: %v", err)
		}
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	c = db.Chain(bang.Hash())
	wantIndexed(t, c, now, gone.Txs[0].ID(), stranger)
	if n := c.epochs.Load(); n != 2 {
		t.Fatalf("epochs read from the tip after a reopen: %d, want 2", n)
	}
}

// TestIndexNewestEntry: a transaction indexed in two epochs (which the
// chain package never lets happen: a duplicate) is found at its newest
// entry by TxLocation and TxLocations alike, as the store's doc says of a
// duplicate, so that qbc verify reports the older copy.
func TestIndexNewestEntry(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	qs := epochChain(t, c, b, bang)
	dup := qs[1].Txs[2]
	q := b.child(&qs[4].Header, qs[4].Hash(), 1, dup)
	e := entry(q, 0)
	e.Meta.Txs = 9<<epochShift + 2
	if err := c.Connect(e); err != nil {
		t.Fatal(err)
	}
	want := chain.Location{Height: q.Header.Height, Index: 1}
	if loc, err := c.TxLocation(dup.ID()); err != nil || loc != want {
		t.Fatalf("TxLocation of the duplicate: %+v, %v; want %+v", loc, err, want)
	}
	locs, errs := c.TxLocations([]quant.Hash{dup.ID(), qs[1].Txs[0].ID()})
	if errs != nil || locs[0] != want || locs[1] != (chain.Location{Height: 1}) {
		t.Fatalf("TxLocations: %+v, %v", locs, errs)
	}
}

// TestIndexRefusesHugeTxCount: a meta counting more transactions than an
// epoch can number is refused, so that every entry's epoch fits its key.
func TestIndexRefusesHugeTxCount(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	if err := c.Connect(entry(bang, 0)); err != nil {
		t.Fatal(err)
	}
	q := newBuilder(c.ID(), 1).child(&bang.Header, bang.Hash(), 1)
	e := chain.Entry{Quant: q, Meta: chain.Meta{Height: 1, Work: big.NewInt(1), Txs: maxTxs}}
	if err := c.Connect(e); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Connect with a meta of %d transactions: %v, want ErrInvalid", e.Meta.Txs, err)
	}
}

// downgradeTo2 rewrites db's transaction pages to format version 3
// (downgradeTo3) and its transaction index keys to version 2 (no epoch),
// all of them or, with half, every other one (a crash part way through an
// upgrade), and sets the version to 2.
func downgradeTo2(t *testing.T, db *DB, half bool) {
	t.Helper()
	downgradeTo3(t, db, false)
	rewriteKeys(t, db, kindTxIndex, txIndexKeyLen, half, 2, func(k []byte) []byte {
		return append(append([]byte{}, k[:prefixLen+1]...), k[prefixLen+1+4:]...) // drop the epoch
	})
}

// TestUpgradeFrom2: a data directory of format version 2 (transaction
// index keys without the epoch), whole or half upgraded when a crash
// stopped the upgrade, is upgraded when opened, each entry into its
// quant's epoch; a read-only open refuses it and says what to do.
func TestUpgradeFrom2(t *testing.T) {
	type made struct {
		qs []*quant.Quant
		b  *builder
	}
	testUpgrade(t, 2, func(t *testing.T, c *Chain, bang *quant.Quant) made {
		b := newBuilder(c.ID(), 1)
		return made{epochChain(t, c, b, bang), b}
	}, downgradeTo2, func(t *testing.T, db *DB, c *Chain, m made) {
		wantIndexed(t, c, m.qs, m.b.tx().ID())
		it, err := db.pdb.NewIter(c.txIndexBounds())
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			if len(it.Key()) != txIndexKeyLen {
				t.Fatalf("an index key of version 2 is left: %x", it.Key())
			}
			n++
		}
		if n != 16 {
			t.Fatalf("%d index entries after the upgrade, want 16", n)
		}
	})
}
