package httpapi_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestTxProofFull: ?proof=full answers a proof that verifies offline
// against the tip's hash, or against the quant &to= names, on the
// default chain's route and on the chain's own; the existing fields stay;
// every wrong query is refused with its code, and a header chain over the
// limit is 422 proof_too_long.
func TestTxProofFull(t *testing.T) {
	tn := startNode(t, func(c *testConfig) { c.MaxProofHeaders = 3 })
	id := tn.chainID()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	var txs []*quant.Tx
	for i := range 3 {
		tx := signedTx(t, id, key, fmt.Sprintf(`{"n":%d}`, i), uint64(i))
		tn.json("POST", "/v1/txs", api.FromTx(tx), 201, nil)
		txs = append(txs, tx)
	}
	tx := txs[1]
	base := "/v1/txs/" + tx.ID().String()
	// Pending: no proof yet, and no error.
	var st api.TxStatus
	tn.json("GET", base+"?proof=full", nil, 200, &st)
	if st.Status != "pending" || st.Full != nil {
		t.Fatalf("pending: %+v", st)
	}
	hashes := []quant.Hash{}
	for range 3 {
		var q api.SeedQuant
		tn.json("POST", "/leap", nil, 200, &q)
		h, _ := quant.ParseHash(q.Hash)
		hashes = append(hashes, h)
	}
	var stats api.Stats
	tn.json("GET", "/v1/stats", nil, 200, &stats)

	for _, path := range []string{base, "/v1/chains/" + id.String() + "/txs/" + tx.ID().String()} {
		st = api.TxStatus{}
		tn.json("GET", path+"?proof=full", nil, 200, &st)
		if st.Status != "committed" || st.Height != 1 || st.Index != 1 || st.TxCount != 3 || len(st.Proof) != 2 || st.Full == nil {
			t.Fatalf("%s: %+v", path, st)
		}
		v, err := proof.Verify(st.Full, stats.Tip)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if v.ID != tx.ID() || v.Height != 1 || v.Quant != *st.Quant || v.Confirmations() != st.Confirmations || len(st.Full.Headers) != 2 {
			t.Fatalf("%s: verified %+v", path, v)
		}
	}
	// To a quant below the tip, and to the holding quant itself.
	for i, to := range hashes[:2] {
		st = api.TxStatus{}
		tn.json("GET", base+"?proof=full&to="+to.String(), nil, 200, &st)
		if v, err := proof.Verify(st.Full, to); err != nil || len(st.Full.Headers) != i || v.TrustedHeight != uint64(i+1) {
			t.Fatalf("to quant %d: %v (%d headers)", i+1, err, len(st.Full.Headers))
		}
		if _, err := proof.Verify(st.Full, stats.Tip); proof.CodeOf(err) != proof.CodeNotTrusted {
			t.Fatalf("to quant %d, trusting the tip: %v", i+1, err)
		}
	}
	// Without the query, the answer is as it was.
	st = api.TxStatus{}
	tn.json("GET", base, nil, 200, &st)
	if st.Full != nil || st.Status != "committed" {
		t.Fatalf("without proof=full: %+v", st)
	}

	bang := tn.node.Default().Chain.Bang().Hash()
	for _, tc := range []struct {
		name, query string
		status      int
		code        string
	}{
		{"another kind of proof", "?proof=half", 400, "invalid_request"},
		{"to without proof=full", "?to=" + stats.Tip.String(), 400, "invalid_request"},
		{"to not a hash", "?proof=full&to=xyz", 400, "invalid_request"},
		{"to unknown", "?proof=full&to=" + quant.Sum("x").String(), 404, "not_found"},
		{"to below the transaction", "?proof=full&to=" + bang.String(), 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tn.do("GET", base+tc.query, "", nil)
			tn.wantError(status, body, tc.status, tc.code)
		})
	}

	// Three quants above is the limit; a fourth makes the tip too far.
	tn.json("POST", "/leap", nil, 200, nil)
	tn.json("GET", base+"?proof=full", nil, 200, nil)
	tn.json("POST", "/leap", nil, 200, nil)
	status, body := tn.do("GET", base+"?proof=full", "", nil)
	tn.wantError(status, body, 422, "proof_too_long")
	if !bytes.Contains(body, []byte("to=HASH")) {
		t.Fatalf("the refusal does not say how to ask for less: %s", body)
	}
	st = api.TxStatus{}
	tn.json("GET", base+"?proof=full&to="+hashes[2].String(), nil, 200, &st)
	if _, err := proof.Verify(st.Full, hashes[2]); err != nil {
		t.Fatal(err)
	}
}
