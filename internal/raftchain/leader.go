package raftchain

import (
	"context"
	"errors"
	"fmt"
	"time"

	hraft "github.com/hashicorp/raft"

	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/quant"
)

// pendingTx is an admitted transaction waiting to be cut into a quant.
type pendingTx struct {
	tx   *quant.Tx
	id   quant.Hash
	size int // what it adds to a quant's size: 4 + encoded size
	at   time.Time
}

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
	if err := r.cfg.Forwarder.Forward(ctx, leader, txs); err != nil {
		r.unwatch(w, ids)
		return err
	}
	return r.wait(ctx, w, ids)
}

// Propose is the leader's side of Submit: it checks txs against the chain
// (all or none: the first refused one fails the call with its
// *quant.RuleError, prefixed with its index), queues those not yet
// committed for the next quants, and returns once all of them are
// committed and applied here. A replica that does not lead, or has not yet
// applied what earlier leaders committed, returns ErrNotLeader. A
// Forwarder calls it on the leader. It keeps txs.
func (r *Replica) Propose(ctx context.Context, txs []*quant.Tx) error {
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
	r.mu.Lock()
	seq := r.mu.applied
	r.mu.Unlock()
	ids := quant.TxIDs(txs)
	errs := r.chain.CheckTxs(txs, ids)
	limit := r.engine.Batch().MaxBytes
	committed := make([]bool, len(txs))
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
				return quant.Errorf(code, "transaction %d: %v", i, err)
			}
			return fmt.Errorf("transaction %d: %w", i, err)
		}
	}
	now := time.Now()
	r.mu.Lock()
	if r.mu.readyTerm == 0 {
		r.mu.Unlock()
		return ErrNotLeader
	}
	if r.mu.applied != seq {
		// Quants joined the chain since CheckTxs: look again.
		if err := r.recheckLocked(ids, committed); err != nil {
			r.mu.Unlock()
			return err
		}
	}
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
	if len(add) > r.cfg.MaxPending {
		r.mu.Unlock()
		return quant.Errorf(quant.CodeTooLarge, "%d transactions in one call, the leader holds at most %d", len(add), r.cfg.MaxPending)
	}
	if len(r.mu.pending)+len(add) > r.cfg.MaxPending {
		r.mu.Unlock()
		return ErrBusy
	}
	w := r.watchLocked(ids, committed)
	for _, p := range add {
		r.mu.pending = append(r.mu.pending, p)
		r.mu.pendingBytes += p.size
		r.mu.queued[p.id] = struct{}{}
	}
	r.mu.Unlock()
	if len(add) > 0 {
		r.wake()
	}
	return r.wait(ctx, w, ids)
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

// stepDown is what the leader loop does when the replica does not lead:
// pending transactions are failed with ErrNotLeader (they are in no log
// entry, so the callers can safely try the next leader).
func (r *Replica) stepDown() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.readyTerm != 0 {
		r.log.Info("no longer leading", "term", r.mu.readyTerm)
	}
	r.mu.readyTerm = 0
	if len(r.mu.pending) == 0 {
		return
	}
	ids := make([]quant.Hash, len(r.mu.pending))
	for i, p := range r.mu.pending {
		ids[i] = p.id
	}
	r.mu.pending, r.mu.pendingBytes = nil, 0
	r.failLocked(ids, ErrNotLeader)
}

// idle is how long the leader loop sleeps when only a wake-up can give it
// work.
const idle = time.Hour

// flight is a quant handed to Raft whose entry is not yet applied (or
// refused) here. done is closed when its future has completed.
type flight struct {
	q      *quant.Quant
	hash   quant.Hash
	index  uint64
	cut    []pendingTx
	future hraft.ApplyFuture
	start  time.Time
	done   chan struct{}
}

// pipeline is the leader loop's quants in flight, oldest first; the loop
// owns it. broken is set when one of them failed: those after it were
// built on it and fail too, so nothing new is proposed until they are all
// back.
type pipeline struct {
	flights []*flight
	broken  bool
}

// head is the oldest quant in flight's done channel, or nil (blocks for
// ever in a select) when none is.
func (p *pipeline) head() <-chan struct{} {
	if len(p.flights) == 0 {
		return nil
	}
	return p.flights[0].done
}

// lead is the leader loop: while this replica leads, it cuts pending
// transactions into quants, seals them and commits them through Raft, with
// up to Config.MaxInFlight quants in flight, each built on the one before.
// With none in flight it cuts what is pending at once; with some, it waits
// for the batch limits or max_quant_interval_ms, so that what arrives while
// quants commit is batched.
func (r *Replica) lead(ctx context.Context) {
	t := time.NewTimer(idle)
	defer t.Stop()
	var p pipeline
	for {
		wait := r.leadOnce(ctx, &p)
		if ctx.Err() != nil {
			return
		}
		if wait == 0 {
			continue
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-p.head():
		case <-t.C:
		}
	}
}

