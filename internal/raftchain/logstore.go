package raftchain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/migrate"
)

// The Raft log and stable store of a replica is hashicorp/raft-wal, in
// Config.Dir/wal: segment files that are only appended to, one fsync per
// append (raft-boltdb, which replicas used before, fsyncs twice: its pages,
// then its meta page), and old entries dropped by deleting whole segments.
// A replica made before keeps its log in Config.Dir/raft.db; openLogStore
// moves it over once.
const (
	walDirName   = "wal"
	boltFileName = "raft.db"
)

// logStore is what Raft keeps on disk besides snapshots: its log and its
// stable store (term, vote).
type logStore interface {
	hraft.LogStore
	hraft.StableStore
	Close() error
}

// openLogStore opens the Raft log store of the replica in dir, creating it
// if there is none, and first migrating a raft-boltdb log (raft.db) to it.
//
// The migration copies into wal.tmp, renames it to wal and only then
// removes raft.db: a crash before the rename leaves raft.db as it was (the
// next start copies again), after it the copy is whole (the next start
// removes raft.db).
func openLogStore(dir string, segment int, log hclog.Logger) (logStore, error) {
	walDir := filepath.Join(dir, walDirName)
	boltPath := filepath.Join(dir, boltFileName)
	switch _, err := os.Stat(walDir); {
	case err == nil:
		if err := os.Remove(boltPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("raftchain: remove the migrated %s: %w", boltPath, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("raftchain: %w", err)
	default:
		if _, err := os.Stat(boltPath); err == nil {
			if err := migrateBolt(boltPath, walDir, segment, log); err != nil {
				return nil, fmt.Errorf("raftchain: migrate the raft log %s to %s: %w", boltPath, walDir, err)
			}
		} else if err := os.Mkdir(walDir, 0o700); err != nil {
			return nil, fmt.Errorf("raftchain: %w", err)
		}
	}
	w, err := openWAL(walDir, segment, log)
	if err != nil {
		return nil, fmt.Errorf("raftchain: open the raft log %s: %w", walDir, err)
	}
	return w, nil
}

// openWAL opens the raft-wal store in dir.
func openWAL(dir string, segment int, log hclog.Logger) (*raftwal.WAL, error) {
	return raftwal.Open(dir, raftwal.WithSegmentSize(segment), raftwal.WithLogger(log.Named("wal")))
}

// stableKeys are the keys hashicorp/raft keeps in its stable store; a
// replica that never voted has no vote keys.
var (
	stableUintKeys = []string{"CurrentTerm", "LastVoteTerm"}
	stableKeys     = []string{"LastVoteCand"}
)

// migrateBolt copies the raft-boltdb store at boltPath into a new raft-wal
// store at walDir (by way of walDir.tmp), then removes boltPath.
func migrateBolt(boltPath, walDir string, segment int, log hclog.Logger) (err error) {
	tmp := walDir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil { // a copy cut short
		return err
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return err
	}
	src, err := raftboltdb.New(raftboltdb.Options{Path: boltPath})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, src.Close()) }()
	dst, err := openWAL(tmp, segment, log)
	if err != nil {
		return err
	}
	first, last, err := copyBolt(dst, src)
	if err = errors.Join(err, dst.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp, walDir); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(walDir)); err != nil {
		return err
	}
	log.Info("raft log migrated from raft-boltdb to raft-wal", "from", boltPath, "to", walDir, "first_index", first, "last_index", last)
	return os.Remove(boltPath)
}

// copyBolt copies src's log entries and stable keys into dst.
func copyBolt(dst logStore, src *raftboltdb.BoltStore) (first, last uint64, err error) {
	if last, err = src.LastIndex(); err != nil {
		return 0, 0, err
	}
	if first, err = src.FirstIndex(); err != nil {
		return 0, 0, err
	}
	if last > 0 { // an empty log has none to copy
		if err := migrate.CopyLogs(context.Background(), dst, src, 1<<20, nil); err != nil {
			return 0, 0, err
		}
	}
	for _, k := range stableUintKeys {
		v, err := src.GetUint64([]byte(k))
		if errors.Is(err, raftboltdb.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("stable key %s: %w", k, err)
		}
		if err := dst.SetUint64([]byte(k), v); err != nil {
			return 0, 0, fmt.Errorf("stable key %s: %w", k, err)
		}
	}
	for _, k := range stableKeys {
		v, err := src.Get([]byte(k))
		if errors.Is(err, raftboltdb.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("stable key %s: %w", k, err)
		}
		if err := dst.Set([]byte(k), v); err != nil {
			return 0, 0, fmt.Errorf("stable key %s: %w", k, err)
		}
	}
	return first, last, nil
}

// syncDir fsyncs a directory, so that a rename in it survives a power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
