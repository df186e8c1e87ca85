package merkle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

// leavesN returns n distinct, deterministic leaves.
func leavesN(n int) [][Size]byte {
	ls := make([][Size]byte, n)
	for i := range ls {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		ls[i] = sha256.Sum256(b[:])
	}
	return ls
}

// splitPoint is RFC 6962's k: the largest power of two smaller than n (n > 1).
func splitPoint(n int) int {
	k := 1
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// refMTH is RFC 6962 section 2.1's Merkle Tree Hash, written as the RFC
// writes it, independently of the iterative code under test.
func refMTH(d [][Size]byte) [Size]byte {
	switch n := len(d); n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0x00}, d[0][:]...))
	default:
		k := splitPoint(n)
		l, r := refMTH(d[:k]), refMTH(d[k:])
		b := append([]byte{0x01}, l[:]...)
		return sha256.Sum256(append(b, r[:]...))
	}
}

// refPath is RFC 6962 section 2.1.1's PATH(m, D[n]): the audit path for
// leaf m, from the leaf's sibling up.
func refPath(m int, d [][Size]byte) [][Size]byte {
	n := len(d)
	if n <= 1 {
		return nil
	}
	k := splitPoint(n)
	if m < k {
		return append(refPath(m, d[:k]), refMTH(d[k:]))
	}
	return append(refPath(m-k, d[k:]), refMTH(d[:k]))
}

// sides is the shape of an audit path for (index, size) as Verify walks it:
// 'L' where the proof element is the left child, 'R' where it is the right.
// A proof verifies under a root only for an (index, size) of the same shape.
func sides(index, size uint64) string {
	var s []byte
	for last := size - 1; last > 0; index, last = index/2, last/2 {
		switch {
		case index%2 == 1:
			s = append(s, 'L')
		case index < last:
			s = append(s, 'R')
		}
	}
	return string(s)
}

func TestEmptyRoot(t *testing.T) {
	const want = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // SHA-256("")
	for _, leaves := range [][][Size]byte{nil, {}} {
		got := Root(leaves)
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("Root(%#v) = %x, want %s", leaves, got, want)
		}
	}
}

func TestLeafAndNodeHash(t *testing.T) {
	var a, b [Size]byte
	for i := range a {
		a[i], b[i] = byte(i), byte(0xff-i)
	}
	if got, want := LeafHash(a), sha256.Sum256(append([]byte{0}, a[:]...)); got != want {
		t.Errorf("LeafHash = %x, want SHA-256(0x00||leaf) = %x", got, want)
	}
	if got, want := NodeHash(a, b), sha256.Sum256(append(append([]byte{1}, a[:]...), b[:]...)); got != want {
		t.Errorf("NodeHash = %x, want SHA-256(0x01||l||r) = %x", got, want)
	}
	if NodeHash(a, b) == NodeHash(b, a) {
		t.Error("NodeHash is symmetric")
	}
}

// TestRootRFC6962 checks Root against the RFC's recursive definition.
func TestRootRFC6962(t *testing.T) {
	all := leavesN(70)
	for n := 0; n <= 70; n++ {
		leaves := all[:n:n]
		before := append([][Size]byte(nil), leaves...)
		if got, want := Root(leaves), refMTH(leaves); got != want {
			t.Errorf("n=%d: Root = %x, RFC 6962 MTH = %x", n, got, want)
		}
		for i := range leaves {
			if leaves[i] != before[i] {
				t.Fatalf("n=%d: Root modified its input at %d", n, i)
			}
		}
	}
}

// TestRootOddNotDuplicated guards against the CVE-2012-2459 shape: the last
// leaf repeated must give another root, unlike Bitcoin's tree.
func TestRootOddNotDuplicated(t *testing.T) {
	for n := 1; n <= 33; n += 2 {
		l := leavesN(n)
		dup := append(append([][Size]byte(nil), l...), l[n-1])
		if Root(l) == Root(dup) {
			t.Errorf("n=%d: duplicating the last leaf keeps the root", n)
		}
	}
}

// TestRootSecondPreimage checks that a leaf equal to an interior node's
// bytes does not give that node's hash (the reason for the 0x00/0x01 prefixes).
func TestRootSecondPreimage(t *testing.T) {
	l := leavesN(4)
	n01, n23 := NodeHash(LeafHash(l[0]), LeafHash(l[1])), NodeHash(LeafHash(l[2]), LeafHash(l[3]))
	if Root(l) == Root([][Size]byte{n01, n23}) {
		t.Error("a tree of interior nodes has the same root as its leaves")
	}
}

