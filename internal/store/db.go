package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/qbc-chain/qbc/internal/quant"
)

// blobMinValue is the smallest value Pebble keeps in a blob file rather
// than in a table: every full page (pageBytes) and nothing smaller than a
// few transactions.
const blobMinValue = 4 << 10

// formatVersion is the layout described in doc.go. Open upgrades a
// database of version 1 (transaction keys without the height), 2
// (transaction index keys without the epoch) or 3 (one transaction per
// key, not pages; upgrade.go) and refuses one of any other.
const formatVersion = 4

// DB is an open store. Its methods are safe for concurrent use. Writes to
// one chain (Save, Connect, Reorg) are serialized; writes to different
// chains and all reads run concurrently.
type DB struct {
	pdb      *pebble.DB
	dir      string
	log      *slog.Logger
	readOnly bool
	tips     *tipRecords // the committed-tip records (committed.go)
	deferMu  sync.Mutex  // serializes syncDeferred

	// firstFlushAt is when (in bytes of quant batches written since Open)
	// the DB flushes its memtables once of its own accord, drawn per DB
	// (firstFlushAt); 0 never (read-only). written counts those bytes
	// until then.
	firstFlushAt uint64
	written      atomic.Uint64

	// mu guards closed, which with ops (the calls in flight) lets Close
	// wait for running calls (Pebble must not be closed under an open
	// iterator), and the per-chain write locks.
	mu struct {
		sync.Mutex
		closed bool
		// writers serialize each chain's Save, Connect and Reorg, which
		// read the tip and then write. Writes to different chains run
		// concurrently, so Pebble can fsync their batches together.
		writers map[quant.Hash]*chainShared
	}
	ops sync.WaitGroup
}

