package raftchain

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// sampleQuants builds n linked quants (not sealed: the codecs do not look
// at seals) of chain id, with a transaction each.
func sampleQuants(id quant.Hash, n int) []*quant.Quant {
	var out []*quant.Quant
	prev := quant.Hash{1}
	for h := 1; h <= n; h++ {
		tx := &quant.Tx{ChainID: id, Time: 1, Nonce: uint64(h), Kind: quant.DataBytes, Data: []byte("x")}
		q := &quant.Quant{Header: quant.Header{ChainID: id, Height: uint64(h), Prev: prev, TxRoot: quant.TxRoot([]*quant.Tx{tx}), Time: int64(h), TxCount: 1, Seal: make([]byte, 82)}, Txs: []*quant.Tx{tx}}
		prev = q.Hash()
		out = append(out, q)
	}
	return out
}

// fullStream encodes a full snapshot stream of qs.
func fullStream(id quant.Hash, qs []*quant.Quant) []byte {
	h := snapHeader{kind: snapKindFull, chain: id, height: uint64(len(qs))}
	if len(qs) > 0 {
		h.tip = qs[len(qs)-1].Hash()
	}
	b := h.encode()
	for _, q := range qs {
		enc := q.Encode()
		b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
		b = append(b, enc...)
	}
	return b
}

func readStream(b []byte, maxQuant int) (snapHeader, []*quant.Quant, error) {
	r := bytes.NewReader(b)
	h, err := readSnapHeader(r)
	if err != nil {
		return h, nil, err
	}
	var qs []*quant.Quant
	err = readSnapQuants(r, h, 0, maxQuant, func(q *quant.Quant) error { qs = append(qs, q); return nil })
	return h, qs, err
}

func TestEntryRoundTrip(t *testing.T) {
	q := sampleQuants(quant.Hash{7}, 1)[0]
	b := EncodeEntry(q)
	got, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != q.Hash() || len(got.Txs) != 1 {
		t.Fatal("decoded entry differs")
	}
	for _, tc := range []struct {
		name string
		b    []byte
		code quant.Code
	}{
		{"empty", nil, quant.CodeMalformed},
		{"version 2", append([]byte{2}, b[1:]...), quant.CodeBadVersion},
		{"kind 9", append([]byte{1, 9}, b[2:]...), quant.CodeMalformed},
		{"truncated", b[:len(b)-1], quant.CodeMalformed},
		{"bang", EncodeEntry(&quant.Quant{Rules: []byte("{}")}), quant.CodeBadLink},
	} {
		if _, err := DecodeEntry(tc.b); quant.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want code %s", tc.name, err, tc.code)
		}
	}
}

// TestEntryQuant: the leader applies the quant it proposed as it is, when
// the entry is at the proposal's place and holds exactly its encoding;
// any other entry is decoded (into a quant that does not alias the entry),
// and a proposal the log has passed is forgotten.
func TestEntryQuant(t *testing.T) {
	qs := sampleQuants(quant.Hash{7}, 2)
	own, other := EncodeEntry(qs[0]), EncodeEntry(qs[1])
	for _, tc := range []struct {
		name        string
		term, index uint64
		data        []byte
		same, kept  bool // the proposed quant returned; the proposal kept
	}{
		{"the proposed entry", 2, 10, own, true, false},
		{"an earlier entry", 2, 9, other, false, true},
		{"another quant at its place", 2, 10, other, false, false},
		{"its encoding in another term", 3, 10, own, false, false},
		{"a later entry", 2, 11, other, false, false},
	} {
		r := &Replica{}
		p := &proposal{term: 2, index: 10, q: qs[0], data: own}
		r.proposed.Store(p)
		data := bytes.Clone(tc.data)
		q, err := r.entryQuant(tc.term, tc.index, data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if same := q == qs[0]; same != tc.same {
			t.Errorf("%s: returned the proposed quant: %v, want %v", tc.name, same, tc.same)
		}
		if want := tc.data; !bytes.Equal(EncodeEntry(q), want) {
			t.Errorf("%s: returned a quant that is not the entry's", tc.name)
		}
		if kept := r.proposed.Load() == p; kept != tc.kept {
			t.Errorf("%s: proposal kept: %v, want %v", tc.name, kept, tc.kept)
		}
		if !tc.same {
			clear(data) // what Raft may do with its buffer
			if !bytes.Equal(EncodeEntry(q), tc.data) {
				t.Errorf("%s: the decoded quant aliases the entry", tc.name)
			}
		}
	}
}

func TestSnapshotStreamRefusals(t *testing.T) {
	id := quant.Hash{7}
	qs := sampleQuants(id, 3)
	good := fullStream(id, qs)
	if h, got, err := readStream(good, 1<<20); err != nil || h.height != 3 || len(got) != 3 || got[2].Hash() != qs[2].Hash() {
		t.Fatalf("good stream: %+v, %d quants, %v", h, len(got), err)
	}
	marker := snapHeader{kind: snapKindMarker, chain: id, height: 3, tip: qs[2].Hash()}.encode()
	if h, got, err := readStream(marker, 1<<20); err != nil || h.kind != snapKindMarker || len(got) != 0 {
		t.Fatalf("marker: %+v, %d quants, %v", h, len(got), err)
	}
	badTip := fullStream(id, qs)
	copy(badTip[len(snapMagic)+2+quant.HashSize+8:], make([]byte, 32))
	for _, tc := range []struct {
		name     string
		b        []byte
		maxQuant int
	}{
		{"empty", nil, 1 << 20},
		{"bad magic", append([]byte("qbc-fake"), good[8:]...), 1 << 20},
		{"version 2", append(append([]byte(snapMagic), 2), good[9:]...), 1 << 20},
		{"kind 5", append(append([]byte(snapMagic), 1, 5), good[10:]...), 1 << 20},
		{"truncated", good[:len(good)-3], 1 << 20},
		{"trailing", append(append([]byte(nil), good...), 0), 1 << 20},
		{"out of order", fullStream(id, []*quant.Quant{qs[1], qs[0]}), 1 << 20},
		{"tip differs", badTip, 1 << 20},
		{"quant too large", good, 100},
	} {
		if _, _, err := readStream(tc.b, tc.maxQuant); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: %v, want ErrBadSnapshot", tc.name, err)
		}
	}
}

