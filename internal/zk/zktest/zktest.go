// Package zktest gives tests zk keys at a small depth, one development
// setup per circuit per test binary, and chain rules that name them.
package zktest

import (
	"sync"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

// Depth is the membership depth tests use (groups of up to 16): small, so
// that tests under -race stay fast. Benchmarks use 20.
const Depth = 4

type result struct {
	once sync.Once
	k    *zk.Keys
	err  error
}

// keys holds one setup per circuit for the test binary: a memo of slow,
// test-only work (the keys are random, but any setup serves a test).
var keys [4]result

// Keys returns the test binary's keys for circuit c.
func Keys(t testing.TB, c zk.Circuit) *zk.Keys {
	t.Helper()
	r := &keys[c]
	r.once.Do(func() { r.k, r.err = zk.Setup(c, Depth) })
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.k
}

// Rules returns zk rules naming the three circuits' test keys and groups.
func Rules(t testing.TB, groups ...quant.ZKGroup) *quant.ZKRules {
	t.Helper()
	z := &quant.ZKRules{Groups: groups}
	for _, c := range zk.Circuits {
		z.Circuits = append(z.Circuits, zk.RuleOf(Keys(t, c)))
	}
	return z
}

// Identities returns n new identity secrets and their commitments.
func Identities(t testing.TB, n int) (secrets, commitments []zk.Field) {
	t.Helper()
	for range n {
		s, err := zk.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, s)
		commitments = append(commitments, zk.Commitment(s))
	}
	return secrets, commitments
}
