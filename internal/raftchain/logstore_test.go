package raftchain

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/hashicorp/raft-wal/migrate"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestMigrateFromBoltDB: a replica whose Raft log is still a raft-boltdb
// file (as every replica made before raft-wal) starts on it: the log and
// its term and vote move to raft-wal, raft.db goes, and the chain goes on
// with every acknowledged transaction. A copy cut short before (wal.tmp
// left behind) is made again.
func TestMigrateFromBoltDB(t *testing.T) {
	c := newCluster(t, 1, nil)
	c.startVoters(1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var acked []quant.Hash
	submit := func(n int) {
		t.Helper()
		for range n {
			txs := c.txs(3)
			if err := c.leader().r.Submit(ctx, txs); err != nil {
				t.Fatal(err)
			}
			acked = append(acked, idsOf(txs)...)
		}
	}
	submit(5)
	m := c.members[0]
	height := m.r.Chain().Tip().Header.Height
	c.stop(0)

	// Turn the member's raft-wal log back into a raft-boltdb one.
	dir := filepath.Join(m.dir, "raft")
	walDir := filepath.Join(dir, walDirName)
	w, err := openWAL(walDir, 8<<20, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	b, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, boltFileName)})
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.CopyLogs(ctx, b, w, 1<<20, nil); err != nil {
		t.Fatal(err)
	}
	term, err := w.GetUint64([]byte("CurrentTerm"))
	if err != nil || term == 0 {
		t.Fatalf("CurrentTerm %d, %v", term, err)
	}
	if err := migrate.CopyStable(ctx, b, w, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	last, _ := w.LastIndex()
	if err := errors.Join(w.Close(), b.Close(), os.RemoveAll(walDir)); err != nil {
		t.Fatal(err)
	}
	// A copy cut short: garbage in wal.tmp.
	if err := os.MkdirAll(walDir+".tmp", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(walDir+".tmp", "00000000000000000001-0000000000000001.wal"), []byte("torn"), 0o600); err != nil {
		t.Fatal(err)
	}

	r := c.start(0)
	for _, gone := range []string{boltFileName, walDirName + ".tmp"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after the migration: %v", gone, err)
		}
	}
	if got, err := r.logs.LastIndex(); err != nil || got < last {
		t.Fatalf("migrated log ends at %d (%v), the old one at %d", got, err, last)
	}
	if got, err := r.logs.GetUint64([]byte("CurrentTerm")); err != nil || got < term {
		t.Fatalf("migrated CurrentTerm %d (%v), was %d", got, err, term)
	}
	submit(3)
	c.converged(height + 3)
	c.checkOnce(acked)
}

// TestOpenLogStoreEmptyBolt: a raft.db that never held an entry or a vote
// (a member that never joined) migrates to an empty log.
func TestOpenLogStoreEmptyBolt(t *testing.T) {
	dir := t.TempDir()
	b, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, boltFileName)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ls, err := openLogStore(dir, 8<<20, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if last, err := ls.LastIndex(); err != nil || last != 0 {
		t.Fatalf("LastIndex %d, %v; want an empty log", last, err)
	}
	if err := ls.StoreLogs([]*hraft.Log{{Index: 1, Term: 1, Type: hraft.LogCommand, Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, boltFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("raft.db after the migration: %v", err)
	}
}
