package node

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestRunLeavesNoGoroutines: two nodes that peer, mine, gossip, and
// follow a raft chain with each other stop every goroutine they started
// once Run has returned and Close is done.
func TestRunLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs after the cluster's cleanup
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	eventually(t, "the nodes peer", 10*time.Second, func() bool { return len(a.Peers()) == 1 && len(b.Peers()) == 1 })
	created := createRaftChain(t, a, "leak", nodeKey(a), nodeKey(b))
	id := created.Chain.ID()
	eventually(t, "a raft leader", 20*time.Second, func() bool {
		l := b.ledger(id)
		return l != nil && l.RaftStatus() != nil && l.RaftStatus().Leader != ""
	})
	for i := range 3 {
		if _, err := a.Submit(t.Context(), openTx(a, i)); err != nil {
			t.Fatal(err)
		}
	}
	tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: 1, Kind: quant.DataJSON, Data: []byte(`{"a":1}`)}
	if _, err := b.ledger(id).Submit(t.Context(), tx); err != nil {
		t.Fatal(err)
	}
	leap(t, a)
	c.stop(1)
	c.stop(0)
}
