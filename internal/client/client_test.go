package client

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:5000", "http://127.0.0.1:5000"},
		{"http://127.0.0.1:5000/", "http://127.0.0.1:5000"},
		{"127.0.0.1:5000", "http://127.0.0.1:5000"},
		{"localhost:3000", "http://localhost:3000"},
		{":3000", "http://127.0.0.1:3000"},
		{"3000", "http://127.0.0.1:3000"},
		{"https://node.example/qbc/", "https://node.example/qbc"},
		{" http://[::1]:5000 ", "http://[::1]:5000"},
	} {
		got, err := BaseURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "ftp://x:1", "http://", "http://x:1/?a=b", "http://x:1/#f"} {
		if got, err := BaseURL(bad); err == nil {
			t.Errorf("BaseURL(%q) = %q, want an error", bad, got)
		}
	}
	// New keeps a bad address's error for every call.
	if _, err := New("ftp://x", nil).Stats(context.Background()); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("Stats on a bad base URL: %v", err)
	}
}

// fake is a test server: each handler answers one route.
func fake(t *testing.T, routes map[string]http.HandlerFunc) *Client {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return New(srv.URL, srv.Client())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestErrors(t *testing.T) {
	c := fake(t, map[string]http.HandlerFunc{
		"GET /v1/txs/{id}": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 404, api.Error{Err: api.ErrorBody{Code: api.CodeNotFound, Message: "no transaction " + r.PathValue("id")}})
		},
		"GET /stats": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502)
			io.WriteString(w, "<html>bad gateway</html>")
		},
		"POST /leap": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(503)
		},
	})
	ctx := context.Background()

	_, err := c.Tx(ctx, quant.Hash{1})
	var apiErr *api.Error
	if !errors.As(err, &apiErr) || apiErr.Err.Code != api.CodeNotFound || !strings.Contains(apiErr.Err.Message, "no transaction 01") {
		t.Errorf("Tx: %v, want a not_found *api.Error", err)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 || se.Method != "GET" || !strings.HasSuffix(se.URL, "/v1/txs/01"+strings.Repeat("0", 62)) {
		t.Errorf("Tx: %#v, want a *StatusError for 404", err)
	}

	// Not an API error body: the status decides the code.
	_, err = c.Stats(ctx)
	if !errors.As(err, &apiErr) || apiErr.Err.Code != api.CodeInternal || !strings.Contains(apiErr.Err.Message, "bad gateway") {
		t.Errorf("Stats: %v", err)
	}
	_, err = c.Leap(ctx)
	if !errors.As(err, &apiErr) || apiErr.Err.Code != api.CodeUnavailable || apiErr.Err.Message != "Service Unavailable" {
		t.Errorf("Leap: %v", err)
	}
	// No route: 404 from the mux, as text.
	_, err = c.Chain(ctx)
	if !errors.As(err, &apiErr) || apiErr.Err.Code != api.CodeNotFound {
		t.Errorf("Chain: %v", err)
	}
}

func TestResponseLimit(t *testing.T) {
	c := fake(t, map[string]http.HandlerFunc{
		"GET /stats": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"name":"`)
			chunk := strings.Repeat("x", 64<<10)
			for range MaxSmallResponse/len(chunk) + 2 {
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
			io.WriteString(w, `"}`)
		},
	})
	if _, err := c.Stats(context.Background()); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("Stats with a huge answer: %v", err)
	}
}

func TestInjectAndSubmit(t *testing.T) {
	var gotInject, gotTx, gotBatch []byte
	var txType string
	id := quant.Hash{7}
	c := fake(t, map[string]http.HandlerFunc{
		"POST /inject": func(w http.ResponseWriter, r *http.Request) {
			gotInject, _ = io.ReadAll(r.Body)
			writeJSON(w, 201, api.Submitted{ID: id, Status: "pending"})
		},
		"POST /v1/txs": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if r.Header.Get("Content-Type") == "application/json" {
				gotBatch = b
				writeJSON(w, 200, api.Batch{Accepted: 1, Rejected: 1, Results: []api.BatchResult{{ID: id}, {Error: &api.ErrorBody{Code: "duplicate"}}}})
				return
			}
			gotTx, txType = b, r.Header.Get("Content-Type")
			writeJSON(w, 201, api.Submitted{ID: id, Status: "pending"})
		},
	})
	ctx := context.Background()

	sub, err := c.Inject(ctx, json.RawMessage(`{"a": "<b> & c"}`))
	if err != nil || sub.ID != id {
		t.Fatalf("Inject: %+v, %v", sub, err)
	}
	if string(gotInject) != `{"data":{"a":"<b> & c"}}` {
		t.Errorf("Inject sent %s", gotInject)
	}
	if _, err := c.Inject(ctx, json.RawMessage(`{"a":`)); err == nil {
		t.Error("Inject sent invalid JSON")
	}

	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	tx := &quant.Tx{ChainID: quant.Hash{9}, Time: 1, Nonce: 2, Kind: quant.DataJSON, Data: []byte(`{"a":"<b>"}`)}
	tx.Sign(key)
	if _, err := c.SubmitTx(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if txType != "application/octet-stream" || string(gotTx) != string(tx.Encode()) {
		t.Errorf("SubmitTx sent %s %x, want the canonical encoding", txType, gotTx)
	}

	batch, err := c.SubmitBatch(ctx, []*quant.Tx{tx, tx})
	if err != nil || batch.Accepted != 1 || batch.Rejected != 1 || batch.Results[1].Error.Code != "duplicate" {
		t.Fatalf("SubmitBatch: %+v, %v", batch, err)
	}
	var items []api.Tx
	if err := json.Unmarshal(gotBatch, &items); err != nil || len(items) != 2 {
		t.Fatalf("SubmitBatch sent %s", gotBatch)
	}
	back, err := items[0].ToTx()
	if err != nil || back.ID() != tx.ID() || items[0].Raw != hex.EncodeToString(tx.Encode()) {
		t.Errorf("SubmitBatch item 0 decodes to %v, %v", back, err)
	}
}

