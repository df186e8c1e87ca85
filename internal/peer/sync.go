package peer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// syncLoop syncs on start, when kicked (a peer has more work, or an
// announced quant's parent is unknown), and every SyncInterval.
func (s *Service) syncLoop(ctx context.Context) error {
	if s.cfg.NoSync {
		return nil
	}
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-t.C:
		}
		s.syncOnce(ctx)
	}
}

// heavierPeers are the live peers that claim more accumulated work than
// this node, the heaviest first.
func (s *Service) heavierPeers() []peerState {
	mine := s.cfg.Host.Status().Work
	var out []peerState
	for _, p := range s.live(ID{}) {
		if p.status.Work != nil && p.status.Work.Cmp(mine) > 0 {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b peerState) int { return b.status.Work.Cmp(a.status.Work) })
	return out
}

// syncOnce catches up with the heaviest peer: it asks that peer for the
// hashes of the quants this node lacks (the plan), fetches them in batches
// from several peers at once, and adds them in order, each validated by the
// Host as it is added, until caught up or no peer can serve the plan. A
// peer that claims more work but gives nothing that adds to the chain is
// scored down, and the next heaviest is tried: a claim of work costs
// nothing, so it is never trusted alone.
func (s *Service) syncOnce(ctx context.Context) {
	for _, best := range s.heavierPeers() {
		if ctx.Err() != nil {
			return
		}
		if s.syncFrom(ctx, best) > 0 {
			return
		}
		if s.cfg.Host.Status().Work.Cmp(best.status.Work) < 0 {
			s.penalty(best.id, costFalseClaim, quant.Errorf(quant.CodeMalformed, "claimed more work than it could show"))
		}
	}
}

// syncFrom syncs along best's plan and returns how many quants it added.
func (s *Service) syncFrom(ctx context.Context, best peerState) int {
	s.syncMu.Lock()
	s.syncing, s.syncGoal = true, best.status.Height
	s.syncMu.Unlock()
	defer func() {
		s.syncMu.Lock()
		s.syncing = false
		s.syncMu.Unlock()
	}()
	st := &syncRun{s: s, start: time.Now(), best: best}
	st.lastLog = st.start
	s.log.Info("sync started", "peer", best.addr, "height", s.cfg.Host.Status().Height, "target", best.status.Height)
	for ctx.Err() == nil {
		hashes, err := s.syncPlan(ctx, best)
		if err != nil {
			s.log.Warn("sync: no plan from peer", "peer", best.addr, "err", err)
			break
		}
		if len(hashes) == 0 {
			break
		}
		before := st.added
		if err := st.fetch(ctx, hashes); err != nil {
			s.log.Warn("sync stopped", "err", err, "height", s.cfg.Host.Status().Height)
			break
		}
		if st.added == before {
			break
		}
	}
	if st.added > 0 {
		secs := time.Since(st.start).Seconds()
		s.log.Info("sync done", "added", st.added, "height", s.cfg.Host.Status().Height,
			"seconds", secs, "quants_per_s", float64(st.added)/secs)
	}
	return st.added
}

// syncPlan asks p for the hashes of its main-chain quants after where this
// node's chain parts from it.
func (s *Service) syncPlan(ctx context.Context, p peerState) ([]quant.Hash, error) {
	body, _ := json.Marshal(syncBody{Locator: s.cfg.Host.Locator(), Limit: maxSyncHashes})
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := s.callPeer(cctx, p, KindHashes, body)
	if err != nil {
		return nil, err
	}
	hashes, err := splitHashes(b, maxSyncHashes)
	if err != nil {
		s.penalty(p.id, costInvalidQuant, err)
	}
	return hashes, err
}

// syncRun is one sync: its progress and the peer whose plan it follows.
type syncRun struct {
	s       *Service
	best    peerState
	start   time.Time
	lastLog time.Time
	added   int
}

// fetchRun is the fetching of one plan: the scheduler's decisions carried
// out, with up to maxSyncPeers requests in flight, each on a goroutine the
// run waits for before it returns.
type fetchRun struct {
	*syncRun
	sched   *scheduler
	sources map[ID]peerState // every source, by id
	results chan fetched
	wg      sync.WaitGroup
}

// fetch gets the quants of a plan from the sources, up to syncWindow
// batches ahead, and adds them in plan order. Fetching and adding overlap.
func (r *syncRun) fetch(ctx context.Context, plan []quant.Hash) error {
	ctx, cancel := context.WithCancel(ctx)
	f := &fetchRun{
		syncRun: r,
		sched:   newScheduler(plan, r.best.id),
		sources: map[ID]peerState{r.best.id: r.best},
		results: make(chan fetched, maxSyncPeers),
	}
	defer f.wg.Wait()
	defer cancel()
	for !f.sched.done() {
		f.joinSources()
		f.dispatch(ctx)
		if f.sched.stalled() {
			return fmt.Errorf("no peer could serve quants %d..%d of the plan", f.sched.commit, len(plan))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case res := <-f.results:
			f.collect(res)
		}
		if err := f.addReady(ctx); err != nil {
			return err
		}
		r.progress()
	}
	return nil
}

