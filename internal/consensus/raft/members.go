package raft

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/qbc-chain/qbc/internal/quant"
)

// memberSpec is a member as the rules sent to create a chain may give it:
// by its node's key, as the bang holds it, or by its node's API address,
// where the creating node fetches the key.
type memberSpec struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Addr string `json:"addr"`
}

// ResolveMembers returns params, a new chain's engine parameters, with
// each member given by its node's address ({"addr":"HOST:PORT"}, with an
// optional "id") given by the key keyAt fetches from that node instead,
// and each member without an id given "m0", "m1", ... by its position.
// So a bang, hashed, lists ids and keys only, as ParseParams wants them.
// Parameters whose members are not a list of objects are returned as they
// are, for ParseParams to name the mistake. The error, a CodeBadRules
// RuleError, names the member and, for a key not fetched, its address.
// ResolveMembers does no I/O itself: keyAt does, bounded by the caller.
func ResolveMembers(ctx context.Context, params json.RawMessage, keyAt func(ctx context.Context, addr string) (ed25519.PublicKey, error)) (json.RawMessage, error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil || p == nil {
		return params, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(p["members"], &raw); err != nil || len(raw) > MaxMembers {
		return params, nil
	}
	members := make([]Member, len(raw))
	for i, b := range raw {
		var m memberSpec
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, quant.Errorf(quant.CodeBadRules, "engine_params: members[%d]: %v", i, err)
		}
		if m.ID == "" {
			m.ID = "m" + strconv.Itoa(i)
		}
		switch {
		case m.Addr != "" && m.Key != "":
			return nil, quant.Errorf(quant.CodeBadRules, "engine_params: members[%d]: give key or addr, not both", i)
		case m.Addr != "":
			k, err := keyAt(ctx, m.Addr)
			if err != nil {
				return nil, quant.Errorf(quant.CodeBadRules, "engine_params: members[%d].addr: no node key from %s: %v", i, m.Addr, err)
			}
			if len(k) != ed25519.PublicKeySize {
				return nil, quant.Errorf(quant.CodeBadRules, "engine_params: members[%d].addr: %s told no Ed25519 public key", i, m.Addr)
			}
			m.Key = hex.EncodeToString(k)
		}
		members[i] = Member{ID: m.ID, Key: m.Key}
	}
	b, err := json.Marshal(members)
	if err != nil {
		return nil, quant.Errorf(quant.CodeBadRules, "engine_params: members: %v", err)
	}
	p["members"] = b
	out, err := json.Marshal(p)
	if err != nil {
		return nil, quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
	}
	return out, nil
}
