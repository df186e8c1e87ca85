package api

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/qbc-chain/qbc/internal/quant"
)

// BatchMediaType is the media type of a binary batch of transactions for
// POST /v1/txs: each transaction's canonical encoding preceded by its u32
// big-endian length (the framing of GET /chain). It is the cheapest way to
// submit many transactions.
const BatchMediaType = "application/x-qbc-txs"

// EncodeBatch frames txs as a binary batch.
func EncodeBatch(txs []*quant.Tx) []byte {
	n := 0
	for _, tx := range txs {
		n += 4 + tx.EncodedSize()
	}
	b := make([]byte, 0, n)
	for _, tx := range txs {
		b = binary.BigEndian.AppendUint32(b, uint32(tx.EncodedSize()))
		b = append(b, tx.Encode()...)
	}
	return b
}

// DecodeBatch decodes a binary batch of at most max transactions. Each
// transaction gets its own copy of its bytes, so that one kept in the pool
// does not pin the whole request body.
func DecodeBatch(b []byte, max int) ([]*quant.Tx, error) {
	var txs []*quant.Tx
	for off := 0; off < len(b); {
		if len(txs) == max {
			return nil, quant.Errorf(quant.CodeTooLarge, "batch holds more than %d transactions", max)
		}
		if len(b)-off < 4 {
			return nil, quant.Errorf(quant.CodeMalformed, "batch: truncated length at byte %d", off)
		}
		n := int(binary.BigEndian.Uint32(b[off:]))
		off += 4
		if n > quant.MaxTxSize || n > len(b)-off {
			return nil, quant.Errorf(quant.CodeMalformed, "batch: transaction %d of %d bytes does not fit", len(txs), n)
		}
		tx, err := quant.DecodeTx(bytes.Clone(b[off : off+n]))
		if err != nil {
			return nil, quant.Errorf(quant.CodeOf(err), "batch: transaction %d: %v", len(txs), err)
		}
		txs = append(txs, tx)
		off += n
	}
	if len(txs) == 0 {
		return nil, fmt.Errorf("%w: batch is empty", ErrInvalid)
	}
	return txs, nil
}
