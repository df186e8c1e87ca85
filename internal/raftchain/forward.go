package raftchain

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Forwarder carries a Submit from a follower to the chain's leader.
//
// Local implements it in process (tests; several replicas in one
// process). OpenReplica's (httpForwarder) goes over the HTTP API: the
// leader's member id names its Ed25519 key in the bang, which names its
// node among the live peers, and the transactions go there as a binary
// batch.
type Forwarder interface {
	// Forward calls Propose(ctx, txs) on the replica whose member id is
	// leader and returns its error, keeping what errors.Is and
	// quant.CodeOf see in it (a *quant.RuleError's code, ErrNotLeader,
	// ErrBusy). A leader it cannot reach, or that is closed, is
	// ErrUnavailable. It must not change txs; it may keep them (the
	// leader queues them).
	Forward(ctx context.Context, leader string, txs []*quant.Tx) error
}

// Local is a Forwarder between replicas in one process: it calls the
// leader's Propose directly.
type Local struct {
	mu       sync.RWMutex
	replicas map[string]*Replica
}

var _ Forwarder = (*Local)(nil)

// NewLocal returns an empty Local.
func NewLocal() *Local { return &Local{replicas: make(map[string]*Replica)} }

// Add makes r reachable under its member id.
func (l *Local) Add(r *Replica) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.replicas[r.ID()] = r
}

// Remove makes the replica with member id id unreachable.
func (l *Local) Remove(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.replicas, id)
}

// Forward implements Forwarder.
func (l *Local) Forward(ctx context.Context, leader string, txs []*quant.Tx) error {
	l.mu.RLock()
	r := l.replicas[leader]
	l.mu.RUnlock()
	if r == nil {
		return fmt.Errorf("%w: %s is not reachable", ErrUnavailable, leader)
	}
	err := r.Propose(ctx, txs)
	if errors.Is(err, ErrClosed) || errors.Is(err, ErrHalted) {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, leader, err)
	}
	return err
}
