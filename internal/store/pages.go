package store

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// A quant's transactions are stored in pages: runs of consecutive
// transactions, one key per run (kindTxPage, keyed by the index of the
// run's last transaction), the value their canonical encodings, each
// after its length as a uvarint. A page is closed once it holds pageBytes
// or pageMaxTxs transactions (pageFull), and at the quant's end. Keyed by
// its last transaction, the page that holds transaction i is the first at
// or after i: a forward seek, which Pebble answers without copying the
// value (a reverse one, to a page keyed by its first, copied each page:
// BenchmarkTx 105 to 120 µs a lookup, against 75 to 95 forward).
//
// Format version 3 stored one transaction per key. Pages cut the keys a
// transaction costs from two (its body and its index entry) to little
// more than one, and with them the memtable inserts, the bloom filter
// entries and the per-key work of every flush and compaction:
// BenchmarkSustained's CPU per transaction over 8 million fell by about a
// fifth (docs/performance.md). A page is read whole to fetch one of
// its transactions (Tx): at most about 32 KiB beyond it.
const (
	pageBytes  = 32 << 10
	pageMaxTxs = 1024
)

// pageFull reports whether a page of n transactions in size bytes is
// closed.
func pageFull(size, n int) bool { return size >= pageBytes || n >= pageMaxTxs }

// putPages adds the pages of quant h's transactions to b, each encoded
// in place in the batch (SetDeferred): its size is known from the
// transactions' EncodedSize before it is written.
func (c *Chain) putPages(b *pebble.Batch, height uint64, h quant.Hash, txs []*quant.Tx) error {
	for first := 0; first < len(txs); {
		size, end := 0, first
		for end < len(txs) && (end == first || !pageFull(size, end-first)) {
			n := txs[end].EncodedSize()
			size += uvarintLen(uint64(n)) + n
			end++
		}
		op := b.SetDeferred(pageKeyLen, size)
		c.appendPageKey(op.Key[:0], height, h, uint32(end-1))
		page := op.Value[:0]
		for _, tx := range txs[first:end] {
			page = binary.AppendUvarint(page, uint64(tx.EncodedSize()))
			page = tx.AppendEncode(page)
		}
		if len(page) != size {
			return fmt.Errorf("store: a page of %d bytes where %d were due", len(page), size)
		}
		if err := op.Finish(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		first = end
	}
	return nil
}

// uvarintLen is the length of x as a uvarint.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// splitPage appends to dst the transaction encodings that page holds, in
// order, at most limit of them, and returns dst. The encodings are slices
// of page. A page that is empty, or whose lengths are not the shortest
// uvarints or do not add up, is corrupt; each encoding's length is
// bounded by quant.MaxTxSize before it is sliced.
func splitPage(dst [][]byte, page []byte, limit int) ([][]byte, error) {
	if len(page) == 0 {
		return dst, fmt.Errorf("empty transaction page: %w", ErrCorrupt)
	}
	for n := 0; n < limit && len(page) > 0; n++ {
		size, k := binary.Uvarint(page)
		// A uvarint whose last byte is 0 (past the first) is not the
		// shortest: putPages never writes one.
		if k <= 0 || (k > 1 && page[k-1] == 0) || size > quant.MaxTxSize || size > uint64(len(page)-k) {
			return dst, fmt.Errorf("transaction page: entry %d: bad length: %w", n, ErrCorrupt)
		}
		end := k + int(size)
		dst = append(dst, page[k:end:end])
		page = page[end:]
	}
	return dst, nil
}

// pageLast returns the index of the last transaction of the page at the
// iterator, which must be a page key of the bounds it was made with.
func pageLast(it *pebble.Iterator) (uint32, error) {
	k := it.Key()
	if len(k) != pageKeyLen {
		return 0, fmt.Errorf("transaction page key %x: %w", k, ErrCorrupt)
	}
	return binary.BigEndian.Uint32(k[pageKeyLen-4:]), nil
}

// txAt reads the encoding of transaction loc.Index of quant h at
// loc.Height: the first page of h that ends at or after it. The result is
// a copy.
func (c *Chain) txAt(r pebble.Reader, h quant.Hash, loc chain.Location) ([]byte, error) {
	it, err := r.NewIter(c.pageBounds(loc.Height, h))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	if !it.SeekGE(c.appendPageKey(make([]byte, 0, pageKeyLen), loc.Height, h, loc.Index)) {
		if err := it.Error(); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return nil, fmt.Errorf("no transaction page holds transaction %d: %w", loc.Index, ErrCorrupt)
	}
	last, err := pageLast(it)
	if err != nil {
		return nil, err
	}
	encs, err := splitPage(nil, it.Value(), pageMaxTxs+1)
	if err != nil {
		return nil, err
	}
	// The page holds transactions last-len(encs)+1 to last.
	if len(encs) > int(last)+1 || len(encs) > pageMaxTxs || int(last-loc.Index) >= len(encs) {
		return nil, fmt.Errorf("the page to transaction %d holds %d, not transaction %d: %w", last, len(encs), loc.Index, ErrCorrupt)
	}
	return slices.Clone(encs[len(encs)-1-int(last-loc.Index)]), nil
}

// eachPage calls fn with each page of quant h at height, in order (fn
// returns how many transactions the page held), and checks that each page
// ends where its key says. The page aliases the iterator's buffer: fn must
// copy what it keeps. eachPage returns how many transactions the pages
// held; the caller checks it against the header's count.
func (c *Chain) eachPage(r pebble.Reader, height uint64, h quant.Hash, fn func(page []byte) (int, error)) (uint32, error) {
	it, err := r.NewIter(c.pageBounds(height, h))
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	var n uint64
	for ok := it.First(); ok; ok = it.Next() {
		last, err := pageLast(it)
		if err != nil {
			return uint32(n), err
		}
		k, err := fn(it.Value())
		if err != nil {
			return uint32(n), err
		}
		n += uint64(k)
		if n != uint64(last)+1 {
			return uint32(n), fmt.Errorf("a transaction page to transaction %d ends at %d: %w", last, n-1, ErrCorrupt)
		}
	}
	if err := it.Error(); err != nil {
		return uint32(n), fmt.Errorf("store: %w", err)
	}
	return uint32(n), nil
}
