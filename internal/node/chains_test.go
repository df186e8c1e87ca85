package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// schemaRules are the rules of a chain on the network's fast proof of work
// whose every transaction must match schema.
func schemaRules(t *testing.T, name, schema string) *quant.Rules {
	t.Helper()
	r, err := quant.ParseRules([]byte(fmt.Sprintf(`{"name":%q,"created":1700000000000,"engine":"pow",
		"engine_params":{"target_ms":200,"initial_difficulty":64,"min_difficulty":16,"window":0},
		"write_policy":"open","max_data_bytes":65536,"max_quant_txs":5000,"max_quant_bytes":16777216,
		"max_time_drift_ms":120000,"schema":%s}`, name, schema)))
	if err != nil {
		t.Fatal(err)
	}
	return &r
}

func dataTx(chain quant.Hash, i int, data string) *quant.Tx {
	return &quant.Tx{ChainID: chain, Time: time.Now().UnixMilli(), Nonce: uint64(i), Kind: quant.DataJSON, Data: []byte(data)}
}

// TestChainsWithSchemas: two chains with different schemas, made on one
// node of a 3-node network, are followed by the other two; each refuses the
// other's data, and each one's quants reach every node.
func TestChainsWithSchemas(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	d := c.start(2, a.Addr())
	eventually(t, "the network connects", 10*time.Second, func() bool { return livePeers(a) == 2 })

	temps, err := a.CreateChain(t.Context(), schemaRules(t, "temps",
		`{"type":"object","required":["temp"],"properties":{"temp":{"type":"number"}},"additionalProperties":false}`))
	if err != nil {
		t.Fatal(err)
	}
	orders, err := a.CreateChain(t.Context(), schemaRules(t, "orders",
		`{"type":"object","required":["order"],"properties":{"order":{"type":"string"}},"additionalProperties":false}`))
	if err != nil {
		t.Fatal(err)
	}
	tID, oID := temps.Chain.ID(), orders.Chain.ID()
	if _, err := a.CreateChain(t.Context(), schemaRules(t, "temps",
		`{"type":"object","required":["temp"],"properties":{"temp":{"type":"number"}},"additionalProperties":false}`)); quant.CodeOf(err) != quant.CodeDuplicate {
		t.Fatalf("creating the same chain again: %v", err)
	}
	for _, n := range []*Node{b, d} {
		eventually(t, "the new chains are followed by every node", 15*time.Second, func() bool {
			_, ok1 := n.Ledger(tID)
			_, ok2 := n.Ledger(oID)
			return ok1 && ok2 && len(n.Ledgers()) == 3
		})
	}
	bt, _ := b.Ledger(tID)
	bo, _ := b.Ledger(oID)
	// Each chain takes its own kind of data and refuses the other's.
	if _, err := bt.Node.Submit(t.Context(), dataTx(tID, 1, `{"temp":21.5}`)); err != nil {
		t.Fatalf("a temperature on temps: %v", err)
	}
	if _, err := bt.Node.Submit(t.Context(), dataTx(tID, 2, `{"order":"bread"}`)); quant.CodeOf(err) != quant.CodeBadData {
		t.Fatalf("an order on temps: %v, want bad_data", err)
	}
	if _, err := bo.Node.Submit(t.Context(), dataTx(oID, 3, `{"temp":3}`)); quant.CodeOf(err) != quant.CodeBadData {
		t.Fatalf("a temperature on orders: %v, want bad_data", err)
	}
	if _, err := bo.Node.Submit(t.Context(), dataTx(oID, 4, `{"order":"bread"}`)); err != nil {
		t.Fatalf("an order on orders: %v", err)
	}
	// A transaction names its chain: one made for temps is refused by orders.
	if _, err := bo.Node.Submit(t.Context(), dataTx(tID, 5, `{"order":"milk"}`)); quant.CodeOf(err) != quant.CodeWrongChain {
		t.Fatalf("a temps transaction on orders: %v, want wrong_chain", err)
	}
	// A leap on d's copy of temps takes b's transaction (gossiped) and
	// reaches every node; orders goes on independently.
	dt, _ := d.Ledger(tID)
	eventually(t, "b's temperature reaches d's pool", 10*time.Second, func() bool { return dt.Pool.Len() == 1 })
	q, err := dt.Node.Leap(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Txs) != 1 {
		t.Fatalf("d's quant on temps holds %d transactions", len(q.Txs))
	}
	for _, n := range []*Node{a, b, d} {
		l, _ := n.Ledger(tID)
		eventually(t, "the temps quant reaches every node", 10*time.Second, func() bool { return l.Chain.Tip().Hash == q.Hash() })
		if o, _ := n.Ledger(oID); o.Chain.Tip().Header.Height != 0 {
			t.Fatal("a leap on temps moved orders")
		}
		if n.Chain().Tip().Header.Height != 0 {
			t.Fatal("a leap on temps moved the default chain")
		}
	}
	// The API lists the chains and serves each under /v1/chains/{id}.
	resp, err := http.Get("http://" + d.Addr() + "/v1/chains")
	if err != nil {
		t.Fatal(err)
	}
	var list []api.Chain
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list) != 3 || list[0].ID != d.Chain().ID() {
		t.Fatalf("GET /v1/chains: %d chains", len(list))
	}
	resp, err = http.Get("http://" + d.Addr() + "/v1/chains/" + tID.String() + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st api.Stats
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Chain != tID || st.Height != 1 || st.Txs != 1 || st.Name != "temps" {
		t.Fatalf("temps stats at d: %+v", st)
	}
	// A restarted node still follows every chain.
	c.stop(2)
	d = c.start(2, a.Addr())
	if len(d.Ledgers()) != 3 {
		t.Fatalf("after a restart d follows %d chains", len(d.Ledgers()))
	}
	if l, _ := d.Ledger(tID); l.Chain.Tip().Hash != q.Hash() {
		t.Fatal("after a restart d lost the temps quant")
	}
	if d.Chain().ID() != a.Chain().ID() {
		t.Fatal("after a restart d's default chain changed")
	}
}

