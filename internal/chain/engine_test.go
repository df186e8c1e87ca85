package chain

import (
	"context"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/consensus/consensustest"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestPluggedEngine runs a chain on consensustest's engine, which the chain
// knows only through its Factory: quants are made, sealed and added, and
// the chain reports the engine's (default) capabilities.
func TestPluggedEngine(t *testing.T) {
	engines := Engines{consensustest.Name: consensustest.Factory}
	r := quant.DefaultRules("plugged", t0)
	r.Engine = consensustest.Name
	bang, err := quant.NewBang(r)
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore(bang.Hash())
	if err := Init(st, bang, engines); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(t0 + 10_000)
	c, err := Open(st, engines, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		now = now.Add(time.Second)
		tx := &quant.Tx{ChainID: c.ID(), Time: now.UnixMilli(), Nonce: uint64(i), Kind: quant.DataJSON, Data: []byte(`1`)}
		q, _, err := c.Template([]*quant.Tx{tx}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Engine().Seal(context.Background(), &q.Header); err != nil {
			t.Fatal(err)
		}
		if res, err := c.Add(q); err != nil || !res.Extended() {
			t.Fatalf("quant %d: %+v, %v", i, res, err)
		}
	}
	head := c.Tip()
	if head.Meta.Height != 3 || head.Meta.Work.Int64() != 3 || head.Meta.Txs != 3 {
		t.Fatalf("head meta %+v, want height 3, work 3, txs 3", head.Meta)
	}
	if !c.CanSeal() || !c.MaySeal() || c.Finality() != consensus.FinalityDepth {
		t.Fatalf("capabilities: CanSeal %v, MaySeal %v, Finality %q", c.CanSeal(), c.MaySeal(), c.Finality())
	}
	if err := VerifyStored(context.Background(), st, engines, nil); err != nil {
		t.Fatal(err)
	}
}
