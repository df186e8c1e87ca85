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
	// The default chain's engine parameters, and those it predates (pow's
	// retarget and max_step, from pow.NewChainParams).
	var gotParams, defParams map[string]any
	json.Unmarshal(got.EngineParams, &gotParams)
	json.Unmarshal(def.EngineParams, &defParams)
	for k, v := range defParams {
		if gotParams[k] != v {
			t.Errorf("engine_params.%s = %v, the default chain's %v", k, gotParams[k], v)
		}
	}
	if gotParams["retarget"] != 2.0 || gotParams["max_step"] != 3.0 {
		t.Errorf("engine_params %s: want retarget 2 and max_step 3 on a new pow chain", got.EngineParams)
	}
	if got.Name != "short" || got.Engine != def.Engine ||
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
