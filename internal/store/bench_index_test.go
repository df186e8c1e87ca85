package store

import "testing"

// BenchmarkConnectDeferred connects quants of 100 transactions, as a raft
// member does (DeferSync: no fsync per commit, so the CPU shows), into a
// store that already holds 200,000 transactions: a memtable of random
// transaction index keys well filled, where each insert walks Pebble's
// skiplist. Building the quants is not timed.
func BenchmarkConnectDeferred(b *testing.B) {
	const txsPerQuant = 100
	k := newConnector(b, txsPerQuant)
	k.c.DeferSync()
	for range 2000 {
		k.next()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		k.next()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*txsPerQuant), "ns/tx")
}
