package chain

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
	"github.com/qbc-chain/qbc/internal/zk/zktest"
)

// zkFixture is a chain with the zk test keys and one group, "club":
// members write under "club/", recKey(9) is its admin, a replaced root
// proves for 2 quants.
type zkFixture struct {
	*fixture
	secrets []zk.Field
	members []zk.Field
}

func newZKFixture(t *testing.T) *zkFixture { return newZKFixtureNamed(t, "chain-test") }

func newZKFixtureNamed(t *testing.T, name string) *zkFixture {
	admin := recKey(9)
	z := zktest.Rules(t, quant.ZKGroup{Name: "club", Prefix: "club/", Admins: []string{hex.EncodeToString(pubOf(admin))}, RootWindow: 2})
	f := &zkFixture{fixture: newFixture(t, func(r *quant.Rules) { r.ZK = z; r.Name = name })}
	f.secrets, f.members = zktest.Identities(t, 3)
	f.add(f.quant([]*quant.Tx{f.group(f.members)}, nil))
	return f
}

// group is the admin's write of the group record listing members.
func (f *zkFixture) group(members []zk.Field) *quant.Tx {
	nonce++
	tx := &quant.Tx{ChainID: f.c.ID(), Time: f.clock.t.UnixMilli(), Nonce: nonce, Kind: quant.DataJSON,
		Data: zk.GroupData(members), Key: quant.GroupKey("club")}
	tx.Sign(recKey(9))
	return tx
}

// anon is member i's anonymous write of key, spending its nullifier in
// scope, proven against the group of members.
func (f *zkFixture) anon(i int, key, scope string, members []zk.Field) *quant.Tx {
	f.t.Helper()
	nonce++
	tx := &quant.Tx{ChainID: f.c.ID(), Time: f.clock.t.UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(`{"post":1}`), Key: key}
	if err := zk.AttachMembership(tx, zktest.Keys(f.t, zk.Membership), f.secrets[i], members, scope); err != nil {
		f.t.Fatal(err)
	}
	return tx
}

func (f *zkFixture) check(tx *quant.Tx, want quant.Code) {
	f.t.Helper()
	err := f.c.CheckTx(tx, tx.ID())
	if got := quant.CodeOf(err); got != want || (want != "" && err == nil) {
		f.t.Fatalf("CheckTx: %v, want code %q", err, want)
	}
	errs := f.c.CheckTxs([]*quant.Tx{tx}, []quant.Hash{tx.ID()})
	if got := quant.CodeOf(errs[0]); got != want {
		f.t.Fatalf("CheckTxs: %v, want code %q", errs[0], want)
	}
}

// refusedInQuant requires Add to refuse a quant holding txs (as from a
// peer: nothing was verified here) with code, and the tip to stay.
func (f *zkFixture) refusedInQuant(txs []*quant.Tx, want quant.Code) {
	f.t.Helper()
	tip := f.c.Tip()
	_, err := f.c.Add(f.quant(txs, nil))
	if got := quant.CodeOf(err); got != want {
		f.t.Fatalf("Add: %v, want code %q", err, want)
	}
	if f.c.Tip().Hash != tip.Hash {
		f.t.Fatal("the tip moved")
	}
}

