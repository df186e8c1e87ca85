package quant

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/qbc-chain/qbc/internal/merkle"
)

func sameHeader(a, b *Header) bool {
	return a.ChainID == b.ChainID && a.Height == b.Height && a.Prev == b.Prev && a.TxRoot == b.TxRoot &&
		a.Time == b.Time && a.TxCount == b.TxCount && bytes.Equal(a.Seal, b.Seal)
}

func TestHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    *Header
	}{
		{"zero", &Header{}},
		{"golden", goldenHeader()},
		{"largest seal", &Header{Height: 1, Seal: bytes.Repeat([]byte{7}, MaxSealSize)}},
		{"extremes", &Header{ChainID: testChain(1), Height: math.MaxUint64, Prev: testChain(2), TxRoot: testChain(3),
			Time: math.MinInt64, TxCount: math.MaxUint32, Seal: []byte{1}}},
	}
	for _, tc := range tests {
		enc := tc.h.Encode()
		if want := headerFixedSize + len(tc.h.Seal); len(enc) != want {
			t.Errorf("%s: %d bytes, want %d", tc.name, len(enc), want)
		}
		got, err := DecodeHeader(enc)
		if err != nil {
			t.Errorf("%s: DecodeHeader: %v", tc.name, err)
			continue
		}
		if !sameHeader(got, tc.h) {
			t.Errorf("%s: decoded %+v, want %+v", tc.name, got, tc.h)
		}
		if !bytes.Equal(got.Encode(), enc) {
			t.Errorf("%s: re-encoding differs", tc.name)
		}
		if got.Hash() != Sum(DomainHeader, enc) {
			t.Errorf("%s: hash is not Sum(DomainHeader, encoding)", tc.name)
		}
	}
}

// TestHeaderLayout pins the field order and widths (docs/protocol.md).
func TestHeaderLayout(t *testing.T) {
	h := goldenHeader()
	var want []byte
	want = append(want, HeaderVersion)
	want = append(want, h.ChainID[:]...)
	want = binary.BigEndian.AppendUint64(want, h.Height)
	want = append(want, h.Prev[:]...)
	want = append(want, h.TxRoot[:]...)
	want = binary.BigEndian.AppendUint64(want, uint64(h.Time))
	want = binary.BigEndian.AppendUint32(want, h.TxCount)
	want = binary.BigEndian.AppendUint16(want, uint16(len(h.Seal)))
	want = append(want, h.Seal...)
	if got := h.Encode(); !bytes.Equal(got, want) {
		t.Errorf("header encoding\n got %x\nwant %x", got, want)
	}
}

