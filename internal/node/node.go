package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/atomicfile"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/engines"
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/history"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/sqlproj"
	"github.com/qbc-chain/qbc/internal/store"
	"github.com/qbc-chain/qbc/internal/ui"
)

// Node is one running QBC node: a registry of the chains it follows
// (ledgers), one store, one listener serving the HTTP API and the peer
// protocol of every chain.
type Node struct {
	cfg       Config
	log       *slog.Logger
	db        *store.DB
	bus       *events.Bus
	reg       *prometheus.Registry
	ln        net.Listener
	server    *http.Server
	handlers  sync.WaitGroup // requests being served
	key       ed25519.PrivateKey
	advertise string
	allow     []ed25519.PublicKey
	engines   engines.Set
	followMu  sync.Mutex // one chain created, followed or left at a time
	offers    offerSet
	sql       *sqlproj.Projector // nil with --sql off; set in New
	offerCap  offerLimit         // chains followed per offering peer
	history   *history.Ring      // the console's samples (sample)
	started   time.Time

	mu struct {
		sync.Mutex
		ledgers map[quant.Hash]*ledger
		def     *ledger
		mined   map[quant.Hash]bool // chains made here (minedFile)
		left    map[quant.Hash]bool // chains left here, not followed when offered (leftFile)
		leaving map[quant.Hash]bool // chains being left: not followed again until done
		// run starts the work of chains followed while the node runs (their
		// peer services, mining, replicas) and background tasks; nil before
		// Run and after it returned.
		run *group
	}
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
	n := &Node{cfg: cfg, log: logger, bus: events.New(), reg: newRegistry(), engines: cfg.Engines,
		history: history.NewRing(cfg.historySize()), started: time.Now()}
	n.mu.ledgers = make(map[quant.Hash]*ledger)
	n.mu.mined = n.loadIDs(minedFile)
	n.mu.left, n.mu.leaving = n.loadIDs(leftFile), make(map[quant.Hash]bool)
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	if cfg.AdminToken == "" && !isLoopback(cfg.Addr) {
		token, path, made, err := adminToken(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		n.cfg.AdminToken, cfg.AdminToken = token, token
		if made {
			logger.Warn("admin token made: this node listens beyond loopback, so its admin routes need a token; it is in the file", "path", path)
		} else {
			logger.Info("admin token read", "path", path)
		}
	}
	if n.key, err = peer.LoadOrCreateKey(cfg.DataDir); err != nil {
		return nil, err
	}
	n.db, err = store.Open(store.Options{Dir: cfg.DataDir, Logger: logger})
	if err != nil {
		return nil, err
	}
	// A chain shorter than this node committed (a damaged write-ahead log)
	// is not served: the store has logged what each chain lost. A damaged
	// committed-tip record alone is logged there too, and not fatal.
	if err := n.db.CheckCommitted(); errors.Is(err, store.ErrLost) {
		return nil, fmt.Errorf("node: %w; not serving a chain shorter than this node committed: restore it (docs/operations.md, \"Damage and recovery\")", err)
	}
	n.reg.MustRegister(newStoreCollector(n.db))
	n.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("node: listen: %w", err)
	}
	n.advertise = cfg.Advertise
	if n.advertise == "" {
		n.advertise = n.Addr()
		if host, _, _ := net.SplitHostPort(n.advertise); net.ParseIP(host).IsUnspecified() {
			return nil, fmt.Errorf("node: listening on %s: give --advertise, the address other nodes reach this one at", n.advertise)
		}
	}
	if n.allow, err = peer.ParseKeys(cfg.NetworkAllow); err != nil {
		return nil, err
	}
	// The default chain, then every other chain in the store.
	defID, err := n.openDefaultChain()
	if err != nil {
		return nil, err
	}
	ids, err := n.db.Chains()
	if err != nil {
		return nil, err
	}
	for _, id := range append([]quant.Hash{defID}, ids...) {
		if n.ledger(id) != nil {
			continue
		}
		if id != defID && n.mu.left[id] {
			// Left, and stopped before its data was deleted: finish.
			if err := n.db.DeleteChain(id); err != nil {
				return nil, fmt.Errorf("node: chain %s, left: %w", id, err)
			}
			continue
		}
		if id != defID && staleFork(n.db.Chain(id)) {
			n.log.Warn("chain not followed: a fork stored before forks continued their parent's heights (its bang is at 0); fork the parent again",
				"chain", id.String())
			continue
		}
		if _, err := n.follow(n.db.Chain(id), cfg.Peers); err != nil {
			return nil, fmt.Errorf("node: chain %s: %w", id, err)
		}
	}
	n.mu.def = n.ledger(defID)
	if err := n.openSQL(); err != nil {
		return nil, err
	}
	var sqlServed httpapi.SQL
	if n.sql != nil {
		sqlServed = sqlAPI{n.sql}
	}

	api := httpapi.New(httpapi.Config{
		Chains:       n,
		Events:       n.bus,
		Node:         n,
		Registry:     n.reg,
		Logger:       logger,
		MaxBodyBytes: cfg.MaxBodyBytes,
		DebugToken:   cfg.DebugToken,
		SQL:          sqlServed,
		AdminToken:   cfg.AdminToken,
		Console:      n,
		ZKKeyDir:     cfg.ZKKeyDir,
	})
	if cfg.AdminToken == "" {
		logger.Warn("no admin token (admin_token): anyone who reaches the API can create, fork and leave chains")
	}
	var console http.Handler
	if cfg.UI != UIOff {
		console = ui.Handler(cfg.UI)
	}
	n.server = &http.Server{
		Handler:           n.tracked(routes(http.HandlerFunc(n.servePeers), console, api)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	n.server.RegisterOnShutdown(api.Shutdown)
	def := n.mu.def
	head := def.chain.Tip()
	logger.Info("node ready", "addr", n.Addr(), "advertise", n.advertise, "node_id", def.p2p.ID().String(), "data_dir", cfg.DataDir,
		"chain", def.chain.ID().String(), "name", def.chain.Rules().Name, "height", head.Header.Height, "chains", len(n.ledgers()))
	return n, nil
}

// follow opens a stored chain as a ledger, mounts its peer protocol, and,
// when the node runs, starts its peer service (and mining).
func (n *Node) follow(st *store.Chain, bootstrap []string) (*ledger, error) {
	l, err := n.openLedger(st, bootstrap)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if old, ok := n.mu.ledgers[st.ID()]; ok {
		return old, nil
	}
	n.mu.ledgers[st.ID()] = l
	if n.mu.run != nil {
		n.start(l)
	}
	return l, nil
}

// servePeers serves the peer protocol of each followed chain at
// peer.ChainPath(chain); a chain this node does not follow is 404.
func (n *Node) servePeers(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/p2p/v1/")
	id, err := quant.ParseHash(rest)
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	l := n.ledger(id)
	if l == nil {
		http.NotFound(w, r)
		return
	}
	l.p2pHandler.ServeHTTP(w, r)
}

// start runs l's peer service and its producer's work (mining, a
// replica's membership) in the node's run group, under a context of l's
// own that leaving the chain ends. The caller holds n.mu.
func (n *Node) start(l *ledger) {
	ctx, cancel := context.WithCancel(n.mu.run.ctx)
	l.stop = cancel
	for _, f := range []func(context.Context) error{l.p2p.Run, l.prod.run} {
		l.running.Add(1)
		if !n.mu.run.do(func(context.Context) error { defer l.running.Done(); return f(ctx) }) {
			l.running.Done()
		}
	}
}

// ledger returns the ledger of chain id, or nil.
func (n *Node) ledger(id quant.Hash) *ledger {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.ledgers[id]
}

// ledgers lists the followed chains, the default first, then by id.
func (n *Node) ledgers() []*ledger {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*ledger, 0, len(n.mu.ledgers))
	for _, l := range n.mu.ledgers {
		if l != n.mu.def {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *ledger) int {
		x, y := a.chain.ID(), b.chain.ID()
		return bytes.Compare(x[:], y[:])
	})
	if n.mu.def != nil {
		out = append([]*ledger{n.mu.def}, out...)
	}
	return out
}

// chainIDs lists the followed chains' ids.
func (n *Node) chainIDs() []quant.Hash {
	ls := n.ledgers()
	ids := make([]quant.Hash, len(ls))
	for i, l := range ls {
		ids[i] = l.chain.ID()
	}
	return ids
}

// defaultChainFile names the node's default chain in its data dir, once
// it holds more than one.
const defaultChainFile = "default-chain"

// openDefaultChain returns the id of the node's default chain, creating it
// from the genesis rules if the store has none.
func (n *Node) openDefaultChain() (quant.Hash, error) {
	rules := DefaultRules()
	if n.cfg.Genesis != "" {
		var err error
		if rules, err = LoadRules(n.cfg.Genesis); err != nil {
			return quant.Hash{}, err
		}
	}
	bang, err := quant.NewBang(rules)
	if err != nil {
		return quant.Hash{}, fmt.Errorf("node: genesis: %w", err)
	}
	ids, err := n.db.Chains()
	if err != nil {
		return quant.Hash{}, err
	}
	marker := filepath.Join(n.cfg.DataDir, defaultChainFile)
	var def quant.Hash
	if b, err := os.ReadFile(marker); err == nil {
		if def, err = quant.ParseHash(strings.TrimSpace(string(b))); err != nil {
			return quant.Hash{}, fmt.Errorf("node: %s: %w", marker, err)
		}
	} else if len(ids) > 0 {
		def = ids[0] // a data dir from before the marker held one chain
	}
	switch {
	case len(ids) == 0:
		st := n.db.Chain(bang.Hash())
		if err := chain.Init(st, bang, n.engines.Consensus(n.key)); err != nil {
			return quant.Hash{}, fmt.Errorf("node: create chain: %w", err)
		}
		n.log.Info("chain created", "chain", bang.Hash().String(), "name", rules.Name)
		def = bang.Hash()
	case n.cfg.Genesis != "" && def != bang.Hash():
		return quant.Hash{}, fmt.Errorf("node: data dir %s holds chain %s, not the genesis file's %s", n.cfg.DataDir, def, bang.Hash())
	}
	if err := atomicfile.Write(marker, []byte(def.String()+"\n"), 0o600); err != nil {
		return quant.Hash{}, fmt.Errorf("node: %w", err)
	}
	return def, nil
}

// Addr is the address the API listens on (useful with port 0).
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Chain is the node's default chain.
func (n *Node) Chain() *chain.Chain { return n.def().chain }

// def is the default chain's ledger.
func (n *Node) def() *ledger {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.def
}

// Run serves the API and every followed chain's peer service (and mines,
// with Mine) until ctx ends, then shuts down gracefully within the
// configured timeout. It returns once every goroutine it started, and
// every request handler, has returned.
func (n *Node) Run(ctx context.Context) error {
	g := newGroup(ctx)
	// Requests run under hctx: ended once the graceful shutdown's time is
	// up, so a handler still waiting (a submission to an ordered chain)
	// returns.
	hctx, endRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer endRequests()
	n.server.BaseContext = func(net.Listener) context.Context { return hctx }
	g.do(func(context.Context) error {
		if err := n.server.Serve(n.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("node: serve: %w", err)
		}
		return nil
	})
	g.do(func(ctx context.Context) error {
		<-ctx.Done()
		n.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(n.cfg.ShutdownTimeout))
		defer cancel()
		err := n.server.Shutdown(sctx)
		endRequests()
		if err != nil {
			n.server.Close()
		}
		n.handlers.Wait()
		return err
	})
	if n.sql != nil {
		g.do(n.sql.Run)
	}
	g.do(n.sample)
	n.mu.Lock()
	n.mu.run = g
	for _, l := range n.mu.ledgers {
		n.start(l)
	}
	n.mu.Unlock()
	err := g.wait()
	n.mu.Lock()
	n.mu.run = nil
	n.mu.Unlock()
	return err
}

