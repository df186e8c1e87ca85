package quant

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashSize is the size of every hash in QBC (SHA-256).
const HashSize = 32

// Hash is a SHA-256 digest: a quant's hash, a transaction's id, a chain's id.
type Hash [HashSize]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes h as hex (so JSON shows hashes as hex strings).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes a hex hash.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash decodes a 64-character hex string.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, Errorf(CodeMalformed, "hash must be %d hex characters, got %d", 2*HashSize, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, Errorf(CodeMalformed, "hash is not hex: %v", err)
	}
	return h, nil
}

// Sum returns SHA-256(domain || 0x00 || parts...). Every hash QBC computes
// is domain separated, so bytes hashed for one purpose never collide with
// bytes hashed for another.
func Sum(domain string, parts ...[]byte) Hash {
	d := sha256.New()
	d.Write([]byte(domain))
	d.Write([]byte{0})
	for _, p := range parts {
		d.Write(p)
	}
	var h Hash
	d.Sum(h[:0])
	return h
}

// Domain tags for the hashes and signatures QBC computes.
const (
	DomainTx     = "qbc/tx/v1"
	DomainTxSig  = "qbc/tx-sig/v1"
	DomainHeader = "qbc/header/v1"
	DomainRules  = "qbc/rules/v1"
)
