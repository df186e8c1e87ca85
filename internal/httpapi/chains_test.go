package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
)

const tempsRules = `{"name":"temps","created":1700000000001,"engine":"pow",
	"engine_params":{"target_ms":1000,"initial_difficulty":16,"min_difficulty":1,"window":0},
	"write_policy":"open","max_data_bytes":1024,"max_quant_txs":100,"max_quant_bytes":2097152,
	"max_time_drift_ms":120000,"schema":{"type":"object","required":["temp"],"properties":{"temp":{"type":"number"}}}}`

// TestChainRoutes: a chain created over the API is listed, served under
// /v1/chains/{id} with its own schema, and kept apart from the default
// chain; bad rules and unknown chains get clear errors.
func TestChainRoutes(t *testing.T) {
	tn := startNode(t, nil)
	status, body := tn.do("POST", "/v1/chains", "application/json", []byte(tempsRules))
	if status != 201 {
		t.Fatalf("POST /v1/chains: %d %s", status, body)
	}
	var c api.Chain
	if err := json.Unmarshal(body, &c); err != nil || c.Stats.Name != "temps" || c.Stats.Height != 0 {
		t.Fatalf("created chain: %v %s", err, body)
	}
	id := c.ID.String()
	status, body = tn.do("POST", "/v1/chains", "application/json", []byte(tempsRules))
	tn.wantError(status, body, 409, "duplicate")

	var list []api.Chain
	tn.json("GET", "/v1/chains", nil, 200, &list)
	if len(list) != 2 || list[0].ID != tn.chainID() || list[1].ID != c.ID {
		t.Fatalf("GET /v1/chains: %d chains", len(list))
	}
	// The chain's schema applies on its routes only.
	tx := func(chain, data string, nonce int) []byte {
		return fmt.Appendf(nil, `{"chain":%q,"time":%d,"nonce":%d,"kind":"json","data":%s}`, chain, time.Now().UnixMilli(), nonce, data)
	}
	status, body = tn.do("POST", "/v1/chains/"+id+"/txs", "application/json", tx(id, `{"temp":"warm"}`, 1))
	tn.wantError(status, body, 422, "bad_data")
	status, body = tn.do("POST", "/v1/chains/"+id+"/txs", "application/json", tx(id, `{"temp":20}`, 2))
	if status != 201 && status != 202 {
		t.Fatalf("a temperature: %d %s", status, body)
	}
	def := tn.chainID().String()
	status, body = tn.do("POST", "/v1/txs", "application/json", tx(def, `{"temp":"warm"}`, 3))
	if status != 201 && status != 202 {
		t.Fatalf("free data on the default chain: %d %s", status, body)
	}
	// A transaction for one chain is refused on another's route.
	status, body = tn.do("POST", "/v1/chains/"+id+"/txs", "application/json", tx(def, `{"temp":1}`, 4))
	tn.wantError(status, body, 422, "wrong_chain")
	var q api.Quant
	tn.json("POST", "/v1/chains/"+id+"/leap", nil, 200, &q)
	if q.Chain != c.ID || q.Height != 1 || len(q.Txs) != 1 {
		t.Fatalf("leap on temps: chain %s height %d with %d txs", q.Chain, q.Height, len(q.Txs))
	}
	var st api.Stats
	tn.json("GET", "/v1/chains/"+id+"/stats", nil, 200, &st)
	if st.Height != 1 || st.Txs != 1 {
		t.Fatalf("temps stats: %+v", st)
	}
	tn.json("GET", "/v1/stats", nil, 200, &st)
	if st.Chain != tn.chainID() || st.Height != 0 || st.PoolTxs != 1 {
		t.Fatalf("default chain stats: %+v", st)
	}

	// A fork of the default chain at its bang; its lineage names the bang.
	fork := fmt.Appendf(nil, `{"height":0,"rules":%s}`, strings.Replace(tempsRules, `"temps"`, `"temps-fork"`, 1))
	status, body = tn.do("POST", "/v1/fork", "application/json", fork)
	if status != 201 {
		t.Fatalf("POST /v1/fork: %d %s", status, body)
	}
	var fc api.Chain
	json.Unmarshal(body, &fc)
	var lin []api.Ancestor
	tn.json("GET", "/v1/chains/"+fc.ID.String()+"/lineage", nil, 200, &lin)
	if len(lin) != 1 || !lin[0].Verified || lin[0].Chain != tn.chainID() || lin[0].Hash != tn.chainID() {
		t.Fatalf("lineage: %+v", lin)
	}
	tn.json("GET", "/v1/lineage", nil, 200, &lin)
	if len(lin) != 0 {
		t.Fatalf("the default chain's lineage: %+v", lin)
	}
	status, body = tn.do("POST", "/v1/chains/"+id+"/fork", "application/json", []byte(`{"height":0,"rules":{}}`))
	tn.wantError(status, body, 422, "bad_rules")
	status, body = tn.do("POST", "/v1/chains/"+id+"/fork", "application/json", fmt.Appendf(nil, `{"height":50,"rules":%s}`, tempsRules))
	tn.wantError(status, body, 400, "invalid_request")

	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/v1/chains/" + strings.Repeat("ab", 32) + "/stats", "", 404, "not_found"},
		{"GET", "/v1/chains/xyz/quants", "", 400, "invalid_request"},
		{"POST", "/v1/chains", `{"name":"x","created":1,"engine":"nope","write_policy":"open","max_data_bytes":10,"max_quant_txs":1,"max_quant_bytes":2097152,"max_time_drift_ms":1}`, 422, "bad_rules"},
		{"POST", "/v1/chains", strings.Replace(tempsRules, `"type":"object"`, `"type":12`, 1), 422, "bad_rules"},
		{"POST", "/v1/chains", `{"name":"x","colour":"red"}`, 422, "bad_rules"},
		{"POST", "/v1/chains", `not json`, 422, "bad_rules"},
	} {
		status, body := tn.do(tc.method, tc.path, "application/json", []byte(tc.body))
		tn.wantError(status, body, tc.status, tc.code)
	}
}

