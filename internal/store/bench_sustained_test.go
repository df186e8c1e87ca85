package store

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkSustained connects b.N segments of 1,000,000 transactions of
// 100-byte payloads, in quants of 10,000 (one synced batch each), on one
// growing store, and reports, per segment, committed transactions per
// second and the process's CPU time per transaction (user and system:
// Pebble's flushes and compactions on every core included, building the
// quants not). A store whose write cost grows with its size shows it as a
// rising CPU per transaction from segment to segment:
//
//	go test -run XXX -bench Sustained -benchtime 10x -timeout 1h ./internal/store
//
// The figures of the last segment are the benchmark's metrics.
func BenchmarkSustained(b *testing.B) {
	const (
		segment     = 1_000_000
		txsPerQuant = 10_000
	)
	db := openTest(b, "")
	bang := testBang(b, 1)
	c := db.Chain(bang.Hash())
	bld := newBuilder(c.ID(), 1)
	bld.size = 100
	if err := c.Connect(entry(bang, 0)); err != nil {
		b.Fatal(err)
	}
	parent, parentHash := &bang.Header, bang.Hash()
	var rate, cpuPerTx float64
	var txs uint64
	for s := range b.N {
		var wall time.Duration
		cpu0 := processCPU(b)
		for range segment / txsPerQuant {
			t0 := time.Now()
			q := bld.child(parent, parentHash, txsPerQuant)
			build := time.Since(t0)
			cpu0 += build // building counts neither as wall nor as CPU
			t1 := time.Now()
			e := entry(q, 0)
			txs += txsPerQuant
			e.Meta.Txs = txs // the index epochs follow it
			if err := c.Connect(e); err != nil {
				b.Fatal(err)
			}
			wall += time.Since(t1)
			parent, parentHash = &q.Header, q.Hash()
		}
		cpu := processCPU(b) - cpu0
		rate = segment / wall.Seconds()
		cpuPerTx = float64(cpu.Microseconds()) / segment
		b.Logf("segment %d (to %d transactions): %.0f txs/s, %.2f µs CPU per tx", s+1, (s+1)*segment, rate, cpuPerTx)
	}
	if testing.Verbose() {
		b.Logf("pebble metrics:\n%s", db.pdb.Metrics())
	}
	b.ReportMetric(rate, "txs/s")
	b.ReportMetric(cpuPerTx, "cpu-µs/tx")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
