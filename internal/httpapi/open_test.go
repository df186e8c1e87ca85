package httpapi_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
)

// TestOpenRecordsOnAnyChain: an unsigned record goes to a created chain as
// easily as the seed's /inject goes to the default one, by
// /v1/chains/{id}/inject or by /v1/chains/{id}/txs without chain, time or
// nonce, and two equal readings are two transactions, not one duplicate.
func TestOpenRecordsOnAnyChain(t *testing.T) {
	tn := startNode(t, nil)
	var c api.Chain
	tn.json("POST", "/v1/chains", json.RawMessage(tempsRules), 201, &c)
	id := c.ID.String()

	for _, tc := range []struct {
		name, path, contentType, body string
	}{
		{"inject JSON", "/v1/chains/" + id + "/inject", "application/json", `{"data":{"temp":20}}`},
		{"inject form", "/v1/chains/" + id + "/inject", "application/x-www-form-urlencoded", "data=" + url.QueryEscape(`{"temp":20}`)},
		{"txs without time or nonce", "/v1/chains/" + id + "/txs", "application/json", `{"data":{"temp":20}}`},
		{"txs batch without time or nonce", "/v1/chains/" + id + "/txs", "application/json", `[{"data":{"temp":20}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			for range 2 { // the same reading twice
				status, body := tn.do("POST", tc.path, tc.contentType, []byte(tc.body))
				var sub api.Submitted
				if tc.body[0] == '[' {
					var b api.Batch
					if status != 200 || json.Unmarshal(body, &b) != nil || b.Accepted != 1 {
						t.Fatalf("status %d: %s", status, body)
					}
					sub.ID = b.Results[0].ID
				} else if status != 201 || json.Unmarshal(body, &sub) != nil {
					t.Fatalf("status %d: %s", status, body)
				}
				var st api.TxStatus
				tn.json("GET", "/v1/chains/"+id+"/txs/"+sub.ID.String(), nil, 200, &st)
				if st.Tx.Chain != c.ID || st.Tx.Time == 0 || st.Tx.Nonce == 0 {
					t.Fatalf("stored without its stamps: %+v", st.Tx)
				}
				ids = append(ids, sub.ID.String())
			}
			if ids[0] == ids[1] {
				t.Fatalf("two readings got one id %s", ids[0])
			}
		})
	}

	// A schema refusal still applies on the chain's inject route, and an
	// unknown chain is not found.
	status, body := tn.do("POST", "/v1/chains/"+id+"/inject", "application/json", []byte(`{"data":{"temp":"warm"}}`))
	tn.wantError(status, body, 422, "bad_data")
	status, body = tn.do("POST", "/v1/chains/"+id[:62]+"00/inject", "application/json", []byte(`{"data":1}`))
	tn.wantError(status, body, 404, "not_found")

	// The chain's seed-shaped stream starts at its own bang.
	var quants []api.SeedQuant
	tn.json("GET", "/v1/chains/"+id+"/json-chain", nil, 200, &quants)
	if len(quants) != 1 || quants[0].Hash != id {
		t.Fatalf("json-chain of the chain: %+v", quants)
	}
}

// TestIndex: GET / answers with where the API's description is and the
// routes it documents, not 404; other unknown paths stay 404.
func TestIndex(t *testing.T) {
	tn := startNode(t, nil)
	var idx struct {
		OpenAPI string   `json:"openapi"`
		Routes  []string `json:"routes"`
	}
	tn.json("GET", "/", nil, 200, &idx)
	if idx.OpenAPI != "/v1/openapi.json" || !slices.Contains(idx.Routes, "POST /inject") || !slices.Contains(idx.Routes, "POST /v1/chains/{chain}/inject") {
		t.Fatalf("index: %+v", idx)
	}
	status, _ := tn.do("GET", idx.OpenAPI, "", nil)
	if status != 200 {
		t.Fatalf("the index's openapi path answers %d", status)
	}
	status, body := tn.do("GET", "/nothing-here", "", nil)
	tn.wantError(status, body, 404, "not_found")
}
