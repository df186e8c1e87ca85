package raftchain

import (
	"context"

	"github.com/qbc-chain/qbc/internal/quant"
)

// waiter waits for transactions to join the chain: left counts those
// still missing; done is closed when none is, or when one failed (err).
// Its fields are guarded by Replica.mu.
type waiter struct {
	left int
	err  error
	done chan struct{}
	shut bool
}

func (w *waiter) finish(err error) {
	if w.shut {
		return
	}
	w.shut, w.err = true, err
	close(w.done)
}

// watch registers a waiter for the transactions ids that are not yet in
// the chain.
func (r *Replica) watch(ids []quant.Hash) (*waiter, error) {
	r.mu.Lock()
	seq := r.mu.applied
	r.mu.Unlock()
	committed := make([]bool, len(ids))
	for i, id := range ids {
		has, err := r.st.HasTx(id)
		if err != nil {
			return nil, err
		}
		committed[i] = has
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.applied != seq {
		if err := r.recheckLocked(ids, committed); err != nil {
			return nil, err
		}
	}
	return r.watchLocked(ids, committed), nil
}

// recheckLocked looks in the chain again for the transactions not marked
// committed.
func (r *Replica) recheckLocked(ids []quant.Hash, committed []bool) error {
	for i, id := range ids {
		if committed[i] {
			continue
		}
		has, err := r.st.HasTx(id)
		if err != nil {
			return err
		}
		committed[i] = has
	}
	return nil
}

// watchLocked registers a waiter for the ids not marked committed. The
// chain's state it relies on must be current under r.mu (the FSM resolves
// waiters under r.mu after each quant).
func (r *Replica) watchLocked(ids []quant.Hash, committed []bool) *waiter {
	w := &waiter{done: make(chan struct{})}
	seen := make(map[quant.Hash]struct{}, len(ids))
	for i, id := range ids {
		if _, dup := seen[id]; dup || committed[i] {
			continue
		}
		seen[id] = struct{}{}
		r.mu.waiters[id] = append(r.mu.waiters[id], w)
		w.left++
	}
	if w.left == 0 {
		w.finish(nil)
	}
	return w
}

// unwatch removes w from the waiters of ids.
func (r *Replica) unwatch(w *waiter, ids []quant.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		ws := r.mu.waiters[id]
		for i, x := range ws {
			if x == w {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(r.mu.waiters, id)
		} else {
			r.mu.waiters[id] = ws
		}
	}
}

// wait waits for w.
func (r *Replica) wait(ctx context.Context, w *waiter, ids []quant.Hash) error {
	select {
	case <-w.done:
		if w.err != nil {
			r.unwatch(w, ids) // it may still be listed for the others
		}
		return w.err
	case <-ctx.Done():
		r.unwatch(w, ids)
		return ctx.Err()
	case <-r.closing:
		r.unwatch(w, ids)
		return ErrClosed
	}
}

// resolveLocked ends the wait for transaction id: success (err nil) counts
// it for its waiters, failure fails them.
func (r *Replica) resolveLocked(id quant.Hash, err error) {
	for _, w := range r.mu.waiters[id] {
		if err != nil {
			w.finish(err)
			continue
		}
		if w.left--; w.left == 0 {
			w.finish(nil)
		}
	}
	delete(r.mu.waiters, id)
}

// committed records that q joined the chain: its transactions are no
// longer queued, and their waiters are told.
func (r *Replica) committed(q *quant.Quant, ids []quant.Hash) {
	r.mu.Lock()
	r.mu.applied++
	for _, id := range ids {
		delete(r.mu.queued, id)
		r.resolveLocked(id, nil)
	}
	r.mu.Unlock()
	r.metrics.quants.Inc()
	r.metrics.txs.Add(float64(len(ids)))
	if r.cfg.OnCommit != nil {
		r.cfg.OnCommit(q)
	}
}

// failLocked fails the queued transactions ids with err.
func (r *Replica) failLocked(ids []quant.Hash, err error) {
	for _, id := range ids {
		delete(r.mu.queued, id)
		r.resolveLocked(id, err)
	}
}

func (r *Replica) fail(ids []quant.Hash, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failLocked(ids, err)
}

// failAll fails every waiter and drops every pending transaction.
func (r *Replica) failAll(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.readyTerm = 0
	r.mu.pending, r.mu.pendingBytes = nil, 0
	clear(r.mu.queued)
	for id := range r.mu.waiters {
		r.resolveLocked(id, err)
	}
}
