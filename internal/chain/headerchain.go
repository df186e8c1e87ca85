package chain

import (
	"errors"
	"fmt"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Errors of HeaderChain.
var (
	// ErrNotAncestor: the first quant is not an ancestor of the second.
	ErrNotAncestor = errors.New("chain: not an ancestor")
	// ErrTooLong: the header chain asked for is over the caller's limit.
	ErrTooLong = errors.New("chain: header chain too long")
)

// HeaderChain returns the headers of the quants after from up to and
// including to, oldest first, each the child of the one before: what a
// proof carries to show that from is an ancestor of to (empty when from is
// to). It walks back from to by each header's prev, so it holds whichever
// branch to is on, and a reorganisation while it reads cannot mix two
// branches. A to more than max quants above from is ErrTooLong, refused
// by the heights before any header is read; a from that to does not
// descend from is ErrNotAncestor; a quant not stored here is ErrNotFound.
// The headers are the caller's.
func (c *Chain) HeaderChain(from, to quant.Hash, max int) ([]*quant.Header, error) {
	fromH, err := c.st.Header(from)
	if err != nil {
		return nil, fmt.Errorf("chain: quant %s: %w", from, err)
	}
	h, err := c.st.Header(to)
	if err != nil {
		return nil, fmt.Errorf("chain: quant %s: %w", to, err)
	}
	if h.Height < fromH.Height {
		return nil, fmt.Errorf("%w: quant %s (height %d) is above quant %s (height %d)",
			ErrNotAncestor, from, fromH.Height, to, h.Height)
	}
	n := h.Height - fromH.Height
	if n > uint64(max) {
		return nil, fmt.Errorf("%w: %d headers from quant %s (height %d) to quant %s (height %d), limit %d",
			ErrTooLong, n, from, fromH.Height, to, h.Height, max)
	}
	out := make([]*quant.Header, n)
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = h
		if i == 0 {
			break
		}
		if h, err = c.st.Header(h.Prev); err != nil {
			return nil, fmt.Errorf("chain: quant %s: %w", out[i].Prev, err)
		}
	}
	at := to
	if n > 0 {
		at = out[0].Prev
	}
	if at != from {
		return nil, fmt.Errorf("%w: quant %s is not an ancestor of quant %s", ErrNotAncestor, from, to)
	}
	return out, nil
}