// leadOnce does one step of the leader loop and returns how long to wait
// before the next (0: at once).
func (r *Replica) leadOnce(ctx context.Context, p *pipeline) time.Duration {
	for len(p.flights) > 0 && isDone(p.flights[0].done) {
		r.land(p, p.flights[0])
		p.flights = p.flights[1:]
	}
	if len(p.flights) == 0 {
		p.broken = false
	}
	if r.raft.State() != hraft.Leader {
		r.stepDown()
		return idle // or until the flights' futures fail
	}
	if p.broken || len(p.flights) >= r.cfg.MaxInFlight {
		return idle // until the oldest flight lands
	}
	term := r.raft.CurrentTerm()
	r.mu.Lock()
	ready := r.mu.readyTerm
	r.mu.Unlock()
	if ready != term {
		if len(p.flights) > 0 {
			return idle // the barrier comes after them
		}
		if err := r.barrier(term); err != nil {
			r.log.Debug("barrier failed", "term", term, "err", err)
			return 10 * time.Millisecond
		}
		return 0
	}
	batch, wait := r.takeBatch(time.Now(), len(p.flights) == 0)
	if len(batch) == 0 {
		return wait
	}
	if f := r.propose(ctx, term, batch, p); f != nil {
		p.flights = append(p.flights, f)
		r.metrics.inFlight.Observe(float64(len(p.flights)))
	}
	return 0
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// barrier waits until everything earlier leaders committed is applied
// here; then, if the replica still leads in term, it is ready to propose.
func (r *Replica) barrier(term uint64) error {
	r.mu.Lock()
	r.mu.readyTerm = 0
	r.mu.Unlock()
	r.applyMu.Lock()
	err := r.raft.Barrier(r.cfg.ApplyTimeout).Error()
	r.applyMu.Unlock()
	if err != nil {
		return err
	}
	if r.raft.State() != hraft.Leader || r.raft.CurrentTerm() != term {
		return errors.New("leadership moved during the barrier")
	}
	r.mu.Lock()
	r.mu.readyTerm = term
	r.movedLocked()
	r.mu.Unlock()
	r.log.Info("leading", "term", term, "height", r.chain.Head().Header.Height)
	return nil
}

// takeBatch takes the next quant's transactions from the pending ones if
// now is the time: at once when idle (no quant in flight), else when the
// batch limits or the interval say so; otherwise it returns how long until
// the interval does.
func (r *Replica) takeBatch(now time.Time, idleLeader bool) ([]pendingTx, time.Duration) {
	b := r.engine.Batch()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.mu.pending
	if len(p) == 0 {
		return nil, idle
	}
	if !idleLeader && len(p) < b.MaxTxs && quant.MaxHeaderSize+r.mu.pendingBytes < b.MaxBytes {
		if waited := now.Sub(p[0].at); waited < b.MaxInterval {
			return nil, b.MaxInterval - waited
		}
	}
	n, size := 0, quant.MaxHeaderSize
	for n < len(p) && n < b.MaxTxs && (n == 0 || size+p[n].size <= b.MaxBytes) {
		size += p[n].size
		n++
	}
	batch := append([]pendingTx(nil), p[:n]...)
	r.mu.pending = p[n:]
	r.mu.pendingBytes -= size - quant.MaxHeaderSize
	return batch, 0
}

// requeue puts transactions back at the head of the pending ones.
func (r *Replica) requeue(batch []pendingTx) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range batch {
		r.mu.pendingBytes += p.size
	}
	r.mu.pending = append(batch, r.mu.pending...)
}

