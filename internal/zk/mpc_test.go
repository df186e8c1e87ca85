package zk

import (
	"errors"
	"testing"
)

// TestMPC: a ceremony of two participants per phase makes keys that prove
// and verify; a tampered contribution fails verification.
func TestMPC(t *testing.T) {
	init, err := MPCInit(Preimage, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := MPCContribute(init)
	if err != nil {
		t.Fatal(err)
	}
	b, err := MPCContribute(a)
	if err != nil {
		t.Fatal(err)
	}
	commons, start, err := MPCPhase2([]byte("beacon 1"), a, b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := MPCContribute(start)
	if err != nil {
		t.Fatal(err)
	}
	d, err := MPCContribute(c)
	if err != nil {
		t.Fatal(err)
	}
	k, err := MPCFinish(commons, []byte("beacon 2"), c, d)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewSecret()
	p := Publics{Commitment: Commitment(s), Bind: BindOf([]byte("mpc"))}
	proof, err := ProvePreimage(k, s, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(Preimage, 0, k.VK, proof, p); err != nil {
		t.Fatal(err)
	}
	// Skipping a contribution (d without c) breaks the chain.
	if _, err := MPCFinish(commons, []byte("beacon 2"), d); err == nil {
		t.Fatal("a chain missing a contribution verified")
	}
	bad := append([]byte(nil), d...)
	bad[len(bad)/2] ^= 1
	if _, err := MPCFinish(commons, []byte("beacon 2"), c, bad); err == nil {
		t.Fatal("a tampered contribution verified")
	}
	if _, _, _, _, err := readMPC([]byte("junk")); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
}
