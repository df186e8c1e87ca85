package raftchain

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/atomicfile"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/replica"
)

// addrFile holds, in a replica's directory, the address its Raft
// transport bound first (a port the system picked), reused at restarts:
// the cluster's configuration names it.
const addrFile = "raft-addr"

// submitBound bounds a node's Submit on top of the caller's context, so
// that a caller without a deadline does not wait for ever while the
// cluster has no leader.
const submitBound = 30 * time.Second

// nodeReplica is a Replica as a node runs it (replica.Replica): its
// directory and transport address, the membership loop, forwarding to the
// leader's node over the HTTP API.
type nodeReplica struct {
	r   *Replica
	dir *directory
	hc  *http.Client // the membership loop's and the forwarder's
}

var _ replica.Replica = (*nodeReplica)(nil)

// OpenReplica is raftchain's replica.Open: it opens the replica of a raft
// chain on one of its members. cfg.Dir holds Raft's state and addrFile;
// the transport binds on cfg.Host, on a port the system picks the first
// time and on the same address at every restart. The returned replica
// forwards a follower's Submit to the leader's node (found with cfg.Peers)
// as a binary batch on the HTTP API; its Run bootstraps the cluster and
// adds the members that join.
func OpenReplica(cfg replica.Config) (replica.Replica, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("raftchain: %w", err)
	}
	dir, err := newDirectory(cfg.Store, cfg.Key, cfg.Peers)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	r, err := Open(Config{
		Dir: cfg.Dir, Bind: bindAddr(cfg), Store: cfg.Store, Key: cfg.Key,
		Forwarder:     &httpForwarder{dir: dir, chain: cfg.Store.ID(), hc: hc},
		Logger:        cfg.Logger,
		OnCommit:      cfg.OnCommit,
		Registerer:    cfg.Registerer,
		CommitTimeout: cfg.CommitTimeout,
		MaxInFlight:   cfg.MaxInFlight,
	})
	if err != nil {
		hc.CloseIdleConnections()
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(cfg.Dir, addrFile), []byte(r.Addr()+"\n"), 0o600); err != nil {
		r.Close()
		hc.CloseIdleConnections()
		return nil, fmt.Errorf("raftchain: %w", err)
	}
	return &nodeReplica{r: r, dir: dir, hc: hc}, nil
}

// validate names the first field of cfg that OpenReplica cannot use; the
// others are Config.Validate's.
func validate(cfg replica.Config) error {
	switch {
	case cfg.Dir == "":
		return errors.New("raftchain: replica config: Dir: must be set")
	case cfg.Store == nil:
		return errors.New("raftchain: replica config: Store: must be set")
	case cfg.Peers == nil:
		return errors.New("raftchain: replica config: Peers: must be set")
	case cfg.Host == "":
		return errors.New("raftchain: replica config: Host: must be set")
	}
	return nil
}

// bindAddr is where the transport listens: the address it bound first
// (addrFile), else cfg.Host on a port the system picks. cfg.Host may carry
// a port (the node's advertised HOST:PORT); it is not used.
func bindAddr(cfg replica.Config) string {
	if b, err := os.ReadFile(filepath.Join(cfg.Dir, addrFile)); err == nil {
		if addr := strings.TrimSpace(string(b)); addr != "" {
			return addr
		}
	}
	host := cfg.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return net.JoinHostPort(host, "0")
}

// Chain implements replica.Replica.
func (n *nodeReplica) Chain() *chain.Chain { return n.r.Chain() }

// Submit implements replica.Replica: Replica.Submit under the caller's
// ctx, bounded by submitBound. An error that says the log cannot take txs
// now (no leader, the leader moved, busy or unreachable, or the deadline
// passed first) wraps replica.ErrUnavailable; txs may be committed later
// all the same. A refusal keeps its *quant.RuleError.
func (n *nodeReplica) Submit(ctx context.Context, txs []*quant.Tx) error {
	ctx, cancel := context.WithTimeout(ctx, submitBound)
	defer cancel()
	err := n.r.Submit(ctx, txs)
	if err != nil && (retryable(err) || errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("%w: %w", replica.ErrUnavailable, err)
	}
	return err
}

// Status implements replica.Replica.
func (n *nodeReplica) Status() *api.RaftStatus {
	s := n.r.Stats()
	out := &api.RaftStatus{ID: s.ID, Addr: n.r.Addr(), State: s.State, Term: s.Term, CommitIndex: s.CommitIndex,
		AppliedIndex: s.AppliedIndex, Leader: s.Leader, Pending: s.Pending}
	if v, err := n.r.Voters(); err == nil {
		out.Voters = v
	}
	if s.Halted != nil {
		out.Halted = s.Halted.Error()
	}
	return out
}

// Close implements replica.Replica: it closes the Replica (see there) and
// the HTTP connections it kept. It is idempotent.
func (n *nodeReplica) Close() error {
	err := n.r.Close()
	n.hc.CloseIdleConnections()
	return err
}