// Open opens (creating unless opts.ReadOnly) the database in opts.Dir.
func Open(opts Options) (*DB, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref() // Pebble holds its own reference while open.
	po := &pebble.Options{
		Cache:            cache,
		Logger:           pebbleLogger{opts.Logger},
		ReadOnly:         opts.ReadOnly,
		ErrorIfNotExists: opts.ReadOnly, // a verifier must not create a database
		// The newest format of Pebble v2.1 (columnar blocks, chunked WAL
		// syncs), named rather than FormatNewest so that a Pebble upgrade
		// does not ratchet stores to a format older builds cannot read
		// without a change here. Value separation itself stays off.
		FormatMajorVersion: pebble.FormatValueSeparation,
	}
	// A bloom filter (10 bits, about 1.25 bytes, per key) lets HasTx and
	// TxLocation answer "not found" without reading data blocks.
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// Pebble's rules for granting compactions, without its 100 ms clock
	// while none runs (scheduler.go).
	po.Experimental.CompactionScheduler = newScheduler()
	// Quants arrive as large batches (a 50,000-transaction quant is one
	// flushable batch of about 15 MB) whose transaction index keys are
	// random, so every flush overlaps all of Lbase. Letting L0 collect
	// twice Pebble's default of files before compacting them down halves
	// how often Lbase is rewritten: 2,000,000 unsigned transactions took
	// 25.9 instead of 30.1 node CPU-seconds (docs/performance.md). Reads
	// that miss, the common case, are answered by the transaction filter
	// (filter.go) and the tables' bloom filters, so the extra L0 files
	// cost them little.
	// Memtables of about 32 MiB (drawn per DB, memTableSize) instead of
	// Pebble's 4: each flush of the random transaction index keys
	// (kindTxIndex) overlaps all of Lbase, so eight times fewer, larger
	// flushes rewrite Lbase about eight times less often.
	// BenchmarkSustained, CPU per transaction at 2 and 3 million
	// transactions, two runs each, alternating on one loaded machine:
	// 8.9/11.5 and 12.5/12.7 µs with 4 MiB, 7.2/7.4 and 6.8/6.5 with 32.
	// The cost is up to two memtables (80 MiB at most) of memory.
	po.MemTableSize = memTableSize(rand.Uint64N)
	// Raft chains write their commits to Pebble's log without an fsync
	// (DeferSync) and sync it once a second and whenever Pebble switches
	// logs (at each memtable rotation, holding every commit). Writing the
	// log back to the disk as it grows, 512 KiB at a time, leaves those
	// syncs little to write, so they do not take the disk from the Raft
	// log's fsyncs at once. Synced commits (the other engines) are
	// unaffected. Three members at 14,000 tx/s: the once-a-second syncs
	// took 5.6 and 11.6 ms at the median (12.2 and 16.4 at most) without
	// it, 2.7 and 3.3 (5.2 and 6.5) with it; the runs' p99 moved within
	// the noise (docs/performance.md, session 16).
	po.WALBytesPerSync = 512 << 10
	po.L0CompactionThreshold = 8
	po.L0StopWritesThreshold = 32
	// Pages (pages.go, about 32 KiB each) go to blob files when flushed,
	// and compactions then move only their keys and references: a page is
	// written to disk once, not again at each level, while the random
	// transaction index keys beside them still are (Pebble's value
	// separation, as CockroachDB uses it). BenchmarkSustained, 4 x 1M:
	// CPU per transaction in the last segment 3.2 to 3.6 µs against 4.5 to
	// 4.7, bytes written by compactions 1.4 GB against 2.5; through a node
	// (the same binary with and without) 6 segments of 1M, two runs each in
	// turn: 9.0 and 8.8 µs of node CPU per transaction against 9.7 and 9.4
	// (docs/performance.md). Smaller values (quant records, index entries,
	// a quant's short last page) stay in the tables. Pages are never
	// rewritten, so blob files hold garbage only after DeleteChain or an
	// upgrade; the garbage ratio lets Pebble reclaim it then.
	po.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled:               true,
			MinimumSize:           blobMinValue,
			MaxBlobReferenceDepth: 10,
			RewriteMinimumAge:     5 * time.Minute,
			TargetGarbageRatio:    0.2,
		}
	}
	po.EnsureDefaults()
	pdb, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", opts.Dir, err)
	}
	db := &DB{pdb: pdb, dir: opts.Dir, log: opts.Logger, readOnly: opts.ReadOnly}
	if !opts.ReadOnly {
		db.firstFlushAt = firstFlushAt(rand.Uint64N)
	}
	db.mu.writers = make(map[quant.Hash]*chainShared)
	if err := db.checkFormat(); err != nil {
		_ = pdb.Close()
		return nil, err
	}
	if db.tips, err = openTipRecords(opts.Dir, opts.ReadOnly, opts.Logger, opts.syncEvery, db.syncDeferredLogged); err != nil {
		_ = pdb.Close()
		return nil, err
	}
	if err := db.checkCommitted(); err != nil {
		_ = db.tips.close()
		_ = pdb.Close()
		return nil, err
	}
	db.log.Debug("store opened", "dir", opts.Dir, "read_only", opts.ReadOnly, "memtable_bytes", po.MemTableSize,
		"first_flush_bytes", db.firstFlushAt)
	return db, nil
}

// checkFormat writes the format version into a new database and refuses an
// existing one of another version.
func (db *DB) checkFormat() error {
	key := []byte{nsVersion}
	v, err := get(db.pdb, key)
	switch {
	case errors.Is(err, ErrNotFound):
		// A new database, or one this package did not write: refuse the
		// latter rather than mix layouts.
		it, err := db.pdb.NewIter(nil)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		nonEmpty := it.First()
		if err := it.Close(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if nonEmpty {
			return fmt.Errorf("store: format version missing: %w", ErrCorrupt)
		}
		if db.readOnly {
			return nil
		}
		if err := db.pdb.Set(key, binary.AppendUvarint(nil, formatVersion), pebble.Sync); err != nil {
			return fmt.Errorf("store: write format version: %w", err)
		}
		return nil
	case err != nil:
		return err
	}
	n, k := binary.Uvarint(v)
	if k != len(v) {
		return fmt.Errorf("store: format version: %w", ErrCorrupt)
	}
	if n == 1 {
		if err := db.upgradeFrom1(); err != nil {
			return err
		}
		n = 2
	}
	if n == 2 {
		if err := db.upgradeFrom2(); err != nil {
			return err
		}
		n = 3
	}
	if n == 3 {
		return db.upgradeFrom3()
	}
	if n != formatVersion {
		return fmt.Errorf("store: format version %d, this build reads %d", n, formatVersion)
	}
	return nil
}

// Close waits for calls in flight, then closes the database. Later calls
// return ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.mu.closed = true
	db.mu.Unlock()
	db.ops.Wait()
	serr := db.syncDeferred()
	terr := errors.Join(serr, db.tips.close())
	if err := db.pdb.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return terr
}

