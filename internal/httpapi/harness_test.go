package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/engines"
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// The API is tested against doubles of its small interfaces (Chains,
// ChainNode, Node) over real chains on a real store: what a chain accepts,
// stores and proves is the chain's own doing; only the node's wiring
// (peers, mining, metrics) is replaced. The whole node is tested end to end
// in internal/node and cmd/qbc.

// testGenesis is a fast pow chain that takes any JSON.
const testGenesis = `{"name":"http-test","created":1700000000000,"engine":"pow",
	"engine_params":{"target_ms":1000,"initial_difficulty":256,"min_difficulty":1,"window":0},
	"write_policy":"open","max_data_bytes":65536,"max_quant_txs":10000,"max_quant_bytes":16777216,
	"max_time_drift_ms":120000}`

var testEngines = engines.Consensus(nil)

// testConfig is what a test may change of the API under test.
type testConfig struct {
	MaxBodyBytes int64
	PoolMaxTxs   int
	DebugToken   string
	AdminToken   string
	// The server's bounds on slow clients (httpapi.Config); zero is the
	// default.
	BodyTimeout        time.Duration
	MaxStreams         int
	StreamWriteTimeout time.Duration
	// MaxChains bounds the chains the node follows, as the node's
	// max_chains does; 0 is no bound.
	MaxChains int
	// MaxProofHeaders bounds a proof's header chain; 0 is the default.
	MaxProofHeaders int
}

// testNode is the API under test, served on a loopback port.
type testNode struct {
	t    *testing.T
	node *fakeNode
	reg  *prometheus.Registry
	base string
}

// startNode serves the API over a fakeNode whose default chain is
// testGenesis.
func startNode(t *testing.T, edit func(c *testConfig)) *testNode {
	t.Helper()
	cfg := testConfig{MaxBodyBytes: 8 << 20}
	if edit != nil {
		edit(&cfg)
	}
	db, err := store.Open(store.Options{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n := &fakeNode{db: db, bus: events.New(), poolMaxTxs: cfg.PoolMaxTxs, maxChains: cfg.MaxChains, live: map[string]bool{}}
	rules, err := quant.ParseRules([]byte(testGenesis))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateChain(t.Context(), &rules); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv := httpapi.New(httpapi.Config{
		Chains:       n,
		Events:       n.bus,
		Node:         n,
		Registry:     reg,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxBodyBytes: cfg.MaxBodyBytes,
		DebugToken:   cfg.DebugToken,
		AdminToken:   cfg.AdminToken,

		BodyTimeout:        cfg.BodyTimeout,
		MaxStreams:         cfg.MaxStreams,
		StreamWriteTimeout: cfg.StreamWriteTimeout,
		MaxProofHeaders:    cfg.MaxProofHeaders,
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Shutdown() // ends event streams
		ts.Close()
	})
	return &testNode{t: t, node: n, reg: reg, base: ts.URL}
}

// chainID is the id of the default chain.
func (tn *testNode) chainID() quant.Hash { return tn.node.Default().Chain.ID() }

// fakeNode is the node as the API sees it: it follows chains (a real
// chain.Chain and mempool.Pool each) and knows peers by address, with no
// network: AddPeer succeeds for the addresses in live and finds no node
// anywhere else.
type fakeNode struct {
	db         *store.DB
	bus        *events.Bus
	poolMaxTxs int
	maxChains  int

	// commits makes Submit commit at once, as an ordered chain's member
	// answers once its log committed a transaction.
	commits atomic.Bool

	mu      sync.Mutex
	ledgers []*httpapi.Ledger // the default first
	peers   []api.Peer
	live    map[string]bool // addresses where a node answers
}

// fakeInfo is what the fakeNode says it is.
var fakeInfo = api.NodeInfo{ID: strings.Repeat("ab", 32), Key: strings.Repeat("cd", 32), Version: "v1.2.3 (commit 0123456789ab)",
	Addr: "127.0.0.1:5000", Advertise: "node.example:5000"}

// Info implements httpapi.Node.
func (n *fakeNode) Info() api.NodeInfo { return fakeInfo }

// listen makes addr an address where a node answers AddPeer.
func (n *fakeNode) listen(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.live[addr] = true
}

// AddPeer implements httpapi.Node.
func (n *fakeNode) AddPeer(ctx context.Context, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%w: %q is not HOST:PORT", httpapi.ErrBadRequest, addr)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.live[addr] {
		return fmt.Errorf("%w: no node answers at %s", httpapi.ErrRetry, addr)
	}
	n.peers = append(n.peers, api.Peer{ID: "peer-" + addr, Addr: addr, State: "live"})
	return nil
}

func (n *fakeNode) peerList() []api.Peer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]api.Peer(nil), n.peers...)
}