// TestHeaderHashCoversEveryField: changing any field changes the hash.
func TestHeaderHashCoversEveryField(t *testing.T) {
	base := goldenHeader()
	for name, mutate := range map[string]func(h *Header){
		"chain id": func(h *Header) { h.ChainID[31] ^= 1 },
		"height":   func(h *Header) { h.Height++ },
		"prev":     func(h *Header) { h.Prev[0] ^= 1 },
		"tx root":  func(h *Header) { h.TxRoot[5] ^= 1 },
		"time":     func(h *Header) { h.Time++ },
		"tx count": func(h *Header) { h.TxCount++ },
		"seal":     func(h *Header) { h.Seal = append(bytes.Clone(h.Seal[:7]), 0xee) },
		"no seal":  func(h *Header) { h.Seal = nil },
	} {
		h := *goldenHeader()
		mutate(&h)
		if h.Hash() == base.Hash() {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
}

func headerBytes(version byte, sealLen uint16, seal []byte) []byte {
	h := goldenHeader()
	h.Seal = nil
	b := h.Encode()
	b[0] = version
	b = b[:len(b)-2]
	b = binary.BigEndian.AppendUint16(b, sealLen)
	return append(b, seal...)
}

func TestDecodeHeaderRefuses(t *testing.T) {
	enc := goldenHeader().Encode()
	for n := 0; n < len(enc); n++ {
		_, err := DecodeHeader(enc[:n])
		wantCode(t, fmt.Sprintf("%d of %d bytes", n, len(enc)), err, CodeMalformed)
	}
	tests := []struct {
		name string
		in   []byte
		code Code
	}{
		{"control", headerBytes(1, 2, []byte{1, 2}), ""},
		{"trailing byte", append(bytes.Clone(enc), 0), CodeMalformed},
		{"seal longer than its length", headerBytes(1, 1, []byte{1, 2}), CodeMalformed},
		{"seal shorter than its length", headerBytes(1, 3, []byte{1, 2}), CodeMalformed},
		{"version 0", headerBytes(0, 0, nil), CodeBadVersion},
		{"version 2", headerBytes(2, 0, nil), CodeBadVersion},
		{"seal length MaxSealSize+1, input short", headerBytes(1, MaxSealSize+1, nil), CodeTooLarge},
		{"seal length 65535", headerBytes(1, math.MaxUint16, []byte{1}), CodeTooLarge},
		{"seal MaxSealSize+1, all there", headerBytes(1, MaxSealSize+1, make([]byte, MaxSealSize+1)), CodeTooLarge},
		{"input over MaxHeaderSize", make([]byte, MaxHeaderSize+1), CodeTooLarge},
	}
	for _, tc := range tests {
		h, err := DecodeHeader(tc.in)
		wantCode(t, tc.name, err, tc.code)
		if (h == nil) == (tc.code == "") {
			t.Errorf("%s: header %v, error %v", tc.name, h != nil, err)
		}
	}
}

func sameQuant(t *testing.T, got, want *Quant) {
	t.Helper()
	if !sameHeader(&got.Header, &want.Header) {
		t.Errorf("header %+v, want %+v", got.Header, want.Header)
	}
	if !bytes.Equal(got.Rules, want.Rules) {
		t.Errorf("rules %q, want %q", got.Rules, want.Rules)
	}
	if len(got.Txs) != len(want.Txs) {
		t.Fatalf("%d txs, want %d", len(got.Txs), len(want.Txs))
	}
	for i := range got.Txs {
		if !sameTx(got.Txs[i], want.Txs[i]) {
			t.Errorf("tx %d: %+v, want %+v", i, got.Txs[i], want.Txs[i])
		}
	}
}

// makeQuant returns a quant at height 1 with n transactions, every other
// one signed.
func makeQuant(n int) *Quant {
	txs := make([]*Tx, n)
	for i := range txs {
		txs[i] = &Tx{ChainID: testChain(1), Time: int64(i), Nonce: uint64(i), Kind: DataJSON,
			Data: fmt.Appendf(nil, `{"i":%d,"pad":"%0100d"}`, i, i)}
		if i%2 == 1 {
			txs[i].Sign(testKey(1))
		}
	}
	return &Quant{
		Header: Header{ChainID: testChain(1), Height: 1, Prev: testChain(1), TxRoot: TxRoot(txs),
			Time: 1700000000000, TxCount: uint32(n), Seal: []byte{1, 2, 3, 4}},
		Txs: txs,
	}
}

func TestQuantRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		q    *Quant
	}{
		{"golden bang", goldenBang(t)},
		{"golden quant", goldenQuant(t)},
		{"empty quant", makeQuant(0)},
		{"one tx", makeQuant(1)},
		{"100 txs", makeQuant(100)},
		{"bang with empty rules", &Quant{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := tc.q.Encode()
			got, err := DecodeQuant(enc)
			if err != nil {
				t.Fatalf("DecodeQuant: %v", err)
			}
			sameQuant(t, got, tc.q)
			if got.IsBang() != tc.q.IsBang() {
				t.Errorf("IsBang %v, want %v", got.IsBang(), tc.q.IsBang())
			}
			if !bytes.Equal(got.Encode(), enc) {
				t.Error("re-encoding differs")
			}
			if got.Hash() != tc.q.Hash() || got.Hash() != got.Header.Hash() {
				t.Error("hash changed across the round trip")
			}
			if !got.IsBang() && TxRoot(got.Txs) != got.Header.TxRoot {
				t.Error("tx root does not match")
			}
		})
	}
}

// TestQuantLayout pins the body encoding: the header, then each tx after its
// u32 length (or, in a bang, the rules after their u32 length).
func TestQuantLayout(t *testing.T) {
	q := goldenQuant(t)
	want := q.Header.Encode()
	for _, tx := range q.Txs {
		e := tx.Encode()
		want = binary.BigEndian.AppendUint32(want, uint32(len(e)))
		want = append(want, e...)
	}
	if got := q.Encode(); !bytes.Equal(got, want) {
		t.Errorf("quant encoding\n got %x\nwant %x", got, want)
	}
	bang := goldenBang(t)
	want = binary.BigEndian.AppendUint32(bang.Header.Encode(), uint32(len(bang.Rules)))
	want = append(want, bang.Rules...)
	if got := bang.Encode(); !bytes.Equal(got, want) {
		t.Errorf("bang encoding\n got %x\nwant %x", got, want)
	}
}

// quantBytes is a header at height claiming count transactions, followed by
// body. At height 0 it is a bang's header (no chain id), else a quant's.
func quantBytes(height uint64, count uint32, body ...byte) []byte {
	h := Header{ChainID: testChain(1), Height: height, TxCount: count}
	if height == 0 {
		h.ChainID = Hash{}
	}
	return append(h.Encode(), body...)
}

