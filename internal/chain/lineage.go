package chain

import (
	"errors"
	"math"
	"slices"

	"github.com/qbc-chain/qbc/internal/quant"
)

// MaxLineage bounds how many forks deep a chain may be.
const MaxLineage = 16

// CheckForkPoint requires the quant a fork point names to be stored in its
// parent chain's storage at the named height and to link back, header by
// header, to the parent's bang (at height 0, or at its own fork point's
// height when the parent is itself a fork). It stops a fork from claiming a history its
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
	for !h.IsBang() {
		prev, err := parent.Header(h.Prev)
		if err != nil || h.Height == 0 || prev.Height != h.Height-1 {
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

// CheckForkDepth refuses a new fork from fp whose lineage would be deeper
// than MaxLineage forks, counting the ancestors of fp's chain that resolve
// knows. It stops a chain that could be created but whose lineage and
// history the node then cannot walk (Lineage refuses it, History stops
// short of its oldest spans), and a chain of forks that makes every walk
// long. The walk takes at most MaxLineage steps.
func CheckForkDepth(fp *quant.ForkPoint, resolve func(id quant.Hash) *Chain) error {
	depth := 1
	for p := resolve(fp.Chain); p != nil && p.Rules().Parent != nil; p = resolve(p.Rules().Parent.Chain) {
		if depth == MaxLineage {
			return quant.Errorf(quant.CodeBadRules, "parent: a fork of chain %s would be more than %d forks deep", fp.Chain, MaxLineage)
		}
		depth++
	}
	return nil
}

// A Span is a run of heights in a chain's history that one chain's own
// storage holds on its main chain: From to To, both included (To is
// math.MaxUint64 for the chain itself, whose tip moves).
type Span struct {
	Chain    *Chain
	From, To uint64
}

// History lists the spans that make up c's history, oldest first. A chain
// that is not a fork is one span from its bang. A fork's history is its
// parent's up to and including the fork point, then its own quants after
// its bang (which sits at the fork point's height, behind the parent's
// quant there); and so on up a lineage. resolve returns a followed chain by
// id, or nil.
//
// The walk stops at a parent that is not followed, at one whose main chain
// no longer holds the fork point at its height (a reorganisation took it
// off), and after MaxLineage forks: the oldest span then starts at its
// chain's bang, and heights below it are not in the history this node can
// show. History reads only the stored height index, through each chain's
// Reader.
func History(c *Chain, resolve func(id quant.Hash) *Chain) ([]Span, error) {
	spans := []Span{{Chain: c, From: c.Base(), To: math.MaxUint64}}
	for cur := c; cur.rules.Parent != nil && len(spans) <= MaxLineage; {
		fp := cur.rules.Parent
		p := resolve(fp.Chain)
		if p == nil {
			break
		}
		at, err := p.st.HashAt(fp.Height)
		if errors.Is(err, ErrNotFound) || (err == nil && at != fp.Hash) {
			break
		}
		if err != nil {
			return nil, err
		}
		spans[len(spans)-1].From = cur.Base() + 1 // behind the parent's quant at the fork point
		spans = append(spans, Span{Chain: p, From: p.Base(), To: fp.Height})
		cur = p
	}
	slices.Reverse(spans)
	return spans, nil
}

// SpanAt returns the span of spans (as History returns them) that holds
// height, or false if none does.
func SpanAt(spans []Span, height uint64) (Span, bool) {
	for _, s := range spans {
		if height >= s.From && height <= s.To {
			return s, true
		}
	}
	return Span{}, false
}