func TestProofMatchesRFC(t *testing.T) {
	all := leavesN(40)
	for n := 1; n <= 40; n++ {
		leaves := all[:n]
		root := Root(leaves)
		for i := 0; i < n; i++ {
			p, err := Proof(leaves, i)
			if err != nil {
				t.Fatalf("n=%d i=%d: Proof: %v", n, i, err)
			}
			want := refPath(i, leaves)
			if len(p) != len(want) {
				t.Fatalf("n=%d i=%d: proof has %d elements, RFC PATH has %d", n, i, len(p), len(want))
			}
			for j := range p {
				if p[j] != want[j] {
					t.Errorf("n=%d i=%d: proof[%d] = %x, RFC PATH = %x", n, i, j, p[j], want[j])
				}
			}
			if err := Verify(root, leaves[i], uint64(i), uint64(n), p); err != nil {
				t.Errorf("n=%d i=%d: Verify: %v", n, i, err)
			}
		}
	}
}

func TestProofIndex(t *testing.T) {
	for _, tc := range []struct {
		n, index int
	}{{0, 0}, {1, 1}, {1, -1}, {5, 5}, {5, 100}} {
		if _, err := Proof(leavesN(tc.n), tc.index); !errors.Is(err, ErrIndex) {
			t.Errorf("Proof(n=%d, %d) = %v, want ErrIndex", tc.n, tc.index, err)
		}
	}
}

func flip(h [Size]byte, i int) [Size]byte {
	h[i%Size] ^= 1 << (i % 8)
	return h
}

// TestVerifyRefuses tampers with each part of a valid proof in turn.
func TestVerifyRefuses(t *testing.T) {
	all := leavesN(41)
	for n := 1; n <= 40; n++ {
		leaves := all[:n]
		root := Root(leaves)
		for i := 0; i < n; i++ {
			p, _ := Proof(leaves, i)
			idx, size := uint64(i), uint64(n)
			check := func(what string, err, want error) {
				t.Helper()
				if !errors.Is(err, want) {
					t.Errorf("n=%d i=%d %s: Verify = %v, want %v", n, i, what, err, want)
				}
			}
			for j := range p {
				q := append([][Size]byte(nil), p...)
				q[j] = flip(q[j], i+j)
				check(fmt.Sprintf("proof[%d] tampered", j), Verify(root, leaves[i], idx, size, q), ErrMismatch)
			}
			check("wrong leaf", Verify(root, flip(leaves[i], n), idx, size, p), ErrMismatch)
			check("other leaf", Verify(root, all[40], idx, size, p), ErrMismatch)
			check("wrong root", Verify(flip(root, i), leaves[i], idx, size, p), ErrMismatch)
			check("extra element", Verify(root, leaves[i], idx, size, append(p[:len(p):len(p)], root)), ErrProofLen)
			if len(p) > 0 {
				check("missing last element", Verify(root, leaves[i], idx, size, p[:len(p)-1]), ErrProofLen)
				check("missing first element", Verify(root, leaves[i], idx, size, p[1:]), ErrProofLen)
			}
			check("index = size", Verify(root, leaves[i], size, size, p), ErrIndex)
			check("index huge", Verify(root, leaves[i], ^uint64(0), size, p), ErrIndex)
			check("size 0", Verify(root, leaves[i], idx, 0, p), ErrIndex)
			// Another index in the same tree never verifies: the path's
			// shape (which side each element is on) encodes the index.
			for j := 0; j < n; j++ {
				if j == i {
					continue
				}
				want := ErrMismatch
				if len(sides(uint64(j), size)) != len(p) {
					want = ErrProofLen
				}
				check(fmt.Sprintf("index %d", j), Verify(root, leaves[i], uint64(j), size, p), want)
			}
			// Another size fails unless it gives the path the same shape;
			// see TestVerifySizeNotBound.
			for m := uint64(1); m <= 64; m++ {
				if m == size {
					continue
				}
				var want error
				switch {
				case idx >= m:
					want = ErrIndex
				case len(sides(idx, m)) != len(p):
					want = ErrProofLen
				case sides(idx, m) != sides(idx, size):
					want = ErrMismatch
				}
				err := Verify(root, leaves[i], idx, m, p)
				if want == nil {
					if err != nil {
						t.Errorf("n=%d i=%d size %d (same shape): Verify = %v, want nil", n, i, m, err)
					}
					continue
				}
				check(fmt.Sprintf("size %d", m), err, want)
			}
		}
	}
}