// enter registers a call in flight; it fails once Close has begun. Every
// successful enter is paired with a leave.
func (db *DB) enter() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	db.ops.Add(1)
	return nil
}

func (db *DB) leave() { db.ops.Done() }

// enterWrite is enter for writers: it also refuses a read-only DB.
func (db *DB) enterWrite() error {
	if db.readOnly {
		return ErrReadOnly
	}
	return db.enter()
}

// Chains returns the ids of the chains whose bang is stored, sorted.
func (db *DB) Chains() ([]quant.Hash, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.leave()
	it, err := db.pdb.NewIter(&pebble.IterOptions{
		LowerBound: []byte{nsChains},
		UpperBound: []byte{nsChains + 1},
	})
	if err != nil {
		return nil, fmt.Errorf("store: chains: %w", err)
	}
	var ids []quant.Hash
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 1+quant.HashSize {
			_ = it.Close()
			return nil, fmt.Errorf("store: chains: key %x: %w", k, ErrCorrupt)
		}
		ids = append(ids, quant.Hash(k[1:]))
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("store: chains: %w", err)
	}
	return ids, nil
}

// chainShared is what all handles on one chain share.
type chainShared struct {
	writeMu sync.Mutex
	filter  txFilter
	tip     tipState
	epochs  atomic.Uint32 // index epochs that may hold entries; 0: not known yet (index.go)
}

// Chain returns a handle on the chain with id id (its bang's hash). It does
// no I/O; the chain need not exist yet. Handles on one chain share its write
// lock, so any number may be used at once.
func (db *DB) Chain(id quant.Hash) *Chain {
	db.mu.Lock()
	w := db.mu.writers[id]
	if w == nil {
		w = new(chainShared)
		db.mu.writers[id] = w
	}
	db.mu.Unlock()
	return db.handle(id, w)
}

// handle returns a handle on chain id, whose shared state is w.
func (db *DB) handle(id quant.Hash, w *chainShared) *Chain {
	c := &Chain{db: db, id: id, writeMu: &w.writeMu, filter: &w.filter, tipState: &w.tip, epochs: &w.epochs}
	c.prefix[0] = nsChain
	copy(c.prefix[1:], id[:])
	return c
}

// Stats are figures about a DB's storage, for metrics
// (qbc_store_<name>) and operators.
type Stats struct {
	DiskBytes        uint64 // every file: tables, blob files, write-ahead log, manifest
	TableBytes       uint64 // live sstables
	BlobBytes        uint64 // live blob files: the pages that Pebble keeps apart from the tables
	WALBytes         uint64 // write-ahead log
	MemtableBytes    uint64 // memtables, in memory
	CompactionDebt   uint64 // bytes compaction must still rewrite to settle the LSM
	ReadAmp          int    // sstables and sublevels a read may have to consult
	BlockCacheHits   int64
	BlockCacheMisses int64
}

// Stats returns figures about the DB's storage.
func (db *DB) Stats() (Stats, error) {
	if err := db.enter(); err != nil {
		return Stats{}, err
	}
	defer db.leave()
	m := db.pdb.Metrics()
	return Stats{
		DiskBytes:        m.DiskSpaceUsage(),
		TableBytes:       m.Table.Local.LiveSize,
		BlobBytes:        m.BlobFiles.Local.LiveSize,
		WALBytes:         m.WAL.PhysicalSize,
		MemtableBytes:    m.MemTable.Size,
		CompactionDebt:   m.Compact.EstimatedDebt,
		ReadAmp:          m.ReadAmp(),
		BlockCacheHits:   m.BlockCache.Hits,
		BlockCacheMisses: m.BlockCache.Misses,
	}, nil
}

// Metrics returns Pebble's metrics, formatted for humans (for debugging and
// `qbc verify`).
func (db *DB) Metrics() (string, error) {
	if err := db.enter(); err != nil {
		return "", err
	}
	defer db.leave()
	return db.pdb.Metrics().String(), nil
}

