package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/consensus"
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
//
// How the chain gets its quants is the ledger's producer, chosen by what
// the chain's engine declares (consensus.Ordered or not), never by its
// name: see producer.
type ledger struct {
	node *Node
	// hexID is the chain's id in hex, as events name it (made once: a
	// submission would otherwise encode it per request).
	hexID   string
	log     *slog.Logger
	st      *store.Chain
	chain   *chain.Chain
	pool    *mempool.Pool
	bus     *events.Bus
	metrics *metrics
	p2p     *peer.Service
	api     *httpapi.Ledger
	prod    producer
	// p2pHandler serves p2p at peer.ChainPath(chain) (Node.servePeers).
	p2pHandler http.Handler
	// reg is what the ledger registered, unregistered when it is left.
	reg *trackedRegisterer
	// stop ends the goroutines Node.start runs for the ledger (nil before
	// it); guarded by the node's mu. running counts them.
	stop    context.CancelFunc
	running sync.WaitGroup

	tip struct {
		sync.Mutex
		moved chan struct{} // closed when the tip next moves; nil until tipMoved asks
	}
	// commits counts the additions to the chain (add), so that an
	// admission can tell whether a quant committed while it checked.
	commits atomic.Uint64
}

// tipMoved returns a channel that is closed when add next moves the tip
// (a quant of this node's or a peer's, or a reorganization). A caller asks
// for it before it reads the tip, so that a move in between is not missed.
func (l *ledger) tipMoved() <-chan struct{} {
	l.tip.Lock()
	defer l.tip.Unlock()
	if l.tip.moved == nil {
		l.tip.moved = make(chan struct{})
	}
	return l.tip.moved
}

// movedTip tells the waiters of tipMoved.
func (l *ledger) movedTip() {
	l.tip.Lock()
	defer l.tip.Unlock()
	if l.tip.moved != nil {
		close(l.tip.moved)
		l.tip.moved = nil
	}
}

// A producer is how a ledger's chain gets its quants; the ledger's code
// around it (admission checks, events, peers, metrics, the API) is the
// same for every engine. There are three:
//   - leaper: Nakamoto-style engines (pow, poa): transactions wait in the
//     pool, this node makes quants (leaps, and mines with Mine), peers
//     gossip transactions and quants, sync follows the heaviest branch;
//   - member: an ordered engine (raft, later bft) on one of its members:
//     transactions go to the replica of the chain's log, which is the only
//     writer of the chain; nothing is taken from peers' gossip or sync;
//   - observer: an ordered chain on a node that is not a member: it
//     follows by peer sync and takes no transactions.
type producer interface {
	// submit takes transactions a client sent and returns each one's id
	// and error (nil: accepted, or committed where the engine waits).
	submit(ctx context.Context, txs []*quant.Tx) ([]quant.Hash, []error)
	// leap makes a quant now.
	leap(ctx context.Context) (*quant.Quant, error)
	// run does the producer's own work (mining, keeping a replica's
	// membership) until ctx ends; it returns nil then.
	run(ctx context.Context) error
	// fromPeers reports whether transactions (pooled) and quants (synced)
	// that peers send are taken.
	fromPeers() (txs, quants bool)
	// status is an ordered chain's cluster as a member sees it; nil
	// elsewhere.
	status() *api.RaftStatus
	// close releases what the producer holds; it is idempotent.
	close() error
}

