package chain_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/consensus/pow"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// TestOnPebble runs the chain on the real store: quants added, a heavier
// branch reorganized to, the chain reopened from disk at the same tip, and
// the stored chain verified. The other tests use an in-memory store.
func TestOnPebble(t *testing.T) {
	const t0 = 1_700_000_000_000
	engines := chain.Engines{pow.Name: pow.New}
	r := quant.DefaultRules("pebble-test", t0)
	r.Engine = pow.Name
	r.EngineParams, _ = json.Marshal(pow.Params{TargetMs: 1000, InitialDifficulty: 1 << 8, MinDifficulty: 1, Window: 0})
	bang, err := quant.NewBang(r)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := db.Chain(bang.Hash())
	if err := chain.Init(st, bang, engines); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(t0 + 10_000)
	clock := func() time.Time { return now }
	c, err := chain.Open(st, engines, chain.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	// on seals a quant on parent holding one transaction.
	nonce := uint64(0)
	on := func(parent *quant.Header, key string) *quant.Quant {
		t.Helper()
		now = now.Add(time.Second)
		nonce++
		tx := &quant.Tx{ChainID: c.ID(), Time: now.UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(`1`), Key: key}
		q, _, err := c.TemplateOn(parent.Hash(), []*quant.Header{parent}, []*quant.Tx{tx}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Engine().Seal(context.Background(), &q.Header); err != nil {
			t.Fatal(err)
		}
		return q
	}
	// Record keys: x is written below the fork and again on the losing
	// branch, y on the winning one.
	c0 := on(&bang.Header, "x")
	if _, err := c.Add(c0); err != nil {
		t.Fatal(err)
	}
	a1 := on(&c0.Header, "x")
	if _, err := c.Add(a1); err != nil {
		t.Fatal(err)
	}
	if v, err := st.RecordAt("x", chain.LastLocation); err != nil || v.TxID != a1.Txs[0].ID() {
		t.Fatalf("latest x before the reorg: %+v %v", v, err)
	}
	b1 := on(&c0.Header, "y")
	b2 := on(&b1.Header, "")
	if res, err := c.Add(b1); err != nil || res.Extended() {
		t.Fatalf("equal rival: %+v, %v", res, err)
	}
	res, err := c.Add(b2)
	if err != nil || len(res.Connected) != 2 || len(res.Disconnected) != 1 {
		t.Fatalf("heavier branch: %+v, %v", res, err)
	}
	if loc, err := st.TxLocation(a1.Txs[0].ID()); err == nil {
		t.Fatalf("a disconnected transaction is still indexed at %+v", loc)
	}
	if v, err := st.RecordAt("x", chain.LastLocation); err != nil || v.TxID != c0.Txs[0].ID() {
		t.Fatalf("latest x after the reorg: %+v %v, want the version below the fork", v, err)
	}
	if h, err := st.History("x", nil, 10); err != nil || len(h) != 1 || h[0].TxID != c0.Txs[0].ID() {
		t.Fatalf("history of x after the reorg: %+v %v", h, err)
	}
	if keys, err := st.Keys("", "", 10); err != nil || len(keys) != 2 || keys[0] != "x" || keys[1] != "y" {
		t.Fatalf("keys after the reorg: %v %v", keys, err)
	}
	if keys, err := st.Keys("y", "", 10); err != nil || len(keys) != 1 {
		t.Fatalf("keys under y: %v %v", keys, err)
	}
	if keys, err := st.Keys("", "x", 10); err != nil || len(keys) != 1 || keys[0] != "y" {
		t.Fatalf("keys after x: %v %v", keys, err)
	}

	reopened, err := chain.Open(st, engines, chain.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reopened.Tip().Hash, b2.Hash(); got != want {
		t.Fatalf("reopened tip %s, want %s", got, want)
	}
	if err := chain.VerifyStored(context.Background(), st, engines, nil); err != nil {
		t.Fatalf("VerifyStored: %v", err)
	}
}

// recordBench is a chain on Pebble for the record benchmarks, with a clock
// that moves a second per quant.
type recordBench struct {
	c     *chain.Chain
	st    *store.Chain
	now   time.Time
	nonce uint64
}

func newRecordBench(b *testing.B) *recordBench {
	b.Helper()
	engines := chain.Engines{pow.Name: pow.New}
	r := quant.DefaultRules("record-bench", t0Bench)
	r.Engine = pow.Name
	r.MaxQuantTxs = 10_000
	r.EngineParams, _ = json.Marshal(pow.Params{TargetMs: 1000, InitialDifficulty: 1, MinDifficulty: 1, Window: 0})
	bang, err := quant.NewBang(r)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(store.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	st := db.Chain(bang.Hash())
	if err := chain.Init(st, bang, engines); err != nil {
		b.Fatal(err)
	}
	rb := &recordBench{st: st, now: time.UnixMilli(t0Bench + 10_000)}
	rb.c, err = chain.Open(st, engines, chain.Options{Now: func() time.Time { return rb.now }})
	if err != nil {
		b.Fatal(err)
	}
	return rb
}

const t0Bench = 1_700_000_000_000

// add seals txs into a quant on the tip and adds it.
func (rb *recordBench) add(b *testing.B, txs []*quant.Tx) {
	rb.now = rb.now.Add(time.Second)
	q, _, err := rb.c.Template(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	q.Txs, q.Header.TxCount, q.Header.TxRoot = txs, uint32(len(txs)), quant.TxRoot(txs)
	if err := rb.c.Engine().Seal(context.Background(), &q.Header); err != nil {
		b.Fatal(err)
	}
	if _, err := rb.c.Add(q); err != nil {
		b.Fatal(err)
	}
}

func (rb *recordBench) tx(key string, lock *quant.Lock, signer ed25519.PrivateKey) *quant.Tx {
	rb.nonce++
	tx := &quant.Tx{ChainID: rb.c.ID(), Time: rb.now.UnixMilli(), Nonce: rb.nonce, Kind: quant.DataJSON,
		Data: []byte(`{"total":42,"items":["a","b"]}`), Key: key, Lock: lock}
	if signer != nil {
		tx.Sign(signer)
	}
	return tx
}

// BenchmarkAddSignedRecords measures chain.Add per signed transaction, in
// quants of 1,000, on Pebble: plain (no key), keyed-new (each a new key
// locked to its owner), keyed-update (each a new version of an
// owner-locked key: a record read and the owner check per write). The
// lock checks' cost is the difference (docs/records.md).
//
//	go test -run XXX -bench AddSignedRecords -benchtime 20x ./internal/chain
func BenchmarkAddSignedRecords(b *testing.B) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))
	lock := &quant.Lock{Owners: [][]byte{key.Public().(ed25519.PublicKey)}, Threshold: 1}
	const perQuant = 1000
	for _, mode := range []string{"plain", "keyed-new", "keyed-update"} {
		b.Run(mode, func(b *testing.B) {
			rb := newRecordBench(b)
			if mode == "keyed-update" { // the keys exist, locked
				txs := make([]*quant.Tx, perQuant)
				for i := range txs {
					txs[i] = rb.tx(fmt.Sprintf("orders/%d", i), lock, key)
				}
				rb.add(b, txs)
			}
			batches := make([][]*quant.Tx, b.N)
			for n := range batches {
				txs := make([]*quant.Tx, perQuant)
				for i := range txs {
					switch mode {
					case "plain":
						txs[i] = rb.tx("", nil, key)
					case "keyed-new":
						txs[i] = rb.tx(fmt.Sprintf("orders/%d/%d", n, i), lock, key)
					default:
						txs[i] = rb.tx(fmt.Sprintf("orders/%d", i), nil, key)
					}
				}
				batches[n] = txs
			}
			b.ResetTimer()
			for n := range b.N {
				rb.add(b, batches[n])
			}
			b.ReportMetric(float64(b.N*perQuant)/b.Elapsed().Seconds(), "txs/s")
		})
	}
}

// BenchmarkRecordReads measures a record's latest and its history on a
// store of 1,000,000 versions under 1,000,000 keys (built once, unsigned,
// in quants of 10,000), then of one key with 1,000 versions.
//
//	go test -run XXX -bench RecordReads -benchtime 2s ./internal/chain
func BenchmarkRecordReads(b *testing.B) {
	rb := newRecordBench(b)
	const keys, perQuant = 1_000_000, 10_000
	for q := 0; q < keys/perQuant; q++ {
		txs := make([]*quant.Tx, perQuant)
		for i := range txs {
			txs[i] = rb.tx(fmt.Sprintf("k/%07d", q*perQuant+i), nil, nil)
		}
		rb.add(b, txs)
	}
	for range 1000 / 100 { // hot/000: 1,000 versions, in 10 quants
		txs := make([]*quant.Tx, 100)
		for i := range txs {
			txs[i] = rb.tx("hot/000", nil, nil)
		}
		rb.add(b, txs)
	}
	b.Run("latest", func(b *testing.B) {
		for n := range b.N {
			if _, err := rb.c.Record(fmt.Sprintf("k/%07d", (n*7919)%keys)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("history-1", func(b *testing.B) {
		for n := range b.N {
			if h, err := rb.c.History(fmt.Sprintf("k/%07d", (n*7919)%keys), nil, 100); err != nil || len(h) != 1 {
				b.Fatal(len(h), err)
			}
		}
	})
	b.Run("history-100-of-1000", func(b *testing.B) {
		for range b.N {
			if h, err := rb.c.History("hot/000", nil, 100); err != nil || len(h) != 100 {
				b.Fatal(len(h), err)
			}
		}
	})
	b.Run("keys-100", func(b *testing.B) {
		for n := range b.N {
			if ks, err := rb.c.Keys("k/", fmt.Sprintf("k/%07d", (n*7919)%(keys-1000)), 100); err != nil || len(ks) != 100 {
				b.Fatal(len(ks), err)
			}
		}
	})
}

// BenchmarkVerifyStored measures VerifyStored on Pebble, per transaction,
// on a chain of 100 quants of 10,000 unsigned transactions (no keys, as
// scripts/perf.sh's store; built once). qbc verify of a node's store adds
// the check of its tables' checksums.
//
//	go test -run XXX -bench VerifyStored -benchtime 3x ./internal/chain
func BenchmarkVerifyStored(b *testing.B) {
	const quants, perQuant = 100, 10_000
	rb := newRecordBench(b)
	for range quants {
		txs := make([]*quant.Tx, perQuant)
		for i := range txs {
			txs[i] = rb.tx("", nil, nil)
		}
		rb.add(b, txs)
	}
	engines := chain.Engines{pow.Name: pow.New}
	for b.Loop() {
		if err := chain.VerifyStored(context.Background(), rb.st, engines, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*quants*perQuant)/b.Elapsed().Seconds(), "txs/s")
}