// joinSources offers the scheduler the live peers ahead of this node, so
// that peers that come up during a sync join it.
func (f *fetchRun) joinSources() {
	if !f.sched.wantsSources() {
		return
	}
	height := f.s.cfg.Host.Status().Height
	for _, p := range f.s.live(ID{}) {
		if !f.sched.wantsSources() {
			break
		}
		if _, ok := f.sources[p.id]; !ok && p.status.Height > height {
			f.sources[p.id] = p
			f.sched.join(p.id)
		}
	}
}

// dispatch starts a request for every span the scheduler hands out.
func (f *fetchRun) dispatch(ctx context.Context) {
	for {
		id, sp, ok := f.sched.assign()
		if !ok {
			return
		}
		p := f.sources[id]
		want := f.sched.plan[sp.lo:sp.hi]
		f.wg.Go(func() { f.results <- f.s.getQuants(ctx, p, sp, want) })
	}
}

// collect gives an answer to the scheduler, and scores down the plan's
// maker when it lacks a quant of its own plan.
func (f *fetchRun) collect(res fetched) {
	if res.err != nil {
		f.s.log.Warn("sync: fetch failed", "peer", f.sources[res.from].addr, "err", res.err)
	}
	if f.sched.report(res) {
		f.s.penalty(res.from, costFalseClaim, quant.Errorf(quant.CodeMalformed, "lacks a quant of its own sync plan"))
	}
}

// addReady adds the fetched quants that come next in plan order.
func (f *fetchRun) addReady(ctx context.Context) error {
	for {
		b, ok := f.sched.take()
		if !ok {
			return nil
		}
		if err := f.add(ctx, b); err != nil {
			return err
		}
	}
}

// add adds a fetched run of quants; a quant the Host finds invalid scores
// down the peer that served it, and any quant the Host does not take
// stops the sync.
func (f *fetchRun) add(ctx context.Context, b fetched) error {
	s := f.s
	from := f.sources[b.from]
	n := 0
	defer func() { f.credit(b.from, n) }()
	for _, q := range b.quants {
		v, err := s.cfg.Host.AddQuant(ctx, q)
		switch v {
		case Accepted:
			n++
			s.seen.add(q.Hash())
		case Known:
		case Invalid:
			s.penalty(b.from, costInvalidQuant, err)
			fallthrough
		default:
			return fmt.Errorf("quant %d from %s not added (%v): %w", q.Header.Height, from.addr, v, err)
		}
	}
	return nil
}

// credit counts quants taken from a peer.
func (r *syncRun) credit(id ID, n int) {
	r.added += n
	r.s.m.syncQuants.Add(float64(n))
	r.s.mu.Lock()
	if p, ok := r.s.peers[id]; ok {
		p.synced += uint64(n)
	}
	r.s.mu.Unlock()
}

func (r *syncRun) progress() {
	if time.Since(r.lastLog) < 2*time.Second {
		return
	}
	r.lastLog = time.Now()
	r.s.log.Info("sync progress", "height", r.s.cfg.Host.Status().Height, "target", r.best.status.Height,
		"quants_per_s", float64(r.added)/time.Since(r.start).Seconds())
}

// getQuants asks p for the quants of a span and checks that each is the
// one asked for.
func (s *Service) getQuants(ctx context.Context, p peerState, sp span, want []quant.Hash) fetched {
	f := fetched{span: sp, from: p.id}
	body := make([]byte, 0, len(want)*quant.HashSize)
	for _, h := range want {
		body = append(body, h[:]...)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := s.callPeer(cctx, p, KindGetQuants, body)
	if err != nil {
		f.err = err
		return f
	}
	items, err := decodeFrames(b, quant.MaxQuantSize, len(want))
	if err == nil {
		for i, raw := range items {
			if len(raw) == 0 {
				f.lacks = true
				break
			}
			var q *quant.Quant
			q, err = quant.DecodeQuant(raw)
			if err == nil && q.Hash() != want[i] {
				err = quant.Errorf(quant.CodeMalformed, "asked for quant %s, got %s", want[i], q.Hash())
			}
			if err != nil {
				break
			}
			f.quants = append(f.quants, cloneQuant(q))
		}
	}
	if err == nil && len(items) == 0 {
		f.lacks = true // an empty answer: it has none of them
	}
	if err != nil {
		s.penalty(p.id, costInvalidQuant, err)
		f.err, f.quants = err, nil
	}
	return f
}

// cloneQuant copies a decoded quant off the buffer it aliases.
func cloneQuant(q *quant.Quant) *quant.Quant {
	c := &quant.Quant{Header: q.Header, Rules: append([]byte(nil), q.Rules...)}
	c.Header.Seal = append([]byte(nil), q.Header.Seal...)
	c.Txs = make([]*quant.Tx, len(q.Txs))
	for i, tx := range q.Txs {
		c.Txs[i] = tx.Clone()
	}
	return c
}