func TestJSONChain(t *testing.T) {
	var query string
	c := fake(t, map[string]http.HandlerFunc{
		"GET /json-chain": func(w http.ResponseWriter, r *http.Request) {
			query = r.URL.RawQuery
			switch r.URL.Query().Get("from") {
			case "7": // broken mid-stream
				io.WriteString(w, `[{"index":7,"data":[],"hash":"a"},{"index":8,`)
				return
			case "9": // not an array
				io.WriteString(w, `{"index":9}`)
				return
			}
			w.Write([]byte("["))
			for i := range 3 {
				if i > 0 {
					w.Write([]byte(","))
				}
				fmt.Fprintf(w, `{"index":%d,"data":[{"n":%d}],"previous_hash":"p","hash":"h%d","transactions":[]}`, i, i, i)
			}
			w.Write([]byte("]"))
		},
	})
	ctx := context.Background()

	var got []api.SeedQuant
	if err := c.JSONChain(ctx, 0, 0, func(q api.SeedQuant) error { got = append(got, q); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Hash != "h2" || string(got[1].Data[0]) != `{"n":1}` || query != "" {
		t.Errorf("JSONChain: %+v (query %q)", got, query)
	}

	stop := errors.New("stop")
	n := 0
	err := c.JSONChain(ctx, 2, 10, func(q api.SeedQuant) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 || query != "from=2&limit=10" {
		t.Errorf("JSONChain stopped by fn: %v after %d (query %q)", err, n, query)
	}

	n = 0
	if err := c.JSONChain(ctx, 7, 0, func(api.SeedQuant) error { n++; return nil }); err == nil || n != 1 {
		t.Errorf("JSONChain on a broken stream: %v after %d quants", err, n)
	}
	if err := c.JSONChain(ctx, 9, 0, func(api.SeedQuant) error { return nil }); err == nil {
		t.Error("JSONChain accepted an object for an array")
	}
}

func TestBudgetReader(t *testing.T) {
	r := &budgetReader{r: strings.NewReader(strings.Repeat("x", 100)), n: 10}
	b, err := io.ReadAll(r)
	if len(b) != 10 || !errors.Is(err, errBudget) {
		t.Errorf("read %d bytes, %v; want 10 and errBudget", len(b), err)
	}
	r.n = 1000
	if b, err := io.ReadAll(r); len(b) != 90 || err != nil {
		t.Errorf("after renewal: %d bytes, %v", len(b), err)
	}
}

func TestQuantsPeersDiscover(t *testing.T) {
	var discovered string
	c := fake(t, map[string]http.HandlerFunc{
		"GET /v1/quants": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"quants": []api.Quant{{Header: api.Header{Height: 3}}}})
		},
		"GET /v1/quants/{ref}": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, api.Quant{Header: api.Header{Height: 5}, Txs: []api.Tx{{Kind: "json", Data: json.RawMessage(`1`)}}})
		},
		"GET /discover": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"peers": []api.Peer{{Addr: "a:1"}}})
		},
		"POST /discover": func(w http.ResponseWriter, r *http.Request) {
			var body struct{ Host string }
			json.NewDecoder(r.Body).Decode(&body)
			discovered = body.Host
			writeJSON(w, 200, map[string]any{"peers": []api.Peer{{Addr: "a:1"}, {Addr: body.Host}}})
		},
		"GET /healthz": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]string{"status": "ok"})
		},
	})
	ctx := context.Background()
	qs, err := c.Quants(ctx, 3, 1)
	if err != nil || len(qs) != 1 || qs[0].Height != 3 {
		t.Errorf("Quants: %+v, %v", qs, err)
	}
	q, err := c.Quant(ctx, "5")
	if err != nil || q.Height != 5 || len(q.Txs) != 1 {
		t.Errorf("Quant: %+v, %v", q, err)
	}
	if _, err := c.Quant(ctx, ""); err == nil {
		t.Error("Quant with an empty reference")
	}
	peers, err := c.Peers(ctx)
	if err != nil || len(peers) != 1 {
		t.Errorf("Peers: %+v, %v", peers, err)
	}
	peers, err = c.Discover(ctx, "b:2")
	if err != nil || len(peers) != 2 || discovered != "b:2" {
		t.Errorf("Discover: %+v, %v (server got %q)", peers, err, discovered)
	}
	if err := c.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
}

// TestLeaveChainWithToken: LeaveChain is DELETE /v1/chains/{id}, with the
// token WithToken gives as a bearer token (and none without it); a client
// on no chain names none.
func TestLeaveChainWithToken(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	id := quant.Hash{1}
	c := New(srv.URL, nil)
	if err := c.WithToken("s3cret").LeaveChain(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := c.OnChain(id).LeaveChain(t.Context(), quant.Hash{}); err != nil {
		t.Fatal(err)
	}
	if err := c.LeaveChain(t.Context(), quant.Hash{}); err == nil {
		t.Fatal("leaving with no chain named: no error")
	}
	want := []string{"DELETE /v1/chains/" + id.String() + " Bearer s3cret", "DELETE /v1/chains/" + id.String() + " "}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("requests %q, want %q", got, want)
	}
}
