package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/quant"
)

// pageLasts returns the last transaction index of each page of quant q
// as stored.
func pageLasts(t *testing.T, c *Chain, q *quant.Quant) []uint32 {
	t.Helper()
	it, err := c.db.pdb.NewIter(c.pageBounds(q.Header.Height, q.Hash()))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var lasts []uint32
	for ok := it.First(); ok; ok = it.Next() {
		last, err := pageLast(it)
		if err != nil {
			t.Fatal(err)
		}
		lasts = append(lasts, last)
	}
	return lasts
}

// wantReadable checks that every quant of qs and every transaction of
// theirs reads back as stored.
func wantReadable(t *testing.T, c *Chain, qs []*quant.Quant) {
	t.Helper()
	for _, q := range qs {
		got, err := c.Quant(q.Hash())
		if err != nil {
			t.Fatalf("quant %d: %v", q.Header.Height, err)
		}
		sameQuant(t, got, q)
		for i, tx := range q.Txs {
			got, loc, err := c.Tx(tx.ID())
			if err != nil || loc.Height != q.Header.Height || loc.Index != uint32(i) || !bytes.Equal(got.Encode(), tx.Encode()) {
				t.Fatalf("transaction %d/%d: %v at %+v", q.Header.Height, i, err, loc)
			}
		}
	}
}

// TestPages: a quant's transactions are split into pages of about
// pageBytes (a transaction larger than that gets a page of its own), and
// each reads back by id, alone or with its quant, whichever page it is in.
func TestPages(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	b.size = 2000 // 16 transactions of about 2 KiB fill a page
	qs := grow(t, c, b, bang, 1, 33)
	big := b.tx()
	big.Data = bytes.Repeat([]byte{7}, pageBytes+100)
	q := b.child(&qs[1].Header, qs[1].Hash(), 3, big, b.tx())
	if err := c.Connect(entry(q, 0)); err != nil {
		t.Fatal(err)
	}
	qs = append(qs, q)
	one := grow(t, c, b, nil, 1, 1)
	qs = append(qs, one...)

	for _, tc := range []struct {
		q    *quant.Quant
		want []uint32
	}{
		{qs[1], []uint32{15, 31, 32}},
		{q, []uint32{3, 4}}, // three small and the large one, then the last
		{one[0], []uint32{0}},
	} {
		if got := pageLasts(t, c, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("quant %d of %d transactions: pages to %v, want %v", tc.q.Header.Height, len(tc.q.Txs), got, tc.want)
		}
	}
	wantReadable(t, c, qs[1:])

	// Flushed and compacted, the full pages live in blob files (db.go):
	// they read back the same from there.
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.BlobBytes < pageBytes {
		t.Errorf("after a compaction, blob files hold %d bytes, want at least a page (%d)", st.BlobBytes, pageBytes)
	}
	wantReadable(t, c, qs[1:])
}

// TestPagesCorrupt: a page that holds more or fewer transactions than its
// quant's header says, or whose lengths do not add up, or a missing page,
// is reported as ErrCorrupt by the reads, not served.
func TestPagesCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(page []byte) []byte // nil deletes the page
	}{
		{"extra transactions", func(p []byte) []byte { return append(p, p...) }},
		{"truncated", func(p []byte) []byte { return p[:len(p)-1] }},
		{"length past the end", func(p []byte) []byte { return binary.AppendUvarint(p, 1<<20) }},
		{"empty", func([]byte) []byte { return nil }},
		{"missing", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t, "")
			bang := testBang(t, 1)
			c := db.Chain(bang.Hash())
			b := newBuilder(c.ID(), 1)
			b.size = 2000
			q := grow(t, c, b, bang, 1, 20)[1]
			key := c.appendPageKey(nil, q.Header.Height, q.Hash(), 19) // the second and last page
			v, err := get(db.pdb, key)
			if err != nil {
				t.Fatal(err)
			}
			if tc.damage == nil {
				err = db.pdb.Delete(key, pebble.Sync)
			} else {
				err = db.pdb.Set(key, tc.damage(v), pebble.Sync)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Quant(q.Hash()); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Quant: %v, want ErrCorrupt", err)
			}
			if tc.damage == nil {
				// No page holds it.
				if _, _, err := c.Tx(q.Txs[19].ID()); !errors.Is(err, ErrCorrupt) {
					t.Errorf("Tx of the last transaction: %v, want ErrCorrupt", err)
				}
			}
			if _, _, err := c.Tx(q.Txs[0].ID()); err != nil {
				t.Errorf("Tx of a transaction in the intact page: %v", err)
			}
		})
	}
}

