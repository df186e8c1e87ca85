package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/httpapi"
)

// TestREADMEStatuses walks the refusals whose status the README and
// openapi.json promise and that once answered otherwise: a fork past the
// tip (400), a chain past max_chains (422, not 413: the request is not too
// large), an unknown quant (404), an empty batch in either encoding (400,
// not 200 with no results). Every message reads once, without a doubled
// prefix (a schema that does not compile once said "schema: schema: ...").
func TestREADMEStatuses(t *testing.T) {
	tn := startNode(t, func(c *testConfig) { c.MaxChains = 2 })
	id := tn.chainID().String()
	third := strings.Replace(tempsRules, `"temps"`, `"third"`, 1)
	fork := fmt.Sprintf(`{"height":99,"rules":%s}`, third)
	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
	}{
		{"schema that does not compile", "POST", "/v1/chains", "application/json",
			strings.Replace(third, `"type":"object"`, `"type":12`, 1), 422, "bad_rules"},
		{"fork past the tip", "POST", "/v1/chains/" + id + "/fork", "application/json", fork, 400, "invalid_request"},
		// The second and last chain the node may follow.
		{"second chain", "POST", "/v1/chains", "application/json", tempsRules, 201, ""},
		{"max_chains reached", "POST", "/v1/chains", "application/json", third, 422, "limit_exceeded"},
		{"unknown quant height", "GET", "/v1/quants/99", "", "", 404, "not_found"},
		{"unknown quant hash", "GET", "/v1/quants/" + strings.Repeat("ab", 32), "", "", 404, "not_found"},
		{"unknown quant on a chain route", "GET", "/v1/chains/" + id + "/quants/99", "", "", 404, "not_found"},
		{"empty JSON batch", "POST", "/v1/txs", "application/json", "[]", 400, "invalid_request"},
		{"empty binary batch", "POST", "/v1/txs", httpapi.BatchMediaType, "", 400, "invalid_request"},
		{"bad peer address", "POST", "/discover", "application/x-www-form-urlencoded", "host=nohost", 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn.t = t
			status, body := tn.do(tc.method, tc.path, tc.ctype, []byte(tc.body))
			if tc.code == "" {
				if status != tc.status {
					t.Fatalf("status %d, want %d: %s", status, tc.status, body)
				}
				return
			}
			tn.wantError(status, body, tc.status, tc.code)
			var e api.Error
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			noDoubledPrefix(t, e.Err.Message)
		})
	}
}

// noDoubledPrefix fails when a message repeats its first "word:" prefix
// ("chain: chain: ...", "invalid request: invalid request: ...").
func noDoubledPrefix(t *testing.T, msg string) {
	t.Helper()
	for i := 0; i < len(msg); i++ {
		j := strings.Index(msg[i:], ": ")
		if j <= 0 {
			return
		}
		prefix := msg[i : i+j+2]
		if strings.HasPrefix(msg[i+j+2:], prefix) && strings.TrimSpace(prefix) != ":" {
			t.Fatalf("doubled prefix %q in %s", prefix, msg)
		}
		i += j + 1
	}
}
