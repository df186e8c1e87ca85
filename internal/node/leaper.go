package node

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
)

// leaper is the producer of a Nakamoto-style chain (pow, poa): clients'
// and peers' transactions wait in the pool, and this node makes quants
// from it (Leap; and continuously with Mine).
type leaper struct {
	l      *ledger
	leapMu sync.Mutex    // one leap at a time
	rounds atomic.Uint64 // turns of mine's loop (tests read it: an idle miner turns no more)
}

// fromPeers: gossiped transactions are pooled, and quants synced.
func (p *leaper) fromPeers() (txs, quants bool) { return true, true }

func (p *leaper) status() *api.RaftStatus { return nil }

func (p *leaper) close() error { return nil }

// submit checks txs (signatures in parallel on all cores) and pools those
// that pass, telling subscribers and peers.
func (p *leaper) submit(_ context.Context, txs []*quant.Tx) ([]quant.Hash, []error) {
	l := p.l
	ids := make([]quant.Hash, len(txs))
	errs := make([]error, len(txs))
	// What cannot fit in the pool is refused before any of the work of
	// checking it (a client under back-pressure retries it anyway).
	fit := l.fitting(txs)
	since := l.commits.Load()
	for i := fit; i < len(txs); i++ {
		ids[i], errs[i] = txs[i].ID(), mempool.ErrFull
	}
	const chunk = 64 // a signature batch
	check := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ids[i] = txs[i].ID()
		}
		copy(errs[lo:hi], l.chain.CheckTxs(txs[lo:hi], ids[lo:hi]))
	}
	if fit <= chunk {
		check(0, fit) // one chunk: on this goroutine
	} else {
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		for lo := 0; lo < fit; lo += chunk {
			hi := min(lo+chunk, fit)
			g.Go(func() error { check(lo, hi); return nil })
		}
		g.Wait()
	}
	for i, tx := range txs[:fit] {
		if errs[i] == nil {
			errs[i] = l.pool.Add(ids[i], tx) // refuses one already pending
		}
	}
	l.unpoolCommitted(since, ids[:fit], errs[:fit])
	accepted, acceptedIDs := acceptedOnly(txs[:fit], ids[:fit], errs[:fit])
	l.accepted(accepted, acceptedIDs, peer.ID{})
	return ids, errs
}

// acceptedOnly returns the transactions of txs, and their ids, whose error
// is nil: txs and ids themselves when all are, as a single submission's
// usually are.
func acceptedOnly(txs []*quant.Tx, ids []quant.Hash, errs []error) ([]*quant.Tx, []quant.Hash) {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	if n == len(txs) {
		return txs, ids
	}
	accepted, acceptedIDs := make([]*quant.Tx, 0, n), make([]quant.Hash, 0, n)
	for i, tx := range txs {
		if errs[i] == nil {
			accepted, acceptedIDs = append(accepted, tx), append(acceptedIDs, ids[i])
		}
	}
	return accepted, acceptedIDs
}

// fitting is how many of txs, from the first, the pool has room for now.
func (l *ledger) fitting(txs []*quant.Tx) int {
	freeTxs, freeBytes := l.pool.Free()
	fit := min(len(txs), freeTxs)
	for i := 0; i < fit; i++ {
		freeBytes -= int64(txs[i].EncodedSize())
		if freeBytes < 0 {
			return i
		}
	}
	return fit
}

// errIdle is mine's signal that the pool held nothing to include and the
// rules ask for no heartbeat yet: no quant was made.
var errIdle = errors.New("node: nothing to mine")

// leap makes a quant now from the pool: template, seal (mine), validate
// and commit. It returns the committed quant. If the chain moves on while
// it seals (a quant from a peer), it builds a new template, up to 3 times.
func (p *leaper) leap(ctx context.Context) (*quant.Quant, error) {
	return p.leapIf(ctx, func() bool { return true })
}

