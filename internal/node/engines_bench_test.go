package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/quant"
)

// benchEngine measures one engine on a 3-node in-process network over
// loopback: each iteration submits a batch of 100 unsigned transactions at
// one of the nodes in turn, from 8 goroutines; it reports committed
// transactions per second and the commit latency (submission to the quant
// holding the transaction committed at the submitting node), p50 and p99.
func benchEngine(b *testing.B, engine string) {
	c := newCluster(b)
	nodes := []*Node{c.start(0)}
	nodes = append(nodes, c.start(1, nodes[0].Addr()), c.start(2, nodes[0].Addr()))
	deadline := time.Now().Add(20 * time.Second)
	for livePeers(nodes[0]) < 2 {
		if time.Now().After(deadline) {
			b.Fatal("the 3 nodes did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	key := func(i int) string { return nodeKey(nodes[i]) }
	var params string
	switch engine {
	case "pow":
		params = `{"target_ms":100,"initial_difficulty":16,"min_difficulty":16,"window":0}`
	case "poa":
		params = fmt.Sprintf(`{"authorities":[%q,%q,%q],"period_ms":20,"wiggle_ms":100}`, key(0), key(1), key(2))
	case "raft":
		params = fmt.Sprintf(`{"members":[{"id":"n0","key":%q},{"id":"n1","key":%q},{"id":"n2","key":%q}],"max_quant_interval_ms":5}`, key(0), key(1), key(2))
	}
	r, err := quant.ParseRules(fmt.Appendf(nil, `{"name":"bench-%s","created":1700000000000,"engine":%q,"engine_params":%s,
		"write_policy":"open","max_data_bytes":1024,"max_quant_txs":20000,"max_quant_bytes":16777216,"max_time_drift_ms":120000}`,
		engine, engine, params))
	if err != nil {
		b.Fatal(err)
	}
	created, err := nodes[0].CreateChain(b.Context(), &r)
	if err != nil {
		b.Fatal(err)
	}
	id := created.Chain.ID()
	ledgers := make([]*ledger, 3)
	for i, n := range nodes {
		for n.ledger(id) == nil {
			if time.Now().After(deadline) {
				b.Fatal("a node did not follow the chain")
			}
			time.Sleep(10 * time.Millisecond)
		}
		ledgers[i] = n.ledger(id)
	}
	if engine == "raft" {
		for ledgers[0].RaftStatus().Leader == "" {
			if time.Now().After(deadline.Add(20 * time.Second)) {
				b.Fatal("no raft leader")
			}
			time.Sleep(10 * time.Millisecond)
		}
	} else {
		var miners sync.WaitGroup
		ctx, stop := context.WithCancel(b.Context())
		b.Cleanup(func() { stop(); miners.Wait() })
		for _, l := range ledgers {
			miners.Go(func() { l.prod.(*leaper).mine(ctx) })
		}
	}

	// Commit times, per submitting node, from its own quant events.
	var mu sync.Mutex
	committed := make([]map[quant.Hash]time.Time, 3)
	for i, n := range nodes {
		committed[i] = map[quant.Hash]time.Time{}
		sub := n.bus.Subscribe(1 << 16)
		defer sub.Close()
		go func() {
			for e := range sub.C {
				q, ok := e.Data.(*quant.Quant)
				if e.Kind != events.KindQuant || e.Chain != id.String() || !ok {
					continue
				}
				now := time.Now()
				mu.Lock()
				for _, txid := range quant.TxIDs(q.Txs) {
					committed[i][txid] = now
				}
				mu.Unlock()
			}
		}()
	}
	type sent struct {
		node int
		at   time.Time
		ids  []quant.Hash
	}
	var (
		sentMu sync.Mutex
		all    []sent
		nonce  uint64
	)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				i := it % 3
				txs := make([]*quant.Tx, 100)
				sentMu.Lock()
				for j := range txs {
					nonce++
					txs[j] = &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(`{"bench":1}`)}
				}
				sentMu.Unlock()
				at := time.Now()
				ids, errs := ledgers[i].SubmitBatch(b.Context(), txs)
				for _, err := range errs {
					if err != nil {
						b.Error(err)
						return
					}
				}
				sentMu.Lock()
				all = append(all, sent{node: i, at: at, ids: ids})
				sentMu.Unlock()
			}
		}()
	}
	start := time.Now()
	for it := 0; b.Loop(); it++ {
		work <- it
	}
	close(work)
	wg.Wait()
	// Wait for every transaction to commit where it was submitted.
	var lat []time.Duration
	var last time.Time
	for {
		mu.Lock()
		lat, last = lat[:0], time.Time{}
		missing := 0
		for _, s := range all {
			for _, txid := range s.ids {
				t, ok := committed[s.node][txid]
				if !ok {
					missing++
					continue
				}
				lat = append(lat, t.Sub(s.at))
				if t.After(last) {
					last = t
				}
			}
		}
		mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("%d transactions not committed", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(float64(len(lat))/last.Sub(start).Seconds(), "committed_txs/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50_ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99_ms")
}

func BenchmarkEnginePoW3(b *testing.B)  { benchEngine(b, "pow") }
func BenchmarkEnginePoA3(b *testing.B)  { benchEngine(b, "poa") }
func BenchmarkEngineRaft3(b *testing.B) { benchEngine(b, "raft") }
