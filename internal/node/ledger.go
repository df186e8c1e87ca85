package node

import (
	"context"
	"errors"
	"fmt"
	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/raftchain"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// ledger is one chain a node follows: its store, rules and tip, its pool
// of pending transactions, its peers, and its metrics (labelled with the
// chain id). A node holds one ledger per chain; each is the Host of its
// own peer service and a chain of the HTTP API.
type ledger struct {
	node    *Node
	log     *slog.Logger
	st      *store.Chain
	chain   *chain.Chain
	pool    *mempool.Pool
	bus     *events.Bus
	metrics *metrics
	p2p     *peer.Service
	api     *httpapi.Ledger
	// raft is the replica on a raft chain this node is a member of: it
	// owns the chain; nil elsewhere.
	raft *raftchain.Replica

	leapMu sync.Mutex // one leap at a time
}

// openLedger opens a stored chain with a pool and a peer service of its
// own. bootstrap are the addresses its peer service joins first.
func (n *Node) openLedger(st *store.Chain, bootstrap []string) (_ *ledger, err error) {
	l := &ledger{node: n, st: st, bus: n.bus}
	l.pool, err = mempool.New(mempool.Options{MaxTxs: n.cfg.PoolMaxTxs, MaxBytes: n.cfg.PoolMaxBytes})
	if err != nil {
		return nil, err
	}
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"chain": st.ID().String()}, n.reg)
	member, err := isRaftMember(st, n.key)
	if err != nil {
		return nil, err
	}
	if member {
		if l.raft, err = n.openRaft(l, reg); err != nil {
			return nil, err
		}
		l.chain = l.raft.Chain()
	} else {
		l.chain, err = chain.Open(st, engines(n.key), chain.Options{Logger: n.log, Verified: l.pool.Has})
		if err != nil {
			return nil, err
		}
	}
	l.log = n.log.With("chain", l.chain.Rules().Name)
	l.metrics = newMetrics(reg,
		func() float64 { return float64(l.pool.Len()) },
		func() float64 { return float64(l.pool.Bytes()) },
	)
	l.metrics.height.Set(float64(l.chain.Head().Header.Height))
	l.p2p, err = peer.New(peer.Config{
		Key: n.key, Advertise: n.advertise, Host: l, Bootstrap: bootstrap, Allow: n.allow,
		Logger: n.log.With("chain", l.chain.Rules().Name), Registry: reg, NoSync: l.raft != nil,
	})
	if err != nil {
		if l.raft != nil {
			l.raft.Close()
		}
		return nil, err
	}
	l.api = &httpapi.Ledger{Chain: l.chain, Store: l.st, Pool: l.pool, Node: l}
	return l, nil
}

