package store

// The committed-tip record: how a store knows the tip it committed, kept
// where a damaged write-ahead log cannot silently take it away.
//
// # The problem
//
// Pebble replays the newest write-ahead log at open and, like every LSM,
// treats a record that fails its checksum there as the torn tail of a
// crash: it keeps what comes before and drops the rest, without an error.
// Its read-ahead (the WAL sync chunk format) tells rot from a torn tail only
// when a later 32 KiB block holds a chunk that promises the bad one was
// synced; a flip in the newest log's last block, or anywhere in a short log,
// is taken for a torn tail. One flipped byte in the middle of the newest log
// of a stopped node so takes every commit after it: the node comes back
// several quants shorter, committed transactions are gone, and nothing in
// the store can tell, since the store is what lost them. No Pebble option
// makes the newest log's tail strict (open.go's strictWALTail is false for
// it, by design: a real crash leaves such a tail).
//
// # The design
//
// Two counters that must agree, kept by two mechanisms that fail apart:
//
//   - In the store: every Connect and Reorg writes the chain's commit count
//     (key 0x02 C 'c', a big-endian u64, one more than before) in the same
//     synced batch as the quant and the tip. It is exactly as durable as the
//     commit it counts: whatever the log lost, the count the store holds is
//     that of the last commit it still holds.
//   - Outside it: after the batch is committed (the log fsynced), the store
//     writes the count, with the tip's height and hash, to a small file per
//     chain, DIR/committed/<chain id in hex>, by one pwrite of 64 bytes into
//     one of two slots (alternately, each slot with a sequence number and a
//     CRC-32C over the chain id and the slot), without an fsync. A
//     background loop fsyncs the files written since its last pass, once a
//     second, and Close fsyncs them all.
//
// A chain that defers its syncs (DeferSync: a Raft chain) commits without
// an fsync, so its record waits: syncDeferred syncs the log (which makes
// every commit before it durable) and only then writes the record of the
// latest commit that was pending before that sync. It runs at the owner's
// Sync, before each pass of the background loop, and at Close. The rule
// holds: a record never names more than the store durably holds.
//
// At Open the store compares the two for every chain that has either. A
// store that holds fewer commits than the record (or, at the same count,
// another tip, or no chain at all) has lost committed quants: Open logs it
// at error level, naming the chain, the committed height, hash and count
// and what the store holds, CheckCommitted returns a *LostError (ErrLost),
// and the chain refuses Connect and Reorg, so that the record, the
// evidence, is never overwritten by a shorter chain. The node refuses to
// start; `qbc verify` fails, naming the lost heights.
//
// # Guarantees, and why no fsync is added to a commit
//
// The record is written only after the commit it names is durable in the
// log, so it never names more than the store durably held: a record ahead
// of the store always means lost commits, never a false alarm. A record
// behind the store (a crash between the commit and its record, or a power
// loss that kept the log's fsynced writes but not the record's unsynced
// one) is accepted: a stale record only narrows what can be checked.
//
//   - Clean stop (SIGTERM, Close): the record is exact and fsynced; any
//     commit the log loses afterwards is detected.
//   - Process crash (kill -9, panic, OOM kill): the record's pwrite is in
//     the kernel's page cache and reaches the disk; exact but for a commit
//     whose record write had not run, which is still in the log (it was
//     being committed as the process died).
//   - Power loss or kernel crash: the record is what the last fsync kept,
//     at most about a second behind (the background loop), or the previous
//     slot if the newest one was torn. Damage to the log in the commits
//     after that second goes unnoticed; damage before it is detected.
//   - Both slots unreadable (the record file itself damaged) or the file
//     lost: no check is possible for that chain. Open logs the damaged
//     record at error level, CheckCommitted returns it (ErrCorrupt; the
//     node starts, `qbc verify` fails), and the next commit rewrites it. A
//     lost file is recreated from the store at the next writable Open.
//
// The cost of a commit is one more 8-byte key in its batch, a read of the
// count the first time a chain is written, and one pwrite syscall of 64
// bytes after the fsync: no fsync and no allocation. Measured on a shared
// 2-core VM (ext4): the record's write 2 to 3 µs (BenchmarkTipRecord);
// a commit of 10 transactions 1.30 ms before and 1.34 ms after (±33%, no
// significant difference; BenchmarkConnectSmall, which the fsync of the
// log dominates). An fsync of the record per commit would have doubled the
// commit's fsyncs.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/quant"
)

