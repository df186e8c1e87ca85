package chain

import (
	"errors"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Locator describes the main chain to a peer: the hashes at the tip, tip-1,
// tip-2, tip-4, tip-8, ... and the bang (at Base). A peer finds the first
// one it also has on its main chain, which is where the two chains part.
func (c *Chain) Locator() ([]quant.Hash, error) {
	head := c.Tip()
	base := c.Base()
	var out []quant.Hash
	step := uint64(1)
	for h := head.Header.Height; ; {
		hash, err := c.st.HashAt(h)
		if err != nil {
			return nil, err
		}
		out = append(out, hash)
		if h <= base {
			return out, nil
		}
		if len(out) >= 10 {
			step *= 2
		}
		if h-base < step {
			h = base
		} else {
			h -= step
		}
	}
}

// maxLocator bounds a locator taken from a peer.
const maxLocator = 128

// forkPoint is the height of the first locator hash that is on the main
// chain (Base, the bang's, if none is).
func (c *Chain) forkPoint(locator []quant.Hash) (uint64, error) {
	if len(locator) > maxLocator {
		return 0, quant.Errorf(quant.CodeTooLarge, "locator of %d hashes, limit %d", len(locator), maxLocator)
	}
	for _, h := range locator {
		hdr, err := c.st.Header(h)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if at, err := c.st.HashAt(hdr.Height); err == nil && at == h {
			return hdr.Height, nil
		}
	}
	return c.Base(), nil
}

// HashesAfter returns the hashes of the main-chain quants after the
// locator's fork point, in height order, at most limit of them: the plan a
// syncing peer then fetches from several peers at once.
func (c *Chain) HashesAfter(locator []quant.Hash, limit int) ([]quant.Hash, error) {
	from, err := c.forkPoint(locator)
	if err != nil {
		return nil, err
	}
	tip := c.Tip().Header.Height
	var out []quant.Hash
	for h := from + 1; h <= tip && len(out) < limit; h++ {
		hash, err := c.st.HashAt(h)
		if err != nil {
			return nil, err
		}
		out = append(out, hash)
	}
	return out, nil
}
