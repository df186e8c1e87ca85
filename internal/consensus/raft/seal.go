package raft

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Seal sizes.
const (
	// PositionSize is an unsigned seal: term, index and member.
	PositionSize = 8 + 8 + 2
	// SealSize is a complete seal: the position and the signature.
	SealSize = PositionSize + ed25519.SignatureSize
)

// Domain tags the hash a member signs.
const Domain = "qbc/raft-seal/v1"

// ErrNoPosition is returned by SetPosition for a header without a raft
// seal.
var ErrNoPosition = errors.New("raft: header has no raft seal to position")

// Seal is a raft seal: the position of the quant's log entry, the signer
// and its signature.
type Seal struct {
	Term   uint64 // Raft term of the log entry carrying the quant
	Index  uint64 // Raft log index of that entry
	Member uint16 // the signer's index in the member list
	Sig    []byte // Ed25519 signature over SigningHash, or nil (unsigned)
}

// Encode returns the canonical encoding: PositionSize bytes, then the
// signature if there is one.
func (s Seal) Encode() []byte {
	b := make([]byte, 0, PositionSize+len(s.Sig))
	b = binary.BigEndian.AppendUint64(b, s.Term)
	b = binary.BigEndian.AppendUint64(b, s.Index)
	b = binary.BigEndian.AppendUint16(b, s.Member)
	return append(b, s.Sig...)
}

// DecodeSeal decodes a seal of PositionSize (unsigned) or SealSize bytes;
// any other length is a CodeBadSeal error. The signature aliases b.
func DecodeSeal(b []byte) (Seal, error) {
	if len(b) != PositionSize && len(b) != SealSize {
		return Seal{}, quant.Errorf(quant.CodeBadSeal, "raft seal is %d bytes, want %d", len(b), SealSize)
	}
	s := Seal{
		Term:   binary.BigEndian.Uint64(b),
		Index:  binary.BigEndian.Uint64(b[8:]),
		Member: binary.BigEndian.Uint16(b[16:]),
	}
	if len(b) == SealSize {
		s.Sig = b[PositionSize:]
	}
	return s, nil
}

// SigningHash is what a member signs: Sum(Domain, h encoded with its seal
// cut to the position). h's seal must hold at least the position; a
// shorter seal is hashed as it is (and then cannot verify).
func SigningHash(h *quant.Header) quant.Hash {
	c := *h
	if len(c.Seal) > PositionSize {
		c.Seal = c.Seal[:PositionSize]
	}
	return quant.Sum(Domain, c.Encode())
}

// SetPosition sets the term and index in h's seal (made by Prepare),
// keeping the member and dropping any signature: the Raft leader calls it
// with its term and the log index the quant's entry will take, then Seal.
func SetPosition(h *quant.Header, term, index uint64) error {
	s, err := DecodeSeal(h.Seal)
	if err != nil {
		return ErrNoPosition
	}
	h.Seal = Seal{Term: term, Index: index, Member: s.Member}.Encode()
	return nil
}

// Position returns the term and index h's seal names.
func Position(h *quant.Header) (term, index uint64, err error) {
	s, err := DecodeSeal(h.Seal)
	if err != nil {
		return 0, 0, err
	}
	return s.Term, s.Index, nil
}
