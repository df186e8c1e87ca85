package peer

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// pingAll asks every peer for its status, but for those whose status came
// within PingInterval (a ping of theirs carries it: of two peers, mostly one
// pings the other; both do when their pings cross, as they can now that
// pings go out on the clock's multiples of PingInterval, see every); a peer
// silent for PeerTimeout is marked down and its address retried with
// backoff.
func (s *Service) pingAll(ctx context.Context) {
	var wg sync.WaitGroup
	now := s.cfg.Now()
	for _, p := range s.live(ID{}) {
		if now.Sub(p.statusAt) < s.cfg.PingInterval {
			continue
		}
		wg.Go(func() { s.ping(ctx, p) })
	}
	wg.Wait()
}

// ping tells p this node's status, asks for p's, and records the answer,
// or its silence.
func (s *Service) ping(ctx context.Context, p peerState) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	mine, err := json.Marshal(toStatusBody(s.cfg.Host.Status()))
	if err != nil {
		return
	}
	b, err := s.callPeer(ctx, p, KindStatus, mine)
	var sb statusBody
	if err == nil {
		err = decodeBody(b, &sb)
	}
	var st Status
	if err == nil {
		st, err = fromStatusBody(sb)
	}
	now := s.cfg.Now()
	s.mu.Lock()
	rec, ok := s.peers[p.id]
	switch {
	case !ok:
	case err == nil:
		rec.status, rec.lastSeen, rec.statusAt = st, now, now
	case now.Sub(rec.lastSeen) > s.cfg.PeerTimeout:
		s.downLocked(rec, now)
		s.log.Info("peer down; will retry", "peer", p.addr, "err", err)
	}
	s.mu.Unlock()
	if err == nil {
		s.maybeKick(st)
	}
}

// maybeKick starts a sync when a peer has more work than this node.
func (s *Service) maybeKick(st Status) {
	if st.Work != nil && st.Work.Cmp(s.cfg.Host.Status().Work) > 0 {
		s.kickSync()
	}
}

// kickSync asks the sync loop to run now.
func (s *Service) kickSync() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
