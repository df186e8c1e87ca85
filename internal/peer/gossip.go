package peer

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// maxTxBatch bounds the transactions in one gossip message.
const maxTxBatch = 4096

// BroadcastTx queues an accepted transaction for every live peer; queued
// transactions go out in batches, at most one every txFlushEvery. from is the peer
// it came from (zero for a client's), which is left out. It keeps tx,
// which must not change afterwards.
func (s *Service) BroadcastTx(tx *quant.Tx, from ID) {
	s.BroadcastTxs([]*quant.Tx{tx}, []quant.Hash{tx.ID()}, from)
}

// BroadcastTxs is BroadcastTx for accepted transactions txs whose ids are
// ids. With no live peer there is no one to tell, and it does nothing: a
// peer that connects later is sent the pending transactions then
// (sendPending). It keeps txs (not ids), which must not change afterwards.
func (s *Service) BroadcastTxs(txs []*quant.Tx, ids []quant.Hash, from ID) {
	if len(txs) == 0 || !s.anyLive(from) {
		return
	}
	s.txMu.Lock()
	defer s.txMu.Unlock()
	for i, tx := range txs {
		if s.seen.add(ids[i]) {
			s.txQueue = append(s.txQueue, queuedTx{tx: tx, from: from})
		}
	}
	if len(s.txQueue) > 0 {
		select {
		case s.txKick <- struct{}{}:
		default:
		}
	}
}

// txFlushEvery is the shortest time between two flushes of the gossip
// queue: transactions accepted meanwhile go out together.
const txFlushEvery = 25 * time.Millisecond

// txLoop flushes the gossip queue when it holds something, at most once
// every txFlushEvery, and sleeps while it is empty (an idle node does not
// wake for it).
func (s *Service) txLoop(ctx context.Context) error {
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.txKick:
		}
		if wait := txFlushEvery - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		last = time.Now()
		s.flushTxs(ctx)
	}
}

// flushTxs sends the queued transactions to each live peer.
func (s *Service) flushTxs(ctx context.Context) {
	s.txMu.Lock()
	q := s.txQueue
	s.txQueue = nil
	s.txMu.Unlock()
	if len(q) == 0 {
		return
	}
	peers := s.live(ID{})
	if len(peers) == 0 {
		return
	}
	raw := make([][]byte, len(q))
	for i, t := range q {
		raw[i] = t.tx.Encode()
	}
	var wg sync.WaitGroup
	for _, p := range peers {
		var items [][]byte
		for i, t := range q {
			if t.from != p.id {
				items = append(items, raw[i])
			}
		}
		for _, batch := range txBatches(items) {
			body := encodeFrames(batch)
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if _, err := s.callPeer(cctx, p, KindTx, body); err != nil {
					s.log.Debug("tx gossip failed", "peer", p.addr, "err", err)
				}
			})
		}
	}
	wg.Wait()
}

// txBatches splits encoded transactions, in order, into gossip messages:
// at most maxTxBatch each, and at most MaxBody framed, the most a peer
// takes (a transaction alone is far under it).
func txBatches(items [][]byte) [][][]byte {
	var out [][][]byte
	for lo := 0; lo < len(items); {
		hi, size := lo, 0
		for hi < len(items) && hi-lo < maxTxBatch && (hi == lo || size+4+len(items[hi]) <= MaxBody) {
			size += 4 + len(items[hi])
			hi++
		}
		out = append(out, items[lo:hi])
		lo = hi
	}
	return out
}

// receiveTxs admits a batch of gossiped transactions; those the Host
// accepts are relayed onward. A transaction that does not decode, or that
// the Host finds invalid, costs the sender.
func (s *Service) receiveTxs(ctx context.Context, body []byte, from ID) error {
	items, err := decodeFrames(body, quant.MaxTxSize, maxTxBatch)
	if err != nil {
		return err
	}
	var bad error
	for _, raw := range items {
		tx, err := quant.DecodeTx(raw)
		if err != nil {
			bad = err
			continue
		}
		tx = tx.Clone()
		if s.seen.has(tx.ID()) {
			continue
		}
		switch v, err := s.cfg.Host.SubmitTx(ctx, tx); v {
		case Accepted:
			s.m.txsIn.Inc()
			s.BroadcastTx(tx, from)
		case Invalid:
			bad = err
		}
	}
	if bad != nil {
		s.penalty(from, costInvalidTx, bad)
	}
	return nil
}

// AnnounceQuant tells every live peer but from of a quant this node
// accepted. The announcements are sent by goroutines Run owns; it does
// not wait for them.
func (s *Service) AnnounceQuant(q *quant.Quant, from ID) {
	h := q.Hash()
	s.seen.add(h)
	body, _ := json.Marshal(announceBody{Hash: h, Height: q.Header.Height})
	for _, p := range s.live(from) {
		s.sends.add(func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if _, err := s.callPeer(ctx, p, KindAnnounce, body); err != nil {
				s.log.Debug("announce failed", "peer", p.addr, "err", err)
			}
		})
	}
}

// seenSet remembers recent hashes (transactions and quants gossiped), so
// nothing is relayed twice. It forgets the oldest past its size.
type seenSet struct {
	mu    sync.Mutex
	max   int
	set   map[quant.Hash]struct{}
	order []quant.Hash
}

func newSeenSet(max int) *seenSet {
	return &seenSet{max: max, set: make(map[quant.Hash]struct{}, max)}
}

// add records h and reports whether it was new.
func (s *seenSet) add(h quant.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[h]; ok {
		return false
	}
	if len(s.order) >= s.max {
		delete(s.set, s.order[0])
		s.order = s.order[1:]
	}
	s.set[h] = struct{}{}
	s.order = append(s.order, h)
	return true
}

func (s *seenSet) has(h quant.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[h]
	return ok
}

func (s *seenSet) remove(h quant.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.set, h)
}

// sendPending sends a peer that has just become live this node's pending
// transactions, one gossip batch at most, oldest first. Gossip goes only
// to live peers, so without it a transaction taken while this node was
// alone, or before the peer (re)connected, would reach the peer only in the
// quant that holds it, and one taken by a node that does not leap would
// not reach a quant at all.
func (s *Service) sendPending(ctx context.Context, p peerState) {
	txs := s.cfg.Host.Pending(maxTxBatch, MaxBody-4*maxTxBatch)
	if len(txs) == 0 {
		return
	}
	raw := make([][]byte, len(txs))
	for i, tx := range txs {
		raw[i] = tx.Encode()
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.callPeer(cctx, p, KindTx, encodeFrames(raw)); err != nil {
		s.log.Debug("sending pending transactions failed", "peer", p.addr, "err", err)
		return
	}
	s.log.Debug("sent pending transactions to a new peer", "peer", p.addr, "txs", len(txs))
}
