package zk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/frontend"
)

// Publics are a proof's public inputs. Which fields a circuit reads:
// membership Root, Nullifier, Scope, Bind; preimage Commitment, Bind;
// range Commitment, Min, Max, Bind.
type Publics struct {
	Root       Field
	Nullifier  Field
	Scope      Field
	Commitment Field
	Min, Max   uint64
	Bind       Field
}

// MemberWitness is what a member proves with: the secret and its place in
// the group's tree.
type MemberWitness struct {
	Secret Field
	Index  int
	Path   []Field // siblings from the leaf up (Tree.Path)
}

func v(f Field) *big.Int { return new(big.Int).SetBytes(f[:]) }

// assignment builds the circuit's public part from p.
func assignment(c Circuit, depth int, p Publics) (frontend.Circuit, error) {
	switch c {
	case Membership:
		return &membershipCircuit{Root: v(p.Root), Nullifier: v(p.Nullifier), Scope: v(p.Scope), Bind: v(p.Bind),
			Secret: 0, Index: 0, Path: zeros(depth)}, nil
	case Preimage:
		return &preimageCircuit{Commitment: v(p.Commitment), Bind: v(p.Bind), Secret: 0}, nil
	case Range:
		return &rangeCircuit{Commitment: v(p.Commitment), Min: p.Min, Max: p.Max, Bind: v(p.Bind), Value: 0, Blinding: 0}, nil
	}
	return nil, fmt.Errorf("%w %d", ErrUnknown, uint8(c))
}

func zeros(n int) []frontend.Variable {
	out := make([]frontend.Variable, n)
	for i := range out {
		out[i] = 0
	}
	return out
}

// ProveMembership proves that w's secret is a member of the tree whose root
// is p.Root, and that p.Nullifier is its nullifier in p.Scope, bound to
// p.Bind. It returns the encoded proof.
func ProveMembership(k *Keys, w MemberWitness, p Publics) ([]byte, error) {
	if k.Circuit != Membership {
		return nil, fmt.Errorf("zk: %s keys for a membership proof", k.Circuit)
	}
	if len(w.Path) != k.Depth {
		return nil, fmt.Errorf("zk: path of %d siblings for depth %d", len(w.Path), k.Depth)
	}
	a, _ := assignment(Membership, k.Depth, p)
	m := a.(*membershipCircuit)
	m.Secret = v(w.Secret)
	m.Index = w.Index
	for i, s := range w.Path {
		m.Path[i] = v(s)
	}
	return prove(k, a)
}

// ProvePreimage proves knowledge of secret with MiMC(secret) = p.Commitment,
// bound to p.Bind.
func ProvePreimage(k *Keys, secret Field, p Publics) ([]byte, error) {
	if k.Circuit != Preimage {
		return nil, fmt.Errorf("zk: %s keys for a preimage proof", k.Circuit)
	}
	a, _ := assignment(Preimage, 0, p)
	a.(*preimageCircuit).Secret = v(secret)
	return prove(k, a)
}

// ProveRange proves that p.Commitment = MiMC(value, blinding) with p.Min <=
// value <= p.Max, bound to p.Bind.
func ProveRange(k *Keys, value uint64, blinding Field, p Publics) ([]byte, error) {
	if k.Circuit != Range {
		return nil, fmt.Errorf("zk: %s keys for a range proof", k.Circuit)
	}
	a, _ := assignment(Range, 0, p)
	r := a.(*rangeCircuit)
	r.Value = value
	r.Blinding = v(blinding)
	return prove(k, a)
}

func prove(k *Keys, a frontend.Circuit) ([]byte, error) {
	cs, err := Compile(k.Circuit, k.Depth)
	if err != nil {
		return nil, err
	}
	w, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
	if err != nil {
		return nil, fmt.Errorf("zk: witness: %w", err)
	}
	proof, err := groth16.Prove(cs, k.PK, w)
	if err != nil {
		// The solver fails when the witness does not satisfy the circuit:
		// a wrong secret, a path to another root, a value out of range.
		return nil, fmt.Errorf("zk: %s: the witness does not satisfy the circuit: %w", k.Circuit, err)
	}
	return EncodeProof(proof), nil
}

