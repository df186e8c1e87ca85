package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/quant"
)

// txKeyLen1 is the length of a transaction key of format version 1:
// prefix, 't', quant hash, u32 index (no height).
const txKeyLen1 = prefixLen + 1 + quant.HashSize + 4

// upgradeBatchBytes bounds one batch of the upgrade.
const upgradeBatchBytes = 32 << 20

// upgradeFrom1 rewrites a database of format version 1 into version 2:
// every transaction key gains its quant's height after the kind byte
// (appendQuantPrefix says why).
func (db *DB) upgradeFrom1() error {
	return db.upgrade(1, "transaction keys by height", db.upgradeChain1)
}

// upgrade rewrites a database of format version from into from+1, chain
// by chain with move, which moves the chain's keys of the old layout and
// returns how many it moved. move rewrites in batches, each moving some
// keys (set under the new key, delete the old; moveKeys), and upgrade
// writes the new version last, synced: a crash part way leaves a database
// of the old version holding keys of both layouts, and the next Open goes
// on where it stopped, since move moves only keys of the old layout. A
// read-only Open (qbc verify) cannot upgrade and says so.
func (db *DB) upgrade(from int, what string, move func(id quant.Hash) (int, error)) error {
	if db.readOnly {
		return refuseReadOnlyUpgrade(from)
	}
	start := time.Now()
	db.log.Info(fmt.Sprintf("store: upgrading the data directory to format version %d (%s); this runs once", from+1, what))
	chains, err := db.storedChains()
	if err != nil {
		return err
	}
	moved := 0
	for _, id := range chains {
		n, err := move(id)
		moved += n
		if err != nil {
			return fmt.Errorf("store: upgrade chain %s: %w", short(id), err)
		}
	}
	if err := db.pdb.Set([]byte{nsVersion}, binary.AppendUvarint(nil, uint64(from+1)), pebble.Sync); err != nil {
		return fmt.Errorf("store: write format version: %w", err)
	}
	db.log.Info(fmt.Sprintf("store: upgraded to format version %d", from+1), "chains", len(chains), "keys_moved", moved, "seconds", time.Since(start).Seconds())
	return nil
}

// moveKeys moves the keys of length oldLen in [lower, upper) to the keys
// newKey returns for them (appending to dst), values unchanged, in synced
// batches of at most upgradeBatchBytes, and returns how many it moved.
// Keys of other lengths are left (moved already, by a run a crash
// stopped).
func (db *DB) moveKeys(lower, upper []byte, oldLen int, newKey func(dst, k, v []byte) ([]byte, error)) (int, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	b := db.pdb.NewBatch()
	defer func() { b.Close() }()
	commit := func() error {
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		b.Close()
		b = db.pdb.NewBatch()
		return nil
	}
	moved := 0
	var key []byte
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != oldLen {
			continue
		}
		if key, err = newKey(key[:0], k, it.Value()); err != nil {
			return moved, err
		}
		if err := b.Set(key, it.Value(), nil); err != nil {
			return moved, fmt.Errorf("store: %w", err)
		}
		if err := b.Delete(k, nil); err != nil {
			return moved, fmt.Errorf("store: %w", err)
		}
		moved++
		if b.Len() >= upgradeBatchBytes {
			if err := commit(); err != nil {
				return moved, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return moved, fmt.Errorf("store: %w", err)
	}
	return moved, commit()
}

// refuseReadOnlyUpgrade is the error of a read-only Open (qbc verify) of a
// database of an older format version, which it cannot upgrade.
func refuseReadOnlyUpgrade(version int) error {
	return fmt.Errorf("store: format version %d, this build reads %d: start the node on this data directory once to upgrade it (qbc verify opens it read-only): %w", version, formatVersion, ErrReadOnly)
}

// storedChains lists the ids of the chains with a stored bang.
func (db *DB) storedChains() ([]quant.Hash, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{nsChains}, UpperBound: []byte{nsChains + 1}})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	var out []quant.Hash
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 1+quant.HashSize {
			return nil, fmt.Errorf("store: chains key %x: %w", k, ErrCorrupt)
		}
		out = append(out, quant.Hash(k[1:]))
	}
	return out, it.Error()
}

// upgradeChain1 moves one chain's transaction keys of version 1 to
// version 2 and returns how many it moved.
func (db *DB) upgradeChain1(id quant.Hash) (int, error) {
	c := db.handle(id, new(chainShared)) // the upgrade runs before any other handle is made
	var (
		last   quant.Hash
		height uint64
		have   bool
	)
	lower, upper := c.kindBounds(kindTx)
	return db.moveKeys(lower, upper, txKeyLen1, func(dst, k, _ []byte) ([]byte, error) {
		h := quant.Hash(k[prefixLen+1 : prefixLen+1+quant.HashSize])
		if !have || h != last {
			rec, err := c.record(db.pdb, h)
			if err != nil {
				return nil, fmt.Errorf("transactions of quant %s: %w", short(h), err)
			}
			last, height, have = h, rec.header.Height, true
		}
		return c.appendTxKey(dst, height, h, binary.BigEndian.Uint32(k[txKeyLen1-4:])), nil
	})
}

// txIndexKeyLen2 is the length of a transaction index key of format
// version 2: prefix, 'x', transaction id (no epoch).
const txIndexKeyLen2 = prefixLen + 1 + quant.HashSize

// upgradeFrom2 rewrites a database of format version 2 into version 3:
// every transaction index key gains its entry's epoch after the kind byte
// (appendTxIndexKey says why).
func (db *DB) upgradeFrom2() error {
	return db.upgrade(2, "transaction index by epoch", db.upgradeChain2)
}

