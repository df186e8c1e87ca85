package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// *Chain is the storage the chain package reads and writes through.
var (
	_ chain.Store  = (*Chain)(nil)
	_ chain.Stored = (*Chain)(nil)
)

// txIDs returns e's transaction ids, computing them unless given.
func txIDs(e *chain.Entry) []quant.Hash {
	if len(e.IDs) == len(e.Quant.Txs) {
		return e.IDs
	}
	return quant.TxIDs(e.Quant.Txs)
}

// Chain is a handle on one chain of a DB. It is cheap to make and holds no
// state beyond its key prefix and a pointer to the chain's write lock; its
// methods are safe for concurrent use.
type Chain struct {
	db      *DB
	id      quant.Hash
	prefix  [prefixLen]byte
	writeMu *sync.Mutex // the chain's write lock, shared by its handles
	filter  *txFilter   // committed transaction ids, shared by its handles
	// tipState is the chain's commit count and record (committed.go),
	// shared by its handles and guarded by writeMu.
	tipState *tipState
	epochs   *atomic.Uint32 // chainShared.epochs
}

// ID returns the chain's id: its bang's hash.
func (c *Chain) ID() quant.Hash { return c.id }

// Bang returns the chain's bang (at height 0, or a fork's at its fork
// point's height), whose hash is the chain id.
func (c *Chain) Bang() (*quant.Quant, error) {
	q, err := c.Quant(c.id)
	if err != nil {
		return nil, fmt.Errorf("bang: %w", err)
	}
	return q, nil
}

// Tip returns the hash and meta of the main chain's last quant, or
// ErrNotFound if the chain has none.
func (c *Chain) Tip() (quant.Hash, chain.Meta, error) {
	if err := c.db.enter(); err != nil {
		return quant.Hash{}, chain.Meta{}, err
	}
	defer c.db.leave()
	h, rec, err := c.tip(c.db.pdb)
	if err != nil {
		return quant.Hash{}, chain.Meta{}, err
	}
	return h, rec.meta(), nil
}

// tip reads the tip and its record.
func (c *Chain) tip(r pebble.Reader) (quant.Hash, *record, error) {
	v, err := get(r, c.tipKey())
	if err != nil {
		return quant.Hash{}, nil, fmt.Errorf("chain %s: tip: %w", short(c.id), err)
	}
	h, err := decodeHash(v, "tip")
	if err != nil {
		return quant.Hash{}, nil, fmt.Errorf("chain %s: %w", short(c.id), err)
	}
	rec, err := c.record(r, h)
	if err != nil {
		return quant.Hash{}, nil, fmt.Errorf("tip: %w", corruptIfMissing(err))
	}
	return h, rec, nil
}

// Header returns the header of a stored quant, on the main chain or not.
func (c *Chain) Header(h quant.Hash) (*quant.Header, error) {
	if err := c.db.enter(); err != nil {
		return nil, err
	}
	defer c.db.leave()
	rec, err := c.record(c.db.pdb, h)
	if err != nil {
		return nil, err
	}
	return rec.header, nil
}

// Meta returns the meta of a stored quant, on the main chain or not.
func (c *Chain) Meta(h quant.Hash) (chain.Meta, error) {
	if err := c.db.enter(); err != nil {
		return chain.Meta{}, err
	}
	defer c.db.leave()
	rec, err := c.record(c.db.pdb, h)
	if err != nil {
		return chain.Meta{}, err
	}
	return rec.meta(), nil
}

// Quant returns a stored quant, on the main chain or not. Its
// transactions share a few buffers, which belong to the caller.
func (c *Chain) Quant(h quant.Hash) (*quant.Quant, error) {
	if err := c.db.enter(); err != nil {
		return nil, err
	}
	defer c.db.leave()
	// A quant's keys never change once written, so no snapshot is needed.
	return c.quant(c.db.pdb, h)
}

// Has reports whether the quant h is stored, on the main chain or not.
func (c *Chain) Has(h quant.Hash) (bool, error) {
	if err := c.db.enter(); err != nil {
		return false, err
	}
	defer c.db.leave()
	return has(c.db.pdb, c.appendQuantKey(make([]byte, 0, quantKeyLen), h))
}