func TestAnonymousWrite(t *testing.T) {
	f := newZKFixture(t)
	tx := f.anon(1, "club/posts/1", "club/posts/", f.members)
	if tx.Signed() {
		t.Fatal("anonymous write is signed")
	}
	f.check(tx, "")
	f.add(f.quant([]*quant.Tx{tx}, nil))
	v, err := f.c.Record("club/posts/1")
	if err != nil || v.TxID != tx.ID() || v.Signer != nil {
		t.Fatalf("record: %+v, %v", v, err)
	}
	if _, err := f.c.Record(quant.NullifierKey(tx.ZK.Nullifier)); err != nil {
		t.Fatalf("nullifier not recorded: %v", err)
	}

	// The same member in the same scope: refused at admission and in a quant.
	again := f.anon(1, "club/posts/2", "club/posts/", f.members)
	f.check(again, quant.CodeNullifierUsed)
	f.refusedInQuant([]*quant.Tx{again}, quant.CodeNullifierUsed)
	// Twice in one quant.
	a := f.anon(2, "club/posts/3", "club/posts/", f.members)
	b := f.anon(2, "club/posts/4", "club/posts/", f.members)
	f.refusedInQuant([]*quant.Tx{a, b}, quant.CodeNullifierUsed)
	// Another scope is another nullifier.
	f.check(f.anon(1, "club/votes/1", "club/votes/", f.members), "")

	// Nobody writes a nullifier key, nor the group but its admin.
	direct := f.write(quant.NullifierKey(quant.Hash{1}), `1`, nil, nil)
	f.check(direct, quant.CodeNotAllowed)
	f.check(f.write(quant.GroupKey("club"), string(zk.GroupData(nil)), nil, nil, recKey(1)), quant.CodeNotAllowed)
	// A membership proof outside any group's prefix.
	out := f.anon(0, "club/x", "club/", f.members)
	out.Key = "elsewhere/x"
	f.check(out, quant.CodeNotAllowed)

	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatalf("VerifyStored: %v", err)
	}
}

// TestProofBinding: a proof is bound to its transaction and chain; a
// changed body, another chain, a root the group never had and forged
// bytes are refused, none with a panic.
func TestProofBinding(t *testing.T) {
	f := newZKFixture(t)
	good := f.anon(0, "club/p", "club/", f.members)

	body := good.Clone()
	body.Data = []byte(`{"post":2}`)
	f.check(body, quant.CodeBadProof)

	nonced := good.Clone()
	nonced.Nonce++
	f.check(nonced, quant.CodeBadProof)

	other := newZKFixtureNamed(t, "another") // another chain, same keys and members
	other.secrets, other.members = f.secrets, f.members
	other.add(other.quant([]*quant.Tx{other.group(f.members)}, nil))
	lifted := other.anon(0, "club/p", "club/", f.members)
	if err := other.c.CheckTx(lifted, lifted.ID()); err != nil {
		t.Fatalf("on its own chain: %v", err)
	}
	lifted.ChainID = f.c.ID()
	f.check(lifted, quant.CodeBadProof)

	scoped := good.Clone()
	scoped.ZK.Scope = "club/p" // a scope of its own: not the key's directory
	f.check(scoped, quant.CodeMalformed)

	_, strangers := zktest.Identities(t, 3)
	never := f.anon(0, "club/q", "club/", append(append([]zk.Field{}, f.members...), strangers...))
	f.check(never, quant.CodeStaleRoot)

	forged := map[string][]byte{
		"random":  randomBytes(t, zk.ProofSize),
		"zeros":   make([]byte, zk.ProofSize),
		"short":   good.ZK.Proof[:10],
		"ones":    bytes.Repeat([]byte{0xff}, zk.ProofSize),
		"flipped": flipByte(good.ZK.Proof, 70),
	}
	for name, p := range forged {
		tx := good.Clone()
		tx.ZK.Proof = p
		if err := f.c.CheckTx(tx, tx.ID()); quant.CodeOf(err) != quant.CodeBadProof {
			t.Errorf("%s proof: %v, want bad_proof", name, err)
		}
	}
	// A forged proof in a quant from a peer.
	bad := good.Clone()
	bad.ZK.Proof = randomBytes(t, zk.ProofSize)
	f.refusedInQuant([]*quant.Tx{bad}, quant.CodeBadProof)
	// A non-canonical public input.
	nc := good.Clone()
	for i := range nc.ZK.Nullifier {
		nc.ZK.Nullifier[i] = 0xff
	}
	f.check(nc, quant.CodeMalformed)
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func flipByte(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x40
	return c
}

// TestRootWindow: after a join, a proof against the root before it
// proves while the join is at most 2 quants old.
func TestRootWindow(t *testing.T) {
	f := newZKFixture(t)
	old := append([]zk.Field{}, f.members...)
	s4, c4 := zktest.Identities(t, 1)
	f.secrets = append(f.secrets, s4...)
	f.members = append(f.members, c4...)
	f.add(f.quant([]*quant.Tx{f.group(f.members)}, nil)) // the join, at height 2

	// The new member proves against the new root at once.
	f.check(f.anon(3, "club/new", "club/", f.members), "")
	stale := f.anon(0, "club/a", "club/", old)
	f.check(stale, "") // next quant: 3, join + 1
	f.add(f.quant(nil, nil))
	f.check(stale, "") // height 4: join + 2
	f.add(f.quant(nil, nil))
	f.check(stale, quant.CodeStaleRoot) // height 5
	f.refusedInQuant([]*quant.Tx{stale}, quant.CodeStaleRoot)
	// A group record that is no member list is refused.
	nonce++
	bad := &quant.Tx{ChainID: f.c.ID(), Time: f.clock.t.UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(`{"members":["zz"]}`), Key: quant.GroupKey("club")}
	bad.Sign(recKey(9))
	f.check(bad, quant.CodeBadData)
	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatalf("VerifyStored: %v", err)
	}
}