// task runs f in the background of the running node (see group.task); a
// node that does not run, or has too many tasks, skips it with a log line.
func (n *Node) task(what string, f func(ctx context.Context)) {
	n.mu.Lock()
	g := n.mu.run
	n.mu.Unlock()
	if g == nil || !g.task(f) {
		n.log.Debug("background task skipped", "task", what)
	}
}

// Close releases the chains' producers, the store and the listener. It is
// safe after a failed New and more than once; call it after Run returned.
func (n *Node) Close() error {
	var errs []error
	if n.ln != nil {
		n.ln.Close() // already closed by Shutdown after Run
	}
	n.mu.Lock()
	for _, l := range n.mu.ledgers {
		errs = append(errs, l.prod.close()) // idempotent
	}
	n.mu.Unlock()
	if n.sql != nil {
		errs = append(errs, n.sql.Close())
		n.sql = nil
	}
	if n.db != nil {
		errs = append(errs, n.db.Close())
		n.db = nil
	}
	return errors.Join(errs...)
}

// ErrLeapStale is returned by Leap when the chain kept moving on while it
// sealed.
var ErrLeapStale = fmt.Errorf("node: the chain moved on while leaping: %w", httpapi.ErrRetry)

// ID is this node's id on the network.
func (n *Node) ID() peer.ID { return n.def().p2p.ID() }

