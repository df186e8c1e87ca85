package quant

import (
	"encoding/binary"
	"math"
)

// writer appends big-endian fixed-width fields. Lengths are fixed-width too
// (u32), never varints, so every value has exactly one encoding.
type writer struct{ b []byte }

func (w *writer) u8(v uint8)       { w.b = append(w.b, v) }
func (w *writer) u16(v uint16)     { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32)     { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64)     { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *writer) i64(v int64)      { w.u64(uint64(v)) }
func (w *writer) raw(p []byte)     { w.b = append(w.b, p...) }
func (w *writer) bytes32(p []byte) { w.u32(uint32(len(p))); w.raw(p) }

// reader consumes what writer wrote. The first failure sticks: later reads
// return zero values, and err reports the failure. Every variable-length read
// is checked against a caller-given maximum before anything is allocated.
type reader struct {
	b    []byte
	off  int
	err  error
	what string
}

func newReader(b []byte, what string) *reader { return &reader{b: b, what: what} }

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = Errorf(CodeMalformed, r.what+": "+format, args...)
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail("truncated at byte %d (need %d more, have %d)", r.off, n, len(r.b)-r.off)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() uint8 {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u16() uint16 {
	p := r.take(2)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (r *reader) u32() uint32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (r *reader) u64() uint64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

func (r *reader) i64() int64 { return int64(r.u64()) }

func (r *reader) hash() Hash {
	var h Hash
	copy(h[:], r.take(HashSize))
	return h
}

// bytes32 reads a u32 length and that many bytes, refusing lengths over max
// before looking at the bytes. The result aliases the input.
func (r *reader) bytes32(max int, field string) []byte {
	n := r.u32()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(max) || n > math.MaxInt32 {
		r.err = Errorf(CodeTooLarge, "%s: %s is %d bytes, limit %d", r.what, field, n, max)
		return nil
	}
	return r.take(int(n))
}

// done fails unless every byte was consumed.
func (r *reader) done() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	return r.err
}
