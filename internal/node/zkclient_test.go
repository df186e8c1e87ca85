package node

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
	"github.com/qbc-chain/qbc/internal/zk/zktest"
)

// TestZKClient: the Go client against a node: rules checked against the
// chain id, proving keys from the node checked against the rules, a join
// by an admin, an anonymous write (then 409 in the same scope), an
// anonymous read of the gated record, a secret-locked write.
func TestZKClient(t *testing.T) {
	c, admin := zkCluster(t, quant.ZKGroup{Name: "staff", Prefix: "hr/", RootWindow: 4, ReadGated: true})
	keyDir := t.TempDir()
	for _, circuit := range zk.Circuits {
		os.WriteFile(filepath.Join(keyDir, circuit.String()+".pk"), zk.EncodeProvingKey(zktest.Keys(t, circuit).PK), 0o600)
	}
	c.configure = func(cfg *Config) { cfg.ZKKeyDir = keyDir }
	n := c.start(0)
	id := n.Chain().ID()
	cl := client.New("http://"+n.Addr(), nil).OnChain(id)
	ctx := t.Context()

	rules, err := cl.ZKRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := zk.NewSecret()
	if _, err := cl.ZKJoin(ctx, admin, "staff", zk.Commitment(secret)); err != nil {
		t.Fatal(err)
	}
	leap(t, n)
	if _, err := cl.ZKJoin(ctx, admin, "staff", zk.Commitment(secret)); err == nil {
		t.Fatal("joined twice")
	}
	mk, err := cl.ZKKeys(ctx, rules, zk.Membership, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ZKWriteAnonymous(ctx, mk, rules, client.NewWrite(id, "hr/notes/1", []byte(`"anonymous"`)), secret); err != nil {
		t.Fatal(err)
	}
	leap(t, n)
	_, err = cl.ZKWriteAnonymous(ctx, mk, rules, client.NewWrite(id, "hr/notes/2", []byte(`"again"`)), secret)
	if se, ok := err.(*client.StatusError); !ok || se.StatusCode != 409 {
		t.Fatalf("second write in the scope: %v, want 409", err)
	}
	rec, err := cl.ZKReadAnonymous(ctx, mk, rules, "hr/notes/1", secret)
	if err != nil || string(rec.Tx.Data) != `"anonymous"` || rec.Tx.PubKey != "" {
		t.Fatalf("anonymous read: %+v %v", rec, err)
	}

	lockSecret, _ := zk.NewSecret()
	cm := quant.Hash(zk.Commitment(lockSecret))
	first := client.NewWrite(id, "vault/1", []byte(`"v1"`))
	first.Lock = &quant.Lock{Commitment: &cm}
	if _, err := cl.SubmitTx(ctx, first); err != nil {
		t.Fatal(err)
	}
	leap(t, n)
	pk, err := cl.ZKKeys(ctx, rules, zk.Preimage, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ZKWriteSecret(ctx, pk, client.NewWrite(id, "vault/1", []byte(`"v2"`)), lockSecret); err != nil {
		t.Fatal(err)
	}
	leap(t, n)
	if v, err := n.Chain().Record("vault/1"); err != nil || string(mustTx(t, n, v.TxID).Data) != `"v2"` {
		t.Fatalf("vault/1 after: %v", err)
	}
	// A proving key that is not the rules' is refused before decoding.
	if _, err := cl.ZKKeys(ctx, rules, zk.Range, []byte("not the key")); err == nil {
		t.Fatal("a proving key that is not the rules' was taken")
	}
}