// HashAt returns the hash of the main chain's quant at height.
func (c *Chain) HashAt(height uint64) (quant.Hash, error) {
	if err := c.db.enter(); err != nil {
		return quant.Hash{}, err
	}
	defer c.db.leave()
	return c.hashAt(c.db.pdb, height)
}

func (c *Chain) hashAt(r pebble.Reader, height uint64) (quant.Hash, error) {
	v, err := get(r, c.appendHeightKey(make([]byte, 0, heightKeyLen), height))
	if err != nil {
		return quant.Hash{}, fmt.Errorf("chain %s: height %d: %w", short(c.id), height, err)
	}
	h, err := decodeHash(v, "height index")
	if err != nil {
		return quant.Hash{}, fmt.Errorf("chain %s: height %d: %w", short(c.id), height, err)
	}
	return h, nil
}

// Tx returns the main-chain transaction id and where it sits. It reads the
// index entry, the height entry and the page holding the transaction,
// from one snapshot. The Tx is the caller's.
func (c *Chain) Tx(id quant.Hash) (*quant.Tx, chain.Location, error) {
	if err := c.db.enter(); err != nil {
		return nil, chain.Location{}, err
	}
	defer c.db.leave()
	snap := c.db.pdb.NewSnapshot()
	defer snap.Close()
	loc, err := c.txLocation(snap, id)
	if err != nil {
		return nil, chain.Location{}, err
	}
	h, err := c.hashAt(snap, loc.Height)
	if err != nil {
		return nil, chain.Location{}, fmt.Errorf("transaction %s: %w", short(id), corruptIfMissing(err))
	}
	v, err := c.txAt(snap, h, loc)
	if err != nil {
		return nil, chain.Location{}, fmt.Errorf("chain %s: transaction %s at %d/%d: %w",
			short(c.id), short(id), loc.Height, loc.Index, corruptIfMissing(err))
	}
	tx, err := quant.DecodeTx(v)
	if err != nil {
		return nil, chain.Location{}, fmt.Errorf("chain %s: transaction %s: %v: %w", short(c.id), short(id), err, ErrCorrupt)
	}
	return tx, loc, nil
}

