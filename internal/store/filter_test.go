package store

import (
	"encoding/binary"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestFilterRebuiltOnOpen: the transaction filter is built from the index
// when a store is opened again, so committed ids stay "present" and others
// "absent" across restarts; ids connected after the build are added.
func TestFilterRebuiltOnOpen(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	qs := grow(t, c, b, bang, 3, 5)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	c = db.Chain(bang.Hash())
	for _, q := range qs {
		for _, tx := range q.Txs {
			if ok, err := c.HasTx(tx.ID()); !ok || err != nil {
				t.Fatalf("after reopening, HasTx(committed) = %v, %v", ok, err)
			}
		}
	}
	if !c.filter.built {
		t.Fatal("the filter was not built by HasTx")
	}
	// A quant connected after the build: its ids are in the filter.
	last := qs[len(qs)-1]
	next := b.child(&last.Header, last.Hash(), 4)
	if err := c.Connect(entry(next, 1)); err != nil {
		t.Fatal(err)
	}
	for _, tx := range next.Txs {
		if maybe, _ := c.filter.mayHave(tx.ID()); !maybe {
			t.Fatal("a connected id is not in the filter")
		}
		if ok, err := c.HasTx(tx.ID()); !ok || err != nil {
			t.Fatalf("HasTx(new) = %v, %v", ok, err)
		}
	}
	// Ids never committed are answered "absent", almost all from memory.
	misses := 0
	for i := 0; i < 10_000; i++ {
		id := quant.Sum("test", binary.BigEndian.AppendUint64(nil, uint64(i)))
		if maybe, _ := c.filter.mayHave(id); maybe {
			misses++
		}
		if ok, err := c.HasTx(id); ok || err != nil {
			t.Fatalf("HasTx(absent) = %v, %v", ok, err)
		}
	}
	if misses > 100 {
		t.Fatalf("the filter let %d of 10,000 absent ids through (rate %g)", misses, filterFPRate)
	}
}

// TestFilterGrows: past a layer's capacity a new layer takes new ids, and
// every id added stays present.
func TestFilterGrows(t *testing.T) {
	f := &txFilter{built: true}
	f.all.grow(64)
	var ids []quant.Hash
	for i := 0; i < 1000; i++ {
		ids = append(ids, quant.Sum("test", binary.BigEndian.AppendUint64(nil, uint64(i))))
	}
	f.add(ids, 0)
	if len(f.all.layers) < 4 {
		t.Fatalf("%d layers for 1,000 ids from a 64-id first layer", len(f.all.layers))
	}
	for _, id := range ids {
		if maybe, _ := f.mayHave(id); !maybe {
			t.Fatal("an added id is absent")
		}
	}
}

// BenchmarkFilterMiss: the duplicate check of a new transaction id against
// a filter holding 3,000,000 committed ids (two layers).
func BenchmarkFilterMiss(b *testing.B) {
	var f txFilter
	f.built = true
	f.all.grow(minFilterIDs)
	f.epoch0IDs = minEpochFilterIDs
	ids := make([]quant.Hash, 3_000_000)
	for i := range ids {
		ids[i] = quant.Sum("bench", binary.BigEndian.AppendUint64(nil, uint64(i)))
	}
	f.add(ids, 0)
	probe := make([]quant.Hash, 1<<16)
	for i := range probe {
		probe[i] = quant.Sum("probe", binary.BigEndian.AppendUint64(nil, uint64(i)))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.mayHave(probe[i%len(probe)])
	}
}