// FuzzSplitPage: splitPage never panics, never returns more entries than
// its limit, and a page it splits whole is the concatenation of its
// entries, each after its length.
func FuzzSplitPage(f *testing.F) {
	f.Add([]byte{}, 10)
	f.Add([]byte{3, 'a', 'b', 'c', 0, 1, 'x'}, 10)
	f.Add([]byte{3, 'a', 'b', 'c', 0, 1, 'x'}, 2)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1)
	f.Add([]byte{5, 1}, 3)
	f.Fuzz(func(t *testing.T, page []byte, limit int) {
		limit = max(0, limit%64)
		encs, err := splitPage(nil, page, limit)
		if len(encs) > limit {
			t.Fatalf("%d entries, limit %d", len(encs), limit)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		var re []byte
		for _, e := range encs {
			if len(e) > quant.MaxTxSize {
				t.Fatalf("an entry of %d bytes", len(e))
			}
			re = append(binary.AppendUvarint(re, uint64(len(e))), e...)
		}
		if !bytes.HasPrefix(page, re) || (len(encs) < limit && !bytes.Equal(page, re)) {
			t.Fatalf("entries %q do not make up page %x", encs, page)
		}
	})
}

// downgradeTo3 rewrites db's transaction pages to format version 3 (one
// transaction per key), those of all quants or, with half, of every other
// one (a crash part way through an upgrade), and sets the version to 3.
func downgradeTo3(t *testing.T, db *DB, half bool) {
	t.Helper()
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{nsChain}, UpperBound: []byte{nsChain + 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := db.pdb.NewBatch()
	var quants int
	var last []byte
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != pageKeyLen || k[prefixLen] != kindTxPage {
			continue
		}
		if !bytes.Equal(k[:pageKeyLen-4], last) {
			last = append(last[:0], k[:pageKeyLen-4]...)
			quants++
		}
		if half && quants%2 == 0 {
			continue
		}
		encs, err := splitPage(nil, it.Value(), pageMaxTxs)
		if err != nil {
			t.Fatal(err)
		}
		first := binary.BigEndian.Uint32(k[pageKeyLen-4:]) + 1 - uint32(len(encs))
		for i, enc := range encs {
			old := binary.BigEndian.AppendUint32(slices.Clone(k[:pageKeyLen-4]), first+uint32(i))
			old[prefixLen] = kindTx
			if err := b.Set(old, enc, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Delete(k, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if quants == 0 {
		t.Fatal("no transaction pages to rewrite")
	}
	if err := b.Set([]byte{nsVersion}, binary.AppendUvarint(nil, 3), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// TestUpgradeFrom3: a data directory of format version 3 (one
// transaction per key), whole or half upgraded when a crash stopped the
// upgrade, is upgraded when opened into the pages this build writes, and
// every quant and transaction reads as stored; a read-only open refuses it
// and says what to do.
func TestUpgradeFrom3(t *testing.T) {
	type made struct {
		qs   []*quant.Quant
		want [][]uint32 // each quant's pages as written
	}
	testUpgrade(t, 3, func(t *testing.T, c *Chain, bang *quant.Quant) made {
		b := newBuilder(c.ID(), 1)
		b.size = 2000
		qs := grow(t, c, b, bang, 4, 40) // three pages each
		qs = append(qs, grow(t, c, b, nil, 3, 5)...)
		want := make([][]uint32, len(qs))
		for i, q := range qs[1:] {
			want[i+1] = pageLasts(t, c, q)
		}
		return made{qs, want}
	}, downgradeTo3, func(t *testing.T, db *DB, c *Chain, m made) {
		wantReadable(t, c, m.qs[1:])
		for i, q := range m.qs[1:] {
			if got := pageLasts(t, c, q); !slices.Equal(got, m.want[i+1]) {
				t.Errorf("quant %d: pages to %v after the upgrade, want %v as written", q.Header.Height, got, m.want[i+1])
			}
		}
		lower, upper := c.kindBounds(kindTx)
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		if it.First() {
			t.Fatalf("a transaction key of version 3 is left: %x", it.Key())
		}
	})
}

// TestUvarintLen: uvarintLen is the length binary.AppendUvarint writes,
// at each length's bounds.
func TestUvarintLen(t *testing.T) {
	for _, x := range []uint64{0, 1, 127, 128, 16383, 16384, 1<<21 - 1, 1 << 21, 1<<63 - 1, 1 << 63, 1<<64 - 1} {
		if got, want := uvarintLen(x), len(binary.AppendUvarint(nil, x)); got != want {
			t.Errorf("uvarintLen(%d) = %d, want %d", x, got, want)
		}
	}
}