// openLedger opens a stored chain with a pool and a peer service of its
// own. bootstrap are the addresses its peer service joins first.
func (n *Node) openLedger(st *store.Chain, bootstrap []string) (_ *ledger, err error) {
	l := &ledger{node: n, st: st, bus: n.bus, hexID: st.ID().String()}
	l.pool, err = mempool.New(mempool.Options{MaxTxs: n.cfg.PoolMaxTxs, MaxBytes: n.cfg.PoolMaxBytes})
	if err != nil {
		return nil, err
	}
	reg := &trackedRegisterer{Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"chain": l.hexID}, n.reg)}
	l.reg = reg
	defer func() {
		if err != nil {
			reg.unregisterAll()
		}
	}()
	l.metrics = newMetrics(reg,
		func() float64 { return float64(l.pool.Len()) },
		func() float64 { return float64(l.pool.Bytes()) },
	)
	if err := l.openProducer(reg); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			l.prod.close()
		}
	}()
	l.log = n.log.With("chain", l.hexID, "name", l.chain.Rules().Name)
	l.metrics.height.Set(float64(l.chain.Tip().Header.Height))
	_, syncs := l.prod.fromPeers()
	l.p2p, err = peer.New(peer.Config{
		Key: n.key, Advertise: n.advertise, Host: l, Bootstrap: bootstrap, Allow: n.allow,
		Logger: l.log, Registry: reg, NoSync: !syncs,
	})
	if err != nil {
		return nil, err
	}
	l.p2pHandler = l.p2p.Handler()
	l.api = &httpapi.Ledger{Chain: l.chain, Store: l.st, Pool: l.pool, Node: l, SQLLag: l.sqlLag}
	return l, nil
}

// openProducer opens the chain with the producer its engine calls for.
func (l *ledger) openProducer(reg prometheus.Registerer) error {
	n := l.node
	bang, err := l.st.Bang()
	if err != nil {
		return err
	}
	engine, err := chain.EngineOf(bang, n.engines.Consensus(n.key))
	if err != nil {
		return err
	}
	if o, ok := engine.(consensus.Ordered); ok && o.Member() {
		m, err := l.openMember(engine.Name(), reg)
		if err != nil {
			return err
		}
		l.chain, l.prod = m.rep.Chain(), m
		return nil
	}
	l.chain, err = chain.Open(l.st, n.engines.Consensus(n.key), chain.Options{Logger: n.log, Verified: l.pool.Has})
	if err != nil {
		return err
	}
	if _, ok := engine.(consensus.Ordered); ok {
		l.prod = observer{l}
	} else {
		l.prod = &leaper{l: l}
	}
	return nil
}

// Chains lists the chains this node follows, for peers.
func (l *ledger) Chains() []quant.Hash { return l.node.chainIDs() }

// Offered is told by a peer at addr which chains it follows; the node
// follows those it lacks where its configuration allows.
func (l *ledger) Offered(ctx context.Context, addr string, ids []quant.Hash) {
	l.node.offered(ctx, addr, ids)
}

// Pending lists pooled transactions for a peer that has just become live;
// a chain whose peers take no gossip has none to give.
func (l *ledger) Pending(max int, maxBytes int64) []*quant.Tx {
	if pools, _ := l.prod.fromPeers(); !pools {
		return nil
	}
	txs, _ := l.pool.Take(max, maxBytes)
	return txs
}

// Submit checks tx against the chain and submits it, returning its id.
// It keeps tx.
func (l *ledger) Submit(ctx context.Context, tx *quant.Tx) (quant.Hash, error) {
	ids, errs := l.SubmitBatch(ctx, []*quant.Tx{tx})
	return ids[0], errs[0]
}

// SubmitBatch submits txs, checking their signatures in parallel on all
// cores, and returns each one's id and error (nil when accepted), in order.
// It keeps txs.
func (l *ledger) SubmitBatch(ctx context.Context, txs []*quant.Tx) ([]quant.Hash, []error) {
	ids, errs := l.prod.submit(ctx, txs)
	accepted := 0
	for _, err := range errs {
		if err == nil {
			accepted++ // counted once below: the label lookup costs more than the add
			continue
		}
		l.countSubmit(err)
	}
	l.metrics.accepted.Add(float64(accepted))
	return ids, errs
}

// accepted tells subscribers and peers (but from) of transactions that
// entered the pool. It keeps txs.
func (l *ledger) accepted(txs []*quant.Tx, ids []quant.Hash, from peer.ID) {
	if chain := l.hexID; l.bus.Wants(events.KindTx, chain) {
		for _, id := range ids {
			l.bus.Publish(events.Event{Kind: events.KindTx, Chain: chain, Data: id})
		}
	}
	l.p2p.BroadcastTxs(txs, ids, from)
}

