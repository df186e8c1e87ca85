package raftchain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Submit commits txs to the chain and returns nil once every one of them
// is in this replica's chain, whether this call or an earlier one put it
// there (so a retry after an unclear failure is safe: a transaction is
// never committed twice). On the leader it proposes them; on a follower
// it forwards them to the leader (Config.Forwarder) and then waits for its
// own chain to apply them. When the leader changes under it (ErrNotLeader,
// ErrNoLeader, ErrUnavailable, ErrBusy) it tries again until ctx ends. A
// transaction the chain refuses fails the call with its *quant.RuleError
// (prefixed with its index), and then none of txs was proposed by this
// call. If ctx ends first, txs may still be committed later. Submit keeps
// txs: the caller must not change them.
func (r *Replica) Submit(ctx context.Context, txs []*quant.Tx) error {
	if len(txs) == 0 {
		return nil
	}
	delay := 5 * time.Millisecond
	for {
		moved := r.movedCh()
		err := r.submitOnce(ctx, txs)
		if err == nil || !retryable(err) {
			return err
		}
		if errors.Is(err, errNoForwarder) {
			return err // the caller must go to the leader
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last try: %v)", ctx.Err(), err)
		case <-r.closing:
			t.Stop()
			return ErrClosed
		case <-moved:
		case <-t.C:
		}
		t.Stop()
		delay = min(2*delay, 250*time.Millisecond)
	}
}

// submitOnce is one try of Submit: Propose here, or forward to the leader
// and wait for this replica's chain to apply txs.
func (r *Replica) submitOnce(ctx context.Context, txs []*quant.Tx) error {
	select {
	case <-r.closing:
		return ErrClosed
	default:
	}
	if r.leading() {
		return r.Propose(ctx, txs)
	}
	if err := r.haltedErr(); err != nil {
		return err
	}
	leader, _ := r.Leader()
	switch {
	case leader == "":
		return ErrNoLeader
	case leader == r.self.ID:
		return ErrNotLeader // elected, not yet ready
	case r.cfg.Forwarder == nil:
		return fmt.Errorf("%w: the leader is %s (%w)", ErrNotLeader, leader, errNoForwarder)
	}
	ids := quant.TxIDs(txs)
	w, err := r.watch(ids)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := r.cfg.Forwarder.Forward(ctx, leader, txs); err != nil {
		r.unwatch(w, ids)
		return err
	}
	answered := time.Now()
	r.metrics.forwardSecs.Observe(answered.Sub(start).Seconds())
	if err := r.wait(ctx, w, ids); err != nil {
		return err
	}
	r.metrics.catchUpSecs.Observe(time.Since(answered).Seconds())
	return nil
}

// Propose is the leader's side of Submit: it checks txs against the chain
// (all or none: the first refused one fails the call with its
// *quant.RuleError, prefixed with its index), queues those not yet
// committed for the next quants, and returns once all of them are
// committed and applied here. A replica that does not lead, or has not yet
// applied what earlier leaders committed, returns ErrNotLeader. A
// Forwarder calls it on the leader. It keeps txs.
func (r *Replica) Propose(ctx context.Context, txs []*quant.Tx) error {
	if err := r.mayPropose(); err != nil {
		return err
	}
	r.mu.Lock()
	seq := r.mu.applied
	r.mu.Unlock()
	ids := quant.TxIDs(txs)
	committed, err := r.admit(txs, ids)
	if err != nil {
		select {
		case <-r.closing:
			// Closed while admitting: the chain's store, which its owner
			// closes after the replica, may have answered "closed".
			return ErrClosed
		default:
		}
		return err
	}
	w, added, err := r.enqueue(txs, ids, committed, seq)
	if err != nil {
		return err
	}
	if added {
		r.wake()
	}
	return r.wait(ctx, w, ids)
}

