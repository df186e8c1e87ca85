package quant

import (
	"encoding/json"
	"testing"
)

// TestFillRules: only "name" is needed; what a new chain's rules leave out
// comes from the default chain and the engine's defaults, field by field,
// and what they give is kept.
func TestFillRules(t *testing.T) {
	def := DefaultRules("qbc", 1767225600000)
	def.Engine = "pow"
	def.EngineParams = json.RawMessage(`{"initial_difficulty":65536,"min_difficulty":1024,"target_ms":10000,"window":16}`)
	def.Schema = json.RawMessage(`{"type":"object"}`)
	engineParams := func(engine string) json.RawMessage {
		switch engine {
		case "pow":
			return json.RawMessage(`{"initial_difficulty":1,"min_difficulty":1,"target_ms":1,"window":0}`)
		case "raft":
			return json.RawMessage(`{"members":null,"max_quant_interval_ms":5}`)
		}
		return nil
	}
	const now = 1800000000000
	for _, tc := range []struct {
		name, rules string
		check       func(t *testing.T, r Rules)
	}{
		{"name only", `{"name":"temps"}`, func(t *testing.T, r Rules) {
			want := def
			want.Name, want.Created, want.Schema = "temps", now, nil
			a, _ := want.Encode()
			b, _ := r.Encode()
			if string(a) != string(b) {
				t.Errorf("got  %s\nwant %s", b, a)
			}
		}},
		{"created given", `{"name":"temps","created":5}`, func(t *testing.T, r Rules) {
			if r.Created != 5 {
				t.Errorf("created %d", r.Created)
			}
		}},
		{"pow params key by key", `{"name":"t","engine_params":{"target_ms":500}}`, func(t *testing.T, r Rules) {
			if string(r.EngineParams) != `{"initial_difficulty":65536,"min_difficulty":1024,"target_ms":500,"window":16}` {
				t.Errorf("engine_params %s", r.EngineParams)
			}
		}},
		{"another engine gets its own defaults", `{"name":"t","engine":"raft","engine_params":{"members":[{"id":"m0","key":"ab"}]}}`, func(t *testing.T, r Rules) {
			if r.Engine != "raft" || string(r.EngineParams) != `{"max_quant_interval_ms":5,"members":[{"id":"m0","key":"ab"}]}` {
				t.Errorf("engine %s, engine_params %s", r.Engine, r.EngineParams)
			}
		}},
		{"a given parameter wins", `{"name":"t","engine":"raft","engine_params":{"max_quant_interval_ms":50}}`, func(t *testing.T, r Rules) {
			if string(r.EngineParams) != `{"max_quant_interval_ms":50}` {
				t.Errorf("engine_params %s", r.EngineParams)
			}
		}},
		{"an engine without defaults", `{"name":"t","engine":"other"}`, func(t *testing.T, r Rules) {
			if r.Engine != "other" || len(r.EngineParams) != 0 {
				t.Errorf("engine %s, engine_params %s", r.Engine, r.EngineParams)
			}
		}},
		{"limits and policy given", `{"name":"t","write_policy":"signed","max_data_bytes":100}`, func(t *testing.T, r Rules) {
			if r.WritePolicy != "signed" || r.MaxDataBytes != 100 || r.MaxQuantTxs != def.MaxQuantTxs {
				t.Errorf("%+v", r)
			}
		}},
		{"schema given", `{"name":"t","schema":{"type":"number"}}`, func(t *testing.T, r Rules) {
			if string(r.Schema) != `{"type":"number"}` {
				t.Errorf("schema %s", r.Schema)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := FillRules([]byte(tc.rules), &def, engineParams, now)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
	for _, bad := range []string{`[]`, `null`, `"temps"`, `{"name":"t","colour":"red"}`, `{"name":"t","engine":5}`, `{`} {
		if _, err := FillRules([]byte(bad), &def, engineParams, now); CodeOf(err) != CodeBadRules {
			t.Errorf("%s: %v, want bad_rules", bad, err)
		}
	}
	// The default chain's writers go only with its policy.
	al := def
	al.WritePolicy, al.Writers = PolicyAllowlist, []string{"ab"}
	if r, err := FillRules([]byte(`{"name":"t","write_policy":"open"}`), &al, engineParams, now); err != nil || r.Writers != nil {
		t.Errorf("writers kept with another policy: %v %v", r.Writers, err)
	}
	if r, err := FillRules([]byte(`{"name":"t"}`), &al, engineParams, now); err != nil || len(r.Writers) != 1 {
		t.Errorf("writers not kept with the default policy: %v %v", r.Writers, err)
	}
}
