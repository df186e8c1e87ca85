package quant

import "github.com/qbc-chain/qbc/internal/merkle"

// Quant limits. A chain's rules may set lower ones.
const (
	// MaxQuantTxs is the most transactions any quant may hold.
	MaxQuantTxs = 1 << 20
	// MaxQuantSize is the largest encoded quant.
	MaxQuantSize = 256 << 20
	// MaxRulesSize is the largest rules document a bang may carry.
	MaxRulesSize = 1 << 20
)

// Quant is a block: a header and its body. The body of a bang (the quant
// whose header names no chain) is the chain's rules; the body of every
// other quant is its transactions.
type Quant struct {
	Header Header
	Txs    []*Tx
	Rules  []byte // canonical rules JSON; only in a bang
}

// Hash is the quant's hash (its header's).
func (q *Quant) Hash() Hash { return q.Header.Hash() }

// IsBang reports whether q is a chain's genesis quant (Header.IsBang).
func (q *Quant) IsBang() bool { return q.Header.IsBang() }

// Encode returns the canonical encoding: the header, then for a bang the
// rules, else each transaction, each preceded by its u32 length.
func (q *Quant) Encode() []byte {
	w := &writer{}
	q.Header.appendTo(w)
	if q.IsBang() {
		w.bytes32(q.Rules)
		return w.b
	}
	for _, tx := range q.Txs {
		w.u32(uint32(tx.EncodedSize()))
		tx.appendTo(w)
	}
	return w.b
}

// DecodeQuant decodes one canonical quant. It refuses input over
// MaxQuantSize and a declared transaction count over MaxQuantTxs (or over
// what the bytes can hold) before allocating. The result aliases b.
func DecodeQuant(b []byte) (*Quant, error) {
	if len(b) > MaxQuantSize {
		return nil, Errorf(CodeTooLarge, "quant is %d bytes, limit %d", len(b), MaxQuantSize)
	}
	r := newReader(b, "quant")
	h, err := decodeHeader(r)
	if err != nil {
		return nil, err
	}
	q := &Quant{Header: *h}
	if h.IsBang() {
		if h.TxCount != 0 {
			return nil, Errorf(CodeMalformed, "quant: bang declares %d transactions", h.TxCount)
		}
		q.Rules = r.bytes32(MaxRulesSize, "rules")
	} else {
		if h.TxCount > MaxQuantTxs {
			return nil, Errorf(CodeTooLarge, "quant: %d transactions, limit %d", h.TxCount, MaxQuantTxs)
		}
		// Each transaction takes at least 4+txFixedSize bytes: a count the
		// remaining bytes cannot hold is refused before the slice is made.
		if rest := len(b) - r.off; uint64(h.TxCount)*(4+txFixedSize) > uint64(rest) {
			return nil, Errorf(CodeMalformed, "quant: %d transactions cannot fit in %d bytes", h.TxCount, rest)
		}
		q.Txs = make([]*Tx, 0, h.TxCount)
		for i := uint32(0); i < h.TxCount; i++ {
			p := r.bytes32(MaxTxSize, "transaction")
			if r.err != nil {
				return nil, r.err
			}
			tx, err := DecodeTx(p)
			if err != nil {
				return nil, Errorf(CodeOf(err), "quant: transaction %d: %v", i, err)
			}
			q.Txs = append(q.Txs, tx)
		}
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return q, nil
}

// TxRoot computes the Merkle root of txs' ids.
func TxRoot(txs []*Tx) Hash { return RootOfIDs(TxIDs(txs)) }

// TxIDs returns the ids of txs, in order.
func TxIDs(txs []*Tx) []Hash {
	ids := make([]Hash, len(txs))
	for i, tx := range txs {
		ids[i] = tx.ID()
	}
	return ids
}

// RootOfIDs computes the Merkle root of transaction ids.
func RootOfIDs(ids []Hash) Hash {
	leaves := make([][HashSize]byte, len(ids))
	for i, id := range ids {
		leaves[i] = id
	}
	return Hash(merkle.Root(leaves))
}
