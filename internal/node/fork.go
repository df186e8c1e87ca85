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

// Fork creates a chain that shares parent's history up to its quant at
// height, under rules (whose parent is set here) after it. A height in
// history parent shares with its own parent (parent is a fork, and height
// at most its fork point's) names that ancestor's quant: the new chain is
// a fork of the ancestor, whose history is all it shares.
func (n *Node) Fork(ctx context.Context, parent quant.Hash, height uint64, rules *quant.Rules) (*httpapi.Ledger, error) {
	p := n.ledger(parent)
	if p == nil {
		return nil, fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, parent)
	}
	if tip := p.chain.Tip().Header.Height; height > tip {
		return nil, fmt.Errorf("%w: chain %s is at height %d, below the fork height %d", httpapi.ErrBadRequest, parent, tip, height)
	}
	spans, err := chain.History(p.chain, n.followed)
	if err != nil {
		return nil, err
	}
	s, ok := chain.SpanAt(spans, height)
	if !ok {
		return nil, fmt.Errorf("%w: height %d of chain %s is shared history this node does not hold", httpapi.ErrBadRequest, height, parent)
	}
	owner := n.ledger(s.Chain.ID())
	if owner == nil {
		return nil, fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, s.Chain.ID())
	}
	hash, err := owner.st.HashAt(height)
	if err != nil {
		return nil, err
	}
	rules.Parent = &quant.ForkPoint{Chain: owner.chain.ID(), Height: height, Hash: hash}
	return n.CreateChain(ctx, rules)
}

// followed returns the chain id names if this node follows it, else nil:
// the resolver of chain.Lineage and chain.History.
func (n *Node) followed(id quant.Hash) *chain.Chain {
	if l := n.ledger(id); l != nil {
		return l.chain
	}
	return nil
}

// checkForkPoint requires a new fork's parent to be followed here, the
// named quant, at the named height, to have a history this node verifies
// back to the parent's bang (chain.CheckForkPoint), and the fork to be at
// most chain.MaxLineage forks deep (chain.CheckForkDepth).
func (n *Node) checkForkPoint(fp *quant.ForkPoint) error {
	p := n.ledger(fp.Chain)
	if p == nil {
		return quant.Errorf(quant.CodeBadRules, "parent: chain %s is not followed here", fp.Chain)
	}
	if err := p.chain.CheckForkPoint(fp); err != nil {
		return quant.Errorf(quant.CodeBadRules, "parent: %s", problem(err))
	}
	return chain.CheckForkDepth(fp, n.followed)
}

// Lineage lists a chain's ancestors, nearest first, each fork point
// checked against the parent's stored history (chain.Lineage).
func (n *Node) Lineage(id quant.Hash) ([]api.Ancestor, error) {
	l := n.ledger(id)
	if l == nil {
		return nil, fmt.Errorf("%w: this node does not follow chain %s", httpapi.ErrNotFound, id)
	}
	lin, err := chain.Lineage(l.chain.Rules(), n.followed)
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

// staleFork reports whether st holds a fork made before a fork's bang sat
// at its fork point's height: a bang at 0 whose rules name a parent quant
// above 0. quant.CheckBang refuses such a bang; the node skips the chain
// rather than refusing to start.
func staleFork(st chain.Reader) bool {
	bang, err := st.Bang()
	if err != nil || !bang.IsBang() || bang.Header.Height != 0 {
		return false
	}
	r, err := quant.DecodeRules(bang.Rules)
	return err == nil && r.Parent != nil && r.Parent.Height != 0
}
