package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestSubmitBatchBinary(t *testing.T) {
	chainID := quant.Hash{9}
	txs := []*quant.Tx{
		{ChainID: chainID, Time: 1, Nonce: 1, Kind: quant.DataBytes, Data: []byte("a")},
		{ChainID: chainID, Time: 2, Nonce: 2, Kind: quant.DataBytes, Data: []byte("b")},
	}
	// answer is what the fake node answers the next batch with.
	var answer http.HandlerFunc
	c := fake(t, map[string]http.HandlerFunc{
		"POST /v1/chains/{id}/txs": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got, err := api.DecodeBatch(b, 10)
			if r.PathValue("id") != chainID.String() || r.Header.Get("Content-Type") != api.BatchMediaType || err != nil || len(got) != len(txs) {
				writeJSON(w, 400, api.Error{Err: api.ErrorBody{Code: "test", Message: "not the batch sent"}})
				return
			}
			answer(w, r)
		},
	})
	ctx := context.Background()

	answer = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, api.Batch{Accepted: 1, Rejected: 1, Results: []api.BatchResult{
			{ID: txs[0].ID()}, {ID: txs[1].ID(), Error: &api.ErrorBody{Code: string(quant.CodeDuplicate)}}}})
	}
	b, err := c.SubmitBatchBinary(ctx, chainID, txs)
	if err != nil || b.Accepted != 1 || len(b.Results) != 2 || b.Results[1].Error.Code != string(quant.CodeDuplicate) {
		t.Fatalf("SubmitBatchBinary: %+v, %v", b, err)
	}
	// SubmitBatchBinaryRefused asks for the refused alone.
	answer = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("results") != api.ResultsRefused {
			writeJSON(w, 400, api.Error{Err: api.ErrorBody{Code: "test", Message: "results=" + r.URL.Query().Get("results")}})
			return
		}
		one := 1
		writeJSON(w, 200, api.Batch{Accepted: 1, Rejected: 1, Results: []api.BatchResult{
			{ID: txs[1].ID(), Error: &api.ErrorBody{Code: string(quant.CodeDuplicate)}, Index: &one}}})
	}
	b, err = c.SubmitBatchBinaryRefused(ctx, chainID, txs)
	if err != nil || b.Accepted != 1 || len(b.Results) != 1 || b.Results[0].Index == nil || *b.Results[0].Index != 1 {
		t.Fatalf("SubmitBatchBinaryRefused: %+v, %v", b, err)
	}

	for _, tc := range []struct {
		name        string
		answer      http.HandlerFunc
		unavailable bool
		code        quant.Code
	}{
		{"503", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 503, api.Error{Err: api.ErrorBody{Code: api.CodeUnavailable, Message: "no leader"}})
		}, true, ""},
		{"429 pool full", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 429, api.Error{Err: api.ErrorBody{Code: api.CodePoolFull, Message: "full"}})
		}, true, ""},
		{"not the API's error", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502)
			io.WriteString(w, "<html>bad gateway</html>")
		}, true, ""},
		{"2xx that does not decode", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "{")
		}, true, ""},
		{"rule refusal", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 413, api.Error{Err: api.ErrorBody{Code: string(quant.CodeTooLarge), Message: "batch too large"}})
		}, false, quant.CodeTooLarge},
	} {
		answer = tc.answer
		_, err := c.SubmitBatchBinary(ctx, chainID, txs)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if got := errors.Is(err, ErrUnavailable); got != tc.unavailable {
			t.Errorf("%s: errors.Is(%v, ErrUnavailable) = %v", tc.name, err, got)
		}
		if got := quant.CodeOf(err); got != tc.code {
			t.Errorf("%s: code %q, want %q (%v)", tc.name, got, tc.code, err)
		}
		var se *StatusError
		if tc.code != "" && (!errors.As(err, &se) || se.Err.Err.Code != string(tc.code)) {
			t.Errorf("%s: %v is not a *StatusError with the code", tc.name, err)
		}
	}

	// No node there.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	if _, err := New(srv.URL, nil).SubmitBatchBinary(ctx, chainID, txs); !errors.Is(err, ErrUnavailable) {
		t.Errorf("closed server: %v, want ErrUnavailable", err)
	}
	// The caller's context ends: its error, not ErrUnavailable.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.SubmitBatchBinary(cctx, chainID, txs); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Errorf("cancelled: %v", err)
	}
}
