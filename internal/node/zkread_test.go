package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
	"github.com/qbc-chain/qbc/internal/zk/zktest"
)

// TestZKReadAndKeys: a read-gated record is refused to a plain GET (401),
// served to a member's proof bound to a fresh challenge, refused to a
// forged proof (422) and to a reused challenge (401); the node serves the
// verifying key from the rules and the proving key from its key
// directory, checked against the rules' hash.
func TestZKReadAndKeys(t *testing.T) {
	c, admin := zkCluster(t, quant.ZKGroup{Name: "staff", Prefix: "hr/", RootWindow: 4, ReadGated: true})
	keyDir := t.TempDir()
	pk := zk.EncodeProvingKey(zktest.Keys(t, zk.Preimage).PK)
	os.WriteFile(filepath.Join(keyDir, "preimage.pk"), pk, 0o600)
	os.WriteFile(filepath.Join(keyDir, "range.pk"), []byte("not the key"), 0o600)
	c.configure = func(cfg *Config) { cfg.ZKKeyDir = keyDir }
	n := c.start(0)
	id := n.Chain().ID()
	base := "http://" + n.Addr() + "/v1/chains/" + id.String()

	secrets, members := zktest.Identities(t, 2)
	group := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: 1, Kind: quant.DataJSON, Data: zk.GroupData(members), Key: quant.GroupKey("staff")}
	group.Sign(admin)
	secret := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: 2, Kind: quant.DataJSON, Data: []byte(`{"salary":1}`), Key: "hr/alice"}
	secret.Sign(admin)
	for _, tx := range []*quant.Tx{group, secret} {
		if _, err := n.Submit(t.Context(), tx); err != nil {
			t.Fatal(err)
		}
	}
	leap(t, n)

	get := func(url string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if code, body := get(base + "/records/hr%2Falice"); code != http.StatusUnauthorized {
		t.Fatalf("plain read of a gated record: %d %s", code, body)
	}
	if code, body := get(base + "/records/hr%2Falice/history"); code != http.StatusUnauthorized {
		t.Fatalf("plain history of a gated record: %d %s", code, body)
	}
	challenge := func() []byte {
		code, body := get(base + "/zk/challenge")
		var ch api.ZKChallenge
		if code != 200 || json.Unmarshal(body, &ch) != nil {
			t.Fatalf("challenge: %d %s", code, body)
		}
		cb, _ := hex.DecodeString(ch.Challenge)
		return cb
	}
	read := func(ch []byte, z *quant.ZK) (int, []byte) {
		t.Helper()
		req, _ := json.Marshal(api.ZKRead{Key: "hr/alice", Challenge: hex.EncodeToString(ch), ZK: *api.FromZK(z)})
		resp, err := http.Post(base+"/zk/read", "application/json", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	k := zktest.Keys(t, zk.Membership)
	ch := challenge()
	z, err := zk.ProveRead(k, secrets[1], members, id, ch, "hr/alice")
	if err != nil {
		t.Fatal(err)
	}
	code, body := read(ch, z)
	var rec api.Record
	if code != 200 || json.Unmarshal(body, &rec) != nil || string(rec.Tx.Data) != `{"salary":1}` {
		t.Fatalf("member's read: %d %s", code, body)
	}
	if code, body := read(ch, z); code != http.StatusUnauthorized {
		t.Fatalf("a reused challenge: %d %s", code, body)
	}
	// A proof for another challenge, and a forged one.
	ch2 := challenge()
	if code, body := read(ch2, z); code != http.StatusUnprocessableEntity {
		t.Fatalf("a proof for another challenge: %d %s", code, body)
	}
	ch3 := challenge()
	z3, _ := zk.ProveRead(k, secrets[0], members, id, ch3, "hr/alice")
	z3.Proof = bytes.Repeat([]byte{1}, zk.ProofSize)
	if code, body := read(ch3, z3); code != http.StatusUnprocessableEntity {
		t.Fatalf("a forged proof: %d %s", code, body)
	}
	// A non-member cannot prove at all; a proof for another key fails.
	ch4 := challenge()
	z4, _ := zk.ProveRead(k, secrets[0], members, id, ch4, "hr/bob")
	if code, body := read(ch4, z4); code != http.StatusUnprocessableEntity {
		t.Fatalf("a proof for another key: %d %s", code, body)
	}

	// Keys.
	code, body = get(base + "/zk/keys")
	var keys api.ZKKeys
	if code != 200 || json.Unmarshal(body, &keys) != nil || len(keys.Circuits) != 3 {
		t.Fatalf("keys: %d %s", code, body)
	}
	served := map[string]bool{}
	for _, c := range keys.Circuits {
		served[c.Circuit] = c.PKServed
	}
	if !served["preimage"] || served["range"] || served["membership"] {
		t.Fatalf("proving keys served: %v", served)
	}
	code, body = get(base + "/zk/keys/preimage.pk")
	if code != 200 || !bytes.Equal(body, pk) {
		t.Fatalf("preimage.pk: %d, %d bytes", code, len(body))
	}
	if code, _ := get(base + "/zk/keys/range.pk"); code != http.StatusNotFound {
		t.Fatalf("a proving key that is not the rules': %d", code)
	}
	code, body = get(base + "/zk/keys/membership.vk")
	h := sha256.Sum256(body)
	if code != 200 || hex.EncodeToString(h[:]) != keys.Circuits[0].VKSHA256 {
		t.Fatalf("membership.vk: %d", code)
	}
	if _, err := zk.DecodeVerifyingKey(body); err != nil {
		t.Fatal(err)
	}
}
