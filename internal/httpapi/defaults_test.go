package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestCreateChainDefaults: rules with only a name make a chain with the
// default chain's limits and engine parameters; the same short file twice
// makes two chains; a created time given makes it one.
func TestCreateChainDefaults(t *testing.T) {
	tn := startNode(t, nil)
	var a, b api.Chain
	tn.json("POST", "/v1/chains", json.RawMessage(`{"name":"short"}`), 201, &a)
	tn.json("POST", "/v1/chains", json.RawMessage(`{"name":"short"}`), 201, &b)
	if a.ID == b.ID {
		t.Fatalf("two chains from one short file are one chain %s", a.ID)
	}
	var got quant.Rules
	if err := json.Unmarshal(a.Rules, &got); err != nil {
		t.Fatal(err)
	}
	def, err := quant.DecodeRules(tn.node.Default().Chain.Bang().Rules)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "short" || got.Engine != def.Engine || string(got.EngineParams) != string(def.EngineParams) ||
		got.MaxQuantBytes != def.MaxQuantBytes || got.WritePolicy != def.WritePolicy || got.Created == def.Created {
		t.Fatalf("rules %s, default chain's %+v", a.Rules, def)
	}
	fixed := json.RawMessage(`{"name":"fixed","created":1767225600042,"write_policy":"signed"}`)
	tn.json("POST", "/v1/chains", fixed, 201, nil)
	status, body := tn.do("POST", "/v1/chains", "application/json", fixed)
	tn.wantError(status, body, 409, "duplicate")
	// Raft's members have no default; the refusal names them.
	status, body = tn.do("POST", "/v1/chains", "application/json", []byte(`{"name":"r","engine":"raft"}`))
	tn.wantError(status, body, 422, "bad_rules")
	if !json.Valid(body) || !strings.Contains(string(body), "members") {
		t.Errorf("raft without members: %s", body)
	}
}