// upgradeChain2 moves one chain's transaction index keys of version 2 to
// version 3 and returns how many it moved. It first reads the epoch of
// each main-chain height from the quants' records.
func (db *DB) upgradeChain2(id quant.Hash) (int, error) {
	c := db.handle(id, new(chainShared)) // the upgrade runs before any other handle is made
	epochs, err := c.heightEpochs()
	if err != nil {
		return 0, err
	}
	lower, upper := c.kindBounds(kindTxIndex)
	return db.moveKeys(lower, upper, txIndexKeyLen2, func(dst, k, v []byte) ([]byte, error) {
		txID := quant.Hash(k[prefixLen+1:])
		loc, err := decodeLocation(v)
		if err != nil {
			return nil, fmt.Errorf("transaction %s: %w", short(txID), err)
		}
		epoch, ok := epochs.at(loc.Height)
		if !ok {
			return nil, fmt.Errorf("transaction %s is indexed at height %d, which the main chain does not reach: %w", short(txID), loc.Height, ErrCorrupt)
		}
		return c.appendTxIndexKey(dst, epoch, txID), nil
	})
}

// epochRuns gives the index epoch of each main-chain height: epochs do
// not decrease along a branch, so it keeps one run per epoch (about one
// per 2^20 transactions) rather than an entry per height.
type epochRuns struct {
	first, last uint64 // the main chain's heights
	starts      []uint64
	epochs      []uint32 // epochs[i] from height starts[i] on
}

// at returns the epoch of height, or false if the main chain does not
// reach it.
func (r *epochRuns) at(height uint64) (uint32, bool) {
	if len(r.starts) == 0 || height < r.first || height > r.last {
		return 0, false
	}
	i, found := slices.BinarySearch(r.starts, height)
	if !found {
		i--
	}
	return r.epochs[i], true
}

// heightEpochs reads the index epoch of each main-chain height of c from
// its quants' records.
func (c *Chain) heightEpochs() (*epochRuns, error) {
	lower, upper := c.kindBounds(kindHeight)
	it, err := c.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	runs := &epochRuns{}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != heightKeyLen {
			return nil, fmt.Errorf("height key %x: %w", k, ErrCorrupt)
		}
		height := binary.BigEndian.Uint64(k[prefixLen+1:])
		h, err := decodeHash(it.Value(), "height index")
		if err != nil {
			return nil, err
		}
		rec, err := c.record(c.db.pdb, h)
		if err != nil {
			return nil, fmt.Errorf("quant %d: %w", height, err)
		}
		epoch := txEpoch(rec.txs, uint64(rec.header.TxCount))
		n := len(runs.starts)
		switch {
		case n == 0:
			runs.first = height
		case height != runs.last+1 || epoch < runs.epochs[n-1]:
			return nil, fmt.Errorf("main chain at height %d (after %d, epoch %d after %d): %w", height, runs.last, epoch, runs.epochs[n-1], ErrCorrupt)
		}
		if n == 0 || epoch != runs.epochs[n-1] {
			runs.starts, runs.epochs = append(runs.starts, height), append(runs.epochs, epoch)
		}
		runs.last = height
	}
	return runs, it.Error()
}

// upgradeFrom3 rewrites a database of format version 3 into version 4:
// each quant's transactions, one per key, are moved into pages (pages.go
// says why).
func (db *DB) upgradeFrom3() error {
	return db.upgrade(3, "transactions in pages", db.upgradeChain3)
}

// upgradeChain3 moves one chain's transactions of version 3 into pages
// and returns how many it moved. Its batches end between quants, so that
// a crash leaves each quant's transactions all in pages or all one per
// key, and the next run moves the latter.
func (db *DB) upgradeChain3(id quant.Hash) (int, error) {
	c := db.handle(id, new(chainShared)) // the upgrade runs before any other handle is made
	lower, upper := c.kindBounds(kindTx)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	b := db.pdb.NewBatch()
	defer func() { b.Close() }()
	var (
		quantKey    []byte // the current quant's key prefix, kind and all
		page, key   []byte
		first, next uint32 // the page's first transaction; the one due (one past the page's last)
		moved       int
	)
	putPage := func() error {
		if len(page) == 0 {
			return nil
		}
		key = binary.BigEndian.AppendUint32(append(key[:0], quantKey...), next-1)
		key[prefixLen] = kindTxPage
		if err := b.Set(key, page, nil); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		page, first = page[:0], next
		return nil
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != txKeyLen {
			return moved, fmt.Errorf("transaction key %x of format version 3: %w", k, ErrCorrupt)
		}
		if !bytes.Equal(k[:txKeyLen-4], quantKey) {
			if err := putPage(); err != nil {
				return moved, err
			}
			if b.Len() >= upgradeBatchBytes {
				if err := b.Commit(pebble.Sync); err != nil {
					return moved, fmt.Errorf("store: %w", err)
				}
				b.Close()
				b = db.pdb.NewBatch()
			}
			quantKey, first, next = append(quantKey[:0], k[:txKeyLen-4]...), 0, 0
		}
		if i := binary.BigEndian.Uint32(k[txKeyLen-4:]); i != next {
			return moved, fmt.Errorf("transaction key %x where %d was due: %w", k, next, ErrCorrupt)
		}
		v := it.Value()
		page = binary.AppendUvarint(page, uint64(len(v)))
		page = append(page, v...)
		next++
		if err := b.Delete(k, nil); err != nil {
			return moved, fmt.Errorf("store: %w", err)
		}
		moved++
		if pageFull(len(page), int(next-first)) {
			if err := putPage(); err != nil {
				return moved, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return moved, fmt.Errorf("store: %w", err)
	}
	if err := putPage(); err != nil {
		return moved, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return moved, fmt.Errorf("store: %w", err)
	}
	return moved, nil
}
