package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/quant"
)

// maxLineage bounds how many forks deep a chain may be.
const maxLineage = 16

// Fork creates a chain that shares parent's history up to its main-chain
// quant at height, under rules (whose parent is set here) after it.
func (n *Node) Fork(ctx context.Context, parent quant.Hash, height uint64, rules *quant.Rules) (*httpapi.Ledger, error) {
	p := n.ledger(parent)
	if p == nil {
		return nil, quant.Errorf(quant.CodeInvalidRequest, "this node does not follow chain %s", parent)
	}
	if tip := p.chain.Head().Header.Height; height > tip {
		return nil, quant.Errorf(quant.CodeInvalidRequest, "chain %s is at height %d, below the fork height %d", parent, tip, height)
	}
	hash, err := p.st.HashAt(height)
	if err != nil {
		return nil, err
	}
	rules.Parent = &quant.ForkPoint{Chain: parent, Height: height, Hash: hash}
	return n.CreateChain(ctx, rules)
}

// checkForkPoint requires a new fork's parent to be followed here and the
// named quant, at the named height, to have a history this node verifies
// back to the parent's bang.
func (n *Node) checkForkPoint(fp *quant.ForkPoint) error {
	a := n.ancestor(fp)
	if !a.Verified {
		return quant.Errorf(quant.CodeBadRules, "parent: %s", a.Problem)
	}
	return nil
}

// Lineage lists a chain's ancestors, nearest first, each fork point
// checked against the parent's stored history.
func (n *Node) Lineage(id quant.Hash) ([]api.Ancestor, error) {
	l := n.ledger(id)
	if l == nil {
		return nil, quant.Errorf(quant.CodeInvalidRequest, "this node does not follow chain %s", id)
	}
	var out []api.Ancestor
	for fp := l.chain.Rules().Parent; fp != nil; {
		if len(out) == maxLineage {
			return out, quant.Errorf(quant.CodeBadRules, "lineage deeper than %d forks", maxLineage)
		}
		a := n.ancestor(fp)
		out = append(out, a)
		p := n.ledger(fp.Chain)
		if p == nil {
			break
		}
		fp = p.chain.Rules().Parent
	}
	return out, nil
}

// ancestor checks a fork point: the parent is followed here, and the quant
// it names is stored at that height and links back, quant by quant, to the
// parent's bang. The walk reads headers only; the parent's quants were
// validated when stored.
func (n *Node) ancestor(fp *quant.ForkPoint) api.Ancestor {
	a := api.Ancestor{Chain: fp.Chain, Height: fp.Height, Hash: fp.Hash}
	p := n.ledger(fp.Chain)
	if p == nil {
		a.Problem = fmt.Sprintf("chain %s is not followed here", fp.Chain)
		return a
	}
	a.Name = p.chain.Rules().Name
	// A checked fork point stays checked: stored quants never change.
	if _, ok := n.verifiedForks.Load(*fp); ok {
		a.Verified = true
		return a
	}
	h, err := p.st.Header(fp.Hash)
	switch {
	case errors.Is(err, chain.ErrNotFound):
		a.Problem = fmt.Sprintf("quant %s is not stored here (yet)", fp.Hash)
		return a
	case err != nil:
		a.Problem = err.Error()
		return a
	case h.Height != fp.Height:
		a.Problem = fmt.Sprintf("quant %s is at height %d, not %d", fp.Hash, h.Height, fp.Height)
		return a
	}
	for h.Height > 0 {
		prev, err := p.st.Header(h.Prev)
		if err != nil || prev.Height != h.Height-1 {
			a.Problem = fmt.Sprintf("the history of quant %s breaks at height %d", fp.Hash, h.Height)
			return a
		}
		h = prev
	}
	if h.Hash() != fp.Chain {
		a.Problem = fmt.Sprintf("quant %s does not descend from chain %s's bang", fp.Hash, fp.Chain)
		return a
	}
	a.Verified = true
	n.verifiedForks.Store(*fp, true)
	return a
}
