package zk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
)

// Size caps, checked before any decoding: gnark's decoders allocate what
// the bytes announce, so untrusted bytes are cut to these first.
const (
	// ProofSize is an encoded proof of these circuits: gnark's uncompressed
	// BN254 Groth16 proof, three points (A, B, C: 64+128+64 bytes), an
	// empty commitment list (4) and the commitments' proof of knowledge
	// (a point at infinity, 64).
	ProofSize = 324
	// MaxProofSize bounds an encoded proof; it leaves room and no more.
	MaxProofSize = 512
	// MaxVerifyingKeySize bounds an encoded verifying key (these circuits
	// have at most four public inputs).
	MaxVerifyingKeySize = 8 << 10
	// MaxProvingKeySize bounds an encoded proving key (membership at depth
	// 32 is well below it).
	MaxProvingKeySize = 256 << 20
)

// Keys are one circuit's Groth16 keys.
type Keys struct {
	Circuit Circuit
	Depth   int // membership's tree depth; 0 for the others
	PK      groth16.ProvingKey
	VK      groth16.VerifyingKey
}

// Setup runs a single-party Groth16 setup for circuit c: whoever runs it
// knows the toxic waste and can forge proofs for these keys (docs/zk.md).
// For development and tests; a production chain uses the multi-party
// setup (MPC).
func Setup(c Circuit, depth int) (*Keys, error) {
	cs, err := Compile(c, depth)
	if err != nil {
		return nil, err
	}
	pk, vk, err := groth16.Setup(cs)
	if err != nil {
		return nil, fmt.Errorf("zk: setup %s: %w", c, err)
	}
	return &Keys{Circuit: c, Depth: depthOf(c, depth), PK: pk, VK: vk}, nil
}

// EncodeVerifyingKey returns a verifying key's canonical encoding
// (gnark's compressed form), the bytes whose SHA-256 a chain's rules name.
func EncodeVerifyingKey(vk groth16.VerifyingKey) []byte {
	var b bytes.Buffer
	if _, err := vk.WriteTo(&b); err != nil {
		panic(fmt.Sprintf("zk: encode verifying key: %v", err)) // a bytes.Buffer does not fail
	}
	return b.Bytes()
}

// EncodeProvingKey returns a proving key's encoding (gnark's compressed form).
func EncodeProvingKey(pk groth16.ProvingKey) []byte {
	var b bytes.Buffer
	if _, err := pk.WriteTo(&b); err != nil {
		panic(fmt.Sprintf("zk: encode proving key: %v", err))
	}
	return b.Bytes()
}

// KeyHash is the SHA-256 of an encoded key: what a chain's rules name.
func KeyHash(encoded []byte) [32]byte { return sha256.Sum256(encoded) }

// DecodeVerifyingKey decodes untrusted bytes into a verifying key. It
// refuses more than MaxVerifyingKeySize bytes before reading, trailing
// bytes, points off the curve or outside the subgroup, and turns a panic in
// gnark's decoder into an error. The result does not alias b.
func DecodeVerifyingKey(b []byte) (groth16.VerifyingKey, error) {
	if len(b) > MaxVerifyingKeySize {
		return nil, fmt.Errorf("%w: verifying key is %d bytes, limit %d", ErrTooLarge, len(b), MaxVerifyingKeySize)
	}
	if err := checkVerifyingKeyLayout(b); err != nil {
		return nil, err
	}
	vk := groth16.NewVerifyingKey(ecc.BN254)
	if err := readAll(vk, b, "verifying key"); err != nil {
		return nil, err
	}
	if !bytes.Equal(EncodeVerifyingKey(vk), b) {
		return nil, fmt.Errorf("%w: verifying key is not in canonical form", ErrMalformed)
	}
	return vk, nil
}

// DecodeProvingKey decodes a proving key whose SHA-256 must be want (the
// hash a chain's rules name). gnark's proving-key decoder trusts the
// lengths it reads, so no byte reaches it before the hash matches: bytes
// from a node or a file are checked against the rules first, and a key
// that matches was written by a setup. The size cap and a recover stay as
// a second line.
func DecodeProvingKey(b []byte, want [32]byte) (groth16.ProvingKey, error) {
	if len(b) > MaxProvingKeySize {
		return nil, fmt.Errorf("%w: proving key is %d bytes, limit %d", ErrTooLarge, len(b), MaxProvingKeySize)
	}
	if KeyHash(b) != want {
		return nil, fmt.Errorf("%w: proving key's hash is not the one the rules name", ErrMalformed)
	}
	pk := groth16.NewProvingKey(ecc.BN254)
	if err := readAll(pk, b, "proving key"); err != nil {
		return nil, err
	}
	return pk, nil
}

// readAll runs gnark's ReadFrom on b, requiring it to read every byte and
// recovering from a panic (gnark's decoders trust lengths they read).
func readAll(v io.ReaderFrom, b []byte, what string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrMalformed, what, r)
		}
	}()
	n, err := v.ReadFrom(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
	}
	if n != int64(len(b)) {
		return fmt.Errorf("%w: %s: %d trailing bytes", ErrMalformed, what, int64(len(b))-n)
	}
	return nil
}

// vkFixed is the compressed size of a verifying key's six fixed points
// (α, β in G1; β, γ in G2; δ in G1 and G2).
const vkFixed = 32 + 32 + 64 + 64 + 32 + 64

// maxPublics bounds the public inputs a verifying key may name (K holds
// one point more than that).
const maxPublics = 16

// checkVerifyingKeyLayout checks the length fields of a compressed
// verifying key before gnark reads it (gnark allocates what they say): K
// holds 1 to maxPublics+1 points, there are no commitment keys (these
// circuits have none), and the lengths add up to exactly len(b).
func checkVerifyingKeyLayout(b []byte) error {
	bad := func(why string) error { return fmt.Errorf("%w: verifying key: %s", ErrMalformed, why) }
	if len(b) < vkFixed+4 {
		return bad("too short")
	}
	nK := binary.BigEndian.Uint32(b[vkFixed:])
	if nK < 1 || nK > maxPublics+1 {
		return bad(fmt.Sprintf("%d points in K, must be 1 to %d", nK, maxPublics+1))
	}
	at := vkFixed + 4 + 32*int(nK)
	if len(b) != at+8 {
		return bad(fmt.Sprintf("is %d bytes, its layout says %d", len(b), at+8))
	}
	// Every point compressed (the top two bits of its first byte not 00),
	// so that each takes the 32 or 64 bytes the layout above counts.
	points := []int{0, 32, 64, 128, 192, 224}
	for i := range int(nK) {
		points = append(points, vkFixed+4+32*i)
	}
	for _, o := range points {
		if b[o]&0xc0 == 0 {
			return bad(fmt.Sprintf("point at byte %d is not compressed", o))
		}
	}
	if binary.BigEndian.Uint32(b[at:]) != 0 || binary.BigEndian.Uint32(b[at+4:]) != 0 {
		return bad("holds commitment keys; these circuits have none")
	}
	return nil
}
