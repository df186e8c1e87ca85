package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// The transaction index maps a main-chain transaction id to its location,
// under keys that start with the entry's epoch (appendTxIndexKey says
// why). A quant's entries go in the epoch of the count of transactions
// before it on its branch, so one id has one entry on a valid chain. A
// lookup by id tries the epochs from the newest down, skipping those the
// chain's transaction filter (filter.go) says cannot hold it; the filter
// answers most ids that are not on the chain before any of them.

// indexEpochs returns how many index epochs may hold entries (0 for a
// chain without a tip): those up to the tip's. It reads the tip once per
// chain; commits keep it current (noteEpoch).
func (c *Chain) indexEpochs() (uint32, error) {
	if n := c.epochs.Load(); n > 0 {
		return n, nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.indexEpochsLocked()
}

// indexEpochsLocked is indexEpochs for a caller that holds writeMu.
func (c *Chain) indexEpochsLocked() (uint32, error) {
	if n := c.epochs.Load(); n > 0 {
		return n, nil
	}
	_, rec, err := c.tip(c.db.pdb)
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	}
	if rec.txs >= maxTxs {
		return 0, fmt.Errorf("chain %s: tip counts %d transactions: %w", short(c.id), rec.txs, ErrCorrupt)
	}
	n := txEpoch(rec.txs, 0) + 1
	c.epochs.Store(n)
	return n, nil
}

// noteEpoch records that a batch about to commit writes index entries in
// epoch. The caller holds writeMu. Lookups that start before the commit
// may try the epoch and find nothing there yet, which is what they would
// have found anyway.
func (c *Chain) noteEpoch(epoch uint32) error {
	n, err := c.indexEpochsLocked()
	if err != nil {
		return err
	}
	if epoch >= n {
		c.epochs.Store(epoch + 1)
	}
	return nil
}

// txLocation reads the index entry of transaction id from r, the newest
// if there are several (a duplicate on a corrupt chain).
func (c *Chain) txLocation(r pebble.Reader, id quant.Hash) (chain.Location, error) {
	n, err := c.indexEpochs()
	if err != nil {
		return chain.Location{}, err
	}
	key := make([]byte, 0, txIndexKeyLen)
	for e := n; e > 0; e-- {
		if !c.filter.mayHaveIn(id, e-1) {
			continue
		}
		key = c.appendTxIndexKey(key[:0], e-1, id)
		v, err := get(r, key)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return chain.Location{}, fmt.Errorf("chain %s: transaction %s: %w", short(c.id), short(id), err)
		}
		loc, err := decodeLocation(v)
		if err != nil {
			return chain.Location{}, fmt.Errorf("chain %s: transaction %s: %w", short(c.id), short(id), err)
		}
		return loc, nil
	}
	return chain.Location{}, fmt.Errorf("chain %s: transaction %s: %w", short(c.id), short(id), ErrNotFound)
}

// TxLocation returns where the transaction id sits on the main chain.
func (c *Chain) TxLocation(id quant.Hash) (chain.Location, error) {
	if err := c.db.enter(); err != nil {
		return chain.Location{}, err
	}
	defer c.db.leave()
	return c.txLocation(c.db.pdb, id)
}

// TxLocations is TxLocation for each of ids: locs[i] and errs[i] are what
// TxLocation(ids[i]) returns; errs is nil if every lookup found its entry.
// It sorts the ids and reads each epoch of the index in key order, newest
// first, each seek a short step from the one before, in as many key ranges
// at once as there are cores: for many ids, many times cheaper than a
// point lookup each (which reads an index block for each). An epoch is
// searched only for the ids not found in a newer one that the
// transaction filter places in it (it builds the filter if need be). It
// keeps nothing of ids.
func (c *Chain) TxLocations(ids []quant.Hash) (locs []chain.Location, errs []error) {
	locs = make([]chain.Location, len(ids))
	failAll := func(err error) ([]chain.Location, []error) {
		errs = make([]error, len(ids))
		for i := range errs {
			errs[i] = err
		}
		return locs, errs
	}
	if err := c.db.enter(); err != nil {
		return failAll(err)
	}
	defer c.db.leave()
	if err := c.ensureFilter(); err != nil {
		return failAll(err)
	}
	epochs, err := c.indexEpochs()
	if err != nil {
		return failAll(err)
	}
	// Sorted by the ids' first 8 bytes, then by the rest: most compares
	// are of one word.
	type sortKey struct {
		head uint64
		i    int32
	}
	order := make([]sortKey, len(ids))
	for i, id := range ids {
		order[i] = sortKey{binary.BigEndian.Uint64(id[:8]), int32(i)}
	}
	slices.SortFunc(order, func(a, b sortKey) int {
		if a.head != b.head {
			return cmp.Compare(a.head, b.head)
		}
		return bytes.Compare(ids[a.i][8:], ids[b.i][8:])
	})
	found := make([]bool, len(ids)) // each index written by one part of one pass
	var mu sync.Mutex               // guards errs
	fail := func(i int32, err error) {
		mu.Lock()
		defer mu.Unlock()
		if errs == nil {
			errs = make([]error, len(ids))
		}
		errs[i] = fmt.Errorf("chain %s: transaction %s: %w", short(c.id), short(ids[i]), err)
	}
	// seek looks up the ids of part, sorted, in one epoch with one
	// iterator. A read error fails the ids of part for good.
	seek := func(epoch uint32, part []sortKey) {
		it, err := c.db.pdb.NewIter(c.txIndexEpochBounds(epoch))
		if err != nil {
			for _, k := range part {
				fail(k.i, fmt.Errorf("store: %w", err))
				found[k.i] = true
			}
			return
		}
		defer it.Close()
		key := make([]byte, 0, txIndexKeyLen)
		for _, k := range part {
			key = c.appendTxIndexKey(key[:0], epoch, ids[k.i])
			if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) {
				if e := it.Error(); e != nil {
					fail(k.i, fmt.Errorf("store: %w", e))
					found[k.i] = true
				}
				continue
			}
			found[k.i] = true
			loc, err := decodeLocation(it.Value())
			if err != nil {
				fail(k.i, err)
				continue
			}
			locs[k.i] = loc
		}
	}
	var in []sortKey // the ids of order the filter places in an epoch
	for e := epochs; e > 0 && len(order) > 0; e-- {
		in = in[:0]
		c.filter.mu.RLock()
		for _, k := range order {
			if c.filter.mayHaveInLocked(ids[k.i], e-1) {
				in = append(in, k)
			}
		}
		c.filter.mu.RUnlock()
		// Few ids are looked up in one range: each range reads a share of
		// the epoch's blocks, whatever its ids.
		parts := min(runtime.GOMAXPROCS(0), len(in)/minTxLocationsPart+1)
		var wg sync.WaitGroup
		for p := range parts {
			wg.Go(func() { seek(e-1, in[p*len(in)/parts:(p+1)*len(in)/parts]) })
		}
		wg.Wait()
		order = slices.DeleteFunc(order, func(k sortKey) bool { return found[k.i] })
	}
	for _, k := range order {
		fail(k.i, ErrNotFound)
	}
	return locs, errs
}

// minTxLocationsPart is the fewest ids TxLocations looks up in a key range
// of their own.
const minTxLocationsPart = 1 << 14
