package raftchain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/qbc-chain/qbc/internal/chain"
	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// Replica is one member's replica of a chain run under Raft: the chain,
// the Raft node that orders its quants, and, while it leads, the cutting of
// quants from submitted transactions. Its methods are safe for concurrent
// use.
type Replica struct {
	cfg     Config
	log     *slog.Logger
	chain   *chain.Chain
	engine  *raftengine.Engine
	self    raftengine.Member
	st      *store.Chain
	clock   *clock
	metrics *metrics

	raft  *hraft.Raft
	trans *hraft.NetworkTransport
	logs  logStore
	snaps *snapshotStore

	// applyMu serializes what this replica appends to the Raft log (a
	// quant, a barrier, a membership change), so that the leader knows the
	// index the next quant's entry will take when it seals it.
	applyMu sync.Mutex
	// handed is the log index that the last entry this replica handed
	// Raft while leading (a quant or a nudge) takes, as guessed under
	// applyMu; 0 after a barrier. nudges asks the nudger to append an
	// empty entry after the one at the index sent (see nudge).
	handed atomic.Uint64
	nudges chan uint64
	// proposed is the quant this replica last handed Raft while leading,
	// with its entry, until it is applied here (entryQuant); nil when none.
	proposed atomic.Pointer[proposal]

	kick     chan struct{} // wakes the leader loop; buffered 1
	closing  chan struct{} // closed by Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	restores atomic.Uint64

	stopOnce sync.Once
	stopped  hraft.Future // Raft's shutdown
	closeMu  sync.Mutex
	closed   bool
	closeErr error

	mu struct {
		sync.Mutex
		// readyTerm is the term in which this replica leads and has
		// applied everything earlier leaders committed (a barrier); 0
		// when it does not lead.
		readyTerm uint64
		// pending are admitted transactions not yet cut into a quant,
		// oldest first; pendingBytes is what they add to a quant's size.
		pending      []pendingTx
		pendingBytes int
		// queued are the ids of pending transactions and of those in a
		// quant under way.
		queued map[quant.Hash]struct{}
		// waiters wait for transactions, by id, to join this replica's
		// chain.
		waiters map[quant.Hash][]*waiter
		// applied counts the quants applied; a change tells a waiter
		// being registered to look at the chain again.
		applied uint64
		// moved is closed and replaced when the known leader or this
		// replica's state changes.
		moved chan struct{}
		// halted is why the replica stopped applying, if it did.
		halted error
	}
}

// Open opens the chain in cfg.Store (which must hold its bang) and starts
// its Raft node: log and snapshots in cfg.Dir, TCP transport on cfg.Bind.
// A replica with no Raft state joins no cluster until Bootstrap or a
// leader's AddVoter.
func Open(cfg Config) (*Replica, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Replica{cfg: cfg, st: cfg.Store, clock: &clock{}, kick: make(chan struct{}, 1), closing: make(chan struct{}), nudges: make(chan uint64, 1)}
	r.log = cfg.Logger
	r.mu.queued = make(map[quant.Hash]struct{})
	r.mu.waiters = make(map[quant.Hash][]*waiter)
	r.mu.moved = make(chan struct{})
	engines := chain.Engines{raftengine.Name: raftengine.Factory(cfg.Key)}
	c, err := chain.Open(cfg.Store, engines, chain.Options{Now: r.clock.Now, Logger: cfg.Logger, Verified: r.admitted})
	if err != nil {
		return nil, err
	}
	engine, ok := c.Engine().(*raftengine.Engine)
	if !ok {
		return nil, fmt.Errorf("raftchain: chain %s runs engine %q, not %q", c.Rules().Name, c.Rules().Engine, raftengine.Name)
	}
	self, ok := engine.Self()
	if !ok {
		return nil, fmt.Errorf("%w: this node's key is not listed in chain %s", ErrNotMember, c.Rules().Name)
	}
	r.chain, r.engine, r.self = c, engine, self
	// The Raft log is fsynced before an entry counts, and apply answers a
	// replayed entry from the chain: a commit need not wait for the
	// store's own fsync (Snapshot syncs the store before Raft may forget
	// the entries behind it).
	cfg.Store.DeferSync()
	r.log = cfg.Logger.With("chain", c.ID().String(), "name", c.Rules().Name, "member", self.ID)
	r.clock.raise(c.Tip().Header.Time)
	r.metrics = newMetrics(r)
	if err := r.start(); err != nil {
		return nil, err
	}
	return r, nil
}

