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