func TestDecodeQuantRefuses(t *testing.T) {
	good := goldenQuant(t).Encode()
	bang := goldenBang(t).Encode()
	for _, enc := range [][]byte{good, bang} {
		for n := 0; n < len(enc); n++ {
			_, err := DecodeQuant(enc[:n])
			wantCode(t, fmt.Sprintf("%d of %d bytes", n, len(enc)), err, CodeMalformed)
		}
	}

	tx := (&Tx{Kind: DataBytes, Data: []byte{1}}).Encode()
	withLen := func(n uint32, b []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, n), b...) }
	badVersion := bytes.Clone(tx)
	badVersion[0] = 9
	tests := []struct {
		name string
		in   []byte
		code Code
	}{
		{"control", quantBytes(1, 1, withLen(uint32(len(tx)), tx)...), ""},
		{"control, no txs", quantBytes(1, 0), ""},
		{"trailing byte", append(bytes.Clone(good), 0), CodeMalformed},
		{"bang, trailing byte", append(bytes.Clone(bang), 0), CodeMalformed},
		{"bang with TxCount 1", quantBytes(0, 1, withLen(0, nil)...), CodeMalformed},
		{"bang with TxCount 2^32-1", quantBytes(0, math.MaxUint32), CodeMalformed},
		{"bang rules length over MaxRulesSize", quantBytes(0, 0, withLen(MaxRulesSize+1, nil)...), CodeTooLarge},
		{"1,000,000 txs in 10 bytes", quantBytes(1, 1_000_000, make([]byte, 10)...), CodeMalformed},
		{"MaxQuantTxs txs in 10 bytes", quantBytes(1, MaxQuantTxs, make([]byte, 10)...), CodeMalformed},
		{"MaxQuantTxs+1 txs", quantBytes(1, MaxQuantTxs+1), CodeTooLarge},
		{"2^32-1 txs", quantBytes(1, math.MaxUint32), CodeTooLarge},
		{"2 txs, 1 present", quantBytes(1, 2, withLen(uint32(len(tx)), tx)...), CodeMalformed},
		{"1 tx, 2 present", quantBytes(1, 1, append(withLen(uint32(len(tx)), tx), withLen(uint32(len(tx)), tx)...)...), CodeMalformed},
		{"tx length short", quantBytes(1, 1, withLen(uint32(len(tx)-1), tx)...), CodeMalformed},
		{"tx length long", quantBytes(1, 1, append(withLen(uint32(len(tx)+1), tx), 0)...), CodeMalformed},
		{"tx length over MaxTxSize", quantBytes(1, 1, withLen(MaxTxSize+1, make([]byte, 100))...), CodeTooLarge},
		{"tx length 2^32-1", quantBytes(1, 1, withLen(math.MaxUint32, make([]byte, 100))...), CodeTooLarge},
		{"tx with bad version", quantBytes(1, 1, withLen(uint32(len(badVersion)), badVersion)...), CodeBadVersion},
		{"header with bad version", append([]byte{2}, good[1:]...), CodeBadVersion},
	}
	for _, tc := range tests {
		q, err := DecodeQuant(tc.in)
		wantCode(t, tc.name, err, tc.code)
		if (q == nil) == (tc.code == "") {
			t.Errorf("%s: quant %v, error %v", tc.name, q != nil, err)
		}
	}
}

// TestDecodeQuantOversized: input over MaxQuantSize is refused by its length
// alone. The buffer is never written, so it costs address space, not memory.
func TestDecodeQuantOversized(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates MaxQuantSize+1 bytes")
	}
	_, err := DecodeQuant(make([]byte, MaxQuantSize+1))
	wantCode(t, "MaxQuantSize+1 bytes", err, CodeTooLarge)
}

// TestDecodeQuantCountNoAlloc checks that a transaction count the input
// cannot hold is refused before the slice for it is made.
func TestDecodeQuantCountNoAlloc(t *testing.T) {
	for _, count := range []uint32{1_000_000, MaxQuantTxs, 1000} {
		in := quantBytes(1, count, make([]byte, 10)...)
		per := bytesPerRun(100, func() { _, _ = DecodeQuant(in) })
		if per > 4096 {
			t.Errorf("DecodeQuant claiming %d txs in %d bytes allocates %d bytes per call", count, len(in), per)
		}
	}
}