// CommittedDir is the directory, inside a DB's, of its committed-tip
// records: one file per chain, named by the chain id in hex.
const CommittedDir = "committed"

// tipSyncInterval is how often the background loop fsyncs the records
// written since its last pass.
const tipSyncInterval = time.Second

// A record file holds two slots of tipSlotSize bytes; a write goes to slot
// seq%2, so a torn write leaves the other slot whole.
//
//	0  4  magic "qtip"
//	4  8  seq: this slot's write number (the newer valid slot wins)
//	12 8  commits: the chain's commit count
//	20 8  height of the tip
//	28 32 hash of the tip
//	60 4  CRC-32C (Castagnoli) of the chain id and bytes 0 to 60
const (
	tipSlotSize = 64
	tipMagic    = "qtip"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Mark is a point in a chain's commit history: the number of commits
// (Connects and Reorgs) the chain had and the tip they left.
type Mark struct {
	Commits uint64
	Height  uint64
	Hash    quant.Hash
}

// LostError reports a chain whose store holds less than it committed: the
// store's commit count is below its committed-tip record's, or the tip
// differs at the same count. It wraps ErrLost.
type LostError struct {
	Chain     quant.Hash
	Committed Mark // what the record says was committed
	Stored    Mark // what the store holds (zero if NoChain)
	NoChain   bool // the store holds no tip of the chain at all
}

func (e *LostError) Error() string {
	held := "the store holds none of it"
	if !e.NoChain {
		held = fmt.Sprintf("the store holds quant %d %s (commit %d)", e.Stored.Height, e.Stored.Hash, e.Stored.Commits)
	}
	lost := fmt.Sprintf("%d commits lost", e.Committed.Commits-min(e.Committed.Commits, e.Stored.Commits))
	switch {
	case e.NoChain:
		lost = fmt.Sprintf("heights to %d lost", e.Committed.Height)
	case e.Committed.Commits <= e.Stored.Commits:
		lost = "another tip after as many commits"
	case e.Committed.Height > e.Stored.Height:
		lost = fmt.Sprintf("heights %d to %d lost", e.Stored.Height+1, e.Committed.Height)
	}
	return fmt.Sprintf("chain %s: committed quant %d %s (commit %d), but %s: %s: %v",
		e.Chain, e.Committed.Height, e.Committed.Hash, e.Committed.Commits, held, lost, ErrLost)
}

func (e *LostError) Unwrap() error { return ErrLost }

// tipState is what a chain's writers keep about its commits; it lives in
// the chain's chainShared and is guarded by the chain's write lock.
type tipState struct {
	loaded  bool
	commits uint64 // the store's commit count, once loaded
	lost    error  // set at Open: the chain lost commits; writes refused
	file    *tipFile
	failing bool // the last record write failed (logged once)
	deleted bool // DeleteChain removed the chain: this state's handles write no more

	// deferred: the chain's commits are not synced (DeferSync); pending:
	// one of them is not in the record yet, pendingMark the latest.
	deferred    bool
	pending     bool
	pendingMark Mark
}

// tipFile is one chain's open record file.
type tipFile struct {
	f     *os.File
	seq   uint64            // the last slot written; under the chain's write lock
	buf   [tipSlotSize]byte // the slot being written; under the write lock
	dirty atomic.Bool       // written since the last fsync
	wake  func()            // tells the fsync loop of a write (tipRecords.wake)
}

// tipRecords are a DB's record files and the loop that fsyncs them.
type tipRecords struct {
	dir      string // DB dir / CommittedDir
	readOnly bool
	log      *slog.Logger
	// beforeSync, if set, runs before each pass of the fsync loop: the
	// DB's syncDeferred, which writes the records of deferred commits.
	beforeSync func()
	every      time.Duration // how often the fsync loop passes

	// mu guards files (every record file opened for writing) and problems
	// (what Open found, by chain, for CheckCommitted).
	mu struct {
		sync.Mutex
		files    []*tipFile
		problems map[quant.Hash]error
	}
	stop chan struct{}
	done chan struct{}
	// kick tells the fsync loop that a commit left something to sync
	// (wake); with nothing to sync the loop sleeps, so an idle node does
	// not wake for it.
	kick chan struct{}
}

// wake tells the fsync loop that a record was written or a commit's record
// deferred: its next pass is at most every later. It never blocks.
func (t *tipRecords) wake() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

func (c *Chain) commitsKey() []byte {
	return append(c.prefix[:len(c.prefix):len(c.prefix)], kindCommits)
}

// storedMark returns the chain's commit count and tip in r; ok is false if
// the chain has no tip.
func (c *Chain) storedMark(r pebble.Reader) (m Mark, ok bool, err error) {
	v, err := get(r, c.commitsKey())
	switch {
	case errors.Is(err, ErrNotFound): // a chain stored before commits were counted
	case err != nil:
		return Mark{}, false, err
	case len(v) != 8:
		return Mark{}, false, fmt.Errorf("chain %s: commit count %x: %w", short(c.id), v, ErrCorrupt)
	default:
		m.Commits = binary.BigEndian.Uint64(v)
	}
	h, rec, err := c.tip(r)
	if errors.Is(err, ErrNotFound) {
		return m, false, nil
	}
	if err != nil {
		return Mark{}, false, err
	}
	m.Hash, m.Height = h, rec.header.Height
	return m, true, nil
}

// putCommit adds the chain's next commit count to b, a batch that changes
// its tip. It refuses a chain that lost commits (the record must stay as
// it is, the evidence). The caller holds the write lock.
func (c *Chain) putCommit(b *pebble.Batch) error {
	st := c.tipState
	if st.lost != nil {
		return st.lost
	}
	if !st.loaded {
		m, _, err := c.storedMark(c.db.pdb)
		if err != nil {
			return err
		}
		st.commits, st.loaded = m.Commits, true
	}
	// Set copies key and value: both can live on the stack.
	var key [prefixLen + 1]byte
	copy(key[:], c.prefix[:])
	key[prefixLen] = kindCommits
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], st.commits+1)
	if err := b.Set(key[:], v[:], nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// recordCommit counts a commit that putCommit prepared and that is now
// committed, and writes the record of the tip it left: at once if the
// commit was synced, else (a chain that defers its syncs) after the next
// sync of the log, so that the record never names more than the store
// durably holds. The caller holds the write lock.
func (c *Chain) recordCommit(tip quant.Hash, height uint64) {
	st := c.tipState
	st.commits++
	m := Mark{Commits: st.commits, Height: height, Hash: tip}
	if st.deferred {
		st.pending, st.pendingMark = true, m
		c.db.tips.wake()
		return
	}
	c.writeRecord(m)
}

// writeRecord writes m, a durable commit's mark, to the chain's record. A
// failed write is logged, not returned: the commit stands, and a stale
// record is safe. The caller holds the write lock.
func (c *Chain) writeRecord(m Mark) {
	st := c.tipState
	var err error
	if st.file == nil {
		st.file, err = c.db.tips.create(c.id, m)
	} else {
		err = st.file.write(&c.id, m)
	}
	if err != nil && !st.failing {
		c.db.log.Error("store: cannot write the committed-tip record; lost commits of this chain will go undetected until it can",
			"chain", c.id.String(), "err", err)
	}
	st.failing = err != nil
}

// encodeSlot encodes one slot of chain id's record into dst (of capacity
// tipSlotSize, so that it does not allocate) and returns it.
func encodeSlot(dst []byte, id *quant.Hash, seq uint64, m Mark) []byte {
	b := append(dst[:0], tipMagic...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint64(b, m.Commits)
	b = binary.BigEndian.AppendUint64(b, m.Height)
	b = append(b, m.Hash[:]...)
	crc := crc32.Update(crc32.Checksum(id[:], castagnoli), castagnoli, b)
	return binary.BigEndian.AppendUint32(b, crc)
}

// decodeSlot decodes one slot; ok is false if it is not a valid slot of
// chain id's record.
func decodeSlot(id quant.Hash, b []byte) (seq uint64, m Mark, ok bool) {
	if len(b) != tipSlotSize || string(b[:4]) != tipMagic {
		return 0, Mark{}, false
	}
	crc := crc32.Update(crc32.Checksum(id[:], castagnoli), castagnoli, b[:60])
	if crc != binary.BigEndian.Uint32(b[60:]) {
		return 0, Mark{}, false
	}
	m.Commits = binary.BigEndian.Uint64(b[12:])
	m.Height = binary.BigEndian.Uint64(b[20:])
	copy(m.Hash[:], b[28:60])
	return binary.BigEndian.Uint64(b[4:]), m, true
}

// decodeTipRecord returns the newer valid slot of a record file's contents.
func decodeTipRecord(id quant.Hash, b []byte) (seq uint64, m Mark, err error) {
	found := false
	for i := 0; (i+1)*tipSlotSize <= len(b); i++ {
		s, sm, ok := decodeSlot(id, b[i*tipSlotSize:(i+1)*tipSlotSize])
		if ok && (!found || s > seq) {
			seq, m, found = s, sm, true
		}
	}
	if !found {
		return 0, Mark{}, fmt.Errorf("no valid slot in %d bytes: %w", len(b), ErrCorrupt)
	}
	return seq, m, nil
}

// write writes m into the slot after the last one written.
func (f *tipFile) write(id *quant.Hash, m Mark) error {
	seq := f.seq + 1
	if _, err := f.f.WriteAt(encodeSlot(f.buf[:0], id, seq, m), int64(seq%2)*tipSlotSize); err != nil {
		return err
	}
	f.seq = seq
	f.dirty.Store(true)
	f.wake()
	return nil
}

// openTipRecords opens the record directory of the DB in dir, creating it
// unless readOnly, and starts the fsync loop unless readOnly, passing
// every so often; beforeSync (if not nil) runs before each pass.
func openTipRecords(dir string, readOnly bool, log *slog.Logger, every time.Duration, beforeSync func()) (*tipRecords, error) {
	t := &tipRecords{dir: filepath.Join(dir, CommittedDir), readOnly: readOnly, log: log, every: every, beforeSync: beforeSync}
	if !readOnly {
		if _, err := os.Stat(t.dir); errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(t.dir, 0o700); err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
			if err := syncDir(dir); err != nil {
				return nil, err
			}
		}
		t.stop, t.done, t.kick = make(chan struct{}), make(chan struct{}), make(chan struct{}, 1)
		go t.syncLoop()
	}
	return t, nil
}

// syncDir fsyncs a directory, so that a file created in it survives a
// power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync %s: %w", dir, err)
	}
	return nil
}