// TestSecretLock: a record locked by a commitment is written by whoever
// proves the secret, again and again, never by a replay nor without it.
func TestSecretLock(t *testing.T) {
	f := newZKFixture(t)
	k := zktest.Keys(t, zk.Preimage)
	secret, _ := zk.NewSecret()
	c := quant.Hash(zk.Commitment(secret))
	first := f.write("vault/1", `"v1"`, &quant.Lock{Commitment: &c}, nil, recKey(1))
	f.add(f.quant([]*quant.Tx{first}, nil))

	update := func(data string, prev quant.Hash, s zk.Field) *quant.Tx {
		tx := f.write("vault/1", data, nil, nil)
		if err := zk.AttachPreimage(tx, k, s, prev); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	u1 := update(`"v2"`, first.ID(), secret)
	f.check(u1, "")
	f.add(f.quant([]*quant.Tx{u1}, nil))
	// Reusable: a second update with the same secret.
	u2 := update(`"v3"`, u1.ID(), secret)
	f.check(u2, "")
	f.add(f.quant([]*quant.Tx{u2}, nil))
	// A replay of u1 (new nonce would break the proof; same tx is a
	// duplicate; a proof naming an old version is refused).
	replay := update(`"v2"`, first.ID(), secret)
	f.check(replay, quant.CodeLockedSecret)
	// Without a proof.
	f.check(f.write("vault/1", `"x"`, nil, nil, recKey(1)), quant.CodeLockedSecret)
	// A proof of another secret's commitment.
	other, _ := zk.NewSecret()
	f.check(update(`"x"`, u2.ID(), other), quant.CodeLockedSecret)
	// A tampered proof.
	bad := update(`"x"`, u2.ID(), secret)
	bad.Data = []byte(`"y"`)
	f.check(bad, quant.CodeBadProof)
	if v, _ := f.c.Record("vault/1"); v.TxID != u2.ID() || v.Lock == nil || v.Lock.Commitment == nil {
		t.Fatalf("record after: %+v", v)
	}
}

// TestRangeProof: a write carrying a committed value and a proof that it
// is at least 18.
func TestRangeProof(t *testing.T) {
	f := newZKFixture(t)
	k := zktest.Keys(t, zk.Range)
	blind, _ := zk.NewSecret()
	tx := f.write("ages/alice", `{"claim":"adult"}`, nil, nil)
	if err := zk.AttachRange(tx, k, 42, blind, 18, 1<<64-1); err != nil {
		t.Fatal(err)
	}
	f.check(tx, "")
	f.add(f.quant([]*quant.Tx{tx}, nil))
	lie := tx.Clone()
	lie.Nonce++
	lie.ZK.Min = 50
	f.check(lie, quant.CodeBadProof)
	if err := zk.AttachRange(f.write("ages/bob", `{}`, nil, nil), k, 12, blind, 18, 1<<64-1); err == nil {
		t.Fatal("proved 12 >= 18")
	}
}

// TestZKOffChains: a chain without zk rules takes no proofs.
func TestZKOffChains(t *testing.T) {
	f := newFixture(t, nil)
	zf := &zkFixture{fixture: f}
	zf.secrets, zf.members = zktest.Identities(t, 2)
	tx := zf.write("club/x", `1`, nil, nil)
	if err := zk.AttachRange(tx, zktest.Keys(t, zk.Range), 1, zk.Field{}, 0, 1); err != nil {
		t.Fatal(err)
	}
	zf.check(tx, quant.CodeNotAllowed)
}

// TestNullifierAcrossReorg: a nullifier spent on a branch that loses is
// free again on the winning branch; a branch spending one twice is refused.
func TestNullifierAcrossReorg(t *testing.T) {
	f := newZKFixture(t)
	g := f.c.Tip()
	base, err := f.st.Quant(g.Hash)
	if err != nil {
		t.Fatal(err)
	}
	a := f.anon(0, "club/x", "club/", f.members)
	b := f.anon(0, "club/y", "club/", f.members) // the same member, the same scope
	if a.ZK.Nullifier != b.ZK.Nullifier {
		t.Fatal("one member's nullifiers differ in one scope")
	}
	a1 := f.on(base, a)
	f.mustAdd(a1)
	nk := quant.NullifierKey(a.ZK.Nullifier)
	if v, err := f.c.Record(nk); err != nil || v.TxID != a.ID() {
		t.Fatalf("nullifier after a1: %+v %v", v, err)
	}
	// A heavier branch spending it twice is refused where it spends it again.
	c1 := f.on(base, f.tx(`"c"`, false), a)
	c2 := f.on(c1, b)
	f.mustAdd(c1)
	if _, err := f.c.Add(c2); quant.CodeOf(err) != quant.CodeNullifierUsed {
		t.Fatalf("branch spending a nullifier twice: %v", err)
	}
	// A heavier branch without a: b spends the nullifier there.
	b1 := f.on(base)
	b2 := f.on(b1, b)
	f.mustAdd(b1)
	res := f.mustAdd(b2)
	if !res.Extended() || f.c.Tip().Hash != b2.Hash() {
		t.Fatal("no reorganisation to the heavier branch")
	}
	if v, err := f.c.Record(nk); err != nil || v.TxID != b.ID() {
		t.Fatalf("nullifier after the reorganisation: %+v %v, want spent by b", v, err)
	}
	if _, err := f.c.Record("club/x"); err == nil {
		t.Fatal("the losing branch's write is still a record")
	}
	// a, pending again after the reorganisation, is now refused.
	f.check(a, quant.CodeNullifierUsed)
	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatalf("VerifyStored: %v", err)
	}
}

