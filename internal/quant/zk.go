package quant

import (
	"bytes"
	"fmt"
	"strings"
)

// Zero-knowledge proofs a transaction may carry (docs/zk.md). This package
// holds their encoding and their shape only; package chain verifies them
// (with package zk, which this one does not import).

// Circuits of a transaction's ZK part; the numbers match package zk's.
const (
	ZKMembership uint8 = 1 // the writer is a member of the group its key falls under
	ZKPreimage   uint8 = 2 // the writer knows the secret behind a lock's commitment
	ZKRange      uint8 = 3 // a committed value lies in [Min, Max]
)

// Limits of a transaction's ZK part.
const (
	// MaxZKProof bounds the proof bytes (zk.MaxProofSize).
	MaxZKProof = 512
	// MaxScopeLen bounds a membership proof's nullifier scope.
	MaxScopeLen = MaxKeyLen
	// maxZKSize is the largest encoded ZK part: a membership proof's
	// (encodedSize), whose root, nullifier and scope outweigh the other
	// circuits' inputs.
	maxZKSize = 1 + 2 + MaxZKProof + 2*HashSize + 2 + MaxScopeLen
)

// ZK is the zero-knowledge part of a transaction: a proof and its public
// inputs. The proof binds the transaction's BindBytes (its signing bytes
// with the proof left out), so it cannot be lifted onto another one.
type ZK struct {
	Circuit uint8
	// Membership: Root is the group's Merkle root the proof is against,
	// Nullifier the writer's one-time tag in Scope. For a write, Scope
	// must be ScopeOfKey(Key): one write per member per key directory.
	Root      Hash
	Nullifier Hash
	Scope     string
	// Preimage and range: Commitment is the MiMC commitment proven. For
	// preimage, Prev is the id of the version the write replaces (so that
	// a proof, which anyone can re-randomize, cannot replay the write).
	Commitment Hash
	Prev       Hash
	// Range: the value committed to lies in [Min, Max].
	Min, Max uint64
	// Proof is the encoded Groth16 proof.
	Proof []byte
}

// ScopeOfKey is the nullifier scope of a membership write of key: the key
// up to and including its last '/' (its directory: "polls/1/" for
// "polls/1/ballot-x"), or the key itself if it has none. Every node
// requires it, so a member writes at most one key per directory, and a
// tally of a directory counts each member once.
func ScopeOfKey(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i+1]
	}
	return key
}

// NullifierPrefix is where a membership write's nullifier is recorded: a
// reserved record key, written once, by the write that spends it.
const NullifierPrefix = "zk/nullifier/"

// NullifierKey is the reserved key that records nullifier n as spent.
func NullifierKey(n Hash) string { return NullifierPrefix + n.String() }

// WrittenKeys are the record keys tx writes: its key and, for a membership
// proof, the nullifier it spends. The store indexes one version per key.
func (tx *Tx) WrittenKeys() []string {
	if tx.Key == "" {
		return nil
	}
	if tx.ZK != nil && tx.ZK.Circuit == ZKMembership {
		return []string{tx.Key, NullifierKey(tx.ZK.Nullifier)}
	}
	return []string{tx.Key}
}

func (z *ZK) append(w *writer, withProof bool) {
	w.u8(z.Circuit)
	switch z.Circuit {
	case ZKMembership:
		w.raw(z.Root[:])
		w.raw(z.Nullifier[:])
		w.u16(uint16(len(z.Scope)))
		w.raw([]byte(z.Scope))
	case ZKPreimage:
		w.raw(z.Commitment[:])
		w.raw(z.Prev[:])
	case ZKRange:
		w.raw(z.Commitment[:])
		w.u64(z.Min)
		w.u64(z.Max)
	}
	if withProof {
		w.u16(uint16(len(z.Proof)))
		w.raw(z.Proof)
	}
}

func (z *ZK) encodedSize() int {
	n := 1 + 2 + len(z.Proof)
	switch z.Circuit {
	case ZKMembership:
		n += 2*HashSize + 2 + len(z.Scope)
	case ZKPreimage:
		n += 2 * HashSize
	case ZKRange:
		n += HashSize + 16
	}
	return n
}

func decodeZK(r *reader) *ZK {
	z := &ZK{Circuit: r.u8()}
	switch z.Circuit {
	case ZKMembership:
		z.Root = r.hash()
		z.Nullifier = r.hash()
		n := int(r.u16())
		if r.err == nil && (n == 0 || n > MaxScopeLen) {
			r.fail("scope is %d bytes, must be 1 to %d", n, MaxScopeLen)
			return z
		}
		z.Scope = string(r.take(n))
	case ZKPreimage:
		z.Commitment = r.hash()
		z.Prev = r.hash()
	case ZKRange:
		z.Commitment = r.hash()
		z.Min = r.u64()
		z.Max = r.u64()
	default:
		if r.err == nil {
			r.fail("unknown circuit %d", z.Circuit)
		}
		return z
	}
	n := int(r.u16())
	if r.err == nil && (n == 0 || n > MaxZKProof) {
		r.fail("proof is %d bytes, must be 1 to %d", n, MaxZKProof)
		return z
	}
	z.Proof = r.take(n)
	return z
}

// check checks a ZK part's shape: a known circuit, a proof of 1 to
// MaxZKProof bytes, a scope of 1 to MaxScopeLen bytes for membership and
// Min <= Max for range. Whether the proof verifies is package chain's.
func (z *ZK) check() error {
	switch z.Circuit {
	case ZKMembership:
		if len(z.Scope) == 0 || len(z.Scope) > MaxScopeLen {
			return Errorf(CodeMalformed, "zk: scope must be 1 to %d bytes", MaxScopeLen)
		}
	case ZKPreimage:
	case ZKRange:
		if z.Min > z.Max {
			return Errorf(CodeMalformed, "zk: min %d is above max %d", z.Min, z.Max)
		}
	default:
		return Errorf(CodeMalformed, "zk: unknown circuit %d", z.Circuit)
	}
	if len(z.Proof) == 0 || len(z.Proof) > MaxZKProof {
		return Errorf(CodeMalformed, "zk: proof must be 1 to %d bytes", MaxZKProof)
	}
	return nil
}

func (z *ZK) clone() *ZK {
	c := *z
	c.Proof = bytes.Clone(z.Proof)
	return &c
}

// BindBytes are what a transaction's proof binds: its signing bytes with
// the proof bytes left out (the proof cannot bind itself), under their own
// domain tag. The writer's key, if any, is inside: prove after choosing
// the key, sign after proving (the signature covers the proof).
func (tx *Tx) BindBytes() []byte {
	w := &writer{b: make([]byte, 0, len(DomainTxBind)+1+tx.EncodedSize())}
	w.raw([]byte(DomainTxBind))
	w.u8(0)
	tx.appendBodyTo(w, true, false)
	return w.b
}

// DomainTxBind is the domain tag of BindBytes.
const DomainTxBind = "qbc/tx-bind/v1"

func (z *ZK) String() string {
	return fmt.Sprintf("zk(circuit %d, %d-byte proof)", z.Circuit, len(z.Proof))
}
