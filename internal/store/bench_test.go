package store

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

// BenchmarkConnect connects quants of 1,000 transactions of 200-byte
// payloads, one synced batch each. Building the quants is not timed.
func BenchmarkConnect(b *testing.B) {
	const txsPerQuant = 1000
	k := newConnector(b, txsPerQuant)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		k.next()
	}
	b.ReportMetric(float64(b.N*txsPerQuant)/b.Elapsed().Seconds(), "txs/s")
}

// connector connects quants of txs transactions each to a new chain of
// a test store, building each (untimed) on the one before.
type connector struct {
	b      *testing.B
	c      *Chain
	bld    *builder
	parent *quant.Header
	hash   quant.Hash
	txs    int
}

// newConnector opens a store and connects a chain's bang.
func newConnector(b *testing.B, txs int) *connector {
	db := openTest(b, "")
	bang := testBang(b, 1)
	c := db.Chain(bang.Hash())
	if err := c.Connect(entry(bang, 0)); err != nil {
		b.Fatal(err)
	}
	return &connector{b: b, c: c, bld: newBuilder(c.ID(), 1), parent: &bang.Header, hash: bang.Hash(), txs: txs}
}

// next builds the next quant with the timer stopped, then connects it.
func (k *connector) next() {
	k.b.StopTimer()
	q := k.bld.child(k.parent, k.hash, k.txs)
	k.b.StartTimer()
	if err := k.c.Connect(entry(q, 0)); err != nil {
		k.b.Fatal(err)
	}
	k.parent, k.hash = &q.Header, q.Hash()
}

// BenchmarkTx fetches single transactions by id from a store of 100
// quants of 1,000 transactions.
func BenchmarkTx(b *testing.B) {
	db := openTest(b, "")
	bang := testBang(b, 1)
	c := db.Chain(bang.Hash())
	qs := grow(b, c, newBuilder(c.ID(), 1), bang, 100, 1000)
	if err := db.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	var ids []quant.Hash
	for _, q := range qs[1:] {
		for _, tx := range q.Txs {
			ids = append(ids, tx.ID())
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := c.Tx(ids[(i*7919)%len(ids)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIterate reads back a main chain of 100 quants of 1,000
// transactions.
func BenchmarkIterate(b *testing.B) {
	db := openTest(b, "")
	bang := testBang(b, 1)
	c := db.Chain(bang.Hash())
	grow(b, c, newBuilder(c.ID(), 1), bang, 100, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n := 0
		if err := c.Iterate(context.Background(), 1, func(q *quant.Quant) error { n += len(q.Txs); return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 100_000 {
			b.Fatalf("iterated %d transactions", n)
		}
	}
	b.ReportMetric(float64(b.N*100_000)/b.Elapsed().Seconds(), "txs/s")
}

// BenchmarkStorageOverhead stores 100,000 signed transactions of 200-byte
// payloads (100 quants of 1,000), compacts, and reports the bytes on disk
// per transaction beyond its payload and signature (B/tx-overhead), beyond
// its canonical encoding (B/tx-beyond-encoding), and the share of the
// transaction index (B/tx-index). Run it with -benchtime=1x.
func BenchmarkStorageOverhead(b *testing.B) {
	const quants, perQuant = 100, 1000
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	for range b.N {
		b.StopTimer()
		db := openTest(b, "")
		bang := testBang(b, 1)
		c := db.Chain(bang.Hash())
		bld := newBuilder(c.ID(), 1)
		if err := c.Connect(entry(bang, 0)); err != nil {
			b.Fatal(err)
		}
		var payload, encoded, n int
		parent, parentHash := &bang.Header, bang.Hash()
		for range quants {
			q := bld.child(parent, parentHash, 0)
			for range perQuant {
				tx := bld.tx()
				tx.Sign(key)
				q.Txs = append(q.Txs, tx)
				payload += len(tx.Data) + len(tx.Sig)
				encoded += tx.EncodedSize()
				n++
			}
			q.Header.TxCount = uint32(len(q.Txs))
			q.Header.TxRoot = quant.TxRoot(q.Txs)
			b.StartTimer()
			if err := c.Connect(entry(q, 0)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			parent, parentHash = &q.Header, q.Hash()
		}
		if err := db.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		st, err := db.Stats()
		if err != nil {
			b.Fatal(err)
		}
		tables, disk := st.TableBytes+st.BlobBytes, st.DiskBytes
		indexLo := c.appendTxIndexKey(nil, 0, quant.Hash{})
		indexHi := append(c.prefix[:len(c.prefix):len(c.prefix)], kindTxIndex+1)
		index, err := db.pdb.EstimateDiskUsage(indexLo, indexHi)
		if err != nil {
			b.Fatal(err)
		}
		perTx := func(x uint64) float64 { return float64(x) / float64(n) }
		b.ReportMetric(perTx(tables), "B/tx-tables")
		b.ReportMetric(perTx(tables)-float64(payload)/float64(n), "B/tx-overhead")
		b.ReportMetric(perTx(tables)-float64(encoded)/float64(n), "B/tx-beyond-encoding")
		b.ReportMetric(perTx(index), "B/tx-index")
		b.Logf("%d txs: payload+sig %d B, canonical encodings %d B, tables %d B, index %d B, whole directory %d B (WAL, manifest)",
			n, payload, encoded, tables, index, disk)
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
