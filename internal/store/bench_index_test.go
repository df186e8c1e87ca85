package store

import "testing"

// BenchmarkConnectDeferred connects quants of 100 transactions, as a raft
// member does (DeferSync: no fsync per commit, so the CPU shows), into a
// store that already holds 200,000 transactions: a memtable of random
// transaction index keys well filled, where each insert walks Pebble's
// skiplist. Building the quants is not timed.
func BenchmarkConnectDeferred(b *testing.B) {
	const txsPerQuant = 100
	db := openTest(b, "")
	bang := testBang(b, 1)
	c := db.Chain(bang.Hash())
	c.DeferSync()
	bld := newBuilder(c.ID(), 1)
	if err := c.Connect(entry(bang, 0)); err != nil {
		b.Fatal(err)
	}
	parent, parentHash := &bang.Header, bang.Hash()
	next := func() {
		q := bld.child(parent, parentHash, txsPerQuant)
		if err := c.Connect(entry(q, 0)); err != nil {
			b.Fatal(err)
		}
		parent, parentHash = &q.Header, q.Hash()
	}
	for range 2000 {
		next()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		q := bld.child(parent, parentHash, txsPerQuant)
		b.StartTimer()
		if err := c.Connect(entry(q, 0)); err != nil {
			b.Fatal(err)
		}
		parent, parentHash = &q.Header, q.Hash()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*txsPerQuant), "ns/tx")
}
