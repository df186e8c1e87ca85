package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/quant"
)

// LeaveChain stops following chain id and deletes it from this node: its
// peer service, producer and pool stop, its series leave the metrics, and
// the store drops its quants, indexes, records and committed-tip record.
// The chain is remembered as left (leftFile), so that a peer offering it
// does not make this node follow it again; creating it here (the same
// rules, or the same fork) follows it again.
//
// Refused (httpapi.ErrNotSupported): the default chain; a chain whose
// replica this node runs (a member of a raft chain: the others count on
// it for a quorum, so the chain's membership must drop it first); a chain
// that is the parent of a fork this node follows (the fork's shared
// history is read from it: leave the fork first). A chain this node does
// not follow is httpapi.ErrNotFound.
func (n *Node) LeaveChain(ctx context.Context, id quant.Hash) error {
	n.followMu.Lock()
	l, err := n.leaving(id)
	if err != nil {
		n.followMu.Unlock()
		return err
	}
	n.mu.Lock()
	delete(n.mu.ledgers, id)
	n.mu.leaving[id] = true
	n.mu.left[id] = true
	saveErr := n.saveLeft()
	if n.mu.mined[id] {
		if err := n.unmarkMined(id); err != nil {
			l.log.Warn("could not record the chain as not made here", "err", err)
		}
	}
	stop := l.stop
	n.mu.Unlock()
	n.followMu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.mu.leaving, id)
		n.mu.Unlock()
	}()
	if saveErr != nil {
		l.log.Warn("could not record the chain as left: a peer offering it may make this node follow it again", "err", saveErr)
	}

	// Requests already holding the ledger may still read it; its writes
	// are refused once the store has deleted the chain.
	if stop != nil {
		stop()
	}
	l.running.Wait()
	errs := []error{l.prod.close()}
	l.reg.unregisterAll()
	errs = append(errs, n.db.DeleteChain(id))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("node: leave chain %s: %w", id, err)
	}
	l.log.Info("chain left: no longer followed, its data deleted")
	return nil
}

// leaving returns the ledger of chain id if this node may leave it (see
// LeaveChain). The caller holds followMu.
func (n *Node) leaving(id quant.Hash) (*ledger, error) {
	l := n.ledger(id)
	if l == nil {
		return nil, fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, id)
	}
	if l == n.def() {
		return nil, fmt.Errorf("%w: chain %s is this node's default chain, which it cannot leave", httpapi.ErrNotSupported, id)
	}
	if _, ok := l.prod.(*member); ok {
		return nil, fmt.Errorf("%w: this node is a member of chain %s (%s): remove it from the chain's members first, then leave the chain",
			httpapi.ErrNotSupported, id, l.chain.Rules().Engine)
	}
	for _, o := range n.ledgers() {
		if p := o.chain.Rules().Parent; p != nil && p.Chain == id {
			return nil, fmt.Errorf("%w: chain %s is the parent of chain %s (%s), which this node follows: leave that fork first",
				httpapi.ErrNotSupported, id, o.chain.ID(), o.chain.Rules().Name)
		}
	}
	return l, nil
}

// isLeft reports whether chain id was left here and not followed again.
func (n *Node) isLeft(id quant.Hash) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.left[id]
}

// followedAgain forgets that chain id was left: it was created (or
// forked) here again.
func (n *Node) followedAgain(id quant.Hash) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.mu.left[id] {
		return
	}
	delete(n.mu.left, id)
	if err := n.saveLeft(); err != nil {
		n.log.Warn("could not record the chain as followed again", "chain", id.String(), "err", err)
	}
}

// leftFile lists, one id a line, the chains left on this node: not
// followed when a peer offers them, and, if still in the store at start
// (the node stopped while leaving), deleted then.
const leftFile = "left-chains"

// saveLeft writes leftFile. The caller holds n.mu.
func (n *Node) saveLeft() error { return n.saveIDs(leftFile, n.mu.left) }
