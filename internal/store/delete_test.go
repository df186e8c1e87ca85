package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestDeleteChain: a deleted chain leaves no key, no entry in the chains
// list and no committed-tip record, so a reopened store neither lists it
// nor reports it lost; the other chain is untouched; a handle from before
// refuses writes, and the chain can be made again afresh.
func TestDeleteChain(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	gone, kept := testBang(t, 1), testBang(t, 2)
	old := db.Chain(gone.Hash())
	b := newBuilder(gone.Hash(), 1)
	qs := grow(t, old, b, gone, 3, 4)
	keep := db.Chain(kept.Hash())
	grow(t, keep, newBuilder(kept.Hash(), 2), kept, 2, 2)

	if err := db.DeleteChain(gone.Hash()); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteChain(gone.Hash()); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if ids, err := db.Chains(); err != nil || !slices.Equal(ids, []quant.Hash{kept.Hash()}) {
		t.Fatalf("Chains after delete: %v %v", ids, err)
	}
	if n := countPrefix(t, db, old.prefix[:]); n != 0 {
		t.Fatalf("%d keys of the deleted chain left", n)
	}
	if _, err := os.Stat(filepath.Join(dir, CommittedDir, gone.Hash().String())); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("committed-tip record of the deleted chain: %v", err)
	}
	if _, _, err := old.Tip(); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("Tip through the old handle: %v", err)
	}
	last := qs[len(qs)-1]
	if err := old.Connect(entry(b.child(&last.Header, last.Hash(), 1), 0)); !errors.Is(err, ErrDeleted) {
		t.Fatalf("Connect through the old handle: %v, want ErrDeleted", err)
	}
	if err := old.Save(entry(b.child(&last.Header, last.Hash(), 1), 0)); !errors.Is(err, ErrDeleted) {
		t.Fatalf("Save through the old handle: %v, want ErrDeleted", err)
	}
	if h, m, err := keep.Tip(); err != nil || m.Height != 2 {
		t.Fatalf("the other chain's tip: %s %+v %v", short(h), m, err)
	}

	// Reopened: nothing lost, nothing of the deleted chain.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	if err := db.CheckCommitted(); err != nil {
		t.Fatalf("CheckCommitted after a delete: %v", err)
	}
	if ids, _ := db.Chains(); !slices.Equal(ids, []quant.Hash{kept.Hash()}) {
		t.Fatalf("Chains after reopening: %v", ids)
	}
	// Made again: a fresh chain, its commits counted from the start.
	again := db.Chain(gone.Hash())
	grow(t, again, newBuilder(gone.Hash(), 3), gone, 1, 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	if err := db.CheckCommitted(); err != nil {
		t.Fatalf("CheckCommitted after making the chain again: %v", err)
	}
	if _, m, err := db.Chain(gone.Hash()).Tip(); err != nil || m.Height != 1 {
		t.Fatalf("the chain made again: %+v %v", m, err)
	}
}

// countPrefix counts the keys that start with prefix.
func countPrefix(t *testing.T, db *DB, prefix []byte) int {
	t.Helper()
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want []byte }{
		{[]byte{2, 0}, []byte{2, 1}},
		{[]byte{2, 0xff}, []byte{3}},
		{[]byte{2, 5, 0xff, 0xff}, []byte{2, 6}},
	} {
		if got := prefixEnd(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("prefixEnd(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}