// start opens Raft's stores and transport and starts the Raft node and the
// replica's goroutines.
func (r *Replica) start() (err error) {
	cfg := r.cfg
	hlog := newHCLogger(r.log, "raft")
	var undo []func() error
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				_ = undo[i]()
			}
		}
	}()
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("raftchain: %w", err)
	}
	if r.logs, err = openLogStore(cfg.Dir, cfg.LogSegmentBytes, hlog); err != nil {
		return err
	}
	undo = append(undo, r.logs.Close)
	logs, err := hraft.NewLogCache(512, r.logs)
	if err != nil {
		return fmt.Errorf("raftchain: %w", err)
	}
	files, err := hraft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hlog)
	if err != nil {
		return fmt.Errorf("raftchain: open snapshots: %w", err)
	}
	r.snaps = &snapshotStore{files: files, st: r.st}
	if err := r.recover(files); err != nil {
		return err
	}
	var adv net.Addr
	if cfg.Advertise != "" {
		if adv, err = net.ResolveTCPAddr("tcp", cfg.Advertise); err != nil {
			return fmt.Errorf("raftchain: config: Advertise: %w", err)
		}
	}
	r.trans, err = hraft.NewTCPTransportWithLogger(cfg.Bind, adv, 3, 10*time.Second, hlog)
	if err != nil {
		return fmt.Errorf("raftchain: listen on %s: %w", cfg.Bind, err)
	}
	undo = append(undo, r.trans.Close)

	rc := hraft.DefaultConfig()
	rc.LocalID = hraft.ServerID(r.self.ID)
	rc.Logger = hlog
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	// The chain is durable: Raft need not rebuild it from the snapshot at
	// start (recover has checked it holds the snapshot's tip), and replays
	// the log after the snapshot onto it, which apply answers from the
	// chain.
	rc.NoSnapshotRestoreOnStart = true
	r.raft, err = hraft.NewRaft(rc, fsm{r}, logs, r.logs, r.snaps, r.trans)
	if err != nil {
		return fmt.Errorf("raftchain: start raft: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	obs := make(chan hraft.Observation, 16)
	observer := hraft.NewObserver(obs, false, func(o *hraft.Observation) bool {
		switch o.Data.(type) {
		case hraft.LeaderObservation, hraft.RaftState:
			return true
		}
		return false
	})
	r.raft.RegisterObserver(observer)
	r.wg.Add(3)
	go func() {
		defer r.wg.Done()
		defer r.raft.DeregisterObserver(observer)
		r.watchLeader(ctx, obs)
	}()
	go func() {
		defer r.wg.Done()
		r.lead(ctx)
	}()
	go func() {
		defer r.wg.Done()
		r.nudger(ctx)
	}()
	r.metrics.register(r.cfg.Registerer)
	r.log.Info("raft replica started", "addr", r.Addr(), "height", r.chain.Tip().Header.Height)
	return nil
}

// recover checks, before Raft starts, that the chain holds the tip of the
// latest snapshot, and restores it from the snapshot otherwise (a full
// snapshot received from a leader whose restore was cut short).
func (r *Replica) recover(files *hraft.FileSnapshotStore) error {
	metas, err := files.List()
	if err != nil {
		return fmt.Errorf("raftchain: list snapshots: %w", err)
	}
	if len(metas) == 0 {
		return nil
	}
	_, rc, err := files.Open(metas[0].ID)
	if err != nil {
		return fmt.Errorf("raftchain: open snapshot %s: %w", metas[0].ID, err)
	}
	defer rc.Close()
	if err := r.restore(rc); err != nil {
		return fmt.Errorf("raftchain: snapshot %s: %w", metas[0].ID, err)
	}
	return nil
}

// watchLeader turns Raft's leader and state observations into wake-ups of
// the leader loop and of Submit calls waiting for a leader.
func (r *Replica) watchLeader(ctx context.Context, obs <-chan hraft.Observation) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-obs:
			r.mu.Lock()
			r.movedLocked()
			r.mu.Unlock()
			r.wake()
		}
	}
}