// mine leaps continuously until ctx ends: on a chain whose engine names
// its sealers, only if this node is one, and only when its turn rules let
// it. A seal under way is abandoned as soon as another quant takes the tip
// (from a peer), and the next leap builds on the new tip.
func (l *ledger) mine(ctx context.Context) error {
	if l.raft != nil || l.chain.Rules().Engine == raftengine.Name {
		return nil // a raft chain's leader cuts quants; observers follow
	}
	if !l.chain.CanSeal() {
		l.log.Info("not mining: this node cannot seal on this chain", "chain", l.chain.ID().String(), "engine", l.chain.Rules().Engine)
		return nil
	}
	l.log.Info("mining", "chain", l.chain.ID().String())
	for ctx.Err() == nil {
		head := l.chain.Head().Hash
		if !l.chain.MaySeal() {
			l.waitHead(ctx, head, time.Second)
			continue
		}
		lctx, cancel := context.WithCancel(ctx)
		go func() {
			l.waitHead(lctx, head, 0)
			cancel()
		}()
		_, err := l.Leap(lctx)
		cancel()
		if err != nil && ctx.Err() == nil && lctx.Err() == nil {
			l.log.Warn("leap failed", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// waitHead returns when the tip is no longer head, ctx ends, or limit
// passes (0: no limit). It polls: the tip changes a few times a second at
// most.
func (l *ledger) waitHead(ctx context.Context, head quant.Hash, limit time.Duration) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var deadline <-chan time.Time
	if limit > 0 {
		deadline = time.After(limit)
	}
	for l.chain.Head().Hash == head {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-t.C:
		}
	}
}

// Chains lists the chains this node follows, for peers.
func (l *ledger) Chains() []quant.Hash { return l.node.chainIDs() }

// Offered is told by a peer at addr which chains it follows; the node
// follows those it lacks where its configuration allows.
func (l *ledger) Offered(addr string, ids []quant.Hash) { l.node.offered(addr, ids) }

// Submit checks tx against the chain and admits it to the pool, returning
// its id. It keeps tx.
func (l *ledger) Submit(tx *quant.Tx) (quant.Hash, error) {
	if l.raft != nil {
		ids, errs := l.raftSubmit([]*quant.Tx{tx})
		return ids[0], errs[0]
	}
	id := tx.ID()
	if err := l.observerRefusal(); err != nil {
		l.countSubmit(err)
		return id, err
	}
	err := l.admit(tx, id)
	l.countSubmit(err)
	if err != nil {
		return id, err
	}
	l.accepted([]*quant.Tx{tx}, []quant.Hash{id}, peer.ID{})
	return id, nil
}

// SubmitBatch submits txs, checking their signatures in parallel on all
// cores, and returns each one's id and error (nil when accepted), in order.
func (l *ledger) SubmitBatch(txs []*quant.Tx) ([]quant.Hash, []error) {
	if l.raft != nil {
		return l.raftSubmit(txs)
	}
	if err := l.observerRefusal(); err != nil {
		ids, errs := quant.TxIDs(txs), make([]error, len(txs))
		for i := range errs {
			errs[i] = err
			l.countSubmit(err)
		}
		return ids, errs
	}
	ids := make([]quant.Hash, len(txs))
	errs := make([]error, len(txs))
	// What cannot fit in the pool is refused before any of the work of
	// checking it (a client under back-pressure retries it anyway).
	fit := l.fitting(txs)
	for i := fit; i < len(txs); i++ {
		ids[i], errs[i] = txs[i].ID(), mempool.ErrFull
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	const chunk = 64 // a signature batch
	for lo := 0; lo < fit; lo += chunk {
		hi := min(lo+chunk, fit)
		g.Go(func() error {
			for i := lo; i < hi; i++ {
				ids[i] = txs[i].ID()
			}
			copy(errs[lo:hi], l.chain.CheckTxs(txs[lo:hi], ids[lo:hi]))
			return nil
		})
	}
	g.Wait()
	accepted, acceptedIDs := make([]*quant.Tx, 0, fit), make([]quant.Hash, 0, fit)
	for i, tx := range txs {
		if errs[i] == nil {
			errs[i] = l.pool.Add(ids[i], tx) // refuses one already pending
		}
		l.countSubmit(errs[i])
		if errs[i] == nil {
			accepted, acceptedIDs = append(accepted, tx), append(acceptedIDs, ids[i])
		}
	}
	l.accepted(accepted, acceptedIDs, peer.ID{})
	return ids, errs
}

// accepted tells subscribers and peers (but from) of transactions that
// entered the pool. It keeps txs.
func (l *ledger) accepted(txs []*quant.Tx, ids []quant.Hash, from peer.ID) {
	if chain := l.chain.ID().String(); l.bus.Wants(events.KindTx, chain) {
		for _, id := range ids {
			l.bus.Publish(events.Event{Kind: events.KindTx, Chain: chain, Data: id})
		}
	}
	l.p2p.BroadcastTxs(txs, ids, from)
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

func (l *ledger) admit(tx *quant.Tx, id quant.Hash) error {
	if l.pool.Has(id) {
		return quant.Errorf(quant.CodeDuplicate, "transaction %s is already pending", id)
	}
	if err := l.chain.CheckTx(tx, id); err != nil {
		return err
	}
	return l.pool.Add(id, tx)
}

func (l *ledger) countSubmit(err error) {
	result := "accepted"
	switch {
	case err == nil:
	case errors.Is(err, mempool.ErrFull):
		result = "pool_full"
	case quant.CodeOf(err) != "":
		result = string(quant.CodeOf(err))
	default:
		result = "error"
	}
	l.metrics.submitted.WithLabelValues(result).Inc()
}

// Leap makes a quant now from the pool: template, seal (mine), validate and
// commit. It returns the committed quant. If the chain moves on while it
// seals (a quant from a peer), it builds a new template, up to 3 times.
func (l *ledger) Leap(ctx context.Context) (*quant.Quant, error) {
	if l.chain.Rules().Engine == raftengine.Name {
		return nil, quant.Errorf(quant.CodeInvalidRequest, "a raft chain's leader cuts quants by size and time: submit transactions instead")
	}
	l.leapMu.Lock()
	defer l.leapMu.Unlock()
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

// add gives q to the chain and does what follows: drop the committed
// transactions from the pool, return those of abandoned quants to it,
// update metrics, tell subscribers.
func (l *ledger) add(q *quant.Quant) (chain.Result, error) {
	start := time.Now()
	res, err := l.chain.Add(q)
	if len(res.Connected) == 0 {
		return res, err
	}
	l.metrics.addSeconds.Observe(time.Since(start).Seconds())
	committed := make(map[quant.Hash]struct{})
	for i, c := range res.Connected {
		ids := res.ConnectedIDs[i]
		for _, id := range ids {
			committed[id] = struct{}{}
		}
		l.pool.Remove(ids)
		l.metrics.quantsTotal.Inc()
		l.metrics.txsTotal.Add(float64(len(c.Txs)))
	}
	returned := 0
	for _, d := range res.Disconnected {
		for _, tx := range d.Txs {
			id := tx.ID()
			if _, ok := committed[id]; ok {
				continue
			}
			if l.admit(tx, id) == nil {
				returned++
			}
		}
	}
	head := l.chain.Head()
	l.metrics.height.Set(float64(head.Header.Height))
	if len(res.Disconnected) > 0 {
		l.metrics.reorgs.Inc()
		l.log.Info("reorganized", "height", head.Header.Height,
			"disconnected", len(res.Disconnected), "connected", len(res.Connected), "txs_returned", returned)
	}
	for _, c := range res.Connected {
		l.log.Info("quant committed", "height", c.Header.Height,
			"txs", len(c.Txs), "hash", c.Hash().String())
		l.bus.Publish(events.Event{Kind: events.KindQuant, Chain: l.chain.ID().String(), Data: c})
	}
	return res, err
}

// Peers lists the nodes this node knows.
func (l *ledger) Peers() []api.Peer {
	var out []api.Peer
	for _, p := range l.p2p.Peers() {
		out = append(out, api.Peer{ID: p.ID.String(), Addr: p.Addr, Height: p.Height, Work: p.Work,
			LastSeen: p.LastSeen, State: p.State, Score: p.Score, SyncedQuants: p.Synced})
	}
	return out
}

// AddPeer registers another node (the seed's /discover): this node contacts
// it, learns its identity and chain, adds it, and tells its own peers.
func (l *ledger) AddPeer(ctx context.Context, addr string) error {
	_, err := l.p2p.Discover(ctx, addr)
	if err != nil && quant.CodeOf(err) == "" {
		return fmt.Errorf("%w: %v", httpapi.ErrRetry, err)
	}
	return err
}

// Status is the chain's tip, for peers.
func (l *ledger) Status() peer.Status {
	h := l.chain.Head()
	return peer.Status{Chain: l.chain.ID(), Height: h.Header.Height, Tip: h.Hash, Work: h.Meta.Work}
}

// Syncing reports whether the node is syncing, and to which height.
func (l *ledger) Syncing() (bool, uint64) { return l.p2p.Syncing() }

// SubmitTx admits a transaction received from a peer. Duplicates are
// refused with CodeDuplicate (the gossip already reached here).
func (l *ledger) SubmitTx(tx *quant.Tx) error {
	if err := l.observerRefusal(); err != nil {
		return quant.Errorf(quant.CodeDuplicate, "%v", err) // not the peer's fault
	}
	if l.raft != nil {
		return quant.Errorf(quant.CodeDuplicate, "a raft member takes transactions from clients, not gossip")
	}
	id := tx.ID()
	err := l.admit(tx, id)
	l.countSubmit(err)
	if err == nil {
		l.accepted(nil, []quant.Hash{id}, peer.ID{}) // the peer service relays it
	}
	return err
}

// AddQuant checks and adds a quant received from a peer: the same
// validation as a quant made here. It may reorganize the chain.
func (l *ledger) AddQuant(q *quant.Quant) error {
	if l.raft != nil {
		if l.HasQuant(q.Hash()) {
			return quant.Errorf(quant.CodeDuplicate, "quant %s is stored", q.Hash())
		}
		return quant.Errorf(quant.CodeUnknownParent, "a raft member takes quants from the Raft log only")
	}
	_, err := l.add(q)
	return err
}

// HasQuant reports whether the quant is stored (main chain or side branch).
func (l *ledger) HasQuant(h quant.Hash) bool {
	ok, err := l.st.Has(h)
	return ok && err == nil
}

// Quant returns a stored quant.
func (l *ledger) Quant(h quant.Hash) (*quant.Quant, error) {
	q, err := l.st.Quant(h)
	if errors.Is(err, chain.ErrNotFound) {
		return nil, quant.Errorf(quant.CodeInvalidRequest, "quant %s is not stored here", h)
	}
	return q, err
}

// Locator describes the main chain for a peer (see chain.Locator).
func (l *ledger) Locator() []quant.Hash {
	loc, err := l.chain.Locator()
	if err != nil {
		l.log.Error("locator", "err", err)
		return []quant.Hash{l.chain.ID()}
	}
	return loc
}

// HashesAfter lists main-chain hashes after the fork point a peer's
// locator names (see chain.HashesAfter).
func (l *ledger) HashesAfter(locator []quant.Hash, limit int) ([]quant.Hash, error) {
	return l.chain.HashesAfter(locator, limit)
}

// RaftStatus is the cluster's state on a raft member; nil elsewhere.
func (l *ledger) RaftStatus() *api.RaftStatus { return l.raftStatus() }

// observerRefusal refuses transactions on a raft chain this node is not a
// member of: only members propose, so a transaction pooled here would
// never be committed.
func (l *ledger) observerRefusal() error {
	if l.raft == nil && l.chain.Rules().Engine == raftengine.Name {
		return quant.Errorf(quant.CodeInvalidRequest, "this node only observes raft chain %s: submit to one of its members", l.chain.ID())
	}
	return nil
}