// TestNodeInfo: GET /v1/node tells the node's id, key, version and
// addresses, and its replica of each ordered chain it is a member of.
func TestNodeInfo(t *testing.T) {
	tn := startNode(t, nil)
	var got api.NodeInfo
	tn.json("GET", "/v1/node", nil, 200, &got)
	if got.ID != fakeInfo.ID || got.Key != fakeInfo.Key || got.Version != fakeInfo.Version ||
		got.Addr != fakeInfo.Addr || got.Advertise != fakeInfo.Advertise || got.Replicas == nil || len(got.Replicas) != 0 {
		t.Fatalf("GET /v1/node: %+v", got)
	}
	// A chain with a replica (a raft member) is listed with its address.
	var made api.Chain
	tn.json("POST", "/v1/chains", map[string]string{"name": "members"}, 201, &made)
	l, _ := tn.node.Ledger(made.ID)
	l.Node.(*fakeChain).raft.Store(&api.RaftStatus{ID: "m1", Addr: "10.0.0.7:7400"})
	tn.json("GET", "/v1/node", nil, 200, &got)
	want := api.NodeReplica{Chain: made.ID, Engine: "pow", Member: "m1", Addr: "10.0.0.7:7400"}
	if len(got.Replicas) != 1 || got.Replicas[0] != want {
		t.Fatalf("replicas %+v, want [%+v]", got.Replicas, want)
	}
	status, body := tn.do("POST", "/v1/node", "application/json", nil)
	tn.wantError(status, body, 405, api.CodeMethodNotAllowed)
}

// TestSubmitCommitted: a submission the node answers once committed (an
// ordered chain's member) answers "committed"; one left in the pool,
// "pending". /inject keeps its shape.
func TestSubmitCommitted(t *testing.T) {
	tn := startNode(t, nil)
	var sub api.Submitted
	tn.json("POST", "/v1/txs", map[string]any{"data": map[string]int{"n": 1}}, 201, &sub)
	if sub.Status != "pending" {
		t.Fatalf("pooled: %+v", sub)
	}
	tn.node.commits.Store(true)
	for _, path := range []string{"/v1/txs", "/inject", "/v1/chains/" + tn.chainID().String() + "/inject"} {
		var raw map[string]json.RawMessage
		tn.json("POST", path, map[string]any{"data": map[string]string{"path": path}}, 201, &raw)
		if len(raw) != 2 || string(raw["status"]) != `"committed"` || raw["id"] == nil {
			t.Fatalf("%s, committed at once: %s", path, raw)
		}
	}
}