// TestVerifySizeNotBound pins down a property Verify shares with RFC 9162's
// verification algorithm: a root does not commit to the tree's size, so a
// proof also verifies for any (index, size) whose audit path has the same
// shape. Callers must take size from the same authenticated place as the
// root (a quant header carries both TxRoot and TxCount).
func TestVerifySizeNotBound(t *testing.T) {
	l := leavesN(3)
	root := Root(l)
	p, _ := Proof(l, 2) // [NodeHash(leaf0, leaf1)]: the same shape as index 1 of 2
	if err := Verify(root, l[2], 2, 3, p); err != nil {
		t.Fatalf("true claim: %v", err)
	}
	if err := Verify(root, l[2], 1, 2, p); err != nil {
		t.Errorf("Verify(index 1, size 2) = %v; if Verify now binds the size, update this test and docs/protocol.md", err)
	}
}

func TestVerifyProofTooLong(t *testing.T) {
	var root, leaf [Size]byte
	if err := Verify(root, leaf, 0, ^uint64(0), make([][Size]byte, MaxProofLen+1)); !errors.Is(err, ErrProofLen) {
		t.Errorf("proof of %d elements: %v, want ErrProofLen", MaxProofLen+1, err)
	}
	// The largest tree needs exactly MaxProofLen elements: a wrong proof of
	// that length gets as far as the root comparison.
	if err := Verify(root, leaf, 0, ^uint64(0), make([][Size]byte, MaxProofLen)); !errors.Is(err, ErrMismatch) {
		t.Errorf("proof of %d elements for 2^64-1 leaves: %v, want ErrMismatch", MaxProofLen, err)
	}
}

// FuzzVerify feeds Verify arbitrary roots, leaves, indexes, sizes and proofs
// (seeded with a real proof): it must never panic, must return only its own
// errors, and may accept only an index below the size with a proof exactly
// as long as the walk for that index and size needs.
func FuzzVerify(f *testing.F) {
	l := leavesN(7)
	p, _ := Proof(l, 5)
	var flat []byte
	for _, h := range p {
		flat = append(flat, h[:]...)
	}
	root := Root(l)
	f.Add(root[:], l[5][:], uint64(5), uint64(7), flat)
	f.Add([]byte{}, []byte{}, uint64(0), uint64(0), []byte{})
	f.Add(root[:], l[0][:], ^uint64(0), ^uint64(0), make([]byte, 64*Size))
	f.Fuzz(func(t *testing.T, rootB, leafB []byte, index, size uint64, proofB []byte) {
		var root, leaf [Size]byte
		copy(root[:], rootB)
		copy(leaf[:], leafB)
		proof := make([][Size]byte, len(proofB)/Size)
		for i := range proof {
			copy(proof[i][:], proofB[i*Size:])
		}
		err := Verify(root, leaf, index, size, proof)
		switch {
		case err == nil:
			if index >= size || len(proof) != len(sides(index, size)) {
				t.Fatalf("accepted index %d, size %d, %d elements", index, size, len(proof))
			}
		case errors.Is(err, ErrIndex):
			if index < size {
				t.Fatalf("ErrIndex for index %d < size %d", index, size)
			}
		case errors.Is(err, ErrProofLen), errors.Is(err, ErrMismatch):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// FuzzProofRoundTrip builds a tree of the fuzzer's size and checks that the
// proof for its chosen index verifies and matches RFC 6962.
func FuzzProofRoundTrip(f *testing.F) {
	f.Add(uint16(1), uint16(0))
	f.Add(uint16(7), uint16(6))
	f.Add(uint16(1000), uint16(511))
	f.Fuzz(func(t *testing.T, n, i uint16) {
		n %= 2048
		if n == 0 {
			return
		}
		i %= n
		l := leavesN(int(n))
		p, err := Proof(l, int(i))
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(Root(l), l[i], uint64(i), uint64(n), p); err != nil {
			t.Fatalf("n=%d i=%d: %v", n, i, err)
		}
		if len(p) != len(sides(uint64(i), uint64(n))) {
			t.Fatalf("n=%d i=%d: proof has %d elements", n, i, len(p))
		}
	})
}

func BenchmarkRoot(b *testing.B) {
	for _, n := range []int{1_000, 50_000} {
		leaves := leavesN(n)
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n * Size))
			for b.Loop() {
				Root(leaves)
			}
		})
	}
}

func BenchmarkProof(b *testing.B) {
	leaves := leavesN(50_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Proof(leaves, 31_337); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	leaves := leavesN(50_000)
	root := Root(leaves)
	p, _ := Proof(leaves, 31_337)
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(root, leaves[31_337], 31_337, 50_000, p); err != nil {
			b.Fatal(err)
		}
	}
}
