package main

import (
	"encoding/json"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestSavedProof: 'tx verify --proof' reads a saved 'tx get --proof'
// answer or its proof_full alone, and says what is missing otherwise.
func TestSavedProof(t *testing.T) {
	chain := quant.Sum("test", []byte("chain"))
	tx := &quant.Tx{ChainID: chain, Time: 1, Kind: quant.DataJSON, Data: []byte(`{"a":1}`)}
	h := &quant.Header{ChainID: chain, Height: 1, TxRoot: quant.TxRoot([]*quant.Tx{tx}), TxCount: 1}
	p := proof.New(tx, 0, h, nil, nil)
	bare, _ := json.Marshal(p)
	answer, _ := json.Marshal(api.TxStatus{Status: "committed", Tx: api.FromTx(tx), Full: p})
	for name, b := range map[string][]byte{"bare": bare, "answer": answer} {
		got, err := savedProof(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v, err := proof.Verify(got, h.Hash()); err != nil || v.ID != tx.ID() {
			t.Fatalf("%s: %v", name, err)
		}
	}
	pending, _ := json.Marshal(api.TxStatus{Status: "pending", Tx: api.FromTx(tx)})
	if _, err := savedProof(pending); err == nil {
		t.Fatal("a pending answer gave a proof")
	}
	if _, err := savedProof([]byte(`{"version":2}`)); proof.CodeOf(err) != proof.CodeMalformed {
		t.Fatalf("a proof of another version: %v", err)
	}
}
