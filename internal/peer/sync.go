package peer

import (
	"context"
	"encoding/json"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// syncLoop syncs on start, when kicked (a peer has more work, or an
// announced quant's parent is unknown), and every SyncInterval.
func (s *Service) syncLoop(ctx context.Context) error {
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

// bestPeer is the live peer with the most accumulated work, if more than
// ours.
func (s *Service) bestPeer() (peerState, bool) {
	mine := s.cfg.Host.Status().Work
	var best peerState
	found := false
	for _, p := range s.live(ID{}) {
		if p.status.Work == nil || p.status.Work.Cmp(mine) <= 0 {
			continue
		}
		if !found || p.status.Work.Cmp(best.status.Work) > 0 {
			best, found = p, true
		}
	}
	return best, found
}

// syncOnce fetches from the heaviest peer what this node lacks, in
// batches, each quant validated by the Host as it is added, until caught
// up or the peer fails.
func (s *Service) syncOnce(ctx context.Context) {
	p, ok := s.bestPeer()
	if !ok {
		return
	}
	s.syncMu.Lock()
	s.syncing, s.syncGoal = true, p.status.Height
	s.syncMu.Unlock()
	defer func() {
		s.syncMu.Lock()
		s.syncing = false
		s.syncMu.Unlock()
	}()
	start, added := time.Now(), 0
	lastLog := start
	s.log.Info("sync started", "peer", p.addr, "height", s.cfg.Host.Status().Height, "target", p.status.Height)
	for ctx.Err() == nil {
		body, _ := json.Marshal(syncBody{Locator: s.cfg.Host.Locator(), Limit: maxSyncQuants, MaxBytes: maxSyncBytes})
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		b, err := s.callPeer(cctx, p, KindSync, body)
		cancel()
		if err != nil {
			s.log.Warn("sync: peer failed", "peer", p.addr, "err", err)
			return
		}
		items, err := decodeFrames(b, quant.MaxQuantSize, maxSyncQuants)
		if err != nil {
			s.penalty(p.id, 50, err)
			return
		}
		if len(items) == 0 {
			break
		}
		progressed := false
		for _, raw := range items {
			q, err := quant.DecodeQuant(raw)
			if err == nil {
				q = cloneQuant(q)
				err = s.cfg.Host.AddQuant(q)
			}
			switch {
			case err == nil:
				added++
				progressed = true
				s.seen.add(q.Hash())
			case quant.CodeOf(err) == quant.CodeDuplicate:
			default:
				if invalid(err) {
					s.penalty(p.id, 50, err)
				}
				s.log.Warn("sync: quant refused", "peer", p.addr, "err", err)
				return
			}
		}
		if !progressed {
			break
		}
		if time.Since(lastLog) > 2*time.Second {
			lastLog = time.Now()
			h := s.cfg.Host.Status().Height
			s.log.Info("sync progress", "peer", p.addr, "height", h, "target", p.status.Height,
				"quants_per_s", float64(added)/time.Since(start).Seconds())
		}
	}
	if added > 0 {
		s.log.Info("sync done", "peer", p.addr, "added", added, "height", s.cfg.Host.Status().Height,
			"seconds", time.Since(start).Seconds())
	}
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
