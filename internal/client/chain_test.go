package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestOnChainRoutes: every chain-scoped method of a client made by OnChain
// goes to that chain's /v1/chains/{id} route, and the default client keeps
// the routes it always used.
func TestOnChainRoutes(t *testing.T) {
	var (
		mu   sync.Mutex
		last string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.Method + " " + r.URL.Path
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "json-chain"):
			w.Write([]byte(`[]`))
		case strings.HasSuffix(r.URL.Path, "/quants"):
			w.Write([]byte(`{"quants":[]}`))
		default:
			w.Write([]byte(`{}`))
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	id := quant.Hash{0xab}
	tx := &quant.Tx{ChainID: id, Time: 1, Kind: quant.DataJSON, Data: []byte(`1`)}
	calls := []struct {
		name string
		call func(c *Client) error
		def  string // the default chain's route
	}{
		{"Inject", func(c *Client) error { _, err := c.Inject(ctx, json.RawMessage(`1`)); return err }, "POST /inject"},
		{"SubmitTx", func(c *Client) error { _, err := c.SubmitTx(ctx, tx); return err }, "POST /v1/txs"},
		{"SubmitBatch", func(c *Client) error { _, err := c.SubmitBatch(ctx, []*quant.Tx{tx}); return err }, "POST /v1/txs"},
		{"LeapQuant", func(c *Client) error { _, err := c.LeapQuant(ctx); return err }, "POST /v1/leap"},
		{"Stats", func(c *Client) error { _, err := c.Stats(ctx); return err }, "GET /stats"},
		{"Chain", func(c *Client) error { _, err := c.Chain(ctx); return err }, "GET /v1/chain"},
		{"Quant", func(c *Client) error { _, err := c.Quant(ctx, "3"); return err }, "GET /v1/quants/3"},
		{"Quants", func(c *Client) error { _, err := c.Quants(ctx, 1, 2); return err }, "GET /v1/quants"},
		{"Tx", func(c *Client) error { _, err := c.Tx(ctx, quant.Hash{1}); return err }, "GET /v1/txs/" + quant.Hash{1}.String()},
		{"TxProof", func(c *Client) error { _, err := c.TxProof(ctx, quant.Hash{1}, quant.Hash{2}); return err }, "GET /v1/txs/" + quant.Hash{1}.String()},
		{"JSONChain", func(c *Client) error {
			return c.JSONChain(ctx, 0, 0, func(api.SeedQuant) error { return nil })
		}, "GET /json-chain"},
		{"Fork", func(c *Client) error { _, err := c.Fork(ctx, quant.Hash{}, 1, []byte(`{}`)); return err }, "POST /v1/fork"},
	}
	def := New(srv.URL, srv.Client())
	on := def.OnChain(id)
	if on.ChainID() != id || !def.ChainID().IsZero() {
		t.Fatalf("OnChain changed the wrong client")
	}
	for _, tc := range calls {
		for _, c := range []*Client{def, on} {
			if err := tc.call(c); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			mu.Lock()
			got := last
			mu.Unlock()
			want := tc.def
			if c == on {
				method, path, _ := strings.Cut(tc.def, " ")
				want = method + " /v1/chains/" + id.String() + strings.TrimPrefix(path, "/v1")
			}
			if got != want {
				t.Errorf("%s on chain %v: %s, want %s", tc.name, c.ChainID(), got, want)
			}
		}
	}
	if _, err := on.Leap(ctx); err == nil {
		t.Error("a chain client's seed-shaped Leap did not refuse")
	}
}
