package raft

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestResolveMembers: members given by their node's address get the key
// that node tells, members without an id get one by position, and what
// cannot be resolved is refused naming the member and the address.
func TestResolveMembers(t *testing.T) {
	ks := keys(3)
	hexKey := func(i int) string { return hex.EncodeToString(ks[i].Public().(ed25519.PublicKey)) }
	nodes := map[string]ed25519.PublicKey{
		"10.0.0.1:5000": ks[0].Public().(ed25519.PublicKey),
		"10.0.0.2:5000": ks[1].Public().(ed25519.PublicKey),
		"short:5000":    ed25519.PublicKey{1, 2, 3},
	}
	var asked []string
	keyAt := func(_ context.Context, addr string) (ed25519.PublicKey, error) {
		asked = append(asked, addr)
		if k, ok := nodes[addr]; ok {
			return k, nil
		}
		return nil, errors.New("connection refused")
	}
	for _, tc := range []struct {
		name, params, want, wantErr string
		asks                        int
	}{
		{"by address, ids by position", `{"members":[{"addr":"10.0.0.1:5000"},{"addr":"10.0.0.2:5000","id":"b"},{"key":"` + hexKey(2) + `"}],"max_quant_interval_ms":5}`,
			`{"max_quant_interval_ms":5,"members":[{"id":"m0","key":"` + hexKey(0) + `"},{"id":"b","key":"` + hexKey(1) + `"},{"id":"m2","key":"` + hexKey(2) + `"}]}`, "", 2},
		{"keys only: no fetch", `{"members":[{"id":"x","key":"` + hexKey(2) + `"}]}`,
			`{"members":[{"id":"x","key":"` + hexKey(2) + `"}]}`, "", 0},
		{"members not a list: as given", `{"members":"all"}`, `{"members":"all"}`, "", 0},
		{"unreachable", `{"members":[{"addr":"10.0.0.1:5000"},{"addr":"10.0.0.9:5000"}]}`, "",
			"engine_params: members[1].addr: no node key from 10.0.0.9:5000: connection refused", 2},
		{"not a key", `{"members":[{"addr":"short:5000"}]}`, "", "engine_params: members[0].addr: short:5000 told no Ed25519 public key", 1},
		{"key and addr", `{"members":[{"addr":"10.0.0.1:5000","key":"` + hexKey(0) + `"}]}`, "", "engine_params: members[0]: give key or addr, not both", 0},
		{"unknown field", `{"members":[{"host":"10.0.0.1"}]}`, "", `engine_params: members[0]: json: unknown field "host"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked = nil
			got, err := ResolveMembers(t.Context(), json.RawMessage(tc.params), keyAt)
			if tc.wantErr != "" {
				var re *quant.RuleError
				if !errors.As(err, &re) || re.Code != quant.CodeBadRules || re.Description != tc.wantErr {
					t.Fatalf("error %v, want bad_rules %q", err, tc.wantErr)
				}
			} else if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v\nwant %s", got, err, tc.want)
			}
			if len(asked) != tc.asks {
				t.Fatalf("asked %v, want %d fetches", asked, tc.asks)
			}
		})
	}
}
