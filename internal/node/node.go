package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/consensus/poa"
	"github.com/qbc-chain/qbc/internal/consensus/pow"
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// Engines are the consensus engines a node can verify (poa without a
// signing key: it checks seals but makes none).
func Engines() chain.Engines { return engines(nil) }

// engines are the engines of a node whose key is key: with it, the node
// seals poa quants if it is one of the chain's authorities.
func engines(key ed25519.PrivateKey) chain.Engines {
	return chain.Engines{pow.Name: pow.New, poa.Name: poa.Factory(key)}
}

// Node is one running QBC node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	db      *store.DB
	st      *store.Chain
	chain   *chain.Chain
	pool    *mempool.Pool
	bus     *events.Bus
	metrics *metrics
	ln      net.Listener
	server  *http.Server
	key     ed25519.PrivateKey
	p2p     *peer.Service

	leapMu sync.Mutex // one leap at a time

}

// New opens (or creates) the node's store and default chain and binds its
// listen address; Run serves. On error, everything opened is closed.
func New(cfg Config, logger *slog.Logger) (_ *Node, err error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	n := &Node{cfg: cfg, log: logger, bus: events.New()}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	if n.key, err = peer.LoadOrCreateKey(cfg.DataDir); err != nil {
		return nil, err
	}
	n.db, err = store.Open(store.Options{Dir: cfg.DataDir, Logger: logger})
	if err != nil {
		return nil, err
	}
	n.pool, err = mempool.New(mempool.Options{MaxTxs: cfg.PoolMaxTxs, MaxBytes: cfg.PoolMaxBytes})
	if err != nil {
		return nil, err
	}
	if n.st, err = n.openDefaultChain(); err != nil {
		return nil, err
	}
	n.chain, err = chain.Open(n.st, engines(n.key), chain.Options{Logger: logger, Verified: n.pool.Has})
	if err != nil {
		return nil, err
	}
	n.metrics = newMetrics(
		func() float64 { return float64(n.pool.Len()) },
		func() float64 { return float64(n.pool.Bytes()) },
	)
	n.metrics.height.Set(float64(n.chain.Head().Header.Height))
	n.metrics.reg.MustRegister(newStoreCollector(n.db))

	n.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("node: listen: %w", err)
	}
	advertise := cfg.Advertise
	if advertise == "" {
		advertise = n.Addr()
		if host, _, _ := net.SplitHostPort(advertise); net.ParseIP(host).IsUnspecified() {
			return nil, fmt.Errorf("node: listening on %s: give --advertise, the address other nodes reach this one at", advertise)
		}
	}
	allow, err := peer.ParseKeys(cfg.NetworkAllow)
	if err != nil {
		return nil, err
	}
	n.p2p, err = peer.New(peer.Config{
		Key: n.key, Advertise: advertise, Host: n, Bootstrap: cfg.Peers, Allow: allow,
		Logger: logger, Registry: n.metrics.reg,
	})
	if err != nil {
		return nil, err
	}
	api := httpapi.New(httpapi.Config{
		Chain:        n.chain,
		Store:        n.st,
		Pool:         n.pool,
		Events:       n.bus,
		Node:         n,
		Registry:     n.metrics.reg,
		Logger:       logger,
		MaxBodyBytes: cfg.MaxBodyBytes,
		DebugToken:   cfg.DebugToken,
	})
	root := http.NewServeMux()
	root.Handle("/p2p/", n.p2p.Handler())
	root.Handle("/", api)
	n.server = &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	n.server.RegisterOnShutdown(api.Shutdown)
	head := n.chain.Head()
	logger.Info("node ready", "addr", n.Addr(), "advertise", advertise, "node_id", n.p2p.ID().String(), "data_dir", cfg.DataDir,
		"chain", n.chain.ID().String(), "name", n.chain.Rules().Name, "height", head.Header.Height)
	return n, nil
}

// openDefaultChain returns the store of the node's one chain, creating it
// from the genesis rules if the store is empty.
func (n *Node) openDefaultChain() (*store.Chain, error) {
	rules := DefaultRules()
	if n.cfg.Genesis != "" {
		var err error
		if rules, err = LoadRules(n.cfg.Genesis); err != nil {
			return nil, err
		}
	}
	bang, err := quant.NewBang(rules)
	if err != nil {
		return nil, fmt.Errorf("node: genesis: %w", err)
	}
	ids, err := n.db.Chains()
	if err != nil {
		return nil, err
	}
	switch {
	case len(ids) == 0:
		st := n.db.Chain(bang.Hash())
		if err := chain.Init(st, bang, engines(n.key)); err != nil {
			return nil, fmt.Errorf("node: create chain: %w", err)
		}
		n.log.Info("chain created", "chain", bang.Hash().String(), "name", rules.Name)
		return st, nil
	case n.cfg.Genesis != "" && !slices.Contains(ids, bang.Hash()):
		return nil, fmt.Errorf("node: data dir %s holds chain %s, not the genesis file's %s", n.cfg.DataDir, ids[0], bang.Hash())
	case n.cfg.Genesis != "":
		return n.db.Chain(bang.Hash()), nil
	default:
		return n.db.Chain(ids[0]), nil
	}
}