func TestTxRoot(t *testing.T) {
	if got, want := TxRoot(nil), Hash(sha256.Sum256(nil)); got != want {
		t.Errorf("TxRoot(nil) = %s, want SHA-256 of nothing %s", got, want)
	}
	q := makeQuant(13)
	ids := TxIDs(q.Txs)
	leaves := make([][merkle.Size]byte, len(ids))
	for i, id := range ids {
		if id != q.Txs[i].ID() {
			t.Fatalf("TxIDs[%d] is not tx %d's id", i, i)
		}
		leaves[i] = id
	}
	if got, want := TxRoot(q.Txs), Hash(merkle.Root(leaves)); got != want || RootOfIDs(ids) != want {
		t.Errorf("TxRoot = %s, merkle.Root of the ids = %s", got, want)
	}
	// Each id is provable under the root.
	for i := range leaves {
		p, err := merkle.Proof(leaves, i)
		if err != nil {
			t.Fatal(err)
		}
		if err := merkle.Verify(q.Header.TxRoot, leaves[i], uint64(i), uint64(len(leaves)), p); err != nil {
			t.Errorf("tx %d: %v", i, err)
		}
	}
	// Order matters.
	swapped := append([]*Tx{q.Txs[1], q.Txs[0]}, q.Txs[2:]...)
	if TxRoot(swapped) == TxRoot(q.Txs) {
		t.Error("swapping two txs keeps the root")
	}
}

// FuzzDecodeHeader: DecodeHeader never panics, and whatever it accepts
// re-encodes to exactly the input.
func FuzzDecodeHeader(f *testing.F) {
	seedFromGolden(f, func(v vectors) []string { return []string{v.Header.Encoding, v.Bang.Header, v.Quant.Header} })
	f.Add(headerBytes(1, MaxSealSize+1, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := DecodeHeader(in)
		if err != nil {
			if h != nil || CodeOf(err) == "" {
				t.Fatalf("header %v, error %v", h != nil, err)
			}
			return
		}
		if out := h.Encode(); !bytes.Equal(out, in) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", in, out)
		}
		if h.Hash() != Sum(DomainHeader, in) {
			t.Fatal("hash is not the hash of the input")
		}
	})
}

// FuzzDecodeQuant: DecodeQuant never panics, and whatever it accepts
// re-encodes to exactly the input.
func FuzzDecodeQuant(f *testing.F) {
	seedFromGolden(f, func(v vectors) []string { return []string{v.Quant.Encoding, v.Bang.Encoding} })
	f.Add(quantBytes(1, 1_000_000, make([]byte, 10)...))
	f.Add(quantBytes(1, 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		q, err := DecodeQuant(in)
		if err != nil {
			if q != nil || CodeOf(err) == "" {
				t.Fatalf("quant %v, error %v", q != nil, err)
			}
			return
		}
		if out := q.Encode(); !bytes.Equal(out, in) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", in, out)
		}
		if q.IsBang() {
			if len(q.Txs) != 0 || q.Header.TxCount != 0 {
				t.Fatal("bang with transactions")
			}
			_, _ = CheckBang(q) // must not panic
		} else if len(q.Txs) != int(q.Header.TxCount) || q.Rules != nil {
			t.Fatalf("%d txs for TxCount %d, rules %q", len(q.Txs), q.Header.TxCount, q.Rules)
		}
		_ = TxRoot(q.Txs)
	})
}

func BenchmarkQuantEncode(b *testing.B) {
	q := makeQuant(1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(q.Encode())))
	for b.Loop() {
		q.Encode()
	}
}

func BenchmarkQuantDecode(b *testing.B) {
	enc := makeQuant(1000).Encode()
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeQuant(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTxRoot(b *testing.B) {
	q := makeQuant(1000)
	b.ReportAllocs()
	for b.Loop() {
		TxRoot(q.Txs)
	}
}

// TestLimits pins the limits that docs/protocol.md states.
func TestLimits(t *testing.T) {
	r := DefaultRules("x", 0)
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"TxVersion", TxVersion, 1},
		{"HeaderVersion", HeaderVersion, 1},
		{"HashSize", HashSize, 32},
		{"MaxDataSize", MaxDataSize, 1_048_576},
		{"txFixedSize", txFixedSize, 55},
		{"MaxTxSize", MaxTxSize, 1_051_926},
		{"minQuantBytes", minQuantBytes, 1_052_942},
		{"MaxSealSize", MaxSealSize, 4096},
		{"headerFixedSize", headerFixedSize, 119},
		{"MaxHeaderSize", MaxHeaderSize, 4215},
		{"MaxQuantTxs", MaxQuantTxs, 1_048_576},
		{"MaxQuantSize", MaxQuantSize, 268_435_456},
		{"MaxRulesSize", MaxRulesSize, 1_048_576},
		{"maxNameLen", maxNameLen, 128},
		{"maxWriters", maxWriters, 1024},
		{"merkle.MaxProofLen", merkle.MaxProofLen, 64},
		{"DefaultRules MaxDataBytes", r.MaxDataBytes, 65_536},
		{"DefaultRules MaxQuantTxs", r.MaxQuantTxs, 50_000},
		{"DefaultRules MaxQuantBytes", r.MaxQuantBytes, 33_554_432},
		{"DefaultRules MaxTimeDriftMs", int(r.MaxTimeDriftMs), 120_000},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, docs/protocol.md says %d", c.name, c.got, c.want)
		}
	}
}
