package node

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestPoAFaultyAuthority: a proof-of-authority chain of three authorities
// (three nodes) goes on when one of them stops, the two left taking turns
// as the recents rule requires, and the stopped one catches up when it
// comes back. The rules' heartbeat has the authorities seal with no
// transactions.
func TestPoAFaultyAuthority(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	d := c.start(2, a.Addr())
	eventually(t, "the network connects", 10*time.Second, func() bool { return livePeers(a) == 2 })
	r, err := quant.ParseRules(fmt.Appendf(nil, `{"name":"authorities","created":1700000000000,"engine":"poa",
		"engine_params":{"authorities":[%q,%q,%q],"period_ms":50,"wiggle_ms":150,"heartbeat_ms":50},
		"write_policy":"open","max_data_bytes":1024,"max_quant_txs":100,"max_quant_bytes":2097152,
		"max_time_drift_ms":120000}`, nodeKey(a), nodeKey(b), nodeKey(d)))
	if err != nil {
		t.Fatal(err)
	}
	created, err := a.CreateChain(t.Context(), &r)
	if err != nil {
		t.Fatal(err)
	}
	id := created.Chain.ID()
	miners := map[*Node]context.CancelFunc{}
	mine := func(n *Node) {
		eventually(t, "the node follows the poa chain", 10*time.Second, func() bool { return n.ledger(id) != nil })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { n.ledger(id).prod.(*leaper).mine(ctx); close(done) }()
		miners[n] = func() { cancel(); <-done }
	}
	for _, n := range []*Node{a, b, d} {
		mine(n)
	}
	t.Cleanup(func() {
		for _, stop := range miners {
			stop()
		}
	})
	tip := func(n *Node) quant.Hash { return n.ledger(id).chain.Tip().Hash }
	height := func(n *Node) uint64 { return n.ledger(id).chain.Tip().Header.Height }
	eventually(t, "three authorities make quants", 20*time.Second, func() bool {
		return height(a) >= 4 && tip(a) == tip(b) && tip(b) == tip(d)
	})

	// Between quants the authorities wait (on the tip, the pool, the
	// heartbeat): their loops turn a few times a quant, not thousands.
	for _, n := range []*Node{a, b, d} {
		if rounds, h := n.ledger(id).prod.(*leaper).rounds.Load(), height(n); rounds > 10*h+50 {
			t.Fatalf("an authority's loop turned %d times for %d quants: it polls", rounds, h)
		}
	}

	// d fails.
	miners[d]()
	delete(miners, d)
	c.stop(2)
	from := height(a)
	eventually(t, "two authorities go on", 30*time.Second, func() bool {
		return height(a) >= from+8 && tip(a) == tip(b)
	})
	// After d stopped, a and b sealed in turn: never one twice running.
	dIndex := uint16(2)
	var last uint16 = 0xffff
	for h := from + 2; h <= height(a); h++ {
		hash, err := a.ledger(id).st.HashAt(h)
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := a.ledger(id).st.Header(hash)
		if err != nil {
			t.Fatal(err)
		}
		signer := binary.BigEndian.Uint16(hdr.Seal)
		if signer == dIndex {
			t.Fatalf("quant %d is sealed by the stopped authority", h)
		}
		if signer == last {
			t.Fatalf("quants %d and %d are sealed by the same authority", h-1, h)
		}
		last = signer
	}

	// d comes back and catches up.
	d = c.start(2, a.Addr())
	eventually(t, "the stopped authority catches up", 30*time.Second, func() bool {
		l := d.ledger(id)
		return l != nil && l.chain.Tip().Header.Height >= from+8
	})
}
