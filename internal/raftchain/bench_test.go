package raftchain

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/quant"
)

// BenchmarkCommit3 commits b.N transactions on a three-member chain on
// loopback TCP: 256 (light load) or 2048 (heavy load) goroutines each
// Submit one transaction at a time, spread over the three members (two
// thirds of the calls are forwarded). It reports committed transactions
// per second, the latency of a Submit (until the transaction is committed
// and applied on the member it was submitted at), p50 and p99, the mean
// transactions per quant and the final Raft term (2: no election after
// the first).
//
//	go test -run XXX -bench Commit3 -benchtime 20000x ./internal/raftchain
func BenchmarkCommit3(b *testing.B) {
	for _, n := range []int{256, 2048} {
		b.Run(fmt.Sprintf("submitters=%d", n), func(b *testing.B) { benchmarkCommit3(b, n) })
	}
}

func benchmarkCommit3(b *testing.B, submitters int) {
	// hashicorp/raft's default timings: the tests' shorter ones let a
	// loaded two-core machine start needless elections.
	c := newCluster(b, 3, func(cfg *Config) {
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
	})
	c.bang = newBang(b, c.keys, func(p *raftengine.Params) { p.MaxQuantTxs = 2000; p.MaxQuantIntervalMs = 5 })
	c.startVoters(3)
	c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	txs := c.txs(b.N)
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		wg        sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for g := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.members[g%3].r
			var mine []time.Duration
			for {
				i := next.Add(1) - 1
				if i >= int64(len(txs)) {
					break
				}
				t0 := time.Now()
				if err := r.Submit(ctx, []*quant.Tx{txs[i]}); err != nil {
					b.Errorf("Submit: %v", err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if b.Failed() || len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "txs/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	head := c.members[0].r.Chain().Tip()
	b.ReportMetric(float64(head.Meta.Txs)/float64(max(head.Header.Height, 1)), "txs/quant")
	b.ReportMetric(float64(c.leader().r.raft.CurrentTerm()), "term")
}