func (t *tipRecords) path(id quant.Hash) string { return filepath.Join(t.dir, id.String()) }

// read returns chain id's record; it wraps fs.ErrNotExist if there is none
// and ErrCorrupt if no slot is valid.
func (t *tipRecords) read(id quant.Hash) (seq uint64, m Mark, err error) {
	b, err := os.ReadFile(t.path(id))
	if err != nil {
		return 0, Mark{}, err
	}
	seq, m, err = decodeTipRecord(id, b)
	if err != nil {
		return 0, Mark{}, fmt.Errorf("committed-tip record %s: %w", t.path(id), err)
	}
	return seq, m, nil
}

// create opens chain id's record for writing, continuing its sequence if it
// has a valid one, and writes m. A new file is fsynced with its directory
// (once per chain).
func (t *tipRecords) create(id quant.Hash, m Mark) (*tipFile, error) {
	seq, _, err := t.read(id)
	isNew := errors.Is(err, fs.ErrNotExist)
	f, err := os.OpenFile(t.path(id), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	tf := &tipFile{f: f, seq: seq, wake: t.wake}
	if err := tf.write(&id, m); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	if isNew {
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
		tf.dirty.Store(false)
		if err := syncDir(t.dir); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	t.mu.Lock()
	t.mu.files = append(t.mu.files, tf)
	t.mu.Unlock()
	return tf, nil
}

// syncLoop fsyncs the records written since its last pass, t.every after
// a commit woke it (wake), until close: commits in between are synced by
// the same pass, and with no commit it sleeps.
func (t *tipRecords) syncLoop() {
	defer close(t.done)
	for {
		select {
		case <-t.stop:
			return
		case <-t.kick:
		}
		wait := time.NewTimer(t.every)
		select {
		case <-t.stop:
			wait.Stop()
			return
		case <-wait.C:
		}
		select { // a write woke it meanwhile: this pass covers it (dirty is set before wake)
		case <-t.kick:
		default:
		}
		if t.beforeSync != nil {
			t.beforeSync()
		}
		t.syncAll()
	}
}

// syncAll fsyncs every record written since it was last fsynced.
func (t *tipRecords) syncAll() error {
	t.mu.Lock()
	files := append([]*tipFile(nil), t.mu.files...)
	t.mu.Unlock()
	var errs []error
	for _, f := range files {
		if f.dirty.Swap(false) {
			if err := f.f.Sync(); err != nil {
				f.dirty.Store(true)
				t.log.Error("store: fsync of a committed-tip record failed", "file", f.f.Name(), "err", err)
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// close stops the fsync loop, fsyncs what is written and closes the files.
// No write may be in flight.
func (t *tipRecords) close() error {
	if t.readOnly {
		return nil
	}
	close(t.stop)
	<-t.done
	err := t.syncAll()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.mu.files {
		if cerr := f.f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	t.mu.files = nil
	if err != nil {
		return fmt.Errorf("store: committed-tip records: %w", err)
	}
	return nil
}

// checkCommitted compares every chain's record with what the store holds,
// at Open: see the comment at the top of this file. A chain that lost
// commits is logged at error level and its writes refused; a damaged
// record is logged at error level; a missing record of a stored chain is
// written from the store (unless read-only). What it finds, CheckCommitted
// returns; its log records carry check=committed, so that a caller that
// reports CheckCommitted's errors itself (qbc verify) can drop them.
func (db *DB) checkCommitted() error {
	t := db.tips
	ids, err := db.Chains()
	if err != nil {
		return err
	}
	seen := make(map[quant.Hash]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	entries, err := os.ReadDir(t.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	for _, e := range entries {
		id, err := quant.ParseHash(e.Name())
		if err != nil || !e.Type().IsRegular() || strings.ToLower(e.Name()) != e.Name() {
			continue // not a record (an editor's backup, say): ignored
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if err := db.checkChain(db.Chain(id)); err != nil {
			return err
		}
	}
	return nil
}

// checkChain compares one chain's record with the store; it returns only
// errors that stop Open (the store cannot be read).
func (db *DB) checkChain(c *Chain) error {
	t := db.tips
	stored, hasTip, err := c.storedMark(db.pdb)
	if err != nil {
		return err
	}
	_, rec, rerr := t.read(c.id)
	switch {
	case errors.Is(rerr, fs.ErrNotExist):
		if hasTip && !db.readOnly {
			// A store from before the records, or a lost file: start one.
			c.writeMu.Lock()
			c.tipState.loaded, c.tipState.commits = true, stored.Commits
			c.tipState.file, err = t.create(c.id, stored)
			c.writeMu.Unlock()
			if err != nil {
				return err
			}
			db.log.Info("store: committed-tip record started", "chain", c.id.String(), "height", stored.Height, "commits", stored.Commits)
		}
		return nil
	case rerr != nil:
		err := fmt.Errorf("chain %s: %w (cannot tell whether committed quants were lost; the next commit rewrites it)", c.id, rerr)
		db.log.Error("store: committed-tip record damaged", "chain", c.id.String(), "err", rerr, "check", "committed")
		t.addProblem(c.id, err)
		return nil
	}
	lost := &LostError{Chain: c.id, Committed: rec, Stored: stored, NoChain: !hasTip}
	switch {
	case !hasTip, stored.Commits < rec.Commits,
		stored.Commits == rec.Commits && (stored.Hash != rec.Hash || stored.Height != rec.Height):
		c.writeMu.Lock()
		c.tipState.lost = lost
		c.writeMu.Unlock()
		db.log.Error("store: committed quants lost: the store holds less of this chain than it committed (a damaged write-ahead log?); refusing to extend it",
			"chain", c.id.String(),
			"committed_height", rec.Height, "committed_hash", rec.Hash.String(), "committed_commits", rec.Commits,
			"stored_height", stored.Height, "stored_hash", stored.Hash.String(), "stored_commits", stored.Commits,
			"stored_tip", hasTip, "check", "committed")
		t.addProblem(c.id, lost)
	case stored.Commits > rec.Commits:
		db.log.Debug("store: committed-tip record behind the store (a crash after a commit)", "chain", c.id.String(),
			"record_commits", rec.Commits, "stored_commits", stored.Commits)
	}
	return nil
}

func (t *tipRecords) addProblem(id quant.Hash, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.problems == nil {
		t.mu.problems = make(map[quant.Hash]error)
	}
	t.mu.problems[id] = err
}

// CheckCommitted reports what Open found comparing each chain's
// committed-tip record with the store: a *LostError (ErrLost) for every
// chain that holds less than it committed, and an error wrapping
// ErrCorrupt for every damaged record, by chain id; nil if none. A node
// must not serve a chain that lost commits; the store already refuses to
// extend it.
func (db *DB) CheckCommitted() error {
	t := db.tips
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := slices.SortedFunc(maps.Keys(t.mu.problems), func(a, b quant.Hash) int { return bytes.Compare(a[:], b[:]) })
	errs := make([]error, len(ids))
	for i, id := range ids {
		errs[i] = t.mu.problems[id]
	}
	return errors.Join(errs...)
}

// CheckCommitted is DB.CheckCommitted for this chain alone.
func (c *Chain) CheckCommitted() error {
	t := c.db.tips
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mu.problems[c.id]
}

// DeferSync makes the chain's Connect and Reorg return once their batch is
// in Pebble's write-ahead log, without waiting for its fsync, for a chain
// whose every commit is also kept durably elsewhere and can be replayed:
// a Raft chain, whose log is fsynced before an entry counts and whose
// state machine applies entries idempotently after a restart. A crash can
// then take the last commits away; the owner makes them durable with Sync
// (before it lets its own log forget them), and the DB syncs them within
// about a second (tipSyncInterval) and at Close. The committed-tip record
// of a deferred commit is written only after that sync. It lasts as long
// as the DB is open; every handle on the chain shares it.
func (c *Chain) DeferSync() {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.tipState.deferred = true
}

// Sync makes every commit so far durable, the deferred ones of every
// chain (DeferSync) included, and writes their committed-tip records.
func (c *Chain) Sync() error {
	if err := c.db.enterWrite(); err != nil {
		return err
	}
	defer c.db.leave()
	return c.db.syncDeferred()
}

// syncDeferred syncs Pebble's log, and with it every commit written before
// (the log is one sequence), then writes the record of each deferred
// chain's latest commit that was pending before the sync. Calls are
// serialized, so that a record never goes back to an older mark.
func (db *DB) syncDeferred() error {
	db.deferMu.Lock()
	defer db.deferMu.Unlock()
	type due struct {
		c *Chain
		m Mark
	}
	var dues []due
	var chains []*Chain
	db.mu.Lock()
	for id, w := range db.mu.writers {
		chains = append(chains, db.handle(id, w))
	}
	db.mu.Unlock()
	for _, c := range chains {
		c.writeMu.Lock()
		if st := c.tipState; st.pending && !st.deleted {
			dues = append(dues, due{c, st.pendingMark})
		}
		c.writeMu.Unlock()
	}
	if len(dues) == 0 {
		return nil
	}
	if err := db.pdb.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("store: sync: %w", err)
	}
	for _, d := range dues {
		d.c.writeMu.Lock()
		if st := d.c.tipState; !st.deleted {
			if st.pendingMark.Commits == d.m.Commits {
				st.pending = false
			}
			d.c.writeRecord(d.m)
		}
		d.c.writeMu.Unlock()
	}
	return nil
}

// syncDeferredLogged is syncDeferred for the fsync loop, which logs a
// failure (the next pass tries again; the commits stay in the log).
func (db *DB) syncDeferredLogged() {
	if err := db.syncDeferred(); err != nil {
		db.log.Error("store: sync of deferred commits failed", "err", err)
	}
}
