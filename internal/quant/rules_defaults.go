package quant

import (
	"bytes"
	"encoding/json"
)

// FillRules reads the rules of a new chain as a user writes them, where only
// "name" is needed, and fills in what they leave out: every field from def
// (the node's default chain's rules) except name, schema,
// encrypted_fields, parent and writers (writers only with def's write_policy, when that is left out
// too); "created" from now (Unix ms), so two chains made from one short
// file are two chains; and engine_params key by key, from the chosen
// engine's defaults (engineParams(name); nil for none) overlaid, when the
// engine is def's, with def's own parameters. Then it parses the result as
// ParseRules does.
//
// FillRules is for the creation boundary (the API, the command line): a
// stored bang's rules are decoded exactly as stored, by DecodeRules.
func FillRules(b []byte, def *Rules, engineParams func(engine string) json.RawMessage, now int64) (Rules, error) {
	if len(b) > MaxRulesSize {
		return Rules{}, Errorf(CodeTooLarge, "rules are %d bytes, limit %d", len(b), MaxRulesSize)
	}
	var given map[string]json.RawMessage
	if err := json.Unmarshal(b, &given); err != nil || given == nil {
		return Rules{}, Errorf(CodeBadRules, "rules: want a JSON object with at least a \"name\"")
	}
	d := *def
	d.Name, d.Schema, d.Parent = "", nil, nil
	d.EncryptedFields = nil
	if _, ok := given["write_policy"]; ok {
		d.Writers = nil
	}
	d.Created = now
	engine := d.Engine
	if raw, ok := given["engine"]; ok {
		if err := json.Unmarshal(raw, &engine); err != nil {
			return Rules{}, Errorf(CodeBadRules, "engine: %v", err)
		}
	}
	params := objectOf(engineParams(engine))
	if engine == def.Engine {
		params = overlay(params, objectOf(def.EngineParams))
	}
	if raw, ok := given["engine_params"]; ok {
		if p := objectOf(raw); p != nil {
			params = overlay(params, p)
		} else {
			params = nil // not an object: ParseRules names the mistake
		}
	}
	base, err := json.Marshal(&d)
	if err != nil {
		return Rules{}, Errorf(CodeBadRules, "rules: %v", err)
	}
	var filled map[string]json.RawMessage
	if err := json.Unmarshal(base, &filled); err != nil {
		return Rules{}, Errorf(CodeBadRules, "rules: %v", err)
	}
	delete(filled, "name")
	delete(filled, "engine_params")
	for k, v := range given {
		filled[k] = v
	}
	if params != nil {
		p, err := json.Marshal(params)
		if err != nil {
			return Rules{}, Errorf(CodeBadRules, "engine_params: %v", err)
		}
		filled["engine_params"] = p
	}
	out, err := json.Marshal(filled)
	if err != nil {
		return Rules{}, Errorf(CodeBadRules, "rules: %v", err)
	}
	return ParseRules(out)
}

// objectOf decodes a JSON object, dropping null members; nil if b is not
// an object.
func objectOf(b json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(b) == 0 || json.Unmarshal(b, &m) != nil || m == nil {
		return nil
	}
	for k, v := range m {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(m, k)
		}
	}
	return m
}

// overlay returns base with top's members set over it.
func overlay(base, top map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		out[k] = v
	}
	return out
}
