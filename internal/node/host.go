package node

import (
	"errors"

	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// These methods are what the peer-to-peer layer asks of the node. Everything
// a peer sends goes through the same checks as what a client sends.

// SubmitTx admits a transaction received from a peer. Duplicates are
// refused with CodeDuplicate (the gossip already reached here).
func (n *Node) SubmitTx(tx *quant.Tx) error {
	id := tx.ID()
	err := n.admit(tx, id)
	n.countSubmit(err)
	if err == nil {
		n.bus.Publish(events.Event{Kind: events.KindTx, Chain: n.chain.ID().String(), Data: id})
	}
	return err
}

// AddQuant checks and adds a quant received from a peer: the same
// validation as a quant made here. It may reorganize the chain.
func (n *Node) AddQuant(q *quant.Quant) error {
	_, err := n.add(q)
	return err
}

// HasQuant reports whether the quant is stored (main chain or side branch).
func (n *Node) HasQuant(h quant.Hash) bool {
	ok, err := n.st.Has(h)
	return ok && err == nil
}

// Quant returns a stored quant.
func (n *Node) Quant(h quant.Hash) (*quant.Quant, error) {
	q, err := n.st.Quant(h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, quant.Errorf(quant.CodeInvalidRequest, "quant %s is not stored here", h)
	}
	return q, err
}

// Locator describes the main chain for a peer (see chain.Locator).
func (n *Node) Locator() []quant.Hash {
	loc, err := n.chain.Locator()
	if err != nil {
		n.log.Error("locator", "err", err)
		return []quant.Hash{n.chain.ID()}
	}
	return loc
}

// HashesAfter lists main-chain hashes after the fork point a peer's
// locator names (see chain.HashesAfter).
func (n *Node) HashesAfter(locator []quant.Hash, limit int) ([]quant.Hash, error) {
	return n.chain.HashesAfter(locator, limit)
}