// TestSnapshotExpand: a replica's snapshot is a marker; opened through
// the snapshot store it is the full stream of the chain, exactly as long
// as its meta says.
func TestSnapshotExpand(t *testing.T) {
	c := newCluster(t, 1, nil)
	c.startVoters(1)
	m := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 5 {
		if err := m.r.Submit(ctx, c.txs(3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.r.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	metas, err := m.r.snaps.List()
	if err != nil || len(metas) == 0 {
		t.Fatalf("snapshots: %v, %v", metas, err)
	}
	if metas[0].Size != int64(snapHeaderSize) {
		t.Fatalf("stored snapshot is %d bytes, want a %d-byte marker", metas[0].Size, snapHeaderSize)
	}
	meta, rc, err := m.r.snaps.Open(metas[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != meta.Size {
		t.Fatalf("expanded stream is %d bytes, meta says %d", len(b), meta.Size)
	}
	h, qs, err := readStream(b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	head := m.r.Chain().Tip()
	if h.kind != snapKindFull || h.height != head.Header.Height || uint64(len(qs)) != h.height || h.tip != head.Hash {
		t.Fatalf("expanded header %+v with %d quants; chain at %d %s", h, len(qs), head.Header.Height, head.Hash)
	}
}

// FuzzDecodeEntry: DecodeEntry never panics, refuses with a rule code,
// and what it accepts encodes back to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	for _, q := range sampleQuants(quant.Hash{3}, 2) {
		f.Add(EncodeEntry(q))
	}
	f.Add([]byte{1, 1})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := DecodeEntry(b)
		if err != nil {
			if quant.CodeOf(err) == "" {
				t.Fatalf("error without a rule code: %v", err)
			}
			return
		}
		if !bytes.Equal(EncodeEntry(q), b) {
			t.Fatal("accepted entry does not re-encode to its bytes")
		}
	})
}

// FuzzSnapshotStream: reading a snapshot stream never panics, refuses
// with ErrBadSnapshot, and allocates no more than its quant limit at once.
func FuzzSnapshotStream(f *testing.F) {
	id := quant.Hash{3}
	f.Add(fullStream(id, sampleQuants(id, 2)))
	f.Add(snapHeader{kind: snapKindMarker, chain: id, height: 9}.encode())
	f.Add([]byte(snapMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, err := readStream(b, 4096)
		if err != nil && !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("error that is not ErrBadSnapshot: %v", err)
		}
	})
}

// TestSnapQuantsOfAFork: a fork's full stream holds its quants after its
// bang (at the fork point's height), and reads with that base.
func TestSnapQuantsOfAFork(t *testing.T) {
	id := quant.Hash{7}
	qs := sampleQuants(id, 7)[4:] // heights 5 to 7: a fork at 4
	h := snapHeader{kind: snapKindFull, chain: id, height: 7, tip: qs[2].Hash()}
	b := h.encode()
	for _, q := range qs {
		enc := q.Encode()
		b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
		b = append(b, enc...)
	}
	read := func(base uint64) ([]*quant.Quant, error) {
		r := bytes.NewReader(b)
		h, err := readSnapHeader(r)
		if err != nil {
			return nil, err
		}
		var got []*quant.Quant
		err = readSnapQuants(r, h, base, 1<<20, func(q *quant.Quant) error { got = append(got, q); return nil })
		return got, err
	}
	if got, err := read(4); err != nil || len(got) != 3 || got[0].Header.Height != 5 {
		t.Fatalf("fork stream from base 4: %d quants, %v", len(got), err)
	}
	if _, err := read(0); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("fork stream read from base 0: %v, want ErrBadSnapshot", err)
	}
}