// HasTx reports whether the transaction id is on the main chain. An
// in-memory filter answers most ids that are not without reading Pebble;
// it is built from the index on the first call.
func (c *Chain) HasTx(id quant.Hash) (bool, error) {
	if err := c.db.enter(); err != nil {
		return false, err
	}
	defer c.db.leave()
	maybe, ok := c.filter.mayHave(id)
	if !ok {
		if err := c.ensureFilter(); err != nil {
			return false, err
		}
		maybe, _ = c.filter.mayHave(id)
	}
	if !maybe {
		return false, nil
	}
	_, err := c.txLocation(c.db.pdb, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// Iterate calls fn with each main-chain quant from height from upward, in
// order, until the tip, fn's first error (returned as is) or the end of ctx
// (ctx.Err() returned). It reads from one snapshot, taken when it is
// called, and holds one quant at a time. Each quant is fn's to keep.
//
// fn may call the DB's other methods, including writes (which Iterate does
// not see), but must not Close it.
func (c *Chain) Iterate(ctx context.Context, from uint64, fn func(*quant.Quant) error) error {
	return c.iterate(ctx, from, func(r pebble.Reader, h quant.Hash) error {
		q, err := c.quant(r, h)
		if err != nil {
			return err
		}
		return fn(q)
	})
}

// IterateHeaders is Iterate for headers alone: it reads no transactions.
func (c *Chain) IterateHeaders(ctx context.Context, from uint64, fn func(*quant.Header) error) error {
	return c.iterate(ctx, from, func(r pebble.Reader, h quant.Hash) error {
		rec, err := c.record(r, h)
		if err != nil {
			return err
		}
		return fn(rec.header)
	})
}

// iterate calls fn with the snapshot and the hash of each main-chain quant
// from height from (or from the bang, for a fork whose bang sits above
// from) to the tip.
func (c *Chain) iterate(ctx context.Context, from uint64, fn func(pebble.Reader, quant.Hash) error) error {
	if err := c.db.enter(); err != nil {
		return err
	}
	defer c.db.leave()
	if err := ctx.Err(); err != nil {
		return err
	}
	snap := c.db.pdb.NewSnapshot()
	defer snap.Close()
	lower := c.appendHeightKey(make([]byte, 0, heightKeyLen), from)
	upper := append(c.prefix[:len(c.prefix):len(c.prefix)], kindHeight+1)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	want := from
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := it.Key()
		if len(k) != heightKeyLen {
			return fmt.Errorf("chain %s: height index: key %x where height %d was due: %w", short(c.id), k, want, ErrCorrupt)
		}
		height := binary.BigEndian.Uint64(k[prefixLen+1:])
		h, err := decodeHash(it.Value(), "height index")
		if err != nil {
			return fmt.Errorf("chain %s: height %d: %w", short(c.id), height, err)
		}
		if height > want && want == from && h == c.id {
			want = height // a fork's index starts at its bang, at the fork point's height
		}
		if height != want {
			return fmt.Errorf("chain %s: height index: key %x where height %d was due: %w", short(c.id), k, want, ErrCorrupt)
		}
		if err := fn(snap, h); err != nil {
			return err
		}
		want++
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// record reads and decodes quant h's record.
func (c *Chain) record(r pebble.Reader, h quant.Hash) (*record, error) {
	v, err := get(r, c.appendQuantKey(make([]byte, 0, quantKeyLen), h))
	if err != nil {
		return nil, fmt.Errorf("chain %s: quant %s: %w", short(c.id), short(h), err)
	}
	rec, err := decodeRecord(v)
	if err != nil {
		return nil, fmt.Errorf("chain %s: quant %s: %w", short(c.id), short(h), err)
	}
	return rec, nil
}

// quant reads quant h: its record and, unless it is a bang, its
// transactions.
func (c *Chain) quant(r pebble.Reader, h quant.Hash) (*quant.Quant, error) {
	rec, err := c.record(r, h)
	if err != nil {
		return nil, err
	}
	q := &quant.Quant{Header: *rec.header}
	if q.IsBang() {
		q.Rules = rec.rules
		return q, nil
	}
	if q.Txs, err = c.txs(r, rec.header.Height, h, rec.header.TxCount); err != nil {
		return nil, fmt.Errorf("chain %s: quant %s: %w", short(c.id), short(h), err)
	}
	return q, nil
}

// txs reads the n transactions of quant h at height. It copies their
// pages into a few buffers, each twice the size of the one before (so
// nothing is copied twice), then decodes them: the transactions alias
// those buffers, not Pebble's.
func (c *Chain) txs(r pebble.Reader, height uint64, h quant.Hash, n uint32) ([]*quant.Tx, error) {
	var buf []byte
	encs := make([][]byte, 0, min(n, 1<<16)) // n is trusted only as far as the pages bear it out
	got, err := c.eachPage(r, height, h, func(page []byte) (int, error) {
		if len(buf)+len(page) > cap(buf) {
			buf = make([]byte, 0, max(len(page), min(2*cap(buf), maxTxBuffer), minTxBuffer))
		}
		start := len(buf)
		buf = append(buf, page...)
		before := len(encs)
		var err error
		// One more than due, so that a page holding too many shows.
		encs, err = splitPage(encs, buf[start:len(buf):len(buf)], int(n)-len(encs)+1)
		return len(encs) - before, err
	})
	if err != nil {
		return nil, err
	}
	if got != n {
		return nil, fmt.Errorf("%d transactions stored, header says %d: %w", got, n, ErrCorrupt)
	}
	txs := make([]*quant.Tx, 0, len(encs))
	for i, enc := range encs {
		tx, err := quant.DecodeTx(enc)
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %v: %w", i, err, ErrCorrupt)
		}
		txs = append(txs, tx)
	}
	return txs, nil
}

// The first and the largest buffer txs copies transactions into (a larger
// transaction gets one of its own size).
const (
	minTxBuffer = 4 << 10
	maxTxBuffer = 4 << 20
)

// corruptIfMissing turns ErrNotFound into ErrCorrupt, for keys that an
// index says must exist.
func corruptIfMissing(err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%v: %w", err, ErrCorrupt)
	}
	return err
}

// short abbreviates a hash for errors and logs.
func short(h quant.Hash) string { return fmt.Sprintf("%x", h[:4]) }