// admit checks one transaction and pools it.
func (l *ledger) admit(tx *quant.Tx, id quant.Hash) error {
	if l.pool.Has(id) {
		return quant.Errorf(quant.CodeDuplicate, "transaction %s is already pending", id)
	}
	since := l.commits.Load()
	if err := l.chain.CheckTx(tx, id); err != nil {
		return err
	}
	errs := []error{l.pool.Add(id, tx)}
	l.unpoolCommitted(since, []quant.Hash{id}, errs)
	return errs[0]
}

// unpoolCommitted takes out of the pool again those of ids, just pooled
// (errs[i] nil), that a quant committed after their check: add takes a
// quant's ids out of the pool after it commits, so one pooled in between
// would stay pending. since is the commit count read before the checks;
// while it has not moved, nothing is looked up. The answer of each stays a
// success: the transaction is committed, which is where its admission
// leads, and it cannot be told from one this node's own leap took from the
// pool and committed meanwhile.
func (l *ledger) unpoolCommitted(since uint64, ids []quant.Hash, errs []error) {
	if l.commits.Load() == since {
		return
	}
	var gone []quant.Hash
	for i, id := range ids {
		if errs[i] != nil {
			continue
		}
		if has, err := l.st.HasTx(id); err == nil && has {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		l.pool.Remove(gone)
	}
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

// Leap makes a quant now, where the engine lets a node do that.
func (l *ledger) Leap(ctx context.Context) (*quant.Quant, error) { return l.prod.leap(ctx) }

// add gives q to the chain and does what follows: drop the committed
// transactions from the pool, return those of abandoned quants to it,
// update metrics, tell subscribers.
func (l *ledger) add(q *quant.Quant) (chain.Result, error) {
	start := time.Now()
	res, err := l.chain.Add(q)
	if len(res.Connected) == 0 {
		return res, err
	}
	l.commits.Add(1) // before the pool forgets: see unpoolCommitted
	l.movedTip()
	l.metrics.addSeconds.Observe(time.Since(start).Seconds())
	for i, c := range res.Connected {
		l.pool.Remove(res.ConnectedIDs[i])
		l.counted(c)
	}
	var committed map[quant.Hash]struct{} // only a reorganization needs it
	if len(res.Disconnected) > 0 {
		committed = make(map[quant.Hash]struct{})
		for _, ids := range res.ConnectedIDs {
			for _, id := range ids {
				committed[id] = struct{}{}
			}
		}
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
	if len(res.Disconnected) > 0 {
		l.metrics.reorgs.Inc()
		l.log.Info("reorganized", "height", l.chain.Tip().Header.Height,
			"disconnected", len(res.Disconnected), "connected", len(res.Connected), "txs_returned", returned)
	}
	for _, c := range res.Connected {
		l.committed(c)
	}
	return res, err
}

// counted updates the metrics of a quant that joined the chain.
func (l *ledger) counted(q *quant.Quant) {
	l.metrics.quantsTotal.Inc()
	l.metrics.txsTotal.Add(float64(len(q.Txs)))
	l.metrics.height.Set(float64(q.Header.Height)) // quants join in order: the last is the tip
}

// committed logs a quant that joined the chain and tells subscribers.
func (l *ledger) committed(q *quant.Quant) {
	l.log.Info("quant committed", "height", q.Header.Height, "txs", len(q.Txs), "hash", q.Hash().String())
	l.publish(q)
}

// publish tells subscribers of a quant that joined the chain. It reads
// only the store's id: a replica calls it while it opens, before l.chain
// is set.
func (l *ledger) publish(q *quant.Quant) {
	l.bus.Publish(events.Event{Kind: events.KindQuant, Chain: l.hexID, Data: q})
}

// Peers lists the nodes this node knows.
func (l *ledger) Peers() []api.Peer {
	var out []api.Peer
	for _, p := range l.p2p.Peers() {
		out = append(out, api.Peer{ID: p.ID.String(), Addr: p.Addr, Height: p.Height, Work: p.Work,
			LastSeen: p.LastSeen, State: string(p.State), Score: p.Score, SyncedQuants: p.Synced})
	}
	return out
}

// AddPeer registers another node (the seed's /discover): this node contacts
// it, learns its identity and chain, adds it, and tells its own peers.
func (l *ledger) AddPeer(ctx context.Context, addr string) error {
	_, err := l.p2p.Discover(ctx, addr)
	if err != nil && quant.CodeOf(err) == "" && !errors.Is(err, peer.ErrBadAddress) {
		return fmt.Errorf("%w: %v", httpapi.ErrRetry, err)
	}
	return err
}

// Status is the chain's tip, for peers.
func (l *ledger) Status() peer.Status {
	h := l.chain.Tip()
	return peer.Status{Chain: l.chain.ID(), Height: h.Header.Height, Tip: h.Hash, Work: h.Meta.Work}
}

// Syncing reports whether the node is syncing, and to which height.
func (l *ledger) Syncing() (bool, uint64) { return l.p2p.Syncing() }

// SubmitTx admits a transaction received from a peer. A chain whose
// producer pools no gossip (an ordered chain) declines it.
func (l *ledger) SubmitTx(ctx context.Context, tx *quant.Tx) (peer.Verdict, error) {
	if pools, _ := l.prod.fromPeers(); !pools {
		return peer.Declined, errors.New("this node does not pool this chain's transactions")
	}
	id := tx.ID()
	err := l.admit(tx, id)
	l.countSubmit(err)
	if err == nil {
		l.accepted(nil, []quant.Hash{id}, peer.ID{}) // the peer service relays it
	}
	return txVerdictOf(err), err
}

// txVerdictOf is verdictOf for a peer's pending transaction: a record
// write that the lock in force here refuses is declined, not invalid. The
// lock may have changed since the sender checked it (a quant it has not
// seen yet), so an honest peer can send one; a quant holding one is
// invalid (verdictOf). The same holds for the record-dependent zk checks:
// a nullifier spent, a group root replaced, a secret lock moved on in a
// quant the sender has not seen (a proof that does not verify is invalid).
func txVerdictOf(err error) peer.Verdict {
	switch quant.CodeOf(err) {
	case quant.CodeLockedOwner, quant.CodeLockedHash, quant.CodeLockedTime, quant.CodeWriteOnce, quant.CodeAppendOnly,
		quant.CodeNullifierUsed, quant.CodeStaleRoot, quant.CodeLockedSecret:
		return peer.Declined
	}
	return verdictOf(err)
}

// AddQuant checks and adds a quant received from a peer: the same
// validation as a quant made here. It may reorganize the chain. A member
// of an ordered chain declines it: it takes quants from its log only.
func (l *ledger) AddQuant(ctx context.Context, q *quant.Quant) (peer.Verdict, error) {
	if _, syncs := l.prod.fromPeers(); !syncs {
		if l.HasQuant(q.Hash()) {
			return peer.Known, nil
		}
		return peer.Declined, errors.New("this node takes this chain's quants from its log only")
	}
	_, err := l.add(q)
	return verdictOf(err), err
}

// verdictOf is what a peer's transaction or quant comes to, from the error
// admitting or adding it returned: the one place the node's errors become
// verdicts for the peer layer's scoring.
func verdictOf(err error) peer.Verdict {
	var re *quant.RuleError
	switch {
	case err == nil:
		return peer.Accepted
	case errors.Is(err, mempool.ErrFull):
		return peer.Declined
	case quant.CodeOf(err) == quant.CodeDuplicate:
		return peer.Known
	case quant.CodeOf(err) == quant.CodeUnknownParent:
		return peer.Orphan
	case errors.As(err, &re):
		return peer.Invalid
	}
	return peer.Declined // a store error: not the peer's fault
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
		return nil, fmt.Errorf("%w: quant %s is not stored here", httpapi.ErrNotFound, h)
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

// RaftStatus is the cluster's state on a member of an ordered chain; nil
// elsewhere.
func (l *ledger) RaftStatus() *api.RaftStatus { return l.prod.status() }
