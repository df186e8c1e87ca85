package chain

import (
	"errors"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// Locator describes the main chain to a peer: the hashes at the tip, tip-1,
// tip-2, tip-4, tip-8, ... and the bang. A peer finds the first one it also
// has on its main chain, which is where the two chains part.
func (c *Chain) Locator() ([]quant.Hash, error) {
	head := c.Head()
	var out []quant.Hash
	step := uint64(1)
	for h := head.Header.Height; ; {
		hash, err := c.st.HashAt(h)
		if err != nil {
			return nil, err
		}
		out = append(out, hash)
		if h == 0 {
			return out, nil
		}
		if len(out) >= 10 {
			step *= 2
		}
		if h < step {
			h = 0
		} else {
			h -= step
		}
	}
}

// maxLocator bounds a locator taken from a peer.
const maxLocator = 128

// QuantsAfter returns main-chain quants after the first locator hash that is
// on the main chain (after the bang if none is), in height order, at most
// limit of them and about maxBytes of encoding (at least one).
func (c *Chain) QuantsAfter(locator []quant.Hash, limit, maxBytes int) ([]*quant.Quant, error) {
	if len(locator) > maxLocator {
		return nil, quant.Errorf(quant.CodeTooLarge, "locator of %d hashes, limit %d", len(locator), maxLocator)
	}
	from := uint64(0)
	for _, h := range locator {
		hdr, err := c.st.Header(h)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if at, err := c.st.HashAt(hdr.Height); err == nil && at == h {
			from = hdr.Height
			break
		}
	}
	var (
		out  []*quant.Quant
		size int
	)
	tip := c.Head().Header.Height
	for h := from + 1; h <= tip && len(out) < limit && (len(out) == 0 || size < maxBytes); h++ {
		hash, err := c.st.HashAt(h)
		if err != nil {
			return nil, err
		}
		q, err := c.st.Quant(hash)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
		size += quant.MaxHeaderSize
		for _, tx := range q.Txs {
			size += 4 + tx.EncodedSize()
		}
	}
	return out, nil
}
