package chain_test

import (
	"context"
	"encoding/json"
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