// TestZKWritePolicy: on a chain that takes signed writes only, a member's
// proven write under the group's prefix needs no signature (the proof is
// its authority), but a key rule's writers list still refuses it, and an
// unsigned write without a proof is refused as before.
func TestZKWritePolicy(t *testing.T) {
	admin := recKey(9)
	z := zktest.Rules(t, quant.ZKGroup{Name: "club", Prefix: "club/", Admins: []string{hex.EncodeToString(pubOf(admin))}, RootWindow: 2})
	f := &zkFixture{fixture: newFixture(t, func(r *quant.Rules) {
		r.ZK = z
		r.Name = "signed-only"
		r.WritePolicy = quant.PolicySigned
		r.KeyRules = []quant.KeyRule{{Prefix: "club/board/", Writers: []string{hex.EncodeToString(pubOf(recKey(1)))}}}
	})}
	f.secrets, f.members = zktest.Identities(t, 2)
	f.add(f.quant([]*quant.Tx{f.group(f.members)}, nil))
	f.check(f.anon(0, "club/a", "club/", f.members), "")
	f.check(f.anon(1, "club/board/x", "club/board/", f.members), quant.CodeNotAllowed)
	f.check(f.write("club/b", `1`, nil, nil), quant.CodeNotAllowed)
	f.check(f.write("elsewhere", `1`, nil, nil), quant.CodeNotAllowed)
}