// Addr is the address the API listens on (useful with port 0).
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Chain is the node's default chain.
func (n *Node) Chain() *chain.Chain { return n.chain }

// Run serves the API (and mines, with Mine) until ctx ends, then shuts down
// gracefully within the configured timeout.
func (n *Node) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := n.server.Serve(n.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("node: serve: %w", err)
		}
		return nil
	})
	g.Go(func() error { return n.p2p.Run(ctx) })
	if n.cfg.Mine {
		g.Go(func() error { return n.mine(ctx) })
	}
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Duration(n.cfg.ShutdownTimeout))
		defer cancel()
		n.log.Info("shutting down")
		return n.server.Shutdown(sctx)
	})
	return g.Wait()
}

// mine leaps continuously until ctx ends.
func (n *Node) mine(ctx context.Context) error {
	n.log.Info("mining", "chain", n.chain.ID().String())
	for ctx.Err() == nil {
		if _, err := n.Leap(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("leap failed", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// Close releases the store and the listener. It is safe after a failed
// New and more than once.
func (n *Node) Close() error {
	var errs []error
	if n.ln != nil {
		n.ln.Close() // already closed by Shutdown after Run
	}
	if n.db != nil {
		errs = append(errs, n.db.Close())
		n.db = nil
	}
	return errors.Join(errs...)
}

// Submit checks tx against the chain and admits it to the pool, returning
// its id. It keeps tx.
func (n *Node) Submit(tx *quant.Tx) (quant.Hash, error) {
	id := tx.ID()
	err := n.admit(tx, id)
	n.countSubmit(err)
	if err != nil {
		return id, err
	}
	n.bus.Publish(events.Event{Kind: events.KindTx, Chain: n.chain.ID().String(), Data: id})
	n.p2p.BroadcastTx(tx, peer.ID{})
	return id, nil
}

// SubmitBatch submits txs, checking their signatures in parallel on all
// cores, and returns each one's id and error (nil when accepted), in order.
func (n *Node) SubmitBatch(txs []*quant.Tx) ([]quant.Hash, []error) {
	ids := make([]quant.Hash, len(txs))
	errs := make([]error, len(txs))
	// What cannot fit in the pool is refused before any of the work of
	// checking it (a client under back-pressure retries it anyway).
	fit := n.fitting(txs)
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
			copy(errs[lo:hi], n.chain.CheckTxs(txs[lo:hi], ids[lo:hi]))
			return nil
		})
	}
	g.Wait()
	for i, tx := range txs {
		if errs[i] == nil {
			if n.pool.Has(ids[i]) {
				errs[i] = quant.Errorf(quant.CodeDuplicate, "transaction %s is already pending", ids[i])
			} else {
				errs[i] = n.pool.Add(ids[i], tx)
			}
		}
		n.countSubmit(errs[i])
		if errs[i] == nil {
			n.bus.Publish(events.Event{Kind: events.KindTx, Chain: n.chain.ID().String(), Data: ids[i]})
			n.p2p.BroadcastTx(tx, peer.ID{})
		}
	}
	return ids, errs
}

// fitting is how many of txs, from the first, the pool has room for now.
func (n *Node) fitting(txs []*quant.Tx) int {
	freeTxs, freeBytes := n.pool.Free()
	fit := min(len(txs), freeTxs)
	for i := 0; i < fit; i++ {
		freeBytes -= int64(txs[i].EncodedSize())
		if freeBytes < 0 {
			return i
		}
	}
	return fit
}

func (n *Node) admit(tx *quant.Tx, id quant.Hash) error {
	if n.pool.Has(id) {
		return quant.Errorf(quant.CodeDuplicate, "transaction %s is already pending", id)
	}
	if err := n.chain.CheckTx(tx, id); err != nil {
		return err
	}
	return n.pool.Add(id, tx)
}

func (n *Node) countSubmit(err error) {
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
	n.metrics.submitted.WithLabelValues(result).Inc()
}

// Leap makes a quant now from the pool: template, seal (mine), validate and
// commit. It returns the committed quant. If the chain moves on while it
// seals (a quant from a peer), it builds a new template, up to 3 times.
func (n *Node) Leap(ctx context.Context) (*quant.Quant, error) {
	n.leapMu.Lock()
	defer n.leapMu.Unlock()
	start := time.Now()
	for attempt := 0; ; attempt++ {
		r := n.chain.Rules()
		txs, _ := n.pool.Take(r.MaxQuantTxs, int64(r.MaxQuantBytes))
		q, dropped, err := n.chain.Template(txs)
		if err != nil {
			return nil, err
		}
		if len(dropped) > 0 {
			n.pool.Remove(dropped)
			n.log.Info("dropped transactions that no longer pass", "count", len(dropped))
		}
		if err := n.chain.Engine().Seal(ctx, &q.Header); err != nil {
			return nil, err
		}
		res, err := n.add(q)
		if err != nil {
			return nil, err
		}
		if !res.Extended() {
			if attempt < 3 {
				continue
			}
			return nil, ErrLeapStale
		}
		n.metrics.leapSeconds.Observe(time.Since(start).Seconds())
		n.p2p.AnnounceQuant(q, peer.ID{})
		return q, nil
	}
}

// ErrLeapStale is returned by Leap when the chain kept moving on while it
// sealed.
var ErrLeapStale = fmt.Errorf("node: the chain moved on while leaping: %w", httpapi.ErrRetry)

// add gives q to the chain and does what follows: drop the committed
// transactions from the pool, return those of abandoned quants to it,
// update metrics, tell subscribers.
func (n *Node) add(q *quant.Quant) (chain.Result, error) {
	start := time.Now()
	res, err := n.chain.Add(q)
	if len(res.Connected) == 0 {
		return res, err
	}
	n.metrics.addSeconds.Observe(time.Since(start).Seconds())
	committed := make(map[quant.Hash]struct{})
	for _, c := range res.Connected {
		ids := quant.TxIDs(c.Txs)
		for _, id := range ids {
			committed[id] = struct{}{}
		}
		n.pool.Remove(ids)
		n.metrics.quantsTotal.Inc()
		n.metrics.txsTotal.Add(float64(len(c.Txs)))
	}
	returned := 0
	for _, d := range res.Disconnected {
		for _, tx := range d.Txs {
			id := tx.ID()
			if _, ok := committed[id]; ok {
				continue
			}
			if n.admit(tx, id) == nil {
				returned++
			}
		}
	}
	head := n.chain.Head()
	n.metrics.height.Set(float64(head.Header.Height))
	if len(res.Disconnected) > 0 {
		n.metrics.reorgs.Inc()
		n.log.Info("reorganized", "chain", n.chain.Rules().Name, "height", head.Header.Height,
			"disconnected", len(res.Disconnected), "connected", len(res.Connected), "txs_returned", returned)
	}
	for _, c := range res.Connected {
		n.log.Info("quant committed", "chain", n.chain.Rules().Name, "height", c.Header.Height,
			"txs", len(c.Txs), "hash", c.Hash().String())
		n.bus.Publish(events.Event{Kind: events.KindQuant, Chain: n.chain.ID().String(), Data: c})
	}
	return res, err
}

// Peers lists the nodes this node knows.
func (n *Node) Peers() []api.Peer {
	var out []api.Peer
	for _, p := range n.p2p.Peers() {
		out = append(out, api.Peer{ID: p.ID.String(), Addr: p.Addr, Height: p.Height, Work: p.Work,
			LastSeen: p.LastSeen, State: p.State, Score: p.Score, SyncedQuants: p.Synced})
	}
	return out
}

// AddPeer registers another node (the seed's /discover): this node contacts
// it, learns its identity and chain, adds it, and tells its own peers.
func (n *Node) AddPeer(ctx context.Context, addr string) error {
	_, err := n.p2p.Discover(ctx, addr)
	if err != nil && quant.CodeOf(err) == "" {
		return fmt.Errorf("%w: %v", httpapi.ErrRetry, err)
	}
	return err
}

// Status is the chain's tip, for peers.
func (n *Node) Status() peer.Status {
	h := n.chain.Head()
	return peer.Status{Chain: n.chain.ID(), Height: h.Header.Height, Tip: h.Hash, Work: h.Meta.Work}
}

// NodeID is this node's id on the network.
func (n *Node) NodeID() peer.ID { return n.p2p.ID() }

// P2P is the node's peer layer.
func (n *Node) P2P() *peer.Service { return n.p2p }

// Syncing reports whether the node is syncing, and to which height.
func (n *Node) Syncing() (bool, uint64) { return n.p2p.Syncing() }