// EncodeProof returns a proof's encoding (gnark's uncompressed form, which
// decodes without square roots).
func EncodeProof(p groth16.Proof) []byte {
	var b bytes.Buffer
	if _, err := p.(*groth16bn254.Proof).WriteRawTo(&b); err != nil {
		panic(fmt.Sprintf("zk: encode proof: %v", err))
	}
	return b.Bytes()
}

// DecodeProof decodes untrusted bytes into a proof. It reads gnark's
// uncompressed layout itself, at fixed offsets, rather than through gnark's
// ReadFrom (which allocates whatever length prefix the bytes announce):
// exactly ProofSize bytes, A, B and C uncompressed, on the curve and in
// their subgroups, an empty commitment list and the point at infinity as
// its proof of knowledge. Any other byte string is an error; none panics.
// The result does not alias b.
func DecodeProof(b []byte) (p groth16.Proof, err error) {
	if len(b) > MaxProofSize {
		return nil, fmt.Errorf("%w: proof is %d bytes, limit %d", ErrTooLarge, len(b), MaxProofSize)
	}
	if len(b) != ProofSize {
		return nil, fmt.Errorf("%w: proof is %d bytes, want %d", ErrMalformed, len(b), ProofSize)
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: proof: %v", ErrMalformed, r)
		}
	}()
	pr := new(groth16bn254.Proof)
	if err := setPoint(pr.Ar.SetBytes, b[0:64], "A"); err != nil {
		return nil, err
	}
	if err := setPoint(pr.Bs.SetBytes, b[64:192], "B"); err != nil {
		return nil, err
	}
	if err := setPoint(pr.Krs.SetBytes, b[192:256], "C"); err != nil {
		return nil, err
	}
	if binary.BigEndian.Uint32(b[256:260]) != 0 {
		return nil, fmt.Errorf("%w: proof carries commitments; these circuits have none", ErrMalformed)
	}
	if !bytes.Equal(b[260:], noCommitmentPok()) {
		return nil, fmt.Errorf("%w: proof: commitment proof of knowledge is not empty", ErrMalformed)
	}
	return pr, nil
}

// setPoint decodes one uncompressed point with set (a SetBytes that checks
// the curve and the subgroup), requiring it to take all of buf.
func setPoint(set func([]byte) (int, error), buf []byte, name string) error {
	n, err := set(buf)
	if err != nil {
		return fmt.Errorf("%w: proof: point %s: %v", ErrMalformed, name, err)
	}
	if n != len(buf) {
		return fmt.Errorf("%w: proof: point %s is not in uncompressed form", ErrMalformed, name)
	}
	return nil
}

// noCommitmentPok is the uncompressed encoding of the point at infinity,
// which a proof without commitments carries as its proof of knowledge.
func noCommitmentPok() []byte {
	var inf curve.G1Affine
	b := inf.RawBytes()
	return b[:]
}

// Verify checks an encoded proof of circuit c (membership at depth) under
// vk for the public inputs p. Bad bytes, points off the curve and proofs
// that do not verify are errors; none panics.
func Verify(c Circuit, depth int, vk groth16.VerifyingKey, proof []byte, p Publics) (err error) {
	pr, err := DecodeProof(proof)
	if err != nil {
		return err
	}
	a, err := assignment(c, depthOf(c, depth), p)
	if err != nil {
		return err
	}
	w, err := frontend.NewWitness(a, ecc.BN254.ScalarField(), frontend.PublicOnly())
	if err != nil {
		return fmt.Errorf("%w: public inputs: %v", ErrMalformed, err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrBadProof, r)
		}
	}()
	if err := groth16.Verify(pr, vk, w); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadProof, c, err)
	}
	return nil
}
