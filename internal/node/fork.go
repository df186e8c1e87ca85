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
const maxLineage = chain.MaxLineage

// Fork creates a chain that shares parent's history up to its main-chain
// quant at height, under rules (whose parent is set here) after it.
func (n *Node) Fork(ctx context.Context, parent quant.Hash, height uint64, rules *quant.Rules) (*httpapi.Ledger, error) {
	p := n.ledger(parent)
	if p == nil {
		return nil, fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, parent)
	}
	if tip := p.chain.Head().Header.Height; height > tip {
		return nil, fmt.Errorf("%w: chain %s is at height %d, below the fork height %d", httpapi.ErrBadRequest, parent, tip, height)
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
// back to the parent's bang (chain.CheckForkPoint).
func (n *Node) checkForkPoint(fp *quant.ForkPoint) error {
	p := n.ledger(fp.Chain)
	if p == nil {
		return quant.Errorf(quant.CodeBadRules, "parent: chain %s is not followed here", fp.Chain)
	}
	if err := p.chain.CheckForkPoint(fp); err != nil {
		return quant.Errorf(quant.CodeBadRules, "parent: %s", problem(err))
	}
	return nil
}

// Lineage lists a chain's ancestors, nearest first, each fork point
// checked against the parent's stored history (chain.Lineage).
func (n *Node) Lineage(id quant.Hash) ([]api.Ancestor, error) {
	l := n.ledger(id)
	if l == nil {
		return nil, fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, id)
	}
	lin, err := chain.Lineage(l.chain.Rules(), func(id quant.Hash) *chain.Chain {
		if p := n.ledger(id); p != nil {
			return p.chain
		}
		return nil
	})
	var out []api.Ancestor
	for _, a := range lin {
		anc := api.Ancestor{Chain: a.Point.Chain, Name: a.Name, Height: a.Point.Height, Hash: a.Point.Hash, Verified: a.Err == nil}
		if a.Err != nil {
			anc.Problem = problem(a.Err)
		}
		out = append(out, anc)
	}
	return out, err
}

// problem is what an ancestor's check found wrong, for people.
func problem(err error) string {
	var re *quant.RuleError
	if errors.As(err, &re) {
		return re.Description
	}
	return err.Error()
}
