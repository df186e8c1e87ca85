package chain

import (
	"errors"
	"fmt"

	"github.com/qbc-chain/qbc/internal/merkle"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TxProof is where a committed transaction is on the main chain and the
// Merkle proof that it is there: with Header.TxRoot and Header.TxCount,
// merkle.Verify(Header.TxRoot, Tx.ID(), Index, Header.TxCount, Path)
// checks it without the quant's other transactions.
type TxProof struct {
	Tx     *quant.Tx
	Height uint64 // the quant's height
	Index  uint32 // the transaction's index in the quant
	Quant  quant.Hash
	Header quant.Header
	// Path is the inclusion proof (merkle.Proof), from the transaction's
	// sibling up to the root's child.
	Path []quant.Hash
	// Confirmations counts the quant and those on top of it, at the head
	// when the proof was made.
	Confirmations uint64
}

// TxProof finds a committed transaction on the main chain and proves its
// inclusion in its quant. A transaction the main chain does not hold
// (unknown, pending, or only on a side branch) is ErrNotFound. The result
// shares nothing with the chain's state.
func (c *Chain) TxProof(id quant.Hash) (TxProof, error) {
	loc, err := c.st.TxLocation(id)
	if errors.Is(err, ErrNotFound) {
		return TxProof{}, fmt.Errorf("%w: transaction %s", ErrNotFound, id)
	}
	if err != nil {
		return TxProof{}, fmt.Errorf("chain: transaction %s: %w", id, err)
	}
	hash, err := c.st.HashAt(loc.Height)
	if err != nil {
		return TxProof{}, fmt.Errorf("chain: transaction %s at height %d: %w", id, loc.Height, err)
	}
	q, err := c.st.Quant(hash)
	if err != nil {
		return TxProof{}, fmt.Errorf("chain: quant %s: %w", hash, err)
	}
	// A reorganisation between the reads above moves the transaction:
	// what is read must still agree, or it is not (yet) where it was.
	if int(loc.Index) >= len(q.Txs) || q.Txs[loc.Index].ID() != id {
		return TxProof{}, fmt.Errorf("%w: transaction %s moved while it was read", ErrNotFound, id)
	}
	path, err := inclusionPath(q.Txs, int(loc.Index))
	if err != nil {
		return TxProof{}, fmt.Errorf("chain: transaction %s: %w", id, err)
	}
	var confirmations uint64
	if tip := c.Tip().Header.Height; tip >= loc.Height {
		confirmations = tip - loc.Height + 1
	}
	return TxProof{
		Tx:            q.Txs[loc.Index],
		Height:        loc.Height,
		Index:         loc.Index,
		Quant:         hash,
		Header:        q.Header,
		Path:          path,
		Confirmations: confirmations,
	}, nil
}

// inclusionPath is the Merkle proof of txs[index] over the ids of txs.
func inclusionPath(txs []*quant.Tx, index int) ([]quant.Hash, error) {
	leaves := make([][merkle.Size]byte, len(txs))
	for i, t := range txs {
		leaves[i] = t.ID()
	}
	path, err := merkle.Proof(leaves, index)
	if err != nil {
		return nil, err
	}
	out := make([]quant.Hash, len(path))
	for i, p := range path {
		out[i] = p
	}
	return out, nil
}