// TestMaxChains: a node follows at most max_chains chains; past it, a new
// chain is refused with limit_exceeded (422), not too_large: the request is
// not too large, the node is full.
func TestMaxChains(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.MaxChains = 2
	n, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.CreateChain(t.Context(), schemaRules(t, "one", `{"type":"object"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateChain(t.Context(), schemaRules(t, "two", `{"type":"object"}`)); quant.CodeOf(err) != quant.CodeLimitExceeded {
		t.Fatalf("a chain past max_chains: %v, want limit_exceeded", err)
	}
	if len(n.Ledgers()) != 2 {
		t.Fatalf("the node follows %d chains", len(n.Ledgers()))
	}
}

// TestMineCreatedChain: a mining node mines a chain made on it, along
// with its default chain; after a restart it still does.
func TestMineCreatedChain(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Mine = true
	run := func() (*Node, func()) {
		n, err := New(cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		return n, func() { cancel(); <-done; n.Close() }
	}
	n, stop := run()
	// With a heartbeat in its rules, the chain is mined with no
	// transactions.
	r := schemaRules(t, "mined", `{"type":"object"}`)
	r.EngineParams = json.RawMessage(`{"target_ms":200,"initial_difficulty":64,"min_difficulty":16,"window":0,"heartbeat_ms":50}`)
	l, err := n.CreateChain(t.Context(), r)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	id := l.Chain.ID()
	eventually(t, "the new chain is mined", 20*time.Second, func() bool { return l.Chain.Tip().Header.Height >= 2 })
	stop()
	n, stop = run()
	defer stop()
	again, ok := n.Ledger(id)
	if !ok {
		t.Fatal("the chain is gone after a restart")
	}
	from := again.Chain.Tip().Header.Height
	eventually(t, "the chain is mined after a restart", 20*time.Second, func() bool { return again.Chain.Tip().Header.Height > from })
}
