package raftchain

import (
	"github.com/qbc-chain/qbc/internal/quant"
)

// Raft log entry format, version 1: a version byte, a kind byte, then the
// kind's body. The only kind is a quant, whose body is its canonical
// encoding (docs/protocol.md).
const (
	entryVersion   = 1
	entryKindQuant = 1
	entryHeader    = 2
	// MaxEntrySize is the largest log entry: a largest quant and the two
	// leading bytes.
	MaxEntrySize = entryHeader + quant.MaxQuantSize
)

// EncodeEntry returns the log entry that carries q.
func EncodeEntry(q *quant.Quant) []byte {
	return append([]byte{entryVersion, entryKindQuant}, q.Encode()...)
}

// DecodeEntry decodes a log entry into the quant it carries. It refuses
// input over MaxEntrySize before reading it, an unknown version or kind,
// and a bang. The quant aliases b.
func DecodeEntry(b []byte) (*quant.Quant, error) {
	if len(b) > MaxEntrySize {
		return nil, quant.Errorf(quant.CodeTooLarge, "raft entry is %d bytes, limit %d", len(b), MaxEntrySize)
	}
	if len(b) < entryHeader {
		return nil, quant.Errorf(quant.CodeMalformed, "raft entry is %d bytes, too short", len(b))
	}
	if b[0] != entryVersion {
		return nil, quant.Errorf(quant.CodeBadVersion, "raft entry version %d, want %d", b[0], entryVersion)
	}
	if b[1] != entryKindQuant {
		return nil, quant.Errorf(quant.CodeMalformed, "raft entry kind %d is unknown", b[1])
	}
	q, err := quant.DecodeQuant(b[entryHeader:])
	if err != nil {
		return nil, err
	}
	if q.IsBang() {
		return nil, quant.Errorf(quant.CodeBadLink, "raft entry carries a bang")
	}
	return q, nil
}