// propose builds a quant of batch on the newest quant in flight (or the
// chain's tip), seals it at the log position its entry will take (this
// term, the next index) and hands it to Raft without waiting. It returns
// the flight, or nil when nothing was proposed (the transactions are then
// requeued or failed).
func (r *Replica) propose(ctx context.Context, term uint64, batch []pendingTx, p *pipeline) *flight {
	txs := make([]*quant.Tx, len(batch))
	ids := make([]quant.Hash, len(batch))
	for i, b := range batch {
		txs[i], ids[i] = b.tx, b.id
	}
	head := r.chain.Head()
	parent, parents := head.Hash, []*quant.Header{&head.Header}
	if n := len(p.flights); n > 0 {
		parent = p.flights[n-1].hash
		parents = make([]*quant.Header, 0, n)
		for k := n - 1; k >= 0; k-- {
			parents = append(parents, &p.flights[k].q.Header)
		}
	}
	q, dropped, err := r.chain.TemplateOn(parent, parents, txs, ids)
	if err != nil {
		r.log.Error("cannot build a quant", "err", err)
		r.fail(pendingIDs(batch), err)
		return nil
	}
	r.dropped(batch, dropped)
	in := make(map[quant.Hash]struct{}, len(q.Txs))
	for _, id := range quant.TxIDs(q.Txs) {
		in[id] = struct{}{}
	}
	gone := make(map[quant.Hash]struct{}, len(dropped))
	for _, id := range dropped {
		gone[id] = struct{}{}
	}
	var cut, later []pendingTx
	for _, b := range batch {
		if _, ok := in[b.id]; ok {
			cut = append(cut, b)
		} else if _, ok := gone[b.id]; !ok {
			later = append(later, b)
		}
	}
	if len(later) > 0 {
		r.requeue(later)
	}
	if len(cut) == 0 {
		return nil
	}

	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	if r.raft.CurrentTerm() != term || r.raft.State() != hraft.Leader {
		r.requeue(cut) // stepDown fails them if leadership is gone
		return nil
	}
	// The next index: after the newest flight, else after the log. A wrong
	// guess (a membership change appended meanwhile) is refused by every
	// member alike, and the quant is sealed again.
	index := r.raft.LastIndex() + 1
	if n := len(p.flights); n > 0 {
		index = max(index, p.flights[n-1].index+1)
	}
	if err := raftengine.SetPosition(&q.Header, term, index); err != nil {
		r.fail(pendingIDs(cut), err)
		return nil
	}
	if err := r.engine.Seal(ctx, &q.Header); err != nil {
		r.requeue(cut)
		return nil
	}
	f := &flight{q: q, hash: q.Hash(), index: index, cut: cut, start: time.Now(), done: make(chan struct{})}
	f.future = r.raft.Apply(EncodeEntry(q), r.cfg.ApplyTimeout)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f.future.Error() // completes at the latest when Raft shuts down
		close(f.done)
		r.wake()
	}()
	return f
}

// land handles a flight whose future has completed. The FSM told the
// waiters of its transactions when it joined the chain here; failures are
// told here. A flight after a failed one was built on it: its transactions
// go back to the pending ones, to be cut again.
func (r *Replica) land(p *pipeline, f *flight) {
	if err := f.future.Error(); err != nil {
		// Not committed through this leader. The entry may yet be
		// committed by the next one: the callers try again there, and a
		// transaction that made it counts as committed.
		r.fail(pendingIDs(f.cut), fmt.Errorf("%w: %v", ErrNotLeader, err))
		p.broken = true
		return
	}
	res, _ := f.future.Response().(applyResult)
	switch {
	case res.err == nil:
		r.metrics.commitSeconds.Observe(time.Since(f.start).Seconds())
		r.metrics.quantTxs.Observe(float64(len(f.cut)))
	case p.broken || errors.Is(res.err, errPosition):
		r.log.Debug("quant's entry was refused after another or took another index: cutting again", "index", f.index, "err", res.err)
		r.requeue(f.cut)
		p.broken = true
	default:
		r.fail(pendingIDs(f.cut), res.err)
		p.broken = true
	}
}

// dropped handles the transactions of batch that Template left out
// because they no longer pass: those already committed count as done
// (their waiters were told when their quant joined the chain); the others
// fail with the chain's reason.
func (r *Replica) dropped(batch []pendingTx, ids []quant.Hash) {
	if len(ids) == 0 {
		return
	}
	gone := make(map[quant.Hash]struct{}, len(ids))
	for _, id := range ids {
		gone[id] = struct{}{}
	}
	for _, p := range batch {
		if _, ok := gone[p.id]; !ok {
			continue
		}
		err := r.chain.CheckTx(p.tx, p.id)
		if quant.CodeOf(err) == quant.CodeDuplicate {
			err = nil
		} else if err == nil {
			err = quant.Errorf(quant.CodeTimeTooNew, "transaction %s no longer fits the chain's time rules", p.id)
		}
		r.mu.Lock()
		if err == nil {
			delete(r.mu.queued, p.id)
			r.resolveLocked(p.id, nil)
		} else {
			r.failLocked([]quant.Hash{p.id}, err)
		}
		r.mu.Unlock()
	}
}

func pendingIDs(batch []pendingTx) []quant.Hash {
	ids := make([]quant.Hash, len(batch))
	for i, p := range batch {
		ids[i] = p.id
	}
	return ids
}
