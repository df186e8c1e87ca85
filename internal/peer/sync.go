package peer

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Sync tuning.
const (
	syncBatch    = 32 // quants asked of one peer at a time
	syncWindow   = 16 // batches fetched ahead of the one being added
	maxSyncPeers = 4  // peers fetched from at once
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

// moreSources adds to idle the live peers ahead of this node not yet
// used in this plan, up to maxSyncPeers used in all. Peers that join
// during a sync join it.
func (s *Service) moreSources(idle []peerState, used map[ID]bool) []peerState {
	if len(used) >= maxSyncPeers {
		return idle
	}
	height := s.cfg.Host.Status().Height
	for _, p := range s.live(ID{}) {
		if len(used) == maxSyncPeers {
			break
		}
		if !used[p.id] && p.status.Height > height {
			used[p.id] = true
			idle = append(idle, p)
		}
	}
	return idle
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
			s.penalty(best.id, 10, quant.Errorf(quant.CodeMalformed, "claimed more work than it could show"))
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
		s.penalty(p.id, 50, err)
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

// span is a run of plan positions [lo, hi) to fetch.
type span struct{ lo, hi int }

// fetched is a peer's answer for a span: the quants it had, from lo on.
type fetched struct {
	span   span
	from   peerState
	quants []*quant.Quant
	lacks  bool  // the peer lacks the quant after the ones it sent
	err    error // the call failed or the answer was malformed
}

// fetch gets the quants of a plan from the sources, up to syncWindow
// batches ahead, and adds them in plan order. Fetching and adding overlap.
func (r *syncRun) fetch(ctx context.Context, plan []quant.Hash) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := r.s
	// The heaviest peer first, then others ahead of this node.
	idle := []peerState{r.best}
	used := map[ID]bool{r.best.id: true}
	var (
		todo     []span // spans to (re)fetch, first in plan order
		next     int    // first plan position not yet in a span
		inflight int
		results  = make(chan fetched, maxSyncPeers)
		ready    = map[int]fetched{} // fetched spans by lo, not yet added
		commit   int                 // next plan position to add
	)
	for commit < len(plan) {
		// Hand out work: failed spans first, then new ones in the window.
		idle = s.moreSources(idle, used)
		for len(idle) > 0 {
			var sp span
			switch {
			case len(todo) > 0:
				sp, todo = todo[0], todo[1:]
			case next < len(plan) && next-commit < syncWindow*syncBatch:
				sp = span{next, min(next+syncBatch, len(plan))}
				next = sp.hi
			default:
				sp.hi = -1
			}
			if sp.hi < 0 {
				break
			}
			p := idle[0]
			idle = idle[1:]
			inflight++
			go func() { results <- s.getQuants(ctx, p, sp, plan[sp.lo:sp.hi]) }()
		}
		if inflight == 0 {
			return fmt.Errorf("no peer could serve quants %d..%d of the plan", commit, len(plan))
		}
		var f fetched
		select {
		case <-ctx.Done():
			return ctx.Err()
		case f = <-results:
		}
		inflight--
		got := len(f.quants)
		switch {
		case f.err != nil:
			s.log.Warn("sync: fetch failed", "peer", f.from.addr, "err", f.err)
		case f.lacks && f.from.id == r.best.id:
			// The peer that made the plan lacks a quant in it.
			s.penalty(f.from.id, 10, quant.Errorf(quant.CodeMalformed, "lacks a quant of its own sync plan"))
		case !f.lacks:
			idle = append(idle, f.from) // a good source: more work for it
		}
		if got > 0 {
			ready[f.span.lo] = fetched{span: span{f.span.lo, f.span.lo + got}, from: f.from, quants: f.quants}
		}
		if f.span.lo+got < f.span.hi {
			todo = append(todo, span{f.span.lo + got, f.span.hi})
			slices.SortFunc(todo, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
		}
		// Add what is ready, in plan order.
		for {
			g, ok := ready[commit]
			if !ok {
				break
			}
			delete(ready, commit)
			if err := r.add(g); err != nil {
				return err
			}
			commit = g.span.hi
		}
		r.progress()
	}
	return nil
}

// add adds a fetched run of quants; a quant the Host finds invalid scores
// down the peer that served it and stops the sync.
func (r *syncRun) add(f fetched) error {
	s := r.s
	n := 0
	for _, q := range f.quants {
		err := s.cfg.Host.AddQuant(q)
		switch {
		case err == nil:
			n++
			s.seen.add(q.Hash())
		case quant.CodeOf(err) == quant.CodeDuplicate:
		default:
			if invalid(err) {
				s.penalty(f.from.id, 50, err)
			}
			r.credit(f.from.id, n)
			return fmt.Errorf("quant %d from %s refused: %w", q.Header.Height, f.from.addr, err)
		}
	}
	r.credit(f.from.id, n)
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
	f := fetched{span: sp, from: p}
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
		if invalid(err) {
			s.penalty(p.id, 50, err)
		}
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
