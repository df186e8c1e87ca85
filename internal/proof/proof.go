package proof

import (
	"bytes"
	"math"

	"github.com/qbc-chain/qbc/internal/merkle"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Limits of a proof, checked by Decode before it allocates and by Verify
// before it hashes, so that a hostile proof costs a bounded amount of
// memory and work.
const (
	// Version is the proof format's version (the JSON's "version").
	Version = 1
	// MaxHeaders bounds the header chain: 100,000 quants after the one
	// holding the transaction.
	MaxHeaders = 100_000
	// MaxPathLen bounds the Merkle path (a tree of 2^64 leaves needs 64).
	MaxPathLen = merkle.MaxProofLen
	// MaxSize bounds the proof's encoded parts together: the
	// transaction, the path and every header.
	MaxSize = 64 << 20
	// MaxJSONSize bounds a proof's JSON (Decode): hex doubles every
	// byte; the rest is room for keys, quotes, commas and indentation.
	MaxJSONSize = 2*MaxSize + 4<<20
)

// Proof shows that a transaction is in a quant, and that quant is an
// ancestor of (or is) a quant the client trusts. Its byte slices are
// canonical encodings (docs/protocol.md); a Proof from Decode owns them.
type Proof struct {
	// Tx is the transaction's canonical encoding; its id is the hash of
	// these bytes.
	Tx []byte
	// Index is the transaction's place in its quant, and TxCount the
	// quant's number of transactions (it must equal the header's).
	Index   uint32
	TxCount uint32
	// Path is the Merkle inclusion proof of the transaction's id under
	// the header's tx_root, from the leaf's sibling up (merkle.Proof).
	Path []quant.Hash
	// Header is the canonical encoding of the header of the quant that
	// holds the transaction.
	Header []byte
	// Headers are the canonical encodings of the headers of the quants
	// after it, oldest first, each the child of the one before, up to
	// the quant the proof is made to. Empty when that quant is the one
	// holding the transaction.
	Headers [][]byte
}

// New makes the proof of tx at index in the quant whose header is header,
// with the quant's Merkle path and the headers after it (oldest first). It
// encodes what it is given and copies path; it keeps nothing it is given.
func New(tx *quant.Tx, index uint32, header *quant.Header, path []quant.Hash, after []*quant.Header) *Proof {
	p := &Proof{
		Tx:      tx.Encode(),
		Index:   index,
		TxCount: header.TxCount,
		Path:    append([]quant.Hash{}, path...),
		Header:  header.Encode(),
		Headers: make([][]byte, len(after)),
	}
	for i, h := range after {
		p.Headers[i] = h.Encode()
	}
	return p
}

// Verified is what a proof proved: the transaction is in the quant Quant
// at Height, an ancestor of (or the same as) the trusted quant at
// TrustedHeight.
type Verified struct {
	// Tx is the transaction; it shares no memory with the proof.
	Tx    *quant.Tx
	ID    quant.Hash // the transaction's id
	Chain quant.Hash // the chain the transaction and its quant name
	// Quant and Height are the holding quant's hash and height, Index
	// the transaction's place in it.
	Quant  quant.Hash
	Height uint64
	Index  uint32
	// TrustedHeight is the height of the trusted quant.
	TrustedHeight uint64
}

// Confirmations counts the holding quant and the quants on top of it up
// to the trusted one.
func (v Verified) Confirmations() uint64 { return v.TrustedHeight - v.Height + 1 }

// Verify checks p against the hash of a quant the caller trusts: the
// transaction decodes and names the holding quant's chain; its id, at its
// index, is under the header's tx_root by the Merkle path; each later
// header names the one before it; and trusted is the hash of the holding
// quant or of one of the later headers (the later ones after it are
// checked too, and prove nothing more). It stops a server from passing off
// a transaction, a body, a place or a quant that the trusted quant does
// not commit to. It keeps nothing of p. A refusal is an *Error whose code
// says which check failed.
func Verify(p *Proof, trusted quant.Hash) (Verified, error) {
	if err := checkLimits(p); err != nil {
		return Verified{}, err
	}
	tx, err := quant.DecodeTx(p.Tx)
	if err != nil {
		return Verified{}, errorf(decodeCode(err), "tx: %v", err)
	}
	h, err := quant.DecodeHeader(p.Header)
	if err != nil {
		return Verified{}, errorf(decodeCode(err), "header: %v", err)
	}
	if err := checkChain(tx, h); err != nil {
		return Verified{}, err
	}
	id := tx.ID()
	if err := checkIncluded(p, id, h); err != nil {
		return Verified{}, err
	}
	v := Verified{Tx: tx.Clone(), ID: id, Chain: h.ChainID, Quant: h.Hash(), Height: h.Height, Index: p.Index}
	found := v.Quant == trusted
	if found {
		v.TrustedHeight = h.Height
	}
	prev, prevHeight := v.Quant, h.Height
	for i, b := range p.Headers {
		next, err := quant.DecodeHeader(b)
		if err != nil {
			return Verified{}, errorf(decodeCode(err), "headers[%d]: %v", i, err)
		}
		if err := checkLink(i, next, prev, prevHeight); err != nil {
			return Verified{}, err
		}
		prev, prevHeight = next.Hash(), next.Height
		if !found && prev == trusted {
			found, v.TrustedHeight = true, next.Height
		}
	}
	if !found {
		return Verified{}, errorf(CodeNotTrusted,
			"no quant in the proof has the trusted hash %s: the proof runs from quant %s (height %d) to quant %s (height %d)",
			trusted, v.Quant, v.Height, prev, prevHeight)
	}
	return v, nil
}

// decodeCode is the code of a part that does not decode: too_large for a
// field over quant's limits, malformed for anything else.
func decodeCode(err error) Code {
	if quant.CodeOf(err) == quant.CodeTooLarge {
		return CodeTooLarge
	}
	return CodeMalformed
}

// checkLimits refuses a proof over any limit before anything is decoded
// or hashed: it stops a hostile proof from costing unbounded memory or
// work.
func checkLimits(p *Proof) error {
	switch {
	case len(p.Tx) > quant.MaxTxSize:
		return errorf(CodeTooLarge, "tx is %d bytes, limit %d", len(p.Tx), quant.MaxTxSize)
	case len(p.Path) > MaxPathLen:
		return errorf(CodeTooLarge, "path has %d hashes, limit %d", len(p.Path), MaxPathLen)
	case len(p.Header) > quant.MaxHeaderSize:
		return errorf(CodeTooLarge, "header is %d bytes, limit %d", len(p.Header), quant.MaxHeaderSize)
	case len(p.Headers) > MaxHeaders:
		return errorf(CodeTooLarge, "%d headers, limit %d", len(p.Headers), MaxHeaders)
	}
	size := len(p.Tx) + len(p.Path)*quant.HashSize + len(p.Header)
	for i, b := range p.Headers {
		if len(b) > quant.MaxHeaderSize {
			return errorf(CodeTooLarge, "headers[%d] is %d bytes, limit %d", i, len(b), quant.MaxHeaderSize)
		}
		size += len(b)
	}
	if size > MaxSize {
		return errorf(CodeTooLarge, "the proof's parts are %d bytes, limit %d", size, MaxSize)
	}
	return nil
}

// checkChain requires the transaction to name the chain its quant is on:
// it stops a proof from passing off a transaction written for one chain
// as a record of another (a bang names no chain and holds no
// transactions).
func checkChain(tx *quant.Tx, h *quant.Header) error {
	if tx.ChainID != h.ChainID {
		return errorf(CodeWrongChain, "the transaction names chain %s, its quant chain %s", tx.ChainID, h.ChainID)
	}
	return nil
}

// checkIncluded requires the Merkle path to lead from the transaction's
// id at its index to the header's tx_root, for the header's tx_count: it
// stops a proof from claiming a transaction, or a place, that the quant
// does not commit to.
func checkIncluded(p *Proof, id quant.Hash, h *quant.Header) error {
	if p.TxCount != h.TxCount {
		return errorf(CodeNotIncluded, "tx_count %d is not the header's %d", p.TxCount, h.TxCount)
	}
	path := make([][merkle.Size]byte, len(p.Path))
	for i, x := range p.Path {
		path[i] = x
	}
	if err := merkle.Verify(h.TxRoot, id, uint64(p.Index), uint64(h.TxCount), path); err != nil {
		return errorf(CodeNotIncluded, "transaction %s at index %d of %d under tx_root %s: %v", id, p.Index, h.TxCount, h.TxRoot, err)
	}
	return nil
}

// checkLink requires headers[i] to be the child of the quant before it
// (hash prev, at prevHeight): it stops a proof from splicing in a header
// that the trusted quant does not descend from.
func checkLink(i int, h *quant.Header, prev quant.Hash, prevHeight uint64) error {
	if h.Prev != prev {
		return errorf(CodeBadLink, "headers[%d] names prev %s, not the quant before it, %s", i, h.Prev, prev)
	}
	if prevHeight == math.MaxUint64 || h.Height != prevHeight+1 {
		return errorf(CodeBadLink, "headers[%d] is at height %d, not %d", i, h.Height, prevHeight+1)
	}
	return nil
}

// Equal reports whether p and q are the same proof.
func (p *Proof) Equal(q *Proof) bool {
	if p.Index != q.Index || p.TxCount != q.TxCount || !bytes.Equal(p.Tx, q.Tx) ||
		!bytes.Equal(p.Header, q.Header) || len(p.Path) != len(q.Path) || len(p.Headers) != len(q.Headers) {
		return false
	}
	for i := range p.Path {
		if p.Path[i] != q.Path[i] {
			return false
		}
	}
	for i := range p.Headers {
		if !bytes.Equal(p.Headers[i], q.Headers[i]) {
			return false
		}
	}
	return true
}
