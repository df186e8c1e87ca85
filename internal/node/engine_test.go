package node

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/consensus/consensustest"
	"github.com/qbc-chain/qbc/internal/engines"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestNewEnginePlugsIn: an engine the node has never heard of (the
// conformance suite's test engine), given to the node in its
// configuration's engine set alone, runs a chain across two nodes: a chain
// made on one is followed by the other, transactions gossip, leaps commit,
// and the other node takes the quants. No code in node names it.
func TestNewEnginePlugsIn(t *testing.T) {
	c := newCluster(t)
	c.configure = func(cfg *Config) {
		cfg.Engines = engines.Set{
			Consensus: func(key ed25519.PrivateKey) chain.Engines {
				e := engines.Consensus(key)
				e[consensustest.Name] = consensustest.Factory
				return e
			},
			Replicas: engines.Default().Replicas,
		}
	}
	a := c.start(0)
	b := c.start(1, a.Addr())
	r := quant.DefaultRules("plugged", 1700000000000)
	r.Engine = consensustest.Name
	created, err := a.CreateChain(t.Context(), &r)
	if err != nil {
		t.Fatal(err)
	}
	id := created.Chain.ID()
	if f := created.Chain.Finality(); f != "depth" {
		t.Fatalf("the test engine's finality is %q, want depth", f)
	}
	eventually(t, "a and b are peers on the new chain", 10*time.Second, func() bool {
		return b.ledger(id) != nil && liveOn(a.ledger(id)) == 1 && liveOn(b.ledger(id)) == 1
	})
	tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: 1, Kind: quant.DataJSON, Data: []byte(`{"a":1}`)}
	if _, err := a.ledger(id).Submit(t.Context(), tx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the transaction gossips to b", 10*time.Second, func() bool { return b.ledger(id).pool.Has(tx.ID()) })
	q, err := a.ledger(id).Leap(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	waitQuants(t, b, "b takes the quant", 10*time.Second, func() bool { return b.ledger(id).chain.Tip().Hash == q.Hash() })
	if b.ledger(id).pool.Has(tx.ID()) {
		t.Fatal("b still pools a committed transaction")
	}
}
