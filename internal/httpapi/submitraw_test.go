package httpapi_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestSubmitRaw: a single transaction in raw form is taken whatever the
// whitespace around its one member, and a bad one is refused with the
// answer the JSON decoder's path gives.
func TestSubmitRaw(t *testing.T) {
	tn := startNode(t, nil)
	chain := tn.chainID()
	for i, form := range []string{`{"raw":"%s"}`, " {\n \"raw\" : \"%s\" }\n", `{"Raw":"%s"}`} {
		tx := &quant.Tx{ChainID: chain, Time: time.Now().UnixMilli(), Nonce: uint64(i), Kind: quant.DataJSON, Data: []byte(`{"i":1}`)}
		body := fmt.Sprintf(form, hex.EncodeToString(tx.Encode()))
		status, resp := tn.do("POST", "/v1/txs", "application/json", []byte(body))
		var sub api.Submitted
		if status != http.StatusCreated || json.Unmarshal(resp, &sub) != nil || sub.ID != tx.ID() || sub.Status != "pending" {
			t.Fatalf("%q: %d %s, want 201 with id %s", body, status, resp, tx.ID())
		}
		status, resp = tn.do("POST", "/v1/txs", "application/json", []byte(body))
		tn.wantError(status, resp, http.StatusConflict, "duplicate")
	}
	for _, body := range []string{`{"raw":"0"}`, `{"raw":"0g"}`} {
		status, resp := tn.do("POST", "/v1/txs", "application/json", []byte(body))
		tn.wantError(status, resp, http.StatusBadRequest, "malformed")
	}
	status, resp := tn.do("POST", "/v1/txs", "application/json", []byte(`{"raw":"00","x":1}`))
	tn.wantError(status, resp, http.StatusBadRequest, "invalid_request")
}
