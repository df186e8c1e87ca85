package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/qbc-chain/qbc/internal/quant"
)

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// BenchmarkSubmitSingle is the node's own work for one single-transaction
// POST /v1/txs ({"raw": hex}, as qbc bench --batch 1 sends it): routing,
// decode, admission, pool and the answer, without net/http's connection
// handling.
func BenchmarkSubmitSingle(b *testing.B) {
	n := benchNode(b)
	h := n.server.Handler
	now := time.Now().UnixMilli()
	pad := fmt.Sprintf("%080d", 0)
	const round = 10000
	bodies := make([][]byte, round)
	mk := func(r int) {
		for i := range bodies {
			tx := &quant.Tx{ChainID: n.Chain().ID(), Time: now, Nonce: uint64(r*round + i),
				Kind: quant.DataJSON, Data: []byte(`{"i":` + fmt.Sprint(i) + `,"p":"` + pad + `"}`)}
			bodies[i] = []byte(`{"raw":"` + hex.EncodeToString(tx.Encode()) + `"}`)
		}
	}
	mk(0)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%round == 0 && i > 0 {
			b.StopTimer()
			mk(i / round)
			for n.def().pool.Len() > 0 {
				if _, err := n.Leap(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		req, _ := http.NewRequest(http.MethodPost, "http://node/v1/txs", bytes.NewReader(bodies[i%round]))
		req.Header.Set("Content-Type", "application/json")
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.status != http.StatusCreated {
			b.Fatalf("status %d", w.status)
		}
	}
}

// TestSubmitCounted: the submission counter counts accepted transactions
// and each refusal by its code.
func TestSubmitCounted(t *testing.T) {
	n, err := New(testConfig(t, t.TempDir()), quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	a, b := openTx(n, 1), openTx(n, 2)
	if _, errs := n.SubmitBatch(t.Context(), []*quant.Tx{a, b, a.Clone()}); errs[0] != nil || errs[1] != nil || errs[2] == nil {
		t.Fatalf("errs %v, want nil, nil, duplicate", errs)
	}
	m := n.def().metrics
	for result, want := range map[string]float64{"accepted": 2, "duplicate": 1} {
		var got dto.Metric
		if err := m.submitted.WithLabelValues(result).Write(&got); err != nil || got.GetCounter().GetValue() != want {
			t.Errorf("%s: %v (%v), want %v", result, got.GetCounter().GetValue(), err, want)
		}
	}
}