// TestAdminToken: with an admin token configured, creating, forking and
// leaving chains need it as a bearer token (401 unauthorized otherwise,
// and nothing changes); every other route stays open.
func TestAdminToken(t *testing.T) {
	tn := startNode(t, func(c *testConfig) { c.AdminToken = "adm1n" })
	def := tn.chainID().String()
	fork := fmt.Appendf(nil, `{"height":0,"rules":%s}`, tempsRules)
	for _, tc := range []struct {
		method, path string
		body         []byte
	}{
		{"POST", "/v1/chains", []byte(tempsRules)},
		{"POST", "/v1/fork", fork},
		{"POST", "/v1/chains/" + def + "/fork", fork},
		{"DELETE", "/v1/chains/" + def, nil},
	} {
		for _, auth := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "adm1n"}, {"Authorization", "Bearer adm1n2"}} {
			status, body := tn.do(tc.method, tc.path, "application/json", tc.body, auth...)
			tn.wantError(status, body, 401, "unauthorized")
		}
	}
	if n := len(tn.node.Ledgers()); n != 1 {
		t.Fatalf("%d chains after refused admin requests, want 1", n)
	}
	// Reads and transactions need no token.
	tn.json("GET", "/v1/chains", nil, 200, nil)
	tn.json("POST", "/v1/txs", map[string]any{"data": map[string]int{"n": 1}}, 201, nil)

	admin := []string{"Authorization", "Bearer adm1n"}
	status, body := tn.do("POST", "/v1/chains", "application/json", []byte(tempsRules), admin...)
	if status != 201 {
		t.Fatalf("create with the token: %d %s", status, body)
	}
	var c api.Chain
	json.Unmarshal(body, &c)
	if status, body := tn.do("POST", "/v1/chains/"+def+"/fork", "application/json", fork, admin...); status != 201 {
		t.Fatalf("fork with the token: %d %s", status, body)
	}
	if status, body := tn.do("DELETE", "/v1/chains/"+c.ID.String(), "", nil, admin...); status != 204 {
		t.Fatalf("leave with the token: %d %s", status, body)
	}
}

// TestLeaveChainRoute: DELETE /v1/chains/{chain} leaves a chain (204, then
// 404 for it); the default chain and a fork's parent are refused with 400
// not_supported; an unknown chain is 404, a bad id 400.
func TestLeaveChainRoute(t *testing.T) {
	tn := startNode(t, nil)
	var c api.Chain
	tn.json("POST", "/v1/chains", json.RawMessage(tempsRules), 201, &c)
	id := c.ID.String()
	var f api.Chain
	tn.json("POST", "/v1/chains/"+id+"/fork", json.RawMessage(fmt.Sprintf(`{"height":0,"rules":%s}`,
		strings.Replace(tempsRules, `"temps"`, `"temps-fork"`, 1))), 201, &f)

	status, body := tn.do("DELETE", "/v1/chains/"+tn.chainID().String(), "", nil)
	tn.wantError(status, body, 400, "not_supported")
	status, body = tn.do("DELETE", "/v1/chains/"+id, "", nil)
	tn.wantError(status, body, 400, "not_supported")
	if !strings.Contains(string(body), f.ID.String()) {
		t.Fatalf("refusal to leave a fork's parent does not name the fork: %s", body)
	}
	for _, leave := range []string{f.ID.String(), id} {
		if status, body := tn.do("DELETE", "/v1/chains/"+leave, "", nil); status != 204 || len(body) != 0 {
			t.Fatalf("DELETE /v1/chains/%s: %d %s", leave, status, body)
		}
	}
	status, body = tn.do("GET", "/v1/chains/"+id, "", nil)
	tn.wantError(status, body, 404, "not_found")
	status, body = tn.do("DELETE", "/v1/chains/"+id, "", nil)
	tn.wantError(status, body, 404, "not_found")
	status, body = tn.do("DELETE", "/v1/chains/xyz", "", nil)
	tn.wantError(status, body, 400, "invalid_request")
	status, body = tn.do("PUT", "/v1/chains/"+id, "", nil)
	tn.wantError(status, body, 405, "method_not_allowed")
	var list []api.Chain
	tn.json("GET", "/v1/chains", nil, 200, &list)
	if len(list) != 1 {
		t.Fatalf("%d chains after leaving two, want 1", len(list))
	}
}
