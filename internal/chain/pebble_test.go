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
	on := func(parent *quant.Header) *quant.Quant {
		t.Helper()
		now = now.Add(time.Second)
		nonce++
		tx := &quant.Tx{ChainID: c.ID(), Time: now.UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(`1`)}
		q, _, err := c.TemplateOn(parent.Hash(), []*quant.Header{parent}, []*quant.Tx{tx}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Engine().Seal(context.Background(), &q.Header); err != nil {
			t.Fatal(err)
		}
		return q
	}
	a1 := on(&bang.Header)
	if _, err := c.Add(a1); err != nil {
		t.Fatal(err)
	}
	b1 := on(&bang.Header)
	b2 := on(&b1.Header)
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
