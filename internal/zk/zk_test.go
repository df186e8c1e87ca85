package zk

import (
	"bytes"
	"errors"
	"sync"
	"testing"
)

// testDepth keeps the membership circuit small in tests (depth 20 is for
// benchmarks).
const testDepth = 4

var (
	keysOnce sync.Map // Circuit → *keysResult
)

type keysResult struct {
	once sync.Once
	k    *Keys
	err  error
}

// testKeys runs one dev setup per circuit per test binary.
func testKeys(t testing.TB, c Circuit) *Keys {
	t.Helper()
	v, _ := keysOnce.LoadOrStore(c, &keysResult{})
	r := v.(*keysResult)
	r.once.Do(func() { r.k, r.err = Setup(c, testDepth) })
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.k
}

type group struct {
	secrets []Field
	tree    *Tree
}

func newGroup(t testing.TB, n int) *group {
	g := &group{}
	var cs []Field
	for range n {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		g.secrets = append(g.secrets, s)
		cs = append(cs, Commitment(s))
	}
	tr, err := NewTree(testDepth, cs)
	if err != nil {
		t.Fatal(err)
	}
	g.tree = tr
	return g
}

func (g *group) prove(t testing.TB, k *Keys, i int, scope, bind Field) ([]byte, Publics) {
	t.Helper()
	path, err := g.tree.Path(i)
	if err != nil {
		t.Fatal(err)
	}
	p := Publics{Root: g.tree.Root(), Nullifier: Nullifier(g.secrets[i], scope), Scope: scope, Bind: bind}
	proof, err := ProveMembership(k, MemberWitness{Secret: g.secrets[i], Index: i, Path: path}, p)
	if err != nil {
		t.Fatal(err)
	}
	return proof, p
}

func TestMembership(t *testing.T) {
	k := testKeys(t, Membership)
	g := newGroup(t, 5)
	scope, bind := ScopeOf("votes/1"), BindOf([]byte("tx body"))
	proof, p := g.prove(t, k, 3, scope, bind)
	if len(proof) != ProofSize {
		t.Errorf("proof is %d bytes, want %d", len(proof), ProofSize)
	}
	if err := Verify(Membership, testDepth, k.VK, proof, p); err != nil {
		t.Fatalf("valid proof refused: %v", err)
	}
	bad := func(name string, q Publics) {
		t.Helper()
		if err := Verify(Membership, testDepth, k.VK, proof, q); !errors.Is(err, ErrBadProof) {
			t.Errorf("%s: got %v, want ErrBadProof", name, err)
		}
	}
	q := p
	q.Bind = BindOf([]byte("another tx body"))
	bad("another bind", q)
	q = p
	q.Root = newGroup(t, 5).tree.Root()
	bad("another root", q)
	q = p
	q.Nullifier = Nullifier(g.secrets[2], scope)
	bad("another nullifier", q)
	q = p
	q.Scope = ScopeOf("votes/2")
	bad("another scope", q)

	// A secret outside the group cannot prove at all.
	out, _ := NewSecret()
	path, _ := g.tree.Path(0)
	if _, err := ProveMembership(k, MemberWitness{Secret: out, Index: 0, Path: path},
		Publics{Root: g.tree.Root(), Nullifier: Nullifier(out, scope), Scope: scope, Bind: bind}); err == nil {
		t.Error("a non-member proved membership")
	}
}