// leapIf is leap, but when the template holds no transaction it makes a
// quant only if empty() says an empty one is due; otherwise it returns
// errIdle without sealing.
func (p *leaper) leapIf(ctx context.Context, empty func() bool) (*quant.Quant, error) {
	l := p.l
	p.leapMu.Lock()
	defer p.leapMu.Unlock()
	start := time.Now()
	for attempt := 0; ; attempt++ {
		r := l.chain.Rules()
		txs, ids := l.pool.Take(r.MaxQuantTxs, int64(r.MaxQuantBytes))
		q, dropped, err := l.chain.Template(txs, ids)
		if err != nil {
			return nil, err
		}
		if len(dropped) > 0 {
			l.pool.Remove(dropped)
			l.log.Info("dropped transactions that no longer pass", "count", len(dropped))
		}
		if len(q.Txs) == 0 && !empty() {
			return nil, errIdle
		}
		if err := l.chain.Engine().Seal(ctx, &q.Header); err != nil {
			return nil, err
		}
		res, err := l.add(q)
		if err != nil {
			return nil, err
		}
		if !res.Extended() {
			if attempt < 3 {
				continue
			}
			return nil, ErrLeapStale
		}
		l.metrics.leapSeconds.Observe(time.Since(start).Seconds())
		l.p2p.AnnounceQuant(q, peer.ID{})
		return q, nil
	}
}

// run mines until ctx ends when the node mines this chain (Mine, and a
// chain it mines).
func (p *leaper) run(ctx context.Context) error {
	if !p.l.node.mines(p.l) {
		return nil
	}
	return p.mine(ctx)
}

// mine leaps until ctx ends: only if this node may seal on the chain at
// all, only when the engine's turn rules let it, and only when the pool
// holds a transaction or the rules' heartbeat asks for an empty quant.
// Between leaps it waits on the pool, the tip and the heartbeat's timer,
// never polling, so an idle miner uses no CPU. A seal under way is
// abandoned as soon as another quant takes the tip (from a peer), and the
// next leap builds on the new tip.
func (p *leaper) mine(ctx context.Context) error {
	l := p.l
	if !l.chain.CanSeal() {
		l.log.Info("not mining: this node cannot seal on this chain", "engine", l.chain.Rules().Engine)
		return nil
	}
	var beat time.Duration
	if h, ok := l.chain.Engine().(consensus.Heartbeat); ok {
		beat = h.Heartbeat()
	}
	l.log.Info("mining", "heartbeat", beat)
	for ctx.Err() == nil {
		p.rounds.Add(1)
		moved := l.tipMoved() // before reading the tip: no move is missed
		head := l.chain.Tip()
		if !l.chain.MaySeal() {
			wait(ctx, moved, nil, -1) // the turn rules read the tip only
			continue
		}
		added := l.pool.Changed() // before leapIf takes from the pool
		due := heartbeatDue(beat, head.Header.Time, time.Now())
		err := p.leapOnTip(ctx, moved, func() bool { return due == 0 })
		switch {
		case err == nil || ctx.Err() != nil:
		case errors.Is(err, errIdle):
			wait(ctx, moved, added, due)
		default:
			l.log.Warn("leap failed", "err", err)
			wait(ctx, nil, nil, time.Second)
		}
	}
	return nil
}

// heartbeatDue is how long after now a producer whose rules ask for a
// quant every beat (0: never) owes an empty one on a tip made at tipMs
// (Unix milliseconds): 0 if it is due now, -1 if never.
func heartbeatDue(beat time.Duration, tipMs int64, now time.Time) time.Duration {
	if beat <= 0 {
		return -1
	}
	return max(time.UnixMilli(tipMs).Add(beat).Sub(now), 0)
}

// wait returns when ctx ends, either channel is closed (nil: never), or
// after d (negative: never; 0: at once).
func wait(ctx context.Context, a, b <-chan struct{}, d time.Duration) {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
	case <-a:
	case <-b:
	case <-timeout:
	}
}

// leapOnTip leaps (leapIf with empty), abandoning the seal when moved is
// closed (the tip moved). It returns nil when abandoned.
func (p *leaper) leapOnTip(ctx context.Context, moved <-chan struct{}, empty func() bool) error {
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-moved:
			cancel()
		case <-done:
		}
	})
	_, err := p.leapIf(lctx, empty)
	close(done)
	wg.Wait()
	abandoned := lctx.Err() != nil && ctx.Err() == nil // before our own cancel
	cancel()
	if abandoned {
		return nil // the tip moved: leap again on the new one
	}
	return err
}
