package store

import "testing"

// BenchmarkConnectSmall connects quants of 10 transactions, one synced
// batch each: the fixed cost of a commit (the fsync of the write-ahead
// log, the tip, and the committed-tip record) dominates, so this is where
// any per-commit overhead shows. Building the quants is not timed.
func BenchmarkConnectSmall(b *testing.B) {
	const txsPerQuant = 10
	k := newConnector(b, txsPerQuant)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		k.next()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkTipRecord is the committed-tip record's share of a commit: one
// 64-byte pwrite into the record file, without an fsync.
func BenchmarkTipRecord(b *testing.B) {
	db := openTest(b, "")
	bang := testBang(b, 1)
	c := db.Chain(bang.Hash())
	if err := c.Connect(entry(bang, 0)); err != nil {
		b.Fatal(err)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	h := bang.Hash()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.recordCommit(h, 0)
	}
}