// movedLocked wakes the calls waiting for the leader to change.
func (r *Replica) movedLocked() {
	close(r.mu.moved)
	r.mu.moved = make(chan struct{})
}

// wake wakes the leader loop.
func (r *Replica) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// movedCh is closed at the next leader or state change.
func (r *Replica) movedCh() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.moved
}

// stopRaft shuts the Raft node down (once) without waiting; the returned
// future waits.
func (r *Replica) stopRaft() hraft.Future {
	r.stopOnce.Do(func() { r.stopped = r.raft.Shutdown() })
	return r.stopped
}

// halt stops the replica after it failed to apply a committed quant: it
// leaves the cluster (Raft shuts down) rather than go on with a chain that
// lacks the quant. Restarting it replays the log.
func (r *Replica) halt(err error) {
	r.mu.Lock()
	if r.mu.halted == nil {
		r.mu.halted = err
	}
	r.mu.Unlock()
	r.log.Error("cannot apply a committed quant: leaving the cluster", "err", err)
	r.stopRaft() // not waited for: this runs on Raft's FSM goroutine
}

// haltedErr is ErrHalted with its cause, or nil.
func (r *Replica) haltedErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.halted != nil {
		return fmt.Errorf("%w: %v", ErrHalted, r.mu.halted)
	}
	return nil
}

// Close stops the replica: Raft shuts down (without handing leadership
// over: to the others it is a crash), the leader loop ends, calls waiting
// on commits return ErrClosed, and the log store closes. The chain's store
// is the caller's to close, after.
func (r *Replica) Close() error {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.closed {
		return r.closeErr
	}
	r.closed = true
	close(r.closing)
	r.cancel()
	errRaft := r.stopRaft().Error()
	r.wg.Wait()
	r.failAll(ErrClosed)
	// Raft's shutdown closed the listener; close the pooled outbound
	// connections too, so that the other members' handlers of them end.
	r.trans.CloseStreams()
	errTrans := r.trans.Close()
	errLogs := r.logs.Close()
	r.metrics.unregister(r.cfg.Registerer)
	r.closeErr = errors.Join(errRaft, errTrans, errLogs)
	r.log.Info("raft replica closed")
	return r.closeErr
}

// ID is this replica's member id (its Raft server id).
func (r *Replica) ID() string { return r.self.ID }

// Addr is the address of this replica's Raft transport.
func (r *Replica) Addr() string { return string(r.trans.LocalAddr()) }

// Chain is the replicated chain, for reading. Only the replica adds to it.
func (r *Replica) Chain() *chain.Chain { return r.chain }

// Server is a member of the Raft cluster: its member id and the address
// of its Raft transport.
type Server struct {
	ID   string
	Addr string
}

// Bootstrap makes the first configuration of a new cluster: every listed
// server votes. Call it with the same servers on each of them (or on one).
// Every id must be a member the bang lists. On a replica that already has
// Raft state it does nothing.
func (r *Replica) Bootstrap(servers []Server) error {
	var conf hraft.Configuration
	for _, s := range servers {
		if _, ok := r.engine.MemberIndex(s.ID); !ok {
			return fmt.Errorf("%w: server %q", ErrNotMember, s.ID)
		}
		conf.Servers = append(conf.Servers, hraft.Server{Suffrage: hraft.Voter, ID: hraft.ServerID(s.ID), Address: hraft.ServerAddress(s.Addr)})
	}
	err := r.raft.BootstrapCluster(conf).Error()
	if errors.Is(err, hraft.ErrCantBootstrap) {
		r.log.Info("raft state exists: not bootstrapping")
		return nil
	}
	if err != nil {
		return fmt.Errorf("raftchain: bootstrap: %w", err)
	}
	return nil
}

