package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// benchIngest submits batches of 1,000 transactions of about 200 bytes and
// leaps after every few batches: the node's path from admission to durable
// commit, without HTTP.
func benchIngest(b *testing.B, signed bool) {
	n := benchNode(b)
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	const batch = 1000
	pad := fmt.Sprintf("%0160d", 0)
	mk := func(round int) []*quant.Tx {
		txs := make([]*quant.Tx, batch)
		now := time.Now().UnixMilli()
		for i := range txs {
			txs[i] = &quant.Tx{ChainID: n.Chain().ID(), Time: now, Nonce: uint64(round*batch + i),
				Kind: quant.DataJSON, Data: []byte(`{"i":` + fmt.Sprint(i) + `,"p":"` + pad + `"}`)}
			if signed {
				txs[i].Sign(key)
			}
		}
		return txs
	}
	b.ResetTimer()
	for r := 0; b.Loop(); r++ {
		b.StopTimer()
		txs := mk(r)
		b.StartTimer()
		_, errs := n.SubmitBatch(b.Context(), txs)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		if n.def().pool.Len() >= 5*batch {
			if _, err := n.Leap(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	for n.def().pool.Len() > 0 {
		if _, err := n.Leap(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "txs/s")
}

// benchNode is a node for benchmarks: a pow chain of fixed low difficulty
// (a benchmark measures ingest, not mining) and a pool that holds a
// million transactions. It is closed when b ends.
func benchNode(b *testing.B) *Node {
	cfg := testConfig(&testing.T{}, b.TempDir())
	os.WriteFile(cfg.Genesis, []byte(strings.Replace(fastGenesis, `"window":8`, `"window":0`, 1)), 0o600)
	cfg.PoolMaxTxs = 1 << 20
	cfg.PoolMaxBytes = 1 << 30
	n, err := New(cfg, quiet())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	return n
}

func BenchmarkIngestSigned(b *testing.B)   { benchIngest(b, true) }
func BenchmarkIngestUnsigned(b *testing.B) { benchIngest(b, false) }
