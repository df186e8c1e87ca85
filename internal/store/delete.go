package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/quant"
)

// DeleteChain removes chain id from the DB: its entry in the chains list
// (so Chains no longer lists it), every key under its prefix (quants,
// transactions, indexes, records, tip, commit count) and its
// committed-tip record (so the next Open does not take the chain for one
// that lost its commits). A chain that is not stored is no error.
//
// Handles on the chain made before DeleteChain returned refuse writes from
// then on (ErrDeleted) and read an empty chain; a handle made afterwards
// (DB.Chain) starts the chain afresh. The caller stops using the chain
// first: a write under way waits for the chain's write lock and is
// refused.
//
// The record file goes first, then the keys, in one synced batch: after a
// crash in between the chain is still wholly stored, and the next Open
// writes its record again from the store. The space the keys took is
// reclaimed by Pebble's compactions.
func (db *DB) DeleteChain(id quant.Hash) error {
	if err := db.enterWrite(); err != nil {
		return err
	}
	defer db.leave()
	c := db.Chain(id)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	st := c.tipState
	st.deleted = true
	if err := db.tips.remove(id, st.file); err != nil {
		return err
	}
	st.file = nil
	lower := c.prefix[:]
	upper := prefixEnd(lower)
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Delete(chainsKey(id), nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := b.DeleteRange(lower, upper, nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("chain %s: delete: %w", short(id), err)
	}
	// Later handles get a fresh write lock, filter and commit count.
	db.mu.Lock()
	delete(db.mu.writers, id)
	db.mu.Unlock()
	db.log.Info("store: chain deleted", "chain", id.String())
	return nil
}

// refuseDeleted refuses a write through a handle made before the chain
// was deleted. The caller holds the write lock.
func (c *Chain) refuseDeleted() error {
	if c.tipState.deleted {
		return fmt.Errorf("chain %s: %w", short(c.id), ErrDeleted)
	}
	return nil
}

// prefixEnd is the smallest key greater than every key that starts with
// prefix (which is not all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := slices.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // unreachable for a chain prefix, which starts with nsChain
}

// remove closes f (chain id's open record, or nil) and deletes the
// record's file, fsyncing the directory; what Open found about the chain
// is forgotten.
func (t *tipRecords) remove(id quant.Hash, f *tipFile) error {
	t.mu.Lock()
	if f != nil {
		if i := slices.Index(t.mu.files, f); i >= 0 {
			t.mu.files = slices.Delete(t.mu.files, i, i+1)
		}
	}
	delete(t.mu.problems, id)
	t.mu.Unlock()
	if f != nil {
		_ = f.f.Close() // the file is deleted next; nothing in it matters
	}
	if err := os.Remove(t.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	return syncDir(t.dir)
}