// Default implements httpapi.Chains.
func (n *fakeNode) Default() *httpapi.Ledger {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ledgers[0]
}

// Ledger implements httpapi.Chains.
func (n *fakeNode) Ledger(id quant.Hash) (*httpapi.Ledger, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ledgerLocked(id)
}

func (n *fakeNode) ledgerLocked(id quant.Hash) (*httpapi.Ledger, bool) {
	for _, l := range n.ledgers {
		if l.Chain.ID() == id {
			return l, true
		}
	}
	return nil, false
}

// Ledgers implements httpapi.Chains.
func (n *fakeNode) Ledgers() []*httpapi.Ledger {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*httpapi.Ledger(nil), n.ledgers...)
}

// CreateChain implements httpapi.Chains: a bang from rules, stored and
// opened on the shared store. A fork's point must be on its parent's main
// chain here.
func (n *fakeNode) CreateChain(ctx context.Context, rules *quant.Rules) (*httpapi.Ledger, error) {
	bang, err := quant.NewBang(*rules)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.ledgerLocked(bang.Hash()); ok {
		return nil, quant.Errorf(quant.CodeDuplicate, "chain %s is followed already", bang.Hash())
	}
	if n.maxChains > 0 && len(n.ledgers) >= n.maxChains {
		return nil, quant.Errorf(quant.CodeLimitExceeded, "this node follows %d chains, its limit (max_chains)", n.maxChains)
	}
	if fp := rules.Parent; fp != nil && !n.onMainChainLocked(fp) {
		return nil, quant.Errorf(quant.CodeBadRules, "parent: no quant %s at height %d of chain %s", fp.Hash, fp.Height, fp.Chain)
	}
	st := n.db.Chain(bang.Hash())
	if err := chain.Init(st, bang, testEngines); err != nil {
		return nil, err
	}
	c, err := chain.Open(st, testEngines, chain.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	pool, err := mempool.New(mempool.Options{MaxTxs: n.poolMaxTxs})
	if err != nil {
		return nil, err
	}
	l := &httpapi.Ledger{Chain: c, Store: st, Pool: pool}
	l.Node = &fakeChain{node: n, l: l}
	n.ledgers = append(n.ledgers, l)
	return l, nil
}

func (n *fakeNode) onMainChainLocked(fp *quant.ForkPoint) bool {
	p, ok := n.ledgerLocked(fp.Chain)
	if !ok {
		return false
	}
	h, err := p.Store.HashAt(fp.Height)
	return err == nil && h == fp.Hash
}

// Fork implements httpapi.Chains.
func (n *fakeNode) Fork(ctx context.Context, parent quant.Hash, height uint64, rules *quant.Rules) (*httpapi.Ledger, error) {
	p, ok := n.Ledger(parent)
	if !ok {
		return nil, fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, parent)
	}
	if tip := p.Chain.Tip().Header.Height; height > tip {
		return nil, fmt.Errorf("%w: chain %s is at height %d, below the fork height %d", httpapi.ErrBadRequest, parent, tip, height)
	}
	hash, err := p.Store.HashAt(height)
	if err != nil {
		return nil, err
	}
	rules.Parent = &quant.ForkPoint{Chain: parent, Height: height, Hash: hash}
	return n.CreateChain(ctx, rules)
}

// LeaveChain implements httpapi.Chains: the chain is no longer followed
// (its data stays in the store); the default chain and a chain with a
// followed fork cannot be left.
func (n *fakeNode) LeaveChain(ctx context.Context, id quant.Hash) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	l, ok := n.ledgerLocked(id)
	switch {
	case !ok:
		return fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, id)
	case l == n.ledgers[0]:
		return fmt.Errorf("%w: chain %s is this node's default chain, which it cannot leave", httpapi.ErrNotSupported, id)
	}
	for _, o := range n.ledgers {
		if p := o.Chain.Rules().Parent; p != nil && p.Chain == id {
			return fmt.Errorf("%w: chain %s is the parent of chain %s: leave that fork first", httpapi.ErrNotSupported, id, o.Chain.ID())
		}
	}
	n.ledgers = slices.DeleteFunc(n.ledgers, func(o *httpapi.Ledger) bool { return o == l })
	return nil
}

