package quant

// Header limits and version.
const (
	HeaderVersion = 1
	// MaxSealSize bounds an engine's seal (a proof of work, a signature, a
	// commit certificate).
	MaxSealSize     = 4096
	headerFixedSize = 1 + HashSize + 8 + HashSize + HashSize + 8 + 4 + 2
	// MaxHeaderSize is the largest encoded header.
	MaxHeaderSize = headerFixedSize + MaxSealSize
)

// Header is a quant's header. Its hash is the quant's hash.
type Header struct {
	ChainID Hash   // the chain's id (zero in the bang, whose hash is the id)
	Height  uint64 // 0 for a bang, a fork's bang: its fork point's height
	Prev    Hash   // the parent quant's hash (zero in the bang)
	TxRoot  Hash   // Merkle root of the transaction ids (the rules hash in a bang)
	Time    int64  // Unix milliseconds
	TxCount uint32 // number of transactions in the body
	Seal    []byte // the engine's seal: opaque to everything but the engine
}

// IsBang reports whether h is a bang's header: the one quant of a chain
// that names no chain (its hash is the chain's id). A bang is at height 0,
// a fork's bang at its fork point's height (CheckBang).
func (h *Header) IsBang() bool { return h.ChainID.IsZero() }

// Encode returns the canonical encoding (docs/protocol.md, "Header").
func (h *Header) Encode() []byte {
	w := &writer{b: make([]byte, 0, headerFixedSize+len(h.Seal))}
	h.appendTo(w)
	return w.b
}

func (h *Header) appendTo(w *writer) {
	w.u8(HeaderVersion)
	w.raw(h.ChainID[:])
	w.u64(h.Height)
	w.raw(h.Prev[:])
	w.raw(h.TxRoot[:])
	w.i64(h.Time)
	w.u32(h.TxCount)
	w.u16(uint16(len(h.Seal)))
	w.raw(h.Seal)
}

// Hash is the quant's hash: the domain-separated SHA-256 of the header.
func (h *Header) Hash() Hash { return Sum(DomainHeader, h.Encode()) }

// DecodeHeader decodes one canonical header. The result aliases b.
func DecodeHeader(b []byte) (*Header, error) {
	if len(b) > MaxHeaderSize {
		return nil, Errorf(CodeTooLarge, "header is %d bytes, limit %d", len(b), MaxHeaderSize)
	}
	r := newReader(b, "header")
	h, err := decodeHeader(r)
	if err != nil {
		return nil, err
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return h, nil
}

func decodeHeader(r *reader) (*Header, error) {
	if v := r.u8(); r.err == nil && v != HeaderVersion {
		return nil, Errorf(CodeBadVersion, "header version %d, want %d", v, HeaderVersion)
	}
	h := &Header{}
	h.ChainID = r.hash()
	h.Height = r.u64()
	h.Prev = r.hash()
	h.TxRoot = r.hash()
	h.Time = r.i64()
	h.TxCount = r.u32()
	n := r.u16()
	if r.err == nil && int(n) > MaxSealSize {
		return nil, Errorf(CodeTooLarge, "header: seal is %d bytes, limit %d", n, MaxSealSize)
	}
	h.Seal = r.take(int(n))
	if r.err != nil {
		return nil, r.err
	}
	return h, nil
}
