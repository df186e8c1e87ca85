package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
	"github.com/qbc-chain/qbc/internal/zk/zktest"
)

// BenchmarkZKCommit measures committed proof-carrying transactions per
// second on one node: b.N record writes, each with its own preimage proof
// (made before the timer starts, on both cores), submitted as batches of
// 500 (admission verifies the proofs on all cores) and committed by leaps
// (Add does not verify again what this node admitted, as for signatures).
//
//	go test -run XXX -bench ZKCommit -benchtime 2000x ./internal/node
func BenchmarkZKCommit(b *testing.B) {
	var r quant.Rules
	if err := json.Unmarshal([]byte(netGenesis), &r); err != nil {
		b.Fatal(err)
	}
	r.ZK = zktest.Rules(b)
	gen, _ := json.Marshal(r)
	c := newCluster(b)
	if err := os.WriteFile(filepath.Join(c.dir, "genesis.json"), gen, 0o600); err != nil {
		b.Fatal(err)
	}
	n := c.start(0)
	id := n.Chain().ID()
	k := zktest.Keys(b, zk.Preimage)
	secret, _ := zk.NewSecret()
	txs := make([]*quant.Tx, b.N)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += 2 {
				tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: uint64(i), Kind: quant.DataJSON,
					Data: []byte(`{"n":1}`), Key: fmt.Sprintf("bench/%d", i)}
				if err := zk.AttachPreimage(tx, k, secret, quant.Hash{}); err != nil {
					panic(err)
				}
				txs[i] = tx
			}
		}()
	}
	wg.Wait()
	b.ResetTimer()
	start := time.Now()
	var admit time.Duration
	for i := 0; i < len(txs); i += 500 {
		batch := txs[i:min(i+500, len(txs))]
		t0 := time.Now()
		_, errs := n.def().SubmitBatch(b.Context(), batch)
		admit += time.Since(t0)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		for n.def().pool.Len() > 0 {
			leap(b, n)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	if !committed(n, txs[len(txs)-1].ID()) {
		b.Fatal("last transaction not committed")
	}
	b.ReportMetric(float64(len(txs))/el.Seconds(), "txs/s")
	b.ReportMetric(admit.Seconds()*1e6/float64(len(txs)), "admit-µs/tx")
}
