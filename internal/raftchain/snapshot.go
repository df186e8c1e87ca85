package raftchain

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	hraft "github.com/hashicorp/raft"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// Snapshot stream format, version 1 (all integers big-endian):
//
//	magic   8 bytes "qbc-raft"
//	version u8 (1)
//	kind    u8: 0 marker (nothing follows), 1 full (quants follow)
//	chain   32 bytes, the chain id
//	height  u64, the chain's height at the snapshot
//	tip     32 bytes, the hash of the quant at that height
//	quants  (full only) heights 1 to height in order, each a u32 length
//	        and the quant's canonical encoding
//
// A replica's FSM snapshot is a marker: the chain in the store is the
// state, and its quants never change, so naming the tip is enough. When
// Raft sends a snapshot to a follower, snapshotStore.Open expands the
// marker into a full stream read from the store; the follower keeps that
// stream and restores from it.
const (
	snapMagic      = "qbc-raft"
	snapVersion    = 1
	snapKindMarker = 0
	snapKindFull   = 1
	snapHeaderSize = len(snapMagic) + 1 + 1 + quant.HashSize + 8 + quant.HashSize
)

// snapHeader is the head of a snapshot stream.
type snapHeader struct {
	kind   byte
	chain  quant.Hash
	height uint64
	tip    quant.Hash
}

func (h snapHeader) encode() []byte {
	b := make([]byte, 0, snapHeaderSize)
	b = append(b, snapMagic...)
	b = append(b, snapVersion, h.kind)
	b = append(b, h.chain[:]...)
	b = binary.BigEndian.AppendUint64(b, h.height)
	return append(b, h.tip[:]...)
}

// decodeSnapHeader decodes the first snapHeaderSize bytes of a stream.
func decodeSnapHeader(b []byte) (snapHeader, error) {
	if len(b) != snapHeaderSize {
		return snapHeader{}, fmt.Errorf("%w: header is %d bytes, want %d", ErrBadSnapshot, len(b), snapHeaderSize)
	}
	if string(b[:len(snapMagic)]) != snapMagic {
		return snapHeader{}, fmt.Errorf("%w: not a qbc raft snapshot", ErrBadSnapshot)
	}
	b = b[len(snapMagic):]
	if b[0] != snapVersion {
		return snapHeader{}, fmt.Errorf("%w: version %d, want %d", ErrBadSnapshot, b[0], snapVersion)
	}
	h := snapHeader{kind: b[1]}
	if h.kind != snapKindMarker && h.kind != snapKindFull {
		return snapHeader{}, fmt.Errorf("%w: unknown kind %d", ErrBadSnapshot, h.kind)
	}
	b = b[2:]
	copy(h.chain[:], b)
	h.height = binary.BigEndian.Uint64(b[quant.HashSize:])
	copy(h.tip[:], b[quant.HashSize+8:])
	return h, nil
}

// readSnapHeader reads and decodes a stream's header.
func readSnapHeader(r io.Reader) (snapHeader, error) {
	var b [snapHeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return snapHeader{}, fmt.Errorf("%w: header: %v", ErrBadSnapshot, err)
	}
	return decodeSnapHeader(b[:])
}

// readSnapQuants reads the quants of a full stream after its header (those
// above base, the chain's bang's height), calling fn with each in order
// (fn may keep it). It refuses a quant longer than maxQuant bytes before
// reading it, a quant out of height order, a last quant that is not the
// header's tip, and trailing bytes.
func readSnapQuants(r io.Reader, h snapHeader, base uint64, maxQuant int, fn func(*quant.Quant) error) error {
	if h.kind != snapKindFull {
		return nil
	}
	var lb [4]byte
	var last quant.Hash
	for height := base + 1; height <= h.height; height++ {
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			return fmt.Errorf("%w: quant %d: %v", ErrBadSnapshot, height, err)
		}
		n := binary.BigEndian.Uint32(lb[:])
		if uint64(n) > uint64(maxQuant) {
			return fmt.Errorf("%w: quant %d is %d bytes, limit %d", ErrBadSnapshot, height, n, maxQuant)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("%w: quant %d: %v", ErrBadSnapshot, height, err)
		}
		q, err := quant.DecodeQuant(b)
		if err != nil {
			return fmt.Errorf("%w: quant %d: %v", ErrBadSnapshot, height, err)
		}
		if q.Header.Height != height {
			return fmt.Errorf("%w: quant at height %d where %d was due", ErrBadSnapshot, q.Header.Height, height)
		}
		last = q.Hash()
		if err := fn(q); err != nil {
			return err
		}
	}
	if h.height > base && last != h.tip {
		return fmt.Errorf("%w: last quant %s is not the tip %s", ErrBadSnapshot, last, h.tip)
	}
	if n, _ := io.ReadFull(r, lb[:1]); n != 0 {
		return fmt.Errorf("%w: trailing bytes", ErrBadSnapshot)
	}
	return nil
}

