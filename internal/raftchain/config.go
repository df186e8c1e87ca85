package raftchain

import (
	"crypto/ed25519"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// Defaults of Config's CommitTimeout, MaxInFlight, SnapshotInterval and
// SnapshotThreshold (see there), which a node's configuration shows.
const (
	DefaultCommitTimeout     = 5 * time.Second
	DefaultMaxInFlight       = 1
	DefaultSnapshotInterval  = 30 * time.Second
	DefaultSnapshotThreshold = 1024
)

// Config configures a Replica. EnsureDefaults fills the zero fields;
// Validate names the first bad one.
type Config struct {
	// Dir holds Raft's state: wal/ (log and stable store, raft-wal; a
	// raft.db of raft-boltdb from before is migrated there at start) and
	// snapshots/. Required; created if missing.
	Dir string
	// Bind is the TCP address Raft listens on ("127.0.0.1:7400"; port 0
	// picks one, see Replica.Addr). Required.
	Bind string
	// Advertise is the address other members dial; default the bound
	// address (which must then not be unspecified, like 0.0.0.0).
	Advertise string
	// Store is the chain's store, holding at least its bang (chain.Init).
	// Required. The replica opens the chain on it and is its only writer.
	Store *store.Chain
	// Key is this node's Ed25519 key: it must be the key of a member the
	// bang lists, whose id is then this replica's Raft server id.
	Key ed25519.PrivateKey
	// Forwarder carries Submit calls from a follower to the leader. Nil:
	// Submit on a follower returns ErrNotLeader.
	Forwarder Forwarder
	// Logger receives the replica's logs and Raft's. Default
	// slog.Default().
	Logger *slog.Logger
	// OnCommit, if set, is called with each quant after it joined the
	// chain, in chain order, on Raft's FSM goroutine: it must return
	// quickly and must not call the replica. It must not change q.
	OnCommit func(q *quant.Quant)
	// Registerer, if set, receives the replica's metrics (qbc_raft_*),
	// unlabelled: wrap it (prometheus.WrapRegistererWith) to say which
	// chain they are of, as a node does with chain="<id>".
	Registerer prometheus.Registerer

	// Raft timing. HeartbeatTimeout and ElectionTimeout default to 2 s
	// and LeaderLeaseTimeout to 1 s, twice hashicorp/raft's (a leader
	// heartbeats every tenth of HeartbeatTimeout to twice that, so idle
	// members wake half as often; a lost leader is replaced after 2 to 4 s
	// instead of 1 to 2). CommitTimeout defaults to 5 s. Raft's
	// CommitTimeout is how long an idle leader waits before
	// it repeats the commit index to followers; a follower applies an
	// entry only once it hears that it is committed. This replica does not
	// wait for it: the leader appends an empty entry (a nudge, see
	// Replica.nudge) as soon as a quant that nothing follows is committed,
	// so followers learn of it at once. The timeout then only costs idle
	// CPU: an AppendEntries per follower every CommitTimeout to twice that
	// (at 2 ms, as before the nudge, three idle members used about 0.3 of
	// a core; at 500 ms, with the peer layer's discovery loop then awake
	// too, an idle leader switched context 216 to 225 times a second
	// against 162 to 171 at 5 s, docs/performance.md). What it
	// still paces is followers learning of entries the chain never sees
	// (a new leader's barrier, a membership change) when nothing follows
	// them.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// SnapshotInterval is how often Raft considers a snapshot, and
	// SnapshotThreshold how many log entries since the last one make it
	// take one; TrailingLogs is how many entries it keeps after a snapshot
	// (for followers slightly behind). Defaults 30 s, 1024, 1024: a
	// snapshot is a marker of a few bytes (see doc.go), so they are cheap.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	// ApplyTimeout bounds the wait to hand Raft a log entry. Default 10 s.
	ApplyTimeout time.Duration
	// MaxPending bounds the transactions a leader holds between admission
	// and a committed quant. Default 100 000.
	MaxPending int
	// MaxInFlight bounds the quants a leader has handed to Raft and not yet
	// applied, each built on the one before (a pipeline: one is replicated
	// while the one before is applied). Default 1, one quant at a time:
	// with every member on one machine and one disk, more quants in flight
	// mean smaller quants and more fsyncs, and measured slower
	// (docs/performance.md). Members with disks of their own and network
	// round trips longer than an fsync are where a deeper pipeline pays.
	MaxInFlight int
	// LogSegmentBytes is the size of the Raft log's segment files
	// (raft-wal preallocates each; an entry larger than a segment gets one
	// of its own). Default 8 MiB: about two hundred full quants of 200-byte
	// transactions, and little disk for a node with many raft chains.
	// Segments behind the last snapshot's trailing entries are deleted.
	LogSegmentBytes int
}

// EnsureDefaults fills the fields left zero.
func (c *Config) EnsureDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.HeartbeatTimeout, 2*time.Second)
	set(&c.ElectionTimeout, 2*time.Second)
	set(&c.LeaderLeaseTimeout, time.Second)
	set(&c.CommitTimeout, DefaultCommitTimeout)
	set(&c.SnapshotInterval, DefaultSnapshotInterval)
	set(&c.ApplyTimeout, 10*time.Second)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 1024
	}
	if c.MaxPending == 0 {
		c.MaxPending = 100_000
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.LogSegmentBytes == 0 {
		c.LogSegmentBytes = 8 << 20
	}
}

// Validate reports the first bad field.
func (c *Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("raftchain: config: Dir: must be set")
	case c.Bind == "":
		return errors.New("raftchain: config: Bind: must be set")
	case c.Store == nil:
		return errors.New("raftchain: config: Store: must be set")
	case len(c.Key) != ed25519.PrivateKeySize:
		return errors.New("raftchain: config: Key: must be an Ed25519 private key")
	case c.Logger == nil:
		return errors.New("raftchain: config: Logger: must be set")
	case c.LeaderLeaseTimeout > c.HeartbeatTimeout:
		return errors.New("raftchain: config: LeaderLeaseTimeout: must not exceed HeartbeatTimeout")
	case c.ElectionTimeout < c.HeartbeatTimeout:
		return errors.New("raftchain: config: ElectionTimeout: must be at least HeartbeatTimeout")
	case c.CommitTimeout < time.Millisecond:
		return errors.New("raftchain: config: CommitTimeout: must be at least 1 ms")
	case c.SnapshotInterval < 5*time.Millisecond:
		return errors.New("raftchain: config: SnapshotInterval: must be at least 5 ms")
	case c.ApplyTimeout <= 0:
		return errors.New("raftchain: config: ApplyTimeout: must be positive")
	case c.MaxPending < 1:
		return errors.New("raftchain: config: MaxPending: must be at least 1")
	case c.MaxInFlight < 1:
		return errors.New("raftchain: config: MaxInFlight: must be at least 1")
	case c.LogSegmentBytes < 4096 || c.LogSegmentBytes > 1<<30:
		return errors.New("raftchain: config: LogSegmentBytes: must be 4 KiB to 1 GiB")
	}
	return nil
}
