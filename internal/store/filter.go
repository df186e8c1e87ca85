package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/greatroar/blobloom"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Filter sizing. The whole-chain filter's first layer holds at least
// minFilterIDs ids (or twice the chain's count when built), each further
// layer twice the last, at filterFPRate per layer. An epoch's filter
// starts at minEpochFilterIDs ids in epoch 0 (most chains never leave it)
// and at a whole epoch's worth in later epochs, at epochFilterFPRate.
const (
	minFilterIDs      = 1 << 20
	filterFPRate      = 0.001
	minEpochFilterIDs = 1 << 16
	epochFilterIDs    = 1<<epochShift + 1<<(epochShift-3) // an epoch and a few large quants
	epochFilterFPRate = 0.01
	maxFilterSize     = 64
)

// txFilter answers "is this transaction id on the main chain?" with "no"
// from memory for almost every id that is not, so that the duplicate check
// of every submitted transaction does not walk Pebble's memtables and
// levels; and, for an id it lets through, which index epochs (index.go)
// may hold it, so that a lookup reads Pebble in about one epoch rather
// than in all. It over-approximates: ids are added before the batch that
// indexes them commits, and never removed (a reorganization that drops a
// transaction leaves it in the filter, a false positive answered by
// Pebble).
//
// The whole-chain filter (all) is tested first: at 1 in 1,000 per layer it
// costs 2.1 bytes per id it has room for (blobloom's size for 2^20 ids,
// 2,176 KiB) and a cache miss per layer. Each epoch's filter, tested only
// for the ids that pass, costs 1.4 bytes per id at 1 in 100 (1,408 KiB for
// a whole epoch, 88 KiB for epoch 0's first layer).
type txFilter struct {
	mu     sync.RWMutex
	built  bool
	all    bloomLayers
	epochs []*bloomLayers // by epoch; nil for an epoch without ids
	// epoch0IDs is the capacity of epoch 0's first layer: small for a
	// small chain, a whole epoch's for one past it.
	epoch0IDs uint
}

// bloomLayers is a scalable Bloom filter: when a layer is full a new layer
// twice as large takes new ids, and a lookup tests every layer. Each layer
// is a blocked Bloom filter (blobloom): all of an id's bits lie in one
// 64-byte block, so a lookup costs one cache miss per layer rather than
// one per bit, and the id, itself a SHA-256 hash, is its own hash.
type bloomLayers struct {
	layers []*blobloom.Filter
	n      uint // ids in the newest layer
	cap    uint // the newest layer's capacity
	rate   float64
}

func (s *bloomLayers) has(h uint64) bool {
	for _, l := range s.layers {
		if l.Has(h) {
			return true
		}
	}
	return false
}

func (s *bloomLayers) add(h uint64) {
	if s.n >= s.cap {
		s.grow(s.cap * 2)
	}
	s.layers[len(s.layers)-1].Add(h)
	s.n++
}

func (s *bloomLayers) grow(capacity uint) {
	if len(s.layers) == maxFilterSize {
		// Unreachable in practice (2^16 × 2^63 ids); keep the last layer
		// growing past its design rate rather than fail.
		s.cap = ^uint(0)
		return
	}
	rate := s.rate
	if rate == 0 {
		rate = filterFPRate
	}
	s.layers = append(s.layers, blobloom.NewOptimized(blobloom.Config{Capacity: uint64(capacity), FPRate: rate}))
	s.n, s.cap = 0, capacity
}

// mayHave reports whether id may be in the filter; ok is false until the
// filter is built.
func (f *txFilter) mayHave(id quant.Hash) (maybe, ok bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if !f.built {
		return true, false
	}
	return f.all.has(filterHash(id)), true
}

// mayHaveIn reports whether id may be indexed in epoch: true unless the
// filter is built and says no.
func (f *txFilter) mayHaveIn(id quant.Hash, epoch uint32) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.mayHaveInLocked(id, epoch)
}

// mayHaveInLocked is mayHaveIn for a caller that holds f.mu (read).
func (f *txFilter) mayHaveInLocked(id quant.Hash, epoch uint32) bool {
	if !f.built {
		return true
	}
	if int64(epoch) >= int64(len(f.epochs)) || f.epochs[epoch] == nil {
		return false
	}
	return f.epochs[epoch].has(epochHash(id))
}

// filterHash is the 64-bit hash of id in the whole-chain filter: its first
// eight bytes (an id is a SHA-256 hash already). A writer who grinds ids
// to collide gains only false positives, which Pebble answers.
func filterHash(id quant.Hash) uint64 { return binary.LittleEndian.Uint64(id[:8]) }

// epochHash is the hash of id in an epoch's filter: the next eight bytes,
// so that an id the whole-chain filter lets through by chance is no more
// likely to pass an epoch's.
func epochHash(id quant.Hash) uint64 { return binary.LittleEndian.Uint64(id[8:16]) }

// add puts ids, indexed in epoch, in the filter, if built. The caller
// holds the chain's write lock.
func (f *txFilter) add(ids []quant.Hash, epoch uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.built {
		return
	}
	for _, id := range ids {
		f.addLocked(id, epoch)
	}
}

// addLocked is add for one id; the caller holds f.mu.
func (f *txFilter) addLocked(id quant.Hash, epoch uint32) {
	f.all.add(filterHash(id))
	for int64(epoch) >= int64(len(f.epochs)) {
		f.epochs = append(f.epochs, nil)
	}
	e := f.epochs[epoch]
	if e == nil {
		e = &bloomLayers{rate: epochFilterFPRate}
		capacity := uint(epochFilterIDs)
		if epoch == 0 {
			capacity = max(f.epoch0IDs, minEpochFilterIDs)
		}
		e.grow(capacity)
		f.epochs[epoch] = e
	}
	e.add(epochHash(id))
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
	f.all = bloomLayers{rate: filterFPRate}
	f.all.grow(max(minFilterIDs, 2*uint(count)))
	f.epoch0IDs = min(epochFilterIDs, max(minEpochFilterIDs, 2*uint(count)))
	f.epochs = nil
	it, err := c.db.pdb.NewIter(c.txIndexBounds())
	if err != nil {
		f.all, f.epochs = bloomLayers{}, nil
		return fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != txIndexKeyLen {
			f.all, f.epochs = bloomLayers{}, nil
			return fmt.Errorf("chain %s: transaction index key of %d bytes: %w", short(c.id), len(k), ErrCorrupt)
		}
		f.addLocked(quant.Hash(k[prefixLen+1+4:]), binary.BigEndian.Uint32(k[prefixLen+1:]))
		n++
	}
	if err := it.Error(); err != nil {
		f.all, f.epochs = bloomLayers{}, nil
		return fmt.Errorf("store: %w", err)
	}
	f.built = true
	c.db.log.Debug("transaction filter built", "chain", c.id.String(), "ids", n)
	return nil
}
