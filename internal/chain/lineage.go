package chain

import (
	"errors"

	"github.com/qbc-chain/qbc/internal/quant"
)

// MaxLineage bounds how many forks deep a chain may be.
const MaxLineage = 16

// CheckForkPoint requires the quant a fork point names to be stored in its
// parent chain's storage at the named height and to link back, header by
// header, to the parent's bang. It stops a fork from claiming a history its
// parent does not have. The walk reads headers only: the parent's quants
// were validated when stored. A failed check is a *quant.RuleError with
// CodeBadRules whose description says what is wrong; an error of the
// storage is returned as is.
func CheckForkPoint(parent Reader, fp *quant.ForkPoint) error {
	h, err := parent.Header(fp.Hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return quant.Errorf(quant.CodeBadRules, "quant %s is not stored here (yet)", fp.Hash)
	case err != nil:
		return err
	case h.Height != fp.Height:
		return quant.Errorf(quant.CodeBadRules, "quant %s is at height %d, not %d", fp.Hash, h.Height, fp.Height)
	}
	for h.Height > 0 {
		prev, err := parent.Header(h.Prev)
		if err != nil || prev.Height != h.Height-1 {
			return quant.Errorf(quant.CodeBadRules, "the history of quant %s breaks at height %d", fp.Hash, h.Height)
		}
		h = prev
	}
	if h.Hash() != fp.Chain {
		return quant.Errorf(quant.CodeBadRules, "quant %s does not descend from chain %s's bang", fp.Hash, fp.Chain)
	}
	return nil
}

// CheckForkPoint is CheckForkPoint against c, the fork's parent. A fork
// point that checks is remembered: stored quants never change.
func (c *Chain) CheckForkPoint(fp *quant.ForkPoint) error {
	if fp.Chain != c.id {
		return quant.Errorf(quant.CodeBadRules, "fork point names chain %s, not %s", fp.Chain, c.id)
	}
	if _, ok := c.checkedForks.Load(*fp); ok {
		return nil
	}
	if err := CheckForkPoint(c.st, fp); err != nil {
		return err
	}
	c.checkedForks.Store(*fp, struct{}{})
	return nil
}

// Ancestor is one step of a chain's lineage: the fork point, the parent's
// name (empty when the parent is not followed), and why the fork point
// does not check (nil once it does).
type Ancestor struct {
	Point quant.ForkPoint
	Name  string
	Err   error
}

// Lineage lists the ancestors of the chain whose rules are rules, nearest
// first, each fork point checked against its parent. resolve returns a
// followed chain by id, or nil; the walk stops at a parent that is not
// followed. A lineage deeper than MaxLineage forks is refused with
// CodeBadRules, with the ancestors found so far.
func Lineage(rules *quant.Rules, resolve func(id quant.Hash) *Chain) ([]Ancestor, error) {
	var out []Ancestor
	for fp := rules.Parent; fp != nil; {
		if len(out) == MaxLineage {
			return out, quant.Errorf(quant.CodeBadRules, "lineage deeper than %d forks", MaxLineage)
		}
		a := Ancestor{Point: *fp}
		p := resolve(fp.Chain)
		if p == nil {
			a.Err = quant.Errorf(quant.CodeBadRules, "chain %s is not followed here", fp.Chain)
			out = append(out, a)
			break
		}
		a.Name = p.Rules().Name
		a.Err = p.CheckForkPoint(fp)
		out = append(out, a)
		fp = p.Rules().Parent
	}
	return out, nil
}
