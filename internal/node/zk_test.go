package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
	"github.com/qbc-chain/qbc/internal/zk/zktest"
)

// TestZKThreeNodes: on a chain with a group, three nodes agree on an
// anonymous write; the same member's second write in the scope is refused
// by every node at admission (nullifier_used), and a quant holding it,
// sent as a peer's, is invalid; a forged proof in a peer's quant too.
func TestZKThreeNodes(t *testing.T) {
	c, admin := zkCluster(t, quant.ZKGroup{Name: "club", Prefix: "club/", RootWindow: 4})
	n0 := c.start(0)
	n1 := c.start(1, n0.Addr())
	n2 := c.start(2, n1.Addr())
	nodes := []*Node{n0, n1, n2}
	eventually(t, "every node knows the other two", 15*time.Second, func() bool {
		return livePeers(n0) == 2 && livePeers(n1) == 2 && livePeers(n2) == 2
	})
	id := n0.Chain().ID()
	secrets, members := zktest.Identities(t, 3)
	var nonce uint64
	mk := func(key string, data []byte) *quant.Tx {
		nonce++
		return &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: data, Key: key}
	}
	group := mk(quant.GroupKey("club"), zk.GroupData(members))
	group.Sign(admin)
	if _, err := n0.Submit(t.Context(), group); err != nil {
		t.Fatal(err)
	}
	leap(t, n0)
	eventually(t, "the group reaches every node", 10*time.Second, func() bool { return sameTip(n0, n1, n2) })

	anon := func(i int, key string) *quant.Tx {
		tx := mk(key, []byte(`{"msg":"hi"}`))
		if err := zk.AttachMembership(tx, zktest.Keys(t, zk.Membership), secrets[i], members, "club/"); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	first := anon(1, "club/a")
	txid, err := n1.Submit(t.Context(), first)
	if err != nil {
		t.Fatalf("anonymous write: %v", err)
	}
	eventually(t, "the write reaches n2's pool", 10*time.Second, func() bool { return n2.def().pool.Has(txid) })
	leap(t, n2)
	eventually(t, "every node commits it", 10*time.Second, func() bool {
		return committed(n0, txid) && committed(n1, txid) && committed(n2, txid) && sameTip(n0, n1, n2)
	})
	for _, n := range nodes {
		if v, err := n.Chain().Record("club/a"); err != nil || v.TxID != txid || v.Signer != nil {
			t.Fatalf("record on a node: %+v %v", v, err)
		}
	}

	second := anon(1, "club/b")
	for i, n := range nodes {
		if _, err := n.Submit(t.Context(), second); quant.CodeOf(err) != quant.CodeNullifierUsed {
			t.Fatalf("node %d admitted a second use of the nullifier: %v", i, err)
		}
	}
	// A peer's pending transaction reusing it is declined (the sender may
	// not have seen the quant that spent it), not held against the peer.
	if v, err := n2.def().SubmitTx(t.Context(), second); v != peer.Declined || quant.CodeOf(err) != quant.CodeNullifierUsed {
		t.Fatalf("a peer's transaction reusing the nullifier: %v %v", v, err)
	}
	sealed := func(tx *quant.Tx) *quant.Quant {
		q, _, err := n0.Chain().Template(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		q.Txs = []*quant.Tx{tx}
		q.Header.TxCount = 1
		q.Header.TxRoot = quant.TxRoot(q.Txs)
		if err := n0.Chain().Engine().Seal(context.Background(), &q.Header); err != nil {
			t.Fatal(err)
		}
		return q
	}
	for i, n := range nodes {
		if v, err := n.def().AddQuant(t.Context(), sealed(second)); v != peer.Invalid || quant.CodeOf(err) != quant.CodeNullifierUsed {
			t.Fatalf("node %d: a peer's quant reusing the nullifier: %v %v", i, v, err)
		}
	}
	forged := anon(2, "club/c")
	forged.ZK.Proof = bytes.Repeat([]byte{0x42}, zk.ProofSize)
	for i, n := range nodes {
		if v, err := n.def().AddQuant(t.Context(), sealed(forged)); v != peer.Invalid || quant.CodeOf(err) != quant.CodeBadProof {
			t.Fatalf("node %d: a peer's quant with a forged proof: %v %v", i, v, err)
		}
	}
	if !sameTip(n0, n1, n2) {
		t.Fatal("nodes disagree")
	}
}

// zkCluster is a test cluster whose genesis (netGenesis) has zk rules with
// group g, whose admin is returned: g.Admins is set to that key.
func zkCluster(t *testing.T, g quant.ZKGroup) (*cluster, ed25519.PrivateKey) {
	t.Helper()
	admin := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	var r quant.Rules
	if err := json.Unmarshal([]byte(netGenesis), &r); err != nil {
		t.Fatal(err)
	}
	g.Admins = []string{hex.EncodeToString(admin.Public().(ed25519.PublicKey))}
	r.ZK = zktest.Rules(t, g)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t)
	if err := os.WriteFile(filepath.Join(c.dir, "genesis.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return c, admin
}
