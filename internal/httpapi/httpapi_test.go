package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/merkle"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestSeedFlow(t *testing.T) {
	tn := startNode(t, nil)
	// httpie's `data="{\"test\":\"test2\"}"` sends a JSON string.
	var sub api.Submitted
	tn.json("POST", "/inject", map[string]string{"data": `{"test":"test2"}`}, 201, &sub)
	if sub.Status != "pending" || sub.ID.IsZero() {
		t.Fatalf("inject answer %+v", sub)
	}
	// curl's form: data=JSON.
	status, body := tn.do("POST", "/inject", "application/x-www-form-urlencoded", []byte(url.Values{"data": {`{"k":[1,2]}`}}.Encode()))
	if status != 201 {
		t.Fatalf("form inject: %d %s", status, body)
	}
	var leap api.SeedQuant
	tn.json("GET", "/leap", nil, 200, &leap)
	if leap.Index != 1 || len(leap.Data) != 2 || string(leap.Data[0]) != `"{\"test\":\"test2\"}"` || string(leap.Data[1]) != `{"k":[1,2]}` {
		t.Fatalf("leap answer %+v", leap)
	}
	var chainJSON []api.SeedQuant
	tn.json("GET", "/json-chain", nil, 200, &chainJSON)
	if len(chainJSON) != 2 || chainJSON[1].Hash != leap.Hash || chainJSON[1].PreviousHash != chainJSON[0].Hash {
		t.Fatalf("json-chain: %+v", chainJSON)
	}
	tn.json("POST", "/leap", nil, 200, &leap)
	var page []api.SeedQuant
	tn.json("GET", "/json-chain?from=1&limit=1", nil, 200, &page)
	if len(page) != 1 || page[0].Index != 1 {
		t.Fatalf("json-chain page: %+v", page)
	}
	// The binary chain decodes with the canonical decoder and links up.
	status, body = tn.do("GET", "/chain", "", nil)
	if status != 200 {
		t.Fatalf("/chain: %d", status)
	}
	var prev quant.Hash
	for h := 0; len(body) > 0; h++ {
		n := binary.BigEndian.Uint32(body)
		q, err := quant.DecodeQuant(body[4 : 4+n])
		if err != nil {
			t.Fatalf("/chain quant %d: %v", h, err)
		}
		if q.Header.Height != uint64(h) || q.Header.Prev != prev {
			t.Fatalf("/chain quant %d does not link", h)
		}
		prev = q.Hash()
		body = body[4+n:]
	}
	var st api.Stats
	tn.json("GET", "/stats", nil, 200, &st)
	if st.Height != 2 || st.Length != 3 || st.Txs != 2 || st.PoolTxs != 0 || st.Work != "512" || st.Tip != prev {
		t.Fatalf("stats %+v", st)
	}
	// /discover keeps the seed's form (and takes http:// addresses); the
	// answer lists the peers.
	const otherAddr = "127.0.0.1:7001"
	tn.node.listen(otherAddr)
	status, body = tn.do("POST", "/discover", "application/x-www-form-urlencoded", []byte("host=http://"+otherAddr))
	if status != 200 || !strings.Contains(string(body), otherAddr) {
		t.Fatalf("discover: %d %s", status, body)
	}
	var peers struct{ Peers []api.Peer }
	tn.json("GET", "/discover", nil, 200, &peers)
	if len(peers.Peers) != 1 || peers.Peers[0].Addr != otherAddr || peers.Peers[0].ID == "" || peers.Peers[0].State != "live" {
		t.Fatalf("peers %+v", peers)
	}
	tn.json("GET", "/v1/peers", nil, 200, &peers)
	if len(peers.Peers) != 1 {
		t.Fatalf("/v1/peers %+v", peers)
	}
	// An address where no node answers is worth retrying; one that is not
	// an address is not.
	status, body = tn.do("POST", "/discover", "application/json", []byte(`{"host":"127.0.0.1:1"}`))
	tn.wantError(status, body, 503, "unavailable")
	status, body = tn.do("POST", "/discover", "application/json", []byte(`{"host":"nowhere"}`))
	tn.wantError(status, body, 400, "invalid_request")
}