// Info implements httpapi.Node: the node's id, key, version and
// addresses.
func (n *Node) Info() api.NodeInfo {
	return api.NodeInfo{
		ID:        n.ID().String(),
		Key:       hex.EncodeToString(n.key.Public().(ed25519.PublicKey)),
		Version:   n.cfg.Version,
		Addr:      n.Addr(),
		Advertise: n.advertise,
		Started:   n.started.UnixMilli(),
		UI:        n.cfg.UI,
		AdminAuth: n.cfg.AdminToken != "",
	}
}

// P2P is the default chain's peer layer.
func (n *Node) P2P() *peer.Service { return n.def().p2p }

// The default chain's operations, as the seed's routes and the tests use
// them.

// Submit checks tx against the default chain and submits it.
func (n *Node) Submit(ctx context.Context, tx *quant.Tx) (quant.Hash, error) {
	return n.def().Submit(ctx, tx)
}

// SubmitBatch submits txs to the default chain.
func (n *Node) SubmitBatch(ctx context.Context, txs []*quant.Tx) ([]quant.Hash, []error) {
	return n.def().SubmitBatch(ctx, txs)
}

// peerTimeout bounds a background exchange with another node.
const peerTimeout = 15 * time.Second

// Leap makes a quant of the default chain now.
func (n *Node) Leap(ctx context.Context) (*quant.Quant, error) { return n.def().Leap(ctx) }