// Compact flushes the memtable and compacts the whole key space. It blocks
// until done or ctx ends; it is for operations and measurement, not for
// normal running.
func (db *DB) Compact(ctx context.Context) error {
	if err := db.enterWrite(); err != nil {
		return err
	}
	defer db.leave()
	if err := db.pdb.Flush(); err != nil {
		return fmt.Errorf("store: flush: %w", err)
	}
	if err := db.pdb.Compact(ctx, []byte{0x00}, []byte{0xff}, true); err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	return nil
}

// pebbleLogger sends Pebble's logs to slog: information at debug level (it
// is noisy), errors at error level. Fatalf logs and panics: Pebble calls it
// only on broken invariants, after which it must not go on.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l.Enabled(context.Background(), slog.LevelDebug) {
		p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("store: pebble: " + msg)
}

// Memtable sizes: memTableSize picks one in [memTableMin, memTableMax), in
// steps of memTableStep, for each DB it opens.
const (
	memTableMin  = 24 << 20
	memTableMax  = 40 << 20
	memTableStep = 64 << 10
)

// memTableSize picks the memtable size of a DB being opened, 32 MiB on
// average, with randN (rand.Uint64N outside tests). It differs between
// DBs so that stores written at one rate flush at different moments.
//
// Pebble flushes a memtable when it is full, so the members of a raft
// chain, which write the same quants at the same moment, flush together
// when their memtables are of one size. On one machine (a compose setup,
// tests, the benchmark) their three flushes then take the disk and the
// cores at once, and most requests over 40 ms fell in those windows. Fresh
// three-member clusters at 14,000 tx/s for 30 s, three pairs in turn: p99
// 40.7 / 39.2 / 28.7 ms with one size, 26.4 / 30.9 / 24.0 with sizes
// drawn here (docs/performance.md, session 16). On separate machines it
// is harmless. Pebble grows a DB's first memtables from 256 KiB alike, so
// every size here would first flush when about 32 MiB has been written
// (sizes under 31.5 MiB also at 16): firstFlushAt draws those apart.
func memTableSize(randN func(uint64) uint64) uint64 {
	return memTableMin + randN((memTableMax-memTableMin)/memTableStep)*memTableStep
}

// The first flush: firstFlushAt picks a point in [firstFlushMin,
// firstFlushMax), in steps of memTableStep, of the bytes written.
const (
	firstFlushMin = 4 << 20
	firstFlushMax = 14 << 20
)

// firstFlushAt picks how many bytes of quants a DB takes after Open before
// it flushes its memtables once of its own accord (wrote), with randN
// (rand.Uint64N outside tests).
//
// A DB's memtables grow from Pebble's 256 KiB, doubling, to the size drawn
// by memTableSize, and Pebble flushes when the full ones reach half that
// size. Every DB opened at one moment and written at one rate therefore
// flushes at the same moments at first, 15.75 and 31.75 MiB of memtable
// into its life, whatever its size: the three members of a raft chain on
// one machine, started together, took the disk at once there, which the
// drawn sizes only part later. A flush asked for at a point drawn per DB
// shifts that DB's later rotations and flushes, so that its first flushes
// part from the others' too. The range ends before the first flush Pebble
// would make itself (15.75 MiB of memtable, which holds about 12 % more
// than the bytes of a raft chain's quant batches), so the flush asked for
// moves at most that to disk. A model of Pebble's rotations (its growth,
// its flush at half the size, a forced flush's memtable not grown when
// less than half full), three DBs at 14,000 tx/s for 15 s: all three
// flush within 0.5 s of each other in every cluster without it, in about
// a quarter of them with it.
func firstFlushAt(randN func(uint64) uint64) uint64 {
	return firstFlushMin + randN((firstFlushMax-firstFlushMin)/memTableStep)*memTableStep
}

// wrote counts n bytes of a committed batch and asks Pebble for the first
// flush (firstFlushAt) when they reach it. A failed request is logged: the
// DB then flushes when Pebble would have.
func (db *DB) wrote(n int) {
	if db.firstFlushAt == 0 {
		return
	}
	total := db.written.Add(uint64(n))
	if total < db.firstFlushAt || total-uint64(n) >= db.firstFlushAt {
		return
	}
	if _, err := db.pdb.AsyncFlush(); err != nil {
		db.log.Warn("store: the first flush was not started", "err", err)
		return
	}
	db.log.Debug("store: first flush started", "dir", db.dir, "written_bytes", total)
}