func signedTx(t *testing.T, chain quant.Hash, key ed25519.PrivateKey, data string, nonce uint64) *quant.Tx {
	t.Helper()
	tx := &quant.Tx{ChainID: chain, Time: time.Now().UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(data)}
	tx.Sign(key)
	return tx
}

func TestV1Transactions(t *testing.T) {
	tn := startNode(t, nil)
	var info api.Chain
	tn.json("GET", "/v1/chain", nil, 200, &info)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

	one := signedTx(t, info.ID, key, `{"n":1}`, 1)
	var sub api.Submitted
	tn.json("POST", "/v1/txs", api.FromTx(one), 201, &sub)
	if sub.ID != one.ID() {
		t.Fatalf("id %s, want %s", sub.ID, one.ID())
	}
	// Canonical bytes.
	raw := signedTx(t, info.ID, key, `{"n":2}`, 2)
	status, body := tn.do("POST", "/v1/txs", "application/octet-stream", raw.Encode())
	if status != 201 {
		t.Fatalf("octet-stream submit: %d %s", status, body)
	}
	// A batch with one good, one duplicate and one forged.
	forged := signedTx(t, info.ID, key, `{"n":4}`, 4)
	forged.Data = []byte(`{"n":5}`)
	var batch api.Batch
	tn.json("POST", "/v1/txs", []api.Tx{api.FromTx(signedTx(t, info.ID, key, `{"n":3}`, 3)), api.FromTx(one), api.FromTx(forged)}, 200, &batch)
	if batch.Accepted != 1 || batch.Rejected != 2 || batch.Results[1].Error.Code != "duplicate" || batch.Results[2].Error.Code != "bad_signature" {
		t.Fatalf("batch: %+v", batch)
	}
	// A binary batch.
	bin := []*quant.Tx{signedTx(t, info.ID, key, `{"n":10}`, 10), one}
	status, body = tn.do("POST", "/v1/txs", httpapi.BatchMediaType, httpapi.EncodeBatch(bin))
	if err := json.Unmarshal(body, &batch); err != nil || status != 200 || batch.Accepted != 1 || batch.Results[1].Error.Code != "duplicate" {
		t.Fatalf("binary batch: %d %s", status, body)
	}
	if bytes.Contains(body, []byte(`"index"`)) {
		t.Fatalf("a whole answer names indexes: %s", body)
	}
	var ts api.TxStatus
	tn.json("GET", "/v1/txs/"+one.ID().String(), nil, 200, &ts)
	if ts.Status != "pending" {
		t.Fatalf("before leap: %+v", ts)
	}
	tn.json("GET", "/leap", nil, 200, nil)
	tn.json("GET", "/leap", nil, 200, nil)
	tn.json("GET", "/v1/txs/"+raw.ID().String(), nil, 200, &ts)
	if ts.Status != "committed" || ts.Height != 1 || ts.Index != 1 || ts.Confirmations != 2 || ts.TxCount != 4 {
		t.Fatalf("after leap: %+v", ts)
	}
	var q api.Quant
	tn.json("GET", "/v1/quants/1", nil, 200, &q)
	if q.Hash != *ts.Quant || len(q.Txs) != 4 {
		t.Fatalf("quant 1: %+v", q)
	}
	var byHash api.Quant
	tn.json("GET", "/v1/quants/"+q.Hash.String(), nil, 200, &byHash)
	if byHash.Height != 1 {
		t.Fatalf("quant by hash: %+v", byHash)
	}
	proof := make([][merkle.Size]byte, len(ts.Proof))
	for i, p := range ts.Proof {
		proof[i] = p
	}
	if err := merkle.Verify(q.TxRoot, raw.ID(), uint64(ts.Index), uint64(ts.TxCount), proof); err != nil {
		t.Fatalf("inclusion proof: %v", err)
	}
	var list struct{ Quants []api.Quant }
	tn.json("GET", "/v1/quants?from=0&limit=2", nil, 200, &list)
	if len(list.Quants) != 2 || list.Quants[0].Height != 0 || list.Quants[1].Height != 1 {
		t.Fatalf("quants page: %+v", list)
	}
	status, body = tn.do("GET", "/v1/quants/1", "", nil, "Accept", "application/octet-stream")
	if dq, err := quant.DecodeQuant(body); status != 200 || err != nil || dq.Hash() != q.Hash {
		t.Fatalf("quant as bytes: %d %v", status, err)
	}
	// ?results=refused: only the refused, each with its index, and the
	// counts.
	refusing := []*quant.Tx{signedTx(t, info.ID, key, `{"n":11}`, 11), one, signedTx(t, info.ID, key, `{"n":12}`, 12), one}
	status, body = tn.do("POST", "/v1/txs?results=refused", httpapi.BatchMediaType, httpapi.EncodeBatch(refusing))
	var refused api.Batch
	if err := json.Unmarshal(body, &refused); err != nil || status != 200 || refused.Accepted != 2 || refused.Rejected != 2 || len(refused.Results) != 2 ||
		refused.Results[0].Index == nil || *refused.Results[0].Index != 1 || refused.Results[1].Index == nil || *refused.Results[1].Index != 3 ||
		refused.Results[0].Error.Code != "duplicate" || refused.Results[0].ID != one.ID() {
		t.Fatalf("results=refused: %d %s", status, body)
	}
	status, body = tn.do("POST", "/v1/txs?results=refused", httpapi.BatchMediaType, httpapi.EncodeBatch([]*quant.Tx{signedTx(t, info.ID, key, `{"n":13}`, 13)}))
	if status != 200 || !bytes.Contains(body, []byte(`"results":[]`)) {
		t.Fatalf("results=refused, none refused: %d %s", status, body)
	}
	status, body = tn.do("POST", "/v1/txs?results=some", httpapi.BatchMediaType, httpapi.EncodeBatch(bin))
	if status != 400 || !bytes.Contains(body, []byte("invalid_request")) {
		t.Fatalf("results=some: %d %s", status, body)
	}
}

