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
		if err := r.barrier(ctx, term); err != nil {
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
// It gives up when ctx ends or the replica closes (await).
func (r *Replica) barrier(ctx context.Context, term uint64) error {
	r.mu.Lock()
	r.mu.readyTerm = 0
	r.mu.Unlock()
	r.applyMu.Lock()
	err := r.await(ctx, r.raft.Barrier(r.cfg.ApplyTimeout))
	r.handed.Store(0) // the log's last index is known again
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
	r.log.Info("leading", "term", term, "height", r.chain.Tip().Header.Height)
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
	q, cut := r.build(batch, p)
	if len(cut) == 0 {
		return nil
	}
	return r.hand(ctx, term, q, cut, p)
}

// build makes the quant of batch on the newest quant in flight, or the
// chain's tip, and returns it with the transactions it holds (cut). Those
// the chain's template left out are settled (dropped); those that did not
// fit go back to the pending ones. An empty cut proposes nothing.
func (r *Replica) build(batch []pendingTx, p *pipeline) (q *quant.Quant, cut []pendingTx) {
	txs := make([]*quant.Tx, len(batch))
	ids := make([]quant.Hash, len(batch))
	for i, b := range batch {
		txs[i], ids[i] = b.tx, b.id
	}
	parent, parents := r.parentOf(p)
	q, dropped, err := r.chain.TemplateOn(parent, parents, txs, ids)
	if err != nil {
		r.log.Error("cannot build a quant", "err", err)
		r.fail(pendingIDs(batch), err)
		return nil, nil
	}
	r.dropped(batch, dropped)
	cut, later := sortCut(batch, q, dropped)
	if len(later) > 0 {
		r.requeue(later)
	}
	return q, cut
}

// parentOf is where the next quant goes: after the newest quant in flight,
// or the chain's tip; parents are the headers from there back, newest
// first, down to the tip (chain.TemplateOn's).
func (r *Replica) parentOf(p *pipeline) (quant.Hash, []*quant.Header) {
	n := len(p.flights)
	if n == 0 {
		head := r.chain.Tip()
		return head.Hash, []*quant.Header{&head.Header}
	}
	parents := make([]*quant.Header, 0, n)
	for k := n - 1; k >= 0; k-- {
		parents = append(parents, &p.flights[k].q.Header)
	}
	return p.flights[n-1].hash, parents
}

// sortCut sorts batch by what became of each transaction in q: cut (in q),
// later (left out for room, not dropped); dropped ones are in neither.
func sortCut(batch []pendingTx, q *quant.Quant, dropped []quant.Hash) (cut, later []pendingTx) {
	in := make(map[*quant.Tx]struct{}, len(q.Txs)) // the template keeps batch's transactions: no id to hash again
	for _, tx := range q.Txs {
		in[tx] = struct{}{}
	}
	gone := make(map[quant.Hash]struct{}, len(dropped))
	for _, id := range dropped {
		gone[id] = struct{}{}
	}
	for _, b := range batch {
		if _, ok := in[b.tx]; ok {
			cut = append(cut, b)
		} else if _, ok := gone[b.id]; !ok {
			later = append(later, b)
		}
	}
	return cut, later
}

// hand seals q at the log position its entry will take and hands it to
// Raft without waiting; a goroutine the replica waits for (wg) closes the
// flight's done when Raft answers. When the replica no longer leads in
// term, or the seal fails, cut goes back to the pending ones (stepDown
// fails them if leadership is gone) and hand returns nil.
func (r *Replica) hand(ctx context.Context, term uint64, q *quant.Quant, cut []pendingTx, p *pipeline) *flight {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	if r.raft.CurrentTerm() != term || r.raft.State() != hraft.Leader {
		r.requeue(cut)
		return nil
	}
	// The next index: after the newest flight, else after the log. A wrong
	// guess (a membership change appended meanwhile) is refused by every
	// member alike, and the quant is sealed again.
	index := max(r.raft.LastIndex(), r.handed.Load()) + 1
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
	r.handed.Store(index) // before Raft can commit it (nudge)
	data := EncodeEntry(q)
	r.proposed.Store(&proposal{term: term, index: index, q: q, data: data})
	f.future = r.raft.Apply(data, r.cfg.ApplyTimeout)
	// Not a goroutine Close waits for: Raft may never answer a future
	// whose entry it committed just as it shut down (await). Closing
	// f.done and waking the leader loop are harmless after Close.
	go func() {
		f.future.Error()
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

// nudge asks, from the FSM, for an empty entry after the one at index
// when the leader handed Raft nothing after it. A follower learns that an
// entry is committed from the next AppendEntries that carries the commit
// index: the next entry's, or, with none, Raft's CommitTimeout later. The
// nudge makes that next entry at once, so followers apply a quant as soon
// as the leader knows it is committed, while the commit timeout can stay
// long enough that idle members do not wake every few milliseconds. Under
// load the next quant follows at once and there is nothing to nudge.
func (r *Replica) nudge(index uint64) {
	if index == 0 || r.handed.Load() != index {
		return
	}
	select {
	case r.nudges <- index:
	default:
	}
}

// nudger appends the nudges asked for (a Raft barrier: an entry the chain
// never sees), while this replica leads and nothing was handed after the
// entry since.
func (r *Replica) nudger(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case index := <-r.nudges:
			r.applyMu.Lock()
			if r.handed.Load() == index && r.raft.State() == hraft.Leader {
				next := max(r.raft.LastIndex(), index) + 1
				r.raft.Barrier(0) // enqueued (or Raft shut down); not waited for
				r.handed.Store(next)
				r.metrics.nudges.Inc()
			}
			r.applyMu.Unlock()
		}
	}
}