// Peers lists the default chain's peers.
func (n *Node) Peers() []api.Peer { return n.def().Peers() }

// AddPeer registers another node (the seed's /discover) on every chain
// this node follows that the other node follows too; the default chain's
// answer decides the result.
func (n *Node) AddPeer(ctx context.Context, addr string) error {
	err := n.def().AddPeer(ctx, addr)
	if err == nil {
		for _, l := range n.ledgers()[1:] {
			n.task("add peer", func(ctx context.Context) {
				ctx, cancel := context.WithTimeout(ctx, peerTimeout)
				defer cancel()
				l.AddPeer(ctx, addr)
			})
		}
	}
	return err
}

// Syncing reports whether the default chain is syncing, and to what height.
func (n *Node) Syncing() (bool, uint64) { return n.def().Syncing() }

// routes is the node's handler: peers at /p2p/, the console at /ui/ (if
// console is not nil), the API at every other path.
func routes(peers, console, api http.Handler) http.Handler {
	root := http.NewServeMux()
	root.Handle("/p2p/", peers)
	root.Handle("/", api)
	if console != nil {
		root.Handle("GET /ui/", console)
		root.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusFound))
	}
	return apiFirst(root, api)
}

// apiFirst sends every request but the peers' (/p2p/) and the console's
// (/ui) straight to the API, and those through root, which sends any other
// path to the API too (or cleans it and redirects, as the API's mux does):
// one route lookup fewer for each API request.
func apiFirst(root *http.ServeMux, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, "/p2p") || strings.HasPrefix(p, "/ui") {
			root.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// tracked counts the requests h serves, so Run can wait for them.
func (n *Node) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.handlers.Add(1)
		defer n.handlers.Done()
		h.ServeHTTP(w, r)
	})
}