func TestBadInput(t *testing.T) {
	tn := startNode(t, func(c *testConfig) { c.MaxBodyBytes = 4096; c.PoolMaxTxs = 3 })
	var info api.Chain
	tn.json("GET", "/v1/chain", nil, 200, &info)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	otherChain := info.ID
	otherChain[0] ^= 1
	cases := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
		code                      string
	}{
		{"malformed JSON", "POST", "/inject", "application/json", []byte(`{"data":`), 400, "invalid_request"},
		{"no data", "POST", "/inject", "application/json", []byte(`{}`), 400, "invalid_request"},
		{"form without data", "POST", "/inject", "application/x-www-form-urlencoded", []byte(`x=1`), 400, "invalid_request"},
		{"wrong media type", "POST", "/inject", "text/plain", []byte(`data=1`), 415, "unsupported_media_type"},
		{"oversized body", "POST", "/inject", "application/json", []byte(`{"data":"` + strings.Repeat("a", 5000) + `"}`), 413, "too_large"},
		{"unknown field", "POST", "/v1/txs", "application/json", []byte(`{"chain":"` + info.ID.String() + `","bogus":1}`), 400, "invalid_request"},
		{"truncated canonical tx", "POST", "/v1/txs", "application/octet-stream", []byte{1, 2, 3}, 400, "malformed"},
		{"wrong chain", "POST", "/v1/txs", "application/json", mustJSON(api.FromTx(signedTx(t, otherChain, key, `1`, 1))), 422, "wrong_chain"},
		{"bad hash", "GET", "/v1/txs/xyz", "", nil, 400, "malformed"},
		{"unknown tx", "GET", "/v1/txs/" + strings.Repeat("ab", 32), "", nil, 404, "not_found"},
		{"unknown quant", "GET", "/v1/quants/99", "", nil, 404, "not_found"},
		{"bad height", "GET", "/v1/quants/-1", "", nil, 400, "invalid_request"},
		{"bad shared", "GET", "/v1/quants?shared=maybe", "", nil, 400, "invalid_request"},
		{"bad shared, one quant", "GET", "/v1/quants/0?shared=maybe", "", nil, 400, "invalid_request"},
		{"bad page", "GET", "/json-chain?limit=x", "", nil, 400, "invalid_request"},
		{"unknown route", "GET", "/nope", "", nil, 404, "not_found"},
		{"wrong method", "DELETE", "/inject", "", nil, 405, "method_not_allowed"},
		{"pprof closed", "GET", "/debug/pprof/", "", nil, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tn.do(tc.method, tc.path, tc.ctype, tc.body)
			tn.wantError(status, body, tc.status, tc.code)
		})
	}
	// A duplicate is a conflict; a full pool is 429 with Retry-After.
	tx := signedTx(t, info.ID, key, `"dup"`, 5)
	tn.json("POST", "/v1/txs", api.FromTx(tx), 201, nil)
	status, body := tn.do("POST", "/v1/txs", "application/json", mustJSON(api.FromTx(tx)))
	tn.wantError(status, body, 409, "duplicate")
	for i := 0; i < 2; i++ {
		tn.json("POST", "/inject", map[string]int{"data": i}, 201, nil)
	}
	status, body = tn.do("POST", "/inject", "application/json", []byte(`{"data":99}`))
	tn.wantError(status, body, 429, "pool_full")
	// A binary batch to a full pool is refused whole, before it is decoded.
	late := []*quant.Tx{signedTx(t, info.ID, key, `"late"`, 6), signedTx(t, info.ID, key, `"later"`, 7)}
	status, body = tn.do("POST", "/v1/txs", httpapi.BatchMediaType, httpapi.EncodeBatch(late))
	tn.wantError(status, body, 429, "pool_full")
	// After all that the node is up and its chain intact.
	var leap api.SeedQuant
	tn.json("GET", "/leap", nil, 200, &leap)
	if len(leap.Data) != 3 {
		t.Fatalf("leap after bad input holds %d txs, want 3", len(leap.Data))
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestEvents(t *testing.T) {
	tn := startNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", tn.base+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	next := func() (string, api.Event) {
		var kind string
		for lines.Scan() {
			l := lines.Text()
			if k, ok := strings.CutPrefix(l, "event: "); ok {
				kind = k
			}
			if d, ok := strings.CutPrefix(l, "data: "); ok && kind != "" {
				var e api.Event
				if err := json.Unmarshal([]byte(d), &e); err != nil {
					t.Fatalf("event data %q: %v", d, err)
				}
				return kind, e
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return "", api.Event{}
	}
	var sub api.Submitted
	tn.json("POST", "/inject", map[string]string{"data": "hello"}, 201, &sub)
	kind, e := next()
	if kind != "tx" || e.TxID == nil || *e.TxID != sub.ID {
		t.Fatalf("first event %s %+v, want the tx", kind, e)
	}
	var leap api.SeedQuant
	tn.json("GET", "/leap", nil, 200, &leap)
	kind, e = next()
	if kind != "quant" || e.Header == nil || e.Header.Hash.String() != leap.Hash || e.Header.TxCount != 1 {
		t.Fatalf("second event %s %+v, want the quant", kind, e)
	}
}

// TestMetricsAndProfiling: /metrics serves the registry the API was given
// with the API's own series; the profiler opens only to the debug token.
func TestMetricsAndProfiling(t *testing.T) {
	tn := startNode(t, func(c *testConfig) { c.DebugToken = "s3cret" })
	height := prometheus.NewGauge(prometheus.GaugeOpts{Name: "qbc_test_height"})
	tn.reg.MustRegister(height)
	height.Set(7)
	tn.json("GET", "/leap", nil, 200, nil)
	tn.do("GET", "/no/such/route", "", nil)
	tn.do("DELETE", "/leap", "", nil)
	tn.do("GET", "/v1/chains/"+tn.chainID().String()+"/stats", "", nil)
	status, body := tn.do("GET", "/metrics", "", nil)
	for _, want := range []string{"qbc_test_height 7",
		`qbc_http_requests_total{route="GET /leap",status="200"} 1`, `qbc_http_request_duration_seconds_count{route="GET /leap"} 1`,
		// Requests no route takes are counted under one label, whatever
		// their path.
		`qbc_http_requests_total{route="unmatched",status="404"} 1`, `qbc_http_requests_total{route="unmatched",status="405"} 1`,
		`qbc_http_requests_total{route="GET /v1/chains/{chain}/stats",status="200"} 1`,
	} {
		if status != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), `route="/"`) || strings.Contains(string(body), "/no/such/route") {
		t.Fatalf("/metrics names the fallback route or an unmatched path:\n%s", body)
	}
	status, body = tn.do("GET", "/debug/pprof/", "", nil)
	tn.wantError(status, body, 401, "unauthorized")
	status, _ = tn.do("GET", "/debug/pprof/", "", nil, "Authorization", "Bearer s3cret")
	if status != 200 {
		t.Fatalf("pprof with token: %d", status)
	}
}

// TestOpenAPIMatchesRoutes keeps the OpenAPI document and the routes in
// step: every documented operation answers (not 404/405), and every route
// the seed and /v1 promise is documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	tn := startNode(t, nil)
	status, body := tn.do("GET", "/v1/openapi.json", "", nil)
	if status != 200 {
		t.Fatalf("openapi: %d", status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi document: %v (version %q)", err, doc.OpenAPI)
	}
	want := []string{"POST /inject", "GET /leap", "POST /leap", "GET /json-chain", "GET /chain", "GET /stats",
		"GET /discover", "POST /discover", "GET /v1/chain", "GET /v1/quants", "GET /v1/quants/{ref}",
		"POST /v1/txs", "GET /v1/txs/{id}", "GET /v1/events", "GET /v1/openapi.json", "GET /metrics", "GET /healthz",
		"GET /v1/chains", "POST /v1/chains", "GET /v1/chains/{chain}", "DELETE /v1/chains/{chain}", "GET /v1/chains/{chain}/stats", "POST /v1/chains/{chain}/txs",
		"GET /v1/chains/{chain}/quants", "POST /v1/chains/{chain}/leap", "GET /v1/chains/{chain}/events", "POST /v1/leap", "GET /v1/stats", "GET /v1/node"}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for _, w := range want {
		if !documented[w] {
			t.Errorf("%s is not in the OpenAPI document", w)
		}
	}
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		if method == "PARAMETERS" {
			continue
		}
		path = strings.NewReplacer("{ref}", "0", "{id}", strings.Repeat("00", 32), "{chain}", tn.chainID().String()).Replace(path)
		if method == "GET" && strings.HasSuffix(path, "/events") {
			continue // a stream; TestEvents covers it
		}
		// An unknown transaction, record key or zk key file is 404 too:
		// the body names it.
		status, body := tn.do(method, path, "application/json", []byte(`{}`))
		if status == 405 || (status == 404 && !strings.Contains(string(body), "no transaction") && !strings.Contains(string(body), "no record") && !strings.Contains(string(body), "no key")) {
			t.Errorf("documented %s answers %d", op, status)
		}
	}
}
