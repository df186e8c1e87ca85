package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/greatroar/blobloom"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Filter sizing: the first layer holds at least minFilterIDs ids (or twice
// the chain's count when built), each further layer twice the last, at
// this false-positive rate per layer. An id the filter lets through costs
// a point lookup in every index epoch (index.go), each reading blocks when
// the store is larger than its cache, so the rate is 1 in 10,000 (about
// 2.4 bytes per id) rather than 1 in 1,000 (1.8): at 8 to 10 million
// transactions a node spent about as much on those lookups at the lower
// rate and ten epochs as at the higher rate and one (docs/performance.md).
const (
	minFilterIDs  = 1 << 20
	filterFPRate  = 0.0001
	maxFilterSize = 64
)

// txFilter answers "is this transaction id on the main chain?" with "no"
// from memory for almost every id that is not, so that the duplicate check
// of every submitted transaction does not walk Pebble's memtables and
// levels. It over-approximates: ids are added before the batch that
// indexes them commits, and never removed (a reorganization that drops a
// transaction leaves it in the filter, a false positive answered by
// Pebble). It is a scalable Bloom filter: when a layer is full a new layer
// twice as large takes new ids, and a lookup tests every layer. Each layer
// is a blocked Bloom filter (blobloom): all of an id's bits lie in one
// 64-byte block, so a lookup costs one cache miss per layer rather than
// one per bit, and the id, itself a SHA-256 hash, is its own hash.
type txFilter struct {
	mu     sync.RWMutex
	built  bool
	layers []*blobloom.Filter
	n      uint // ids in the newest layer
	cap    uint // the newest layer's capacity
}

// mayHave reports whether id may be in the filter; ok is false until the
// filter is built.
func (f *txFilter) mayHave(id quant.Hash) (maybe, ok bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if !f.built {
		return true, false
	}
	h := filterHash(id)
	for _, l := range f.layers {
		if l.Has(h) {
			return true, true
		}
	}
	return false, true
}

// filterHash is the 64-bit hash of id in the filter: its first eight
// bytes (an id is a SHA-256 hash already). A writer who grinds ids to
// collide gains only false positives, which Pebble answers.
func filterHash(id quant.Hash) uint64 { return binary.LittleEndian.Uint64(id[:8]) }

// add puts ids in the filter, if built. The caller holds the chain's
// write lock.
func (f *txFilter) add(ids []quant.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.built {
		return
	}
	for _, id := range ids {
		if f.n >= f.cap {
			f.grow(f.cap * 2)
		}
		f.layers[len(f.layers)-1].Add(filterHash(id))
		f.n++
	}
}

func (f *txFilter) grow(capacity uint) {
	if len(f.layers) == maxFilterSize {
		// Unreachable in practice (2^20 × 2^63 ids); keep the last layer
		// growing past its design rate rather than fail.
		f.cap = ^uint(0)
		return
	}
	f.layers = append(f.layers, blobloom.NewOptimized(blobloom.Config{Capacity: uint64(capacity), FPRate: filterFPRate}))
	f.n, f.cap = 0, capacity
}

// ensureFilter builds the chain's filter from its transaction index the
// first time it is needed. It holds the chain's write lock while it scans,
// so that no commit slips between the scan and the filter.
func (c *Chain) ensureFilter() error {
	f := c.filter
	f.mu.RLock()
	built := f.built
	f.mu.RUnlock()
	if built {
		return nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.built {
		return nil
	}
	// Size the first layer by the count the tip records (0 for an empty
	// chain), then scan the index.
	var count uint64
	if _, rec, err := c.tip(c.db.pdb); err == nil {
		count = rec.txs
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	f.grow(max(minFilterIDs, 2*uint(count)))
	it, err := c.db.pdb.NewIter(c.txIndexBounds())
	if err != nil {
		f.layers = nil
		return fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	n := uint(0)
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != txIndexKeyLen {
			f.layers = nil
			return fmt.Errorf("chain %s: transaction index key of %d bytes: %w", short(c.id), len(k), ErrCorrupt)
		}
		f.layers[0].Add(filterHash(quant.Hash(k[prefixLen+1+4:])))
		n++
	}
	if err := it.Error(); err != nil {
		f.layers = nil
		return fmt.Errorf("store: %w", err)
	}
	f.n = n
	f.built = true
	c.db.log.Debug("transaction filter built", "chain", c.id.String(), "ids", n)
	return nil
}
