package store

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openLogged opens the store in dir with its logs in the returned buffer.
func openLogged(t *testing.T, dir string, readOnly bool) (*DB, *syncBuffer) {
	t.Helper()
	var buf syncBuffer
	db, err := Open(Options{Dir: dir, ReadOnly: readOnly, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, &buf
}

// newestLog returns the path of the newest write-ahead log in dir.
func newestLog(t *testing.T, dir string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no write-ahead log in %s: %v", dir, err)
	}
	slices.Sort(logs)
	return logs[len(logs)-1]
}

func flipByte(t *testing.T, path string, at func(size int) int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at(len(b))] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLostCommitsNamed flips one byte in the middle of the newest
// write-ahead log of a closed store, which Pebble takes for a torn tail,
// dropping the commits after it. The reopened store must say so: an error
// log naming the chain, the committed tip and what it holds, a
// *LostError from CheckCommitted (read-only too, for qbc verify), and
// Connect refused, so that the evidence survives the next open.
func TestLostCommitsNamed(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	qs := grow(t, c, newBuilder(c.ID(), 1), bang, 40, 5)
	tip := qs[len(qs)-1]
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	flipByte(t, newestLog(t, dir), func(n int) int { return n / 2 })

	for _, readOnly := range []bool{true, false, false} {
		db, logs := openLogged(t, dir, readOnly)
		c := db.Chain(bang.Hash())
		_, stored, err := c.Tip()
		if err != nil {
			t.Fatalf("Tip: %v", err)
		}
		if stored.Height == 40 {
			t.Fatalf("the flipped byte lost nothing: the test no longer damages the log")
		}
		err = db.CheckCommitted()
		var lost *LostError
		if !errors.As(err, &lost) || !errors.Is(err, ErrLost) {
			t.Fatalf("read-only %v: store at height %d of 40 committed, CheckCommitted says %v", readOnly, stored.Height, err)
		}
		if err := c.CheckCommitted(); !errors.Is(err, ErrLost) {
			t.Errorf("Chain.CheckCommitted: %v, want ErrLost", err)
		}
		want := Mark{Commits: 41, Height: 40, Hash: tip.Hash()}
		if lost.Chain != c.ID() || lost.Committed != want || lost.Stored.Height != stored.Height || lost.NoChain {
			t.Errorf("LostError %+v, want committed %+v, stored height %d", lost, want, stored.Height)
		}
		for _, s := range []string{"chain " + c.ID().String(), "committed quant 40 " + tip.Hash().String(), "heights"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not name %q", err, s)
			}
		}
		l := logs.String()
		if !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "committed quants lost") ||
			!strings.Contains(l, "committed_height=40") || !strings.Contains(l, "chain="+c.ID().String()) {
			t.Errorf("no error log naming the loss: %q", l)
		}
		if !readOnly {
			h, _, _ := c.Tip()
			hdr, err := c.Header(h)
			if err != nil {
				t.Fatal(err)
			}
			q := newBuilder(c.ID(), 9).child(hdr, h, 1)
			if err := c.Connect(entry(q, 0)); !errors.Is(err, ErrLost) {
				t.Errorf("Connect on a chain that lost commits: %v, want ErrLost", err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCommittedCleanRestarts checks that sound stores raise no alarm: after
// connects and reorgs, after a commit whose record was not written (a
// crash between the two), and after the record's newest slot is torn.
func TestCommittedCleanRestarts(t *testing.T) {
	dir := t.TempDir()
	db, _ := openLogged(t, dir, false)
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	qs := grow(t, c, b, bang, 5, 3)
	// Replace the tip by two quants on its parent: one Reorg.
	parent := qs[4]
	a := b.child(&parent.Header, parent.Hash(), 2)
	a2 := b.child(&a.Header, a.Hash(), 2)
	if err := c.Reorg([]quant.Hash{qs[5].Hash()}, []chain.Entry{entry(a, 0), entry(a2, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, CommittedDir, c.ID().String())
	_, m, err := decodeTipRecord(c.ID(), mustRead(t, rec))
	if want := (Mark{Commits: 7, Height: 6, Hash: a2.Hash()}); err != nil || m != want {
		t.Fatalf("record %+v, %v; want %+v", m, err, want)
	}

	// A torn newest slot: the other one (one commit older) is used, and a
	// record behind the store is no alarm.
	raw := mustRead(t, rec)
	seq, _, _ := decodeTipRecord(c.ID(), raw)
	raw[(seq%2)*tipSlotSize+30] ^= 0xff
	if err := os.WriteFile(rec, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, m, err := decodeTipRecord(c.ID(), raw); err != nil || m.Commits != 6 {
		t.Fatalf("record with a torn slot: %+v, %v; want the older slot (6 commits)", m, err)
	}
	db, logs := openLogged(t, dir, false)
	if err := db.CheckCommitted(); err != nil {
		t.Fatalf("CheckCommitted after a torn record slot: %v", err)
	}
	c = db.Chain(bang.Hash())
	q := b.child(&a2.Header, a2.Hash(), 1)
	if err := c.Connect(entry(q, 0)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged on a sound store: %s", logs)
	}
	if _, m, err := decodeTipRecord(c.ID(), mustRead(t, rec)); err != nil || m.Commits != 8 || m.Hash != q.Hash() {
		t.Fatalf("record after the next commit: %+v, %v", m, err)
	}
}

// TestCommittedRecordDamagedOrMissing: a record with no valid slot is
// reported (ErrCorrupt, not ErrLost: nothing is known lost) and rewritten by
// the next commit; a missing one is started again from the store.
func TestCommittedRecordDamagedOrMissing(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	qs := grow(t, c, b, bang, 3, 2)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, CommittedDir, c.ID().String())
	raw := mustRead(t, rec)
	raw[tipSlotSize+5] ^= 1
	raw[5] ^= 1
	if err := os.WriteFile(rec, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	db, logs := openLogged(t, dir, false)
	err := db.CheckCommitted()
	if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrLost) || !strings.Contains(err.Error(), rec) {
		t.Fatalf("CheckCommitted with a damaged record: %v", err)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a damaged record was not logged as an error: %s", logs)
	}
	c = db.Chain(bang.Hash())
	tip := qs[len(qs)-1]
	q := b.child(&tip.Header, tip.Hash(), 1)
	if err := c.Connect(entry(q, 0)); err != nil {
		t.Fatalf("Connect with a damaged record: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, m, err := decodeTipRecord(c.ID(), mustRead(t, rec)); err != nil || m.Height != 4 || m.Hash != q.Hash() {
		t.Fatalf("record after the next commit: %+v, %v", m, err)
	}

	if err := os.Remove(rec); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	if err := db.CheckCommitted(); err != nil {
		t.Fatalf("CheckCommitted with no record: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, m, err := decodeTipRecord(c.ID(), mustRead(t, rec)); err != nil || m.Height != 4 || m.Commits != 5 {
		t.Fatalf("record started again: %+v, %v", m, err)
	}
}

// TestCommittedChainWhollyLost: a chain whose every commit the log lost (it
// was made since the last flush) is not listed by Chains at all; its record
// still names it.
func TestCommittedChainWhollyLost(t *testing.T) {
	src := t.TempDir()
	db := openTest(t, src)
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	grow(t, c, newBuilder(c.ID(), 1), bang, 2, 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// A store that never held the chain, with its record.
	dir := t.TempDir()
	if err := openTest(t, dir).Close(); err != nil {
		t.Fatal(err)
	}
	name := c.ID().String()
	if err := os.WriteFile(filepath.Join(dir, CommittedDir, name), mustRead(t, filepath.Join(src, CommittedDir, name)), 0o600); err != nil {
		t.Fatal(err)
	}
	db, _ = openLogged(t, dir, true)
	var lost *LostError
	if err := db.CheckCommitted(); !errors.As(err, &lost) || !lost.NoChain || lost.Committed.Height != 2 ||
		!strings.Contains(err.Error(), "holds none of it") {
		t.Fatalf("CheckCommitted of a wholly lost chain: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTipRecordsSyncLoop: a record written is fsynced by the background
// loop within tipSyncInterval, not by the write; close stops the loop.
func TestTipRecordsSyncLoop(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		var passes atomic.Int32 // the loop's passes (beforeSync runs first in each)
		tr, err := openTipRecords(dir, false, discard(), tipSyncInterval, func() { passes.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		id := quant.Hash{1}
		f, err := tr.create(id, Mark{Commits: 1, Height: 0, Hash: id})
		if err != nil {
			t.Fatal(err)
		}
		if f.dirty.Load() {
			t.Fatal("a new record is left unsynced")
		}
		if err := f.write(&id, Mark{Commits: 2, Height: 1, Hash: quant.Hash{2}}); err != nil {
			t.Fatal(err)
		}
		if !f.dirty.Load() {
			t.Fatal("a write is not marked for the loop")
		}
		time.Sleep(tipSyncInterval)
		synctest.Wait()
		if f.dirty.Load() {
			t.Fatalf("the record is still unsynced after %v", tipSyncInterval)
		}
		// With nothing written, the loop sleeps: no pass in ten intervals,
		// and a write wakes it again.
		before := passes.Load()
		time.Sleep(10 * tipSyncInterval)
		synctest.Wait()
		if n := passes.Load() - before; n != 0 {
			t.Fatalf("%d passes of an idle loop in %v", n, 10*tipSyncInterval)
		}
		if err := f.write(&id, Mark{Commits: 3, Height: 2, Hash: quant.Hash{3}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(tipSyncInterval)
		synctest.Wait()
		if n := passes.Load() - before; n != 1 || f.dirty.Load() {
			t.Fatalf("after a write: %d passes, unsynced %v", n, f.dirty.Load())
		}
		if err := tr.close(); err != nil {
			t.Fatal(err)
		}
	})
	_, m, err := (&tipRecords{dir: filepath.Join(dir, CommittedDir)}).read(quant.Hash{1})
	if err != nil || m.Commits != 3 || m.Height != 2 {
		t.Fatalf("record %+v, %v", m, err)
	}
}

// TestDeferSync: a chain that defers its syncs commits without waiting for
// an fsync, and its committed-tip record follows only what a sync made
// durable: after Sync, after the background loop's pass, and at Close. A
// reopened store holds every commit and sees no lost ones.
func TestDeferSync(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	db, err := Open(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil)), syncEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	c.DeferSync()
	b := newBuilder(c.ID(), 1)
	qs := grow(t, c, b, bang, 5, 3)
	rec := filepath.Join(dir, CommittedDir, c.ID().String())
	if _, err := os.Stat(rec); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a record of deferred commits was written before any sync: %v", err)
	}
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	_, m, err := decodeTipRecord(c.ID(), mustRead(t, rec))
	if want := (Mark{Commits: 6, Height: 5, Hash: qs[5].Hash()}); err != nil || m != want {
		t.Fatalf("record after Sync: %+v, %v; want %+v", m, err, want)
	}

	// Later commits wait for the next sync: the loop's pass.
	more := grow(t, c, b, nil, 2, 3)
	if _, m, err = decodeTipRecord(c.ID(), mustRead(t, rec)); err != nil || m.Commits != 6 {
		t.Fatalf("record before the loop's pass: %+v, %v; want still 6 commits", m, err)
	}
	db.syncDeferredLogged()
	if _, m, err = decodeTipRecord(c.ID(), mustRead(t, rec)); err != nil || m.Commits != 8 || m.Hash != more[1].Hash() {
		t.Fatalf("record after the loop's pass: %+v, %v; want the 8th commit", m, err)
	}

	// Close syncs what is left.
	last := grow(t, c, b, nil, 1, 3)[0]
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, m, err = decodeTipRecord(c.ID(), mustRead(t, rec))
	if want := (Mark{Commits: 9, Height: 8, Hash: last.Hash()}); err != nil || m != want {
		t.Fatalf("record after Close: %+v, %v; want %+v", m, err, want)
	}
	db, logs2 := openLogged(t, dir, false)
	if err := db.CheckCommitted(); err != nil {
		t.Fatalf("CheckCommitted: %v", err)
	}
	if tip, _, err := db.Chain(bang.Hash()).Tip(); err != nil || tip != last.Hash() {
		t.Fatalf("tip after reopening: %s, %v; want %s", tip, err, last.Hash())
	}
	for _, l := range []*syncBuffer{&logs, logs2} {
		if strings.Contains(l.String(), "level=ERROR") {
			t.Errorf("errors logged: %s", l)
		}
	}
}