// mayPropose says why this replica cannot propose now (ErrClosed,
// ErrHalted, ErrNotLeader), or nil.
func (r *Replica) mayPropose() error {
	select {
	case <-r.closing:
		return ErrClosed
	default:
	}
	if err := r.haltedErr(); err != nil {
		return err
	}
	if !r.leading() {
		return ErrNotLeader
	}
	return nil
}

// admit checks txs (whose ids are ids) against the chain, all or none:
// the first refused one fails the call with its *quant.RuleError, prefixed
// with its index. A transaction too large for any quant is refused here,
// so that it cannot stall the queue. It reports which of txs the chain
// already holds.
func (r *Replica) admit(txs []*quant.Tx, ids []quant.Hash) (committed []bool, err error) {
	errs := r.chain.CheckTxs(txs, ids)
	limit := r.engine.Batch().MaxBytes
	committed = make([]bool, len(txs))
	for i, err := range errs {
		if quant.CodeOf(err) == quant.CodeDuplicate {
			committed[i] = true // CheckTxs's only duplicate: already committed
			continue
		}
		if err == nil && quant.MaxHeaderSize+4+txs[i].EncodedSize() > limit {
			err = quant.Errorf(quant.CodeTooLarge, "transaction of %d bytes cannot fit in a quant of %d", txs[i].EncodedSize(), limit)
		}
		if err != nil {
			if code := quant.CodeOf(err); code != "" {
				return nil, quant.Errorf(code, "transaction %d: %v", i, err)
			}
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
	}
	return committed, nil
}

// enqueue queues, for the next quants, the admitted transactions that are
// neither committed nor queued yet, and registers a waiter for all those
// not committed. seq is the count of applied quants when admit looked at
// the chain: if quants joined it since, enqueue looks again. added
// reports whether anything was queued. A leader that holds as many
// pending transactions as it may refuses with ErrBusy; a call with more
// than it may ever hold is refused with CodeTooLarge.
func (r *Replica) enqueue(txs []*quant.Tx, ids []quant.Hash, committed []bool, seq uint64) (w *waiter, added bool, err error) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.readyTerm == 0 {
		return nil, false, ErrNotLeader
	}
	if r.mu.applied != seq {
		// Quants joined the chain since CheckTxs: look again.
		if err := r.recheckLocked(ids, committed); err != nil {
			return nil, false, err
		}
	}
	add := r.unqueuedLocked(txs, ids, committed, now)
	if len(add) > r.cfg.MaxPending {
		return nil, false, quant.Errorf(quant.CodeTooLarge, "%d transactions in one call, the leader holds at most %d", len(add), r.cfg.MaxPending)
	}
	if len(r.mu.pending)+len(add) > r.cfg.MaxPending {
		return nil, false, ErrBusy
	}
	w = r.watchLocked(ids, committed)
	for _, p := range add {
		r.mu.pending = append(r.mu.pending, p)
		r.mu.pendingBytes += p.size
		r.mu.queued[p.id] = struct{}{}
	}
	return w, len(add) > 0, nil
}

// unqueuedLocked are the transactions of txs, once each, that are neither
// committed nor queued, as pending ones admitted at now.
func (r *Replica) unqueuedLocked(txs []*quant.Tx, ids []quant.Hash, committed []bool, now time.Time) []pendingTx {
	var add []pendingTx
	seen := make(map[quant.Hash]struct{}, len(ids))
	for i, id := range ids {
		if _, dup := seen[id]; dup || committed[i] {
			continue
		}
		seen[id] = struct{}{}
		if _, ok := r.mu.queued[id]; !ok {
			add = append(add, pendingTx{tx: txs[i], id: id, size: 4 + txs[i].EncodedSize(), at: now})
		}
	}
	return add
}

// leading reports whether this replica leads and is ready to propose.
func (r *Replica) leading() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.readyTerm != 0
}

// admitted reports whether the transaction id was checked by this
// replica's Propose and waits for a quant (chain.Options.Verified: its
// signature need not be checked again).
func (r *Replica) admitted(id quant.Hash) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.mu.queued[id]
	return ok
}
