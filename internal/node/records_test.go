package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestPeerQuantBreakingLock: a record locked to one owner on node A; a
// quant that writes it without the owner's signature, sealed and sent as
// a peer's quant, is refused as invalid with the lock's code (the peer
// layer scores the sender down for an invalid quant), and a peer's pending
// transaction breaking it is declined. Node B, which synced the lock,
// refuses the same write at admission.
func TestPeerQuantBreakingLock(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	eventually(t, "connected", 10*time.Second, func() bool { return livePeers(a) == 1 })
	owner := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	id := a.Chain().ID()
	mk := func(data string, key ed25519.PrivateKey, lock *quant.Lock) *quant.Tx {
		tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: uint64(time.Now().UnixNano()), Kind: quant.DataJSON,
			Data: []byte(data), Key: "deeds/1", Lock: lock}
		if key != nil {
			tx.Sign(key)
		}
		return tx
	}
	lock := &quant.Lock{Owners: [][]byte{owner.Public().(ed25519.PublicKey)}, Threshold: 1}
	if _, err := a.Submit(context.Background(), mk(`"mine"`, owner, lock)); err != nil {
		t.Fatal(err)
	}
	leap(t, a)
	eventually(t, "b follows", 10*time.Second, func() bool { return sameTip(a, b) })

	theft := mk(`"stolen"`, nil, nil)
	if _, err := b.Submit(context.Background(), theft); quant.CodeOf(err) != quant.CodeLockedOwner {
		t.Fatalf("B admitted a write breaking the lock: %v", err)
	}
	if v, err := a.def().SubmitTx(context.Background(), theft); v != peer.Declined || quant.CodeOf(err) != quant.CodeLockedOwner {
		t.Fatalf("a peer's transaction breaking the lock: %v %v", v, err)
	}
	// A quant holding it, sealed as a miner would (the chain's template
	// would drop the write, so the quant is built by hand).
	q, _, err := a.Chain().Template(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q.Txs = []*quant.Tx{theft}
	q.Header.TxCount = 1
	q.Header.TxRoot = quant.TxRoot(q.Txs)
	if err := a.Chain().Engine().Seal(context.Background(), &q.Header); err != nil {
		t.Fatal(err)
	}
	if v, err := a.def().AddQuant(context.Background(), q); v != peer.Invalid || quant.CodeOf(err) != quant.CodeLockedOwner {
		t.Fatalf("a peer's quant breaking the lock: %v %v", v, err)
	}
	rec, err := a.Chain().Record("deeds/1")
	if err != nil || string(mustTx(t, a, rec.TxID).Data) != `"mine"` {
		t.Fatalf("the record after the attempt: %+v %v", rec, err)
	}
}

func mustTx(t *testing.T, n *Node, id quant.Hash) *quant.Tx {
	t.Helper()
	p, err := n.Chain().TxProof(id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Tx
}

// TestRaftRecords: on a raft chain a locked record is written at one
// member, a write breaking its lock is refused at another (403 code), an
// owner's update committed through a third, and every member holds the
// same versions.
func TestRaftRecords(t *testing.T) {
	c := newCluster(t)
	nodes := startThree(t, c)
	id := createRaftChain(t, nodes[0], "deeds", nodeKey(nodes[0]), nodeKey(nodes[1]), nodeKey(nodes[2])).Chain.ID()
	eventually(t, "every member has the chain", 30*time.Second, func() bool {
		for _, n := range nodes {
			if l := n.ledger(id); l == nil || l.RaftStatus() == nil || l.RaftStatus().Leader == "" {
				return false
			}
		}
		return true
	})
	owner := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	nonce := uint64(0)
	write := func(n *Node, data string, signer ed25519.PrivateKey, lock *quant.Lock) error {
		nonce++
		tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(data), Key: "deeds/9", Lock: lock}
		if signer != nil {
			tx.Sign(signer)
		}
		_, err := n.ledger(id).Submit(t.Context(), tx)
		return err
	}
	lock := &quant.Lock{Owners: [][]byte{owner.Public().(ed25519.PublicKey)}, Threshold: 1, AppendOnly: true}
	if err := write(nodes[0], `"v1"`, owner, lock); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first version everywhere", 10*time.Second, func() bool {
		_, err := nodes[1].ledger(id).chain.Record("deeds/9")
		return err == nil
	})
	if err := write(nodes[1], `"stolen"`, nil, nil); quant.CodeOf(err) != quant.CodeLockedOwner {
		t.Fatalf("a write breaking the lock at another member: %v", err)
	}
	if err := write(nodes[2], `"v2"`, owner, &quant.Lock{}); quant.CodeOf(err) != quant.CodeAppendOnly {
		t.Fatalf("dropping an append-only lock: %v", err)
	}
	if err := write(nodes[2], `"v2"`, owner, nil); err != nil {
		t.Fatalf("the owner's update at a third member: %v", err)
	}
	eventually(t, "two versions on every member", 10*time.Second, func() bool {
		for _, n := range nodes {
			h, err := n.ledger(id).chain.History("deeds/9", nil, 10)
			if err != nil || len(h) != 2 {
				return false
			}
		}
		return true
	})
}
