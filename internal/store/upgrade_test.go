package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/quant"
)

// downgradeTo1 rewrites db's transaction index keys to format version 2
// (downgradeTo2) and its transaction keys to version 1 (no height), all of
// them or, with half, every other one (a crash part way through an
// upgrade), and sets the version to 1.
func downgradeTo1(t *testing.T, db *DB, half bool) {
	t.Helper()
	downgradeTo2(t, db, false)
	rewriteKeys(t, db, kindTx, txKeyLen, half, 1, func(k []byte) []byte {
		return append(append([]byte{}, k[:prefixLen+1]...), k[prefixLen+1+8:]...) // drop the height
	})
}

// rewriteKeys rewrites db's keys of kind and length n (all of them or,
// with half, every other one) to old(key), and sets the format version to
// version: a store of an older format, or one whose upgrade a crash
// stopped.
func rewriteKeys(t *testing.T, db *DB, kind byte, n int, half bool, version uint64, old func(k []byte) []byte) {
	t.Helper()
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{nsChain}, UpperBound: []byte{nsChain + 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := db.pdb.NewBatch()
	seen := 0
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != n || k[prefixLen] != kind {
			continue
		}
		seen++
		if half && seen%2 == 0 {
			continue
		}
		if err := b.Set(old(k), it.Value(), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(k, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatalf("no keys of kind %q to rewrite", kind)
	}
	if err := b.Set([]byte{nsVersion}, binary.AppendUvarint(nil, version), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// reopenUpgraded closes db, a store in dir rewritten to format version
// from, checks that a read-only open refuses it and says how to upgrade,
// then opens it, which upgrades it, checks that it is at formatVersion,
// and returns it.
func reopenUpgraded(t *testing.T, db *DB, dir string, from int) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Dir: dir, Logger: discard(), ReadOnly: true})
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), fmt.Sprintf("format version %d", from)) || !strings.Contains(err.Error(), "start the node") {
		t.Fatalf("read-only open of a version %d store: %v, want a refusal saying how to upgrade", from, err)
	}
	db = openTest(t, dir)
	v, err := get(db.pdb, []byte{nsVersion})
	if n, _ := binary.Uvarint(v); err != nil || n != formatVersion {
		t.Fatalf("format version after the upgrade: %d (%v), want %d", n, err, formatVersion)
	}
	return db
}

// testUpgrade runs two subtests for a store of format version from: whole
// (version_N) and half upgraded, as a crash in the upgrade leaves it
// (half_upgraded). In each, fill puts quants on a new store's chain, down
// rewrites the store to version from, and check gets the store reopened,
// and so upgraded (reopenUpgraded), with the chain and what fill returned.
func testUpgrade[T any](t *testing.T, from int, fill func(t *testing.T, c *Chain, bang *quant.Quant) T,
	down func(t *testing.T, db *DB, half bool), check func(t *testing.T, db *DB, c *Chain, made T)) {
	for _, half := range []bool{false, true} {
		name := fmt.Sprintf("version_%d", from)
		if half {
			name = "half_upgraded"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(Options{Dir: dir, Logger: discard()})
			if err != nil {
				t.Fatal(err)
			}
			bang := testBang(t, 1)
			made := fill(t, db.Chain(bang.Hash()), bang)
			down(t, db, half)
			db = reopenUpgraded(t, db, dir, from)
			check(t, db, db.Chain(bang.Hash()), made)
		})
	}
}

// TestUpgradeFrom1: a data directory of format version 1 (transaction
// keys without the height), whole or half upgraded when a crash stopped
// the upgrade, is upgraded when opened, and every quant and transaction
// reads as stored; a read-only open refuses it and says what to do.
func TestUpgradeFrom1(t *testing.T) {
	testUpgrade(t, 1, func(t *testing.T, c *Chain, bang *quant.Quant) []*quant.Quant {
		return grow(t, c, newBuilder(c.ID(), 1), bang, 5, 7)
	}, downgradeTo1, func(t *testing.T, db *DB, c *Chain, qs []*quant.Quant) {
		wantReadable(t, c, qs[1:])
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{nsChain}, UpperBound: []byte{nsChain + 1}})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			if k := it.Key(); k[prefixLen] == kindTx && len(k) != txKeyLen {
				t.Fatalf("a transaction key of version 1 is left: %x", k)
			}
		}
	})
}