// marker is the FSM snapshot: the chain's tip when it was taken.
type marker struct{ h snapHeader }

// Persist writes the marker.
func (m marker) Persist(sink hraft.SnapshotSink) error {
	if _, err := sink.Write(m.h.encode()); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

// Release implements hraft.FSMSnapshot.
func (marker) Release() {}

// snapshotStore is Raft's snapshot store: files on disk (hashicorp/raft's
// FileSnapshotStore), whose Open expands a marker into a full stream from
// the chain's store, so what Raft sends a follower is the whole chain.
type snapshotStore struct {
	files *hraft.FileSnapshotStore
	st    *store.Chain
}

var _ hraft.SnapshotStore = (*snapshotStore)(nil)

// Create implements hraft.SnapshotStore.
func (s *snapshotStore) Create(version hraft.SnapshotVersion, index, term uint64, configuration hraft.Configuration,
	configurationIndex uint64, trans hraft.Transport) (hraft.SnapshotSink, error) {
	return s.files.Create(version, index, term, configuration, configurationIndex, trans)
}

// List implements hraft.SnapshotStore.
func (s *snapshotStore) List() ([]*hraft.SnapshotMeta, error) { return s.files.List() }

// Open implements hraft.SnapshotStore: a full stream as stored, a marker
// expanded (its meta's Size then the expanded size).
func (s *snapshotStore) Open(id string) (*hraft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := s.files.Open(id)
	if err != nil {
		return nil, nil, err
	}
	head := make([]byte, snapHeaderSize)
	if _, err := io.ReadFull(rc, head); err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("%w: snapshot %s: %v", ErrBadSnapshot, id, err)
	}
	h, err := decodeSnapHeader(head)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	if h.kind == snapKindFull {
		return meta, readCloser{io.MultiReader(bytes.NewReader(head), rc), rc}, nil
	}
	rc.Close()
	bang, err := s.st.Bang()
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	base := bang.Header.Height
	size, err := expandedSize(s.st, h, base)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	m := *meta
	m.Size = size
	h.kind = snapKindFull
	return &m, &quantStream{st: s.st, next: base + 1, last: h.height, buf: h.encode()}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// errStop ends an iteration early.
var errStop = errors.New("stop")

// expandedSize is the length of the full stream of the marker h: it reads
// the chain's quants after its bang (at base) up to h's height (whose hash
// must be h's tip).
func expandedSize(st *store.Chain, h snapHeader, base uint64) (int64, error) {
	if h.height > base {
		at, err := st.HashAt(h.height)
		if err != nil {
			return 0, fmt.Errorf("%w: tip at %d: %v", ErrBadSnapshot, h.height, err)
		}
		if at != h.tip {
			return 0, fmt.Errorf("%w: the store's quant at %d is %s, the snapshot's %s", ErrBadSnapshot, h.height, at, h.tip)
		}
	}
	size := int64(snapHeaderSize)
	err := st.Iterate(context.Background(), base+1, func(q *quant.Quant) error {
		if q.Header.Height > h.height {
			return errStop
		}
		size += 4 + int64(len(q.Encode()))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, err
	}
	return size, nil
}

// quantStream reads a full snapshot stream from the store: buf first (the
// header), then quants next to last, one at a time.
type quantStream struct {
	st         *store.Chain
	next, last uint64
	buf        []byte
	off        int
}

// Read implements io.Reader.
func (s *quantStream) Read(p []byte) (int, error) {
	for s.off == len(s.buf) {
		if s.next > s.last {
			return 0, io.EOF
		}
		h, err := s.st.HashAt(s.next)
		if err != nil {
			return 0, err
		}
		q, err := s.st.Quant(h)
		if err != nil {
			return 0, err
		}
		enc := q.Encode()
		s.buf = binary.BigEndian.AppendUint32(s.buf[:0], uint32(len(enc)))
		s.buf = append(s.buf, enc...)
		s.off = 0
		s.next++
	}
	n := copy(p, s.buf[s.off:])
	s.off += n
	return n, nil
}

// Close implements io.Closer.
func (s *quantStream) Close() error { return nil }
