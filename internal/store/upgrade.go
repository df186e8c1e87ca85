package store

import (
	"encoding/binary"
	"fmt"
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
// (appendTxPrefix says why). It rewrites in batches, each moving some keys
// (set under the new key, delete the old), and writes the new version
// last, synced: a crash part way leaves a database of version 1 holding
// keys of both lengths, and the next Open goes on where it stopped, since
// it moves only keys of the old length. A read-only Open (qbc verify)
// cannot upgrade and says so.
func (db *DB) upgradeFrom1() error {
	if db.readOnly {
		return fmt.Errorf("store: format version 1, this build reads %d: start the node on this data directory once to upgrade it (qbc verify opens it read-only)", formatVersion)
	}
	start := time.Now()
	db.log.Info("store: upgrading the data directory to format version 2 (transaction keys by height); this runs once")
	chains, err := db.storedChains()
	if err != nil {
		return err
	}
	moved := 0
	for _, id := range chains {
		n, err := db.upgradeChain1(id)
		moved += n
		if err != nil {
			return fmt.Errorf("store: upgrade chain %s: %w", short(id), err)
		}
	}
	if err := db.pdb.Set([]byte{nsVersion}, binary.AppendUvarint(nil, formatVersion), pebble.Sync); err != nil {
		return fmt.Errorf("store: write format version: %w", err)
	}
	db.log.Info("store: upgraded to format version 2", "chains", len(chains), "transactions", moved, "seconds", time.Since(start).Seconds())
	return nil
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
	c := &Chain{db: db, id: id}
	c.prefix[0] = nsChain
	copy(c.prefix[1:], id[:])
	lower := append(c.prefix[:len(c.prefix):len(c.prefix)], kindTx)
	upper := append(c.prefix[:len(c.prefix):len(c.prefix)], kindTx+1)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	var (
		b      = db.pdb.NewBatch()
		moved  int
		last   quant.Hash
		height uint64
		have   bool
	)
	defer func() { b.Close() }()
	commit := func() error {
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		b.Close()
		b = db.pdb.NewBatch()
		return nil
	}
	key := make([]byte, 0, txKeyLen)
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != txKeyLen1 {
			continue // moved already (a crash part way through)
		}
		h := quant.Hash(k[prefixLen+1 : prefixLen+1+quant.HashSize])
		if !have || h != last {
			rec, err := c.record(db.pdb, h)
			if err != nil {
				return moved, fmt.Errorf("transactions of quant %s: %w", short(h), err)
			}
			last, height, have = h, rec.header.Height, true
		}
		key = c.appendTxKey(key[:0], height, h, binary.BigEndian.Uint32(k[txKeyLen1-4:]))
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