// AddVoter adds a member (by its id in the bang) at addr to the cluster as
// a voter, or updates its address. It must be called on the leader
// (ErrNotLeader otherwise). The new member catches up from the leader's
// log, or from a snapshot if the log it needs was compacted.
func (r *Replica) AddVoter(ctx context.Context, id, addr string) error {
	if _, ok := r.engine.MemberIndex(id); !ok {
		return fmt.Errorf("%w: server %q", ErrNotMember, id)
	}
	return r.changeMembership(ctx, func() hraft.IndexFuture {
		return r.raft.AddVoter(hraft.ServerID(id), hraft.ServerAddress(addr), 0, r.cfg.ApplyTimeout)
	})
}

// RemoveServer removes a member from the cluster. It must be called on the
// leader (ErrNotLeader otherwise). A removed member stops its Raft node.
func (r *Replica) RemoveServer(ctx context.Context, id string) error {
	return r.changeMembership(ctx, func() hraft.IndexFuture {
		return r.raft.RemoveServer(hraft.ServerID(id), 0, r.cfg.ApplyTimeout)
	})
}

func (r *Replica) changeMembership(ctx context.Context, change func() hraft.IndexFuture) error {
	if r.raft.State() != hraft.Leader {
		return ErrNotLeader
	}
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	err := r.await(ctx, change())
	if errors.Is(err, hraft.ErrNotLeader) || errors.Is(err, hraft.ErrLeadershipLost) {
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	if err != nil {
		return fmt.Errorf("raftchain: membership change: %w", err)
	}
	return nil
}

// await waits for f, the end of ctx, or Close, whichever comes first
// (ErrClosed for Close). Raft answers a future at the latest when it shuts
// down, with one exception (hashicorp/raft v1.7.3): an entry committed and
// queued for the FSM as Raft stops keeps its future waiting for good,
// because the FSM's loop may take the shutdown first. So the goroutine that
// waits for f is not one Close waits for (wg): when Raft gives no answer,
// it stays, holding f and nothing of the replica's.
func (r *Replica) await(ctx context.Context, f hraft.Future) error {
	select {
	case <-r.closing:
		return ErrClosed
	default:
	}
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-r.closing:
		return ErrClosed
	}
}

// Leader returns the member id and address of the leader this replica
// knows of, or empty strings.
func (r *Replica) Leader() (id, addr string) {
	a, i := r.raft.LeaderWithID()
	return string(i), string(a)
}

// Stats describe a replica.
type Stats struct {
	ID           string // this member's id
	State        string // Follower, Candidate, Leader or Shutdown
	Term         uint64 // current Raft term
	CommitIndex  uint64 // last committed log index known here
	AppliedIndex uint64 // last log index handed to the chain
	LastIndex    uint64 // last log index stored here
	Leader       string // the leader's member id, if known
	LeaderAddr   string
	Height       uint64     // height of the chain's tip
	Tip          quant.Hash // hash of the chain's tip
	Pending      int        // transactions waiting to be cut (leader)
	Restores     uint64     // snapshots restored since Open
	Halted       error      // why the replica stopped applying, or nil
}

// Stats returns the replica's current figures.
func (r *Replica) Stats() Stats {
	head := r.chain.Tip()
	id, addr := r.Leader()
	s := Stats{
		ID:           r.self.ID,
		State:        r.raft.State().String(),
		Term:         r.raft.CurrentTerm(),
		CommitIndex:  r.raft.CommitIndex(),
		AppliedIndex: r.raft.AppliedIndex(),
		LastIndex:    r.raft.LastIndex(),
		Leader:       id,
		LeaderAddr:   addr,
		Height:       head.Header.Height,
		Tip:          head.Hash,
		Restores:     r.restores.Load(),
	}
	r.mu.Lock()
	s.Pending = len(r.mu.pending)
	s.Halted = r.mu.halted
	r.mu.Unlock()
	return s
}

// Voters lists the member ids in the cluster's current configuration.
func (r *Replica) Voters() ([]string, error) {
	f := r.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raftchain: configuration: %w", err)
	}
	var out []string
	for _, s := range f.Configuration().Servers {
		out = append(out, string(s.ID))
	}
	return out, nil
}

// IsLeader reports whether this replica leads the cluster now.
func (r *Replica) IsLeader() bool { return r.raft.State() == hraft.Leader }
