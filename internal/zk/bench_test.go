package zk

import (
	"sync"
	"testing"
)

// benchDepth is the membership depth the benchmarks measure: a group of up
// to 2^20 members.
const benchDepth = 20

var benchKeys struct {
	once sync.Once
	k    *Keys
	err  error
}

func membershipBench(b *testing.B) (*Keys, MemberWitness, Publics) {
	benchKeys.once.Do(func() { benchKeys.k, benchKeys.err = Setup(Membership, benchDepth) })
	if benchKeys.err != nil {
		b.Fatal(benchKeys.err)
	}
	var cs []Field
	var secret Field
	for i := range 1000 {
		s, _ := NewSecret()
		if i == 777 {
			secret = s
		}
		cs = append(cs, Commitment(s))
	}
	tr, err := NewTree(benchDepth, cs)
	if err != nil {
		b.Fatal(err)
	}
	path, _ := tr.Path(777)
	scope := ScopeOf("bench")
	p := Publics{Root: tr.Root(), Nullifier: Nullifier(secret, scope), Scope: scope, Bind: BindOf([]byte("bench"))}
	return benchKeys.k, MemberWitness{Secret: secret, Index: 777, Path: path}, p
}

// go test -run XXX -bench . -benchtime 20x ./internal/zk
func BenchmarkProveMembership20(b *testing.B) {
	k, w, p := membershipBench(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ProveMembership(k, w, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyMembership20(b *testing.B) {
	k, w, p := membershipBench(b)
	proof, err := ProveMembership(k, w, p)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := Verify(Membership, benchDepth, k.VK, proof, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProvePreimage(b *testing.B) {
	k := testKeys(b, Preimage)
	s, _ := NewSecret()
	p := Publics{Commitment: Commitment(s), Bind: BindOf([]byte("bench"))}
	for b.Loop() {
		if _, err := ProvePreimage(k, s, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProveRange(b *testing.B) {
	k := testKeys(b, Range)
	bl, _ := NewSecret()
	p := Publics{Commitment: ValueCommitment(42, bl), Min: 18, Max: 1<<64 - 1, Bind: BindOf([]byte("bench"))}
	for b.Loop() {
		if _, err := ProveRange(k, 42, bl, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRange(b *testing.B) {
	k := testKeys(b, Range)
	bl, _ := NewSecret()
	p := Publics{Commitment: ValueCommitment(42, bl), Min: 18, Max: 1<<64 - 1, Bind: BindOf([]byte("bench"))}
	proof, err := ProveRange(k, 42, bl, p)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := Verify(Range, 0, k.VK, proof, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTreeRoot20(b *testing.B) {
	var cs []Field
	for range 1000 {
		s, _ := NewSecret()
		cs = append(cs, Commitment(s))
	}
	for b.Loop() {
		if _, err := NewTree(benchDepth, cs); err != nil {
			b.Fatal(err)
		}
	}
}
