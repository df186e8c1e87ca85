package peer

import (
	"cmp"
	"slices"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Sync tuning.
const (
	syncBatch    = 32 // quants asked of one peer at a time
	syncWindow   = 16 // batches fetched ahead of the one being added
	maxSyncPeers = 4  // peers fetched from at once
)

// span is a run of plan positions [lo, hi) to fetch.
type span struct{ lo, hi int }

// fetched is a source's answer for a span: the quants it had, from lo on.
type fetched struct {
	span   span
	from   ID
	quants []*quant.Quant
	lacks  bool  // the source lacks the quant after the ones it sent
	err    error // the call failed or the answer was malformed
}

// scheduler decides one sync along a plan (the hashes of the quants this
// node lacks, as the plan's maker listed them): which span of the plan to
// fetch from which source, up to syncWindow batches ahead of the next
// quant to add, and in which order to add what came back. A span a source
// could not serve in full goes back to be fetched, from its first missing
// position, from another source. It does no I/O: the sync feeds it
// sources (join) and answers (report), and carries out its assignments
// (assign) and additions (take).
type scheduler struct {
	plan  []quant.Hash
	maker ID // the peer whose plan this is: the first source

	idle []ID        // sources waiting for work, in the order they came
	used map[ID]bool // every source of this sync, at most maxSyncPeers

	todo     []span // spans to fetch again, in plan order
	next     int    // first plan position not yet in a span
	inflight int    // spans assigned and not yet reported
	ready    map[int]fetched
	commit   int // next plan position to add
}

func newScheduler(plan []quant.Hash, maker ID) *scheduler {
	return &scheduler{
		plan: plan, maker: maker,
		idle: []ID{maker}, used: map[ID]bool{maker: true},
		ready: make(map[int]fetched),
	}
}

// wantsSources reports whether join would take another source.
func (s *scheduler) wantsSources() bool { return len(s.used) < maxSyncPeers }

// join adds a source, unless it is one already, or was and failed, or the
// sync has maxSyncPeers. Peers that come up during a sync join it.
func (s *scheduler) join(id ID) {
	if s.used[id] || !s.wantsSources() {
		return
	}
	s.used[id] = true
	s.idle = append(s.idle, id)
}

// assign hands the next span to fetch to an idle source: spans to fetch
// again first, then new ones inside the window. ok is false when no source
// is idle or there is nothing to hand out.
func (s *scheduler) assign() (from ID, sp span, ok bool) {
	if len(s.idle) == 0 {
		return ID{}, span{}, false
	}
	switch {
	case len(s.todo) > 0:
		sp, s.todo = s.todo[0], s.todo[1:]
	case s.next < len(s.plan) && s.next-s.commit < syncWindow*syncBatch:
		sp = span{s.next, min(s.next+syncBatch, len(s.plan))}
		s.next = sp.hi
	default:
		return ID{}, span{}, false
	}
	from, s.idle = s.idle[0], s.idle[1:]
	s.inflight++
	return from, sp, true
}

// stalled reports whether nothing is being fetched after assign handed
// out what it could: no source can serve the rest of the plan.
func (s *scheduler) stalled() bool { return s.inflight == 0 && !s.done() }

// report takes a source's answer to an assigned span. A source that
// served it in full gets more work; one that failed or lacked a quant gets
// none. The part of the span not served is fetched again. blame is true
// when the plan's maker lacks a quant of its own plan, which the sync
// scores down.
func (s *scheduler) report(f fetched) (blame bool) {
	s.inflight--
	if f.err != nil {
		f.quants = nil
	}
	got := len(f.quants)
	switch {
	case f.err != nil:
	case f.lacks:
		blame = f.from == s.maker
	default:
		s.idle = append(s.idle, f.from)
	}
	if got > 0 {
		s.ready[f.span.lo] = fetched{span: span{f.span.lo, f.span.lo + got}, from: f.from, quants: f.quants}
	}
	if f.span.lo+got < f.span.hi {
		s.todo = append(s.todo, span{f.span.lo + got, f.span.hi})
		slices.SortFunc(s.todo, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	}
	return blame
}

// take returns the next fetched run of quants in plan order, if it has
// come, and counts it as added.
func (s *scheduler) take() (fetched, bool) {
	f, ok := s.ready[s.commit]
	if !ok {
		return fetched{}, false
	}
	delete(s.ready, s.commit)
	s.commit = f.span.hi
	return f, true
}

// done reports whether every quant of the plan was taken.
func (s *scheduler) done() bool { return s.commit >= len(s.plan) }
