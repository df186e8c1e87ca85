package httpapi_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestRecordRoutes: a record's latest, history and keys, by escaped and
// plain keys, paged; a write its lock refuses is 403 with the lock's code;
// bad pages are 400.
func TestRecordRoutes(t *testing.T) {
	tn := startNode(t, nil)
	owner := ed25519.NewKeyFromSeed(make([]byte, 32))
	nonce := uint64(0)
	put := func(key, data string, lock *quant.Lock, signer ed25519.PrivateKey) (int, []byte) {
		nonce++
		tx := &quant.Tx{ChainID: tn.chainID(), Time: time.Now().UnixMilli(), Nonce: nonce, Kind: quant.DataJSON,
			Data: []byte(data), Key: key, Lock: lock}
		if signer != nil {
			tx.Sign(signer)
		}
		return tn.do("POST", "/v1/txs", "application/octet-stream", tx.Encode())
	}
	lock := &quant.Lock{Owners: [][]byte{owner.Public().(ed25519.PublicKey)}, Threshold: 1}
	for i := range 3 {
		if s, b := put("orders/42", fmt.Sprintf(`{"v":%d}`, i), lock, owner); s != http.StatusCreated && s != http.StatusAccepted && s != http.StatusOK {
			t.Fatalf("put %d: %d %s", i, s, b)
		}
		tn.json("POST", "/v1/leap", nil, http.StatusOK, nil)
	}
	put("orders/7", `1`, nil, nil)
	put("invoices/1", `1`, nil, nil)
	tn.json("POST", "/v1/leap", nil, http.StatusOK, nil)

	var rec api.Record
	tn.json("GET", "/v1/records/orders%2F42", nil, http.StatusOK, &rec)
	if rec.Key != "orders/42" || string(rec.Tx.Data) != `{"v":2}` || rec.Height != 3 || rec.Lock == nil ||
		rec.Lock.Owners[0] != hex.EncodeToString(owner.Public().(ed25519.PublicKey)) {
		t.Fatalf("record: %+v", rec)
	}
	var plain api.Record
	tn.json("GET", fmt.Sprintf("/v1/chains/%s/records/orders/42", tn.chainID()), nil, http.StatusOK, &plain)
	if plain.Tx.ID == nil || *plain.Tx.ID != *rec.Tx.ID {
		t.Fatal("the plain and the escaped key answer differently")
	}
	var full api.Record
	tn.json("GET", "/v1/records/orders%2F42?proof=full", nil, http.StatusOK, &full)
	if full.Full == nil {
		t.Fatal("proof=full gave no proof_full")
	}

	var h api.History
	tn.json("GET", "/v1/records/orders%2F42/history?limit=2", nil, http.StatusOK, &h)
	if len(h.Versions) != 2 || h.Next == "" || h.Versions[0].Height != 1 {
		t.Fatalf("history page 1: %+v", h)
	}
	var h2 api.History
	tn.json("GET", "/v1/records/orders/42/history?after="+h.Next, nil, http.StatusOK, &h2)
	if len(h2.Versions) != 1 || h2.Versions[0].Height != 3 || h2.Next != "" {
		t.Fatalf("history page 2 (plain key): %+v", h2)
	}
	var ks api.Keys
	tn.json("GET", "/v1/records?prefix=orders/", nil, http.StatusOK, &ks)
	if len(ks.Keys) != 2 || ks.Keys[0] != "orders/42" || ks.Keys[1] != "orders/7" {
		t.Fatalf("keys: %+v", ks)
	}
	tn.json("GET", "/v1/records?limit=1", nil, http.StatusOK, &ks)
	if len(ks.Keys) != 1 || ks.Keys[0] != "invoices/1" || ks.Next != "invoices/1" {
		t.Fatalf("keys, one page: %+v", ks)
	}

	s, b := put("orders/42", `"stolen"`, nil, nil)
	tn.wantError(s, b, http.StatusForbidden, string(quant.CodeLockedOwner))
	s, b = tn.do("GET", "/v1/records/nope", "", nil)
	tn.wantError(s, b, http.StatusNotFound, api.CodeNotFound)
	s, b = tn.do("GET", "/v1/records?limit=5000", "", nil)
	tn.wantError(s, b, http.StatusBadRequest, api.CodeInvalidRequest)
	s, b = tn.do("GET", "/v1/records/orders%2F42/history?after=x", "", nil)
	tn.wantError(s, b, http.StatusBadRequest, api.CodeInvalidRequest)
	s, b = tn.do("GET", "/v1/records/a%07b", "", nil)
	tn.wantError(s, b, http.StatusBadRequest, string(quant.CodeMalformed))
}

// TestInjectRecord: the seed's /inject takes a key beside the data, in
// JSON or a form, on any chain: an open record as easy as /inject.
func TestInjectRecord(t *testing.T) {
	tn := startNode(t, nil)
	var sub api.Submitted
	tn.json("POST", "/inject", map[string]any{"key": "orders/1", "data": map[string]int{"total": 1}}, http.StatusCreated, &sub)
	s, b := tn.do("POST", fmt.Sprintf("/v1/chains/%s/inject", tn.chainID()), "application/x-www-form-urlencoded", []byte("key=orders%2F2&data=%7B%22total%22%3A2%7D"))
	if s != http.StatusCreated {
		t.Fatalf("form inject with a key: %d %s", s, b)
	}
	tn.json("POST", "/v1/leap", nil, http.StatusOK, nil)
	var rec api.Record
	tn.json("GET", "/v1/records/orders%2F2", nil, http.StatusOK, &rec)
	if string(rec.Tx.Data) != `{"total":2}` || rec.Tx.Time == 0 || rec.Tx.Nonce == 0 {
		t.Fatalf("record from a form: %+v", rec.Tx)
	}
	tn.json("GET", "/v1/records/orders%2F1", nil, http.StatusOK, &rec)
	if string(rec.Tx.Data) != `{"total":1}` {
		t.Fatalf("record from JSON: %+v", rec.Tx)
	}
	s, b = tn.do("POST", "/inject", "application/json", []byte(`{"key":"","lock":{"write_once":true},"data":1}`))
	tn.wantError(s, b, http.StatusBadRequest, string(quant.CodeMalformed))
}