func TestPreimage(t *testing.T) {
	k := testKeys(t, Preimage)
	s, _ := NewSecret()
	p := Publics{Commitment: Commitment(s), Bind: BindOf([]byte("x"))}
	proof, err := ProvePreimage(k, s, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(Preimage, 0, k.VK, proof, p); err != nil {
		t.Fatal(err)
	}
	q := p
	q.Bind = BindOf([]byte("y"))
	if err := Verify(Preimage, 0, k.VK, proof, q); !errors.Is(err, ErrBadProof) {
		t.Errorf("another bind: %v", err)
	}
	wrong, _ := NewSecret()
	if _, err := ProvePreimage(k, wrong, p); err == nil {
		t.Error("a wrong secret proved")
	}
}

func TestRange(t *testing.T) {
	k := testKeys(t, Range)
	b, _ := NewSecret()
	c := ValueCommitment(42, b)
	for _, tc := range []struct {
		min, max uint64
		ok       bool
	}{{0, 100, true}, {42, 42, true}, {18, 1<<64 - 1, true}, {43, 100, false}, {0, 41, false}} {
		p := Publics{Commitment: c, Min: tc.min, Max: tc.max, Bind: BindOf([]byte("r"))}
		proof, err := ProveRange(k, 42, b, p)
		if (err == nil) != tc.ok {
			t.Fatalf("[%d,%d]: prove err %v, want ok=%v", tc.min, tc.max, err, tc.ok)
		}
		if err != nil {
			continue
		}
		if err := Verify(Range, 0, k.VK, proof, p); err != nil {
			t.Fatal(err)
		}
		q := p
		q.Min++
		if err := Verify(Range, 0, k.VK, proof, q); !errors.Is(err, ErrBadProof) {
			t.Errorf("changed min: %v", err)
		}
	}
}

func TestForgedProofs(t *testing.T) {
	k := testKeys(t, Preimage)
	s, _ := NewSecret()
	p := Publics{Commitment: Commitment(s), Bind: BindOf([]byte("x"))}
	proof, err := ProvePreimage(k, s, p)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     nil,
		"random":    bytes.Repeat([]byte{0x5a}, len(proof)),
		"short":     proof[:100],
		"long":      append(bytes.Clone(proof), 0),
		"huge":      make([]byte, MaxProofSize+1),
		"zeros":     make([]byte, len(proof)),
		"bit flip":  flip(proof, 10),
		"last flip": flip(proof, len(proof)-1),
	}
	for name, b := range cases {
		if err := Verify(Preimage, 0, k.VK, b, p); err == nil {
			t.Errorf("%s: forged proof accepted", name)
		}
	}
	// A proof made under other keys (another setup) fails.
	other, err := Setup(Preimage, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(Preimage, 0, other.VK, proof, p); !errors.Is(err, ErrBadProof) {
		t.Errorf("other keys: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

func TestKeysRoundTrip(t *testing.T) {
	for _, c := range Circuits {
		k := testKeys(t, c)
		vb := EncodeVerifyingKey(k.VK)
		vk, err := DecodeVerifyingKey(vb)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(EncodeVerifyingKey(vk), vb) {
			t.Fatal("verifying key round trip changed it")
		}
		if _, err := DecodeVerifyingKey(vb[:len(vb)-1]); err == nil {
			t.Error("truncated verifying key accepted")
		}
		if _, err := DecodeVerifyingKey(append(bytes.Clone(vb), 0)); err == nil {
			t.Error("verifying key with a trailing byte accepted")
		}
	}
	pb := EncodeProvingKey(testKeys(t, Preimage).PK)
	if _, err := DecodeProvingKey(pb, KeyHash(pb)); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeProvingKey(pb[:len(pb)/2], KeyHash(pb)); err == nil {
		t.Error("truncated proving key accepted")
	}
}

func TestTree(t *testing.T) {
	g := newGroup(t, 3)
	empty, _ := NewTree(testDepth, nil)
	if empty.Root() == g.tree.Root() {
		t.Fatal("empty and non-empty roots equal")
	}
	if g.tree.Index(Commitment(g.secrets[2])) != 2 {
		t.Error("index")
	}
	if _, err := NewTree(2, make([]Field, 5)); err == nil {
		t.Error("5 members in a tree of 4 accepted")
	}
	if _, err := ParseField(bytes.Repeat([]byte{0xff}, 32)); !errors.Is(err, ErrNotCanonical) {
		t.Errorf("non-canonical: %v", err)
	}
}
