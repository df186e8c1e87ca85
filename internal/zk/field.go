package zk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/mimc"
)

// Field is one element of BN254's scalar field, 32 bytes big-endian and
// canonical (below the modulus). The zero value is the element 0.
type Field [32]byte

// Errors of this package.
var (
	ErrNotCanonical = errors.New("zk: field element is not below the BN254 scalar modulus")
	ErrBadProof     = errors.New("zk: proof does not verify")
	ErrMalformed    = errors.New("zk: malformed")
	ErrTooLarge     = errors.New("zk: too large")
	ErrUnknown      = errors.New("zk: unknown circuit")
)

// Domain tags hashed before what BindOf and ScopeOf reduce, so a bind can
// never equal a scope computed from the same bytes.
const (
	domainBind  = "qbc/zk/bind/v1"
	domainScope = "qbc/zk/scope/v1"
)

func (f Field) elem() fr.Element {
	var e fr.Element
	e.SetBytes(f[:]) // canonical by construction: checked where decoded
	return e
}

func fieldOf(e fr.Element) Field { return Field(e.Bytes()) }

// String is the element in hex.
func (f Field) String() string { return hex.EncodeToString(f[:]) }

// IsZero reports whether f is the element 0.
func (f Field) IsZero() bool { return f == Field{} }

// ParseField reads 32 bytes as a canonical field element.
func ParseField(b []byte) (Field, error) {
	if len(b) != 32 {
		return Field{}, fmt.Errorf("%w: field element is %d bytes, want 32", ErrMalformed, len(b))
	}
	var f Field
	copy(f[:], b)
	if !f.Canonical() {
		return Field{}, ErrNotCanonical
	}
	return f, nil
}

// ParseFieldHex reads 64 hex digits as a canonical field element.
func ParseFieldHex(s string) (Field, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return Field{}, fmt.Errorf("%w: field element: %v", ErrMalformed, err)
	}
	return ParseField(b)
}

// Canonical reports whether f is below the modulus.
func (f Field) Canonical() bool {
	_, err := fr.BigEndian.Element((*[32]byte)(&f))
	return err == nil
}

// FieldOfUint returns v as a field element.
func FieldOfUint(v uint64) Field {
	var e fr.Element
	e.SetUint64(v)
	return fieldOf(e)
}

// reduce maps 32 bytes of hash output into the field (mod r).
func reduce(h [32]byte) Field {
	var e fr.Element
	e.SetBigInt(new(big.Int).SetBytes(h[:]))
	return fieldOf(e)
}

// BindOf is the public input that ties a proof to what it authorizes: the
// SHA-256 of a domain tag and msg (a transaction's signing bytes without the
// proof, or a read challenge), reduced into the field.
func BindOf(msg []byte) Field {
	h := sha256.New()
	h.Write([]byte(domainBind))
	h.Write(msg)
	return reduce([32]byte(h.Sum(nil)))
}

// ScopeOf is the field element of a nullifier scope named by a string (for
// writes, the record key; see docs/zk.md).
func ScopeOf(scope string) Field {
	h := sha256.New()
	h.Write([]byte(domainScope))
	h.Write([]byte(scope))
	return reduce([32]byte(h.Sum(nil)))
}

// Hash is gnark-crypto's BN254 MiMC of field elements, the hash the
// circuits compute with std/hash/mimc.
func Hash(in ...Field) Field {
	es := make([]fr.Element, len(in))
	for i, f := range in {
		es[i] = f.elem()
	}
	return fieldOf(mimcSum(es...))
}

func mimcSum(es ...fr.Element) fr.Element {
	h := mimc.NewFieldHasher()
	h.Reset()
	return h.SumElements(es)
}

// NewSecret returns a random field element from crypto/rand: a member's
// identity secret, a lock's secret or a range commitment's blinding.
func NewSecret() (Field, error) {
	var e fr.Element
	if _, err := e.SetRandom(); err != nil {
		return Field{}, fmt.Errorf("zk: random secret: %w", err)
	}
	return fieldOf(e), nil
}

// Commitment is MiMC(secret): a member's identity commitment, and the
// commitment a secret lock names.
func Commitment(secret Field) Field { return Hash(secret) }

// Nullifier is MiMC(secret, scope): one member's one-time tag in a scope.
// It names no member: without the secret it cannot be linked to a
// commitment.
func Nullifier(secret, scope Field) Field { return Hash(secret, scope) }

// ValueCommitment is MiMC(value, blinding): the commitment a range proof
// opens in zero knowledge.
func ValueCommitment(value uint64, blinding Field) Field {
	return Hash(FieldOfUint(value), blinding)
}