// Lineage implements httpapi.Chains: each fork point is verified when it is
// on its parent's main chain here.
func (n *fakeNode) Lineage(id quant.Hash) ([]api.Ancestor, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l, ok := n.ledgerLocked(id)
	if !ok {
		return nil, fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, id)
	}
	var out []api.Ancestor
	for fp := l.Chain.Rules().Parent; fp != nil; {
		a := api.Ancestor{Chain: fp.Chain, Height: fp.Height, Hash: fp.Hash, Verified: n.onMainChainLocked(fp)}
		out = append(out, a)
		p, ok := n.ledgerLocked(fp.Chain)
		if !ok {
			break
		}
		fp = p.Chain.Rules().Parent
	}
	return out, nil
}

// fakeChain is a ChainNode double: it pools what the chain admits and
// leaps by sealing the pool's transactions with the chain's engine, and
// tells the events bus as a node does.
type fakeChain struct {
	node *fakeNode
	l    *httpapi.Ledger

	leapMu sync.Mutex
	raft   atomic.Pointer[api.RaftStatus] // RaftStatus's answer
}

// Submit implements httpapi.ChainNode.
func (c *fakeChain) Submit(ctx context.Context, tx *quant.Tx) (quant.Hash, error) {
	id := tx.ID()
	if err := ctx.Err(); err != nil {
		return id, err
	}
	if err := c.l.Chain.CheckTx(tx, id); err != nil {
		return id, err
	}
	if err := c.l.Pool.Add(id, tx); err != nil {
		return id, err
	}
	c.node.bus.Publish(events.Event{Kind: events.KindTx, Chain: c.l.Chain.ID().String(), Data: id})
	if c.node.commits.Load() {
		if _, err := c.Leap(ctx); err != nil {
			return id, err
		}
	}
	return id, nil
}

// SubmitBatch implements httpapi.ChainNode.
func (c *fakeChain) SubmitBatch(ctx context.Context, txs []*quant.Tx) ([]quant.Hash, []error) {
	ids, errs := make([]quant.Hash, len(txs)), make([]error, len(txs))
	for i, tx := range txs {
		ids[i], errs[i] = c.Submit(ctx, tx)
	}
	return ids, errs
}

// Leap implements httpapi.ChainNode.
func (c *fakeChain) Leap(ctx context.Context) (*quant.Quant, error) {
	c.leapMu.Lock()
	defer c.leapMu.Unlock()
	ch, pool := c.l.Chain, c.l.Pool
	r := ch.Rules()
	txs, ids := pool.Take(r.MaxQuantTxs, int64(r.MaxQuantBytes))
	q, dropped, err := ch.Template(txs, ids)
	if err != nil {
		return nil, err
	}
	pool.Remove(dropped)
	if err := ch.Engine().Seal(ctx, &q.Header); err != nil {
		return nil, err
	}
	res, err := ch.Add(q)
	if err != nil {
		return nil, err
	}
	for i, cq := range res.Connected {
		pool.Remove(res.ConnectedIDs[i])
		c.node.bus.Publish(events.Event{Kind: events.KindQuant, Chain: ch.ID().String(), Data: cq})
	}
	if !res.Extended() {
		return nil, fmt.Errorf("%w: the chain moved on", httpapi.ErrRetry)
	}
	return q, nil
}

// Peers implements httpapi.ChainNode.
func (c *fakeChain) Peers() []api.Peer { return c.node.peerList() }

// Syncing implements httpapi.ChainNode.
func (c *fakeChain) Syncing() (bool, uint64) { return false, 0 }

// RaftStatus implements httpapi.ChainNode.
func (c *fakeChain) RaftStatus() *api.RaftStatus { return c.raft.Load() }

// do sends a request and returns the status and body.
func (tn *testNode) do(method, path, contentType string, body []byte, header ...string) (int, []byte) {
	tn.t.Helper()
	req, err := http.NewRequest(method, tn.base+path, bytes.NewReader(body))
	if err != nil {
		tn.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tn.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (tn *testNode) json(method, path string, body any, wantStatus int, out any) {
	tn.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			tn.t.Fatal(err)
		}
	}
	status, resp := tn.do(method, path, "application/json", b)
	if status != wantStatus {
		tn.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, wantStatus, resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			tn.t.Fatalf("%s %s: %v: %s", method, path, err, resp)
		}
	}
}

// wantError checks an error answer's status and code.
func (tn *testNode) wantError(status int, body []byte, wantStatus int, wantCode string) {
	tn.t.Helper()
	var e api.Error
	if err := json.Unmarshal(body, &e); err != nil {
		tn.t.Fatalf("error body is not api.Error: %s", body)
	}
	if status != wantStatus || e.Err.Code != wantCode || e.Err.Message == "" {
		tn.t.Fatalf("got %d %+v, want %d %s", status, e.Err, wantStatus, wantCode)
	}
}
