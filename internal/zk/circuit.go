package zk

import (
	"fmt"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/std/accumulator/merkle"
	"github.com/consensys/gnark/std/hash/mimc"
)

// Circuit names one of the circuits.
type Circuit uint8

// The circuits. The numbers are part of the transaction encoding.
const (
	Membership Circuit = 1 // a member of a group, once per scope
	Preimage   Circuit = 2 // knows the secret behind a commitment
	Range      Circuit = 3 // a committed value lies in [min, max]
)

// Circuits lists every circuit, in number order.
var Circuits = []Circuit{Membership, Preimage, Range}

func (c Circuit) String() string {
	switch c {
	case Membership:
		return "membership"
	case Preimage:
		return "preimage"
	case Range:
		return "range"
	}
	return fmt.Sprintf("circuit(%d)", uint8(c))
}

// ParseCircuit reads a circuit's name.
func ParseCircuit(s string) (Circuit, error) {
	for _, c := range Circuits {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w %q (membership, preimage or range)", ErrUnknown, s)
}

// Known reports whether c is one of the circuits.
func (c Circuit) Known() bool { return c >= Membership && c <= Range }

// RangeBits is the width of a range proof's value, min and max: values are
// unsigned 64-bit integers.
const RangeBits = 64

// membershipCircuit proves: Root is the root of a Merkle tree (depth
// len(Path)) with a leaf MiMC(MiMC(Secret)) at Index, and Nullifier =
// MiMC(Secret, Scope); without saying which leaf or which secret.
type membershipCircuit struct {
	Root      frontend.Variable `gnark:",public"`
	Nullifier frontend.Variable `gnark:",public"`
	Scope     frontend.Variable `gnark:",public"`
	Bind      frontend.Variable `gnark:",public"`

	Secret frontend.Variable
	Index  frontend.Variable
	Path   []frontend.Variable // siblings from the leaf up
}

func (c *membershipCircuit) Define(api frontend.API) error {
	h, err := mimc.NewMiMC(api)
	if err != nil {
		return err
	}
	h.Write(c.Secret)
	commitment := h.Sum()
	h.Reset()
	h.Write(c.Secret, c.Scope)
	api.AssertIsEqual(h.Sum(), c.Nullifier)
	h.Reset()
	mp := merkle.MerkleProof{RootHash: c.Root, Path: append([]frontend.Variable{commitment}, c.Path...)}
	mp.VerifyProof(api, &h, c.Index)
	bind(api, c.Bind)
	return nil
}

// preimageCircuit proves: Commitment = MiMC(Secret).
type preimageCircuit struct {
	Commitment frontend.Variable `gnark:",public"`
	Bind       frontend.Variable `gnark:",public"`

	Secret frontend.Variable
}

func (c *preimageCircuit) Define(api frontend.API) error {
	h, err := mimc.NewMiMC(api)
	if err != nil {
		return err
	}
	h.Write(c.Secret)
	api.AssertIsEqual(h.Sum(), c.Commitment)
	bind(api, c.Bind)
	return nil
}

// rangeCircuit proves: Commitment = MiMC(Value, Blinding) and Min <= Value
// <= Max, all three 64-bit unsigned integers.
type rangeCircuit struct {
	Commitment frontend.Variable `gnark:",public"`
	Min        frontend.Variable `gnark:",public"`
	Max        frontend.Variable `gnark:",public"`
	Bind       frontend.Variable `gnark:",public"`

	Value    frontend.Variable
	Blinding frontend.Variable
}

func (c *rangeCircuit) Define(api frontend.API) error {
	h, err := mimc.NewMiMC(api)
	if err != nil {
		return err
	}
	h.Write(c.Value, c.Blinding)
	api.AssertIsEqual(h.Sum(), c.Commitment)
	api.ToBinary(c.Value, RangeBits) // each of the three fits 64 bits
	api.ToBinary(c.Min, RangeBits)
	api.ToBinary(c.Max, RangeBits)
	api.AssertIsLessOrEqual(c.Min, c.Value)
	api.AssertIsLessOrEqual(c.Value, c.Max)
	bind(api, c.Bind)
	return nil
}

// bind puts the public input b into a constraint (b·b), so the verifying
// key commits to it: a public input that no constraint uses would not be
// bound by the proof, and a proof could be lifted onto another transaction.
func bind(api frontend.API, b frontend.Variable) {
	sq := api.Mul(b, b)
	api.AssertIsEqual(sq, api.Mul(b, b))
}

// shape returns an empty circuit of kind c, its slices sized for depth.
func shape(c Circuit, depth int) (frontend.Circuit, error) {
	switch c {
	case Membership:
		if depth < MinDepth || depth > MaxDepth {
			return nil, fmt.Errorf("%w: depth %d, must be %d to %d", ErrMalformed, depth, MinDepth, MaxDepth)
		}
		return &membershipCircuit{Path: make([]frontend.Variable, depth)}, nil
	case Preimage:
		return &preimageCircuit{}, nil
	case Range:
		return &rangeCircuit{}, nil
	}
	return nil, fmt.Errorf("%w %d", ErrUnknown, uint8(c))
}

// depthOf is the depth a circuit is compiled at: the group depth for
// membership, 0 for the others.
func depthOf(c Circuit, depth int) int {
	if c == Membership {
		return depth
	}
	return 0
}

type compileKey struct {
	c     Circuit
	depth int
}

type compileResult struct {
	once sync.Once
	cs   constraint.ConstraintSystem
	err  error
}

// compiledCache memoizes Compile: a pure function of (circuit, depth) that
// takes from tens of milliseconds to seconds. It only grows, by at most
// len(Circuits)·MaxDepth entries.
var compiledCache sync.Map // compileKey → *compileResult

// Compile returns the constraint system of circuit c (membership at depth),
// compiled once per process.
func Compile(c Circuit, depth int) (constraint.ConstraintSystem, error) {
	k := compileKey{c, depthOf(c, depth)}
	v, _ := compiledCache.LoadOrStore(k, &compileResult{})
	r := v.(*compileResult)
	r.once.Do(func() {
		s, err := shape(c, k.depth)
		if err != nil {
			r.err = err
			return
		}
		r.cs, r.err = frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, s)
	})
	return r.cs, r.err
}
