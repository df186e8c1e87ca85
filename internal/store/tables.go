package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// CheckTables reads every block of every live table file of the DB and
// checks its checksum: the blocks no read of a chain touches too (bloom
// filters, properties, index blocks, side branches). It returns an error
// wrapping ErrCorrupt that names the first damaged file and the damage,
// or, if ctx ends, ctx's error. It is for `qbc verify`: it reads every
// table once, outside the block cache.
//
// Damage in a block that Pebble itself reads (listing the tables reads
// their properties) is reported through Pebble's corruption event, which
// the store turns into a panic (see pebbleLogger.Fatalf), as on any read.
func (db *DB) CheckTables(ctx context.Context) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	levels, err := db.pdb.SSTables()
	if err != nil {
		return fmt.Errorf("store: tables: %w", err)
	}
	for _, level := range levels {
		for _, t := range level {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := fmt.Sprintf("%06d.sst", uint64(t.BackingSSTNum))
			if err := checkTable(ctx, filepath.Join(db.dir, name)); err != nil {
				// The reader, opened outside Pebble, knows no file number.
				msg := strings.TrimPrefix(err.Error(), "pebble: file 000000: ")
				return fmt.Errorf("table %s: %s: %w", name, msg, ErrCorrupt)
			}
		}
	}
	return nil
}

// checkTable validates the checksum of every block of the table file at
// path.
func checkTable(ctx context.Context, path string) error {
	f, err := vfs.Default.Open(path)
	if err != nil {
		return err
	}
	readable, err := sstable.NewSimpleReadable(f)
	if err != nil {
		_ = f.Close()
		return err
	}
	r, err := sstable.NewReader(ctx, readable, sstable.ReaderOptions{})
	if err != nil {
		_ = readable.Close()
		return err
	}
	err = r.ValidateBlockChecksums()
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return err
}
