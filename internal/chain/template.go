package chain

import (
	"github.com/qbc-chain/qbc/internal/quant"
)

// Template builds an unsealed quant on the current tip from txs (pool
// order), with the seal fields the engine fixes. ids, if of txs' length,
// are the transactions' ids (the pool holds them), else Template computes
// them.
// Transactions that no longer pass the chain's rules (already committed,
// say) are left out and their ids returned as dropped; those past the
// chain's block limits are left out for a later quant. The caller seals the
// quant (engine.Seal) and gives it to Add. Template keeps txs, not ids.
func (c *Chain) Template(txs []*quant.Tx, ids []quant.Hash) (q *quant.Quant, dropped []quant.Hash, err error) {
	head := c.Tip()
	return c.TemplateOn(head.Hash, []*quant.Header{&head.Header}, txs, ids)
}

// TemplateOn is Template on the quant parent instead of the tip. parents
// are its header, then (optionally) those of its nearest ancestors, each
// the parent of the one before: those that are not stored yet (quants in
// flight, as a Raft leader pipelines them) must be given, the rest are
// read from the store. Nothing checks that parent will join the chain:
// Add does, when the quant comes back sealed.
func (c *Chain) TemplateOn(parent quant.Hash, parents []*quant.Header, txs []*quant.Tx, ids []quant.Hash) (q *quant.Quant, dropped []quant.Hash, err error) {
	if len(ids) != len(txs) {
		ids = quant.TxIDs(txs)
	}
	head := Tip{Hash: parent, Header: *parents[0]}
	mtp, err := c.medianTimePastOf(parents)
	if err != nil {
		return nil, nil, err
	}
	now := max(c.opts.Now().UnixMilli(), mtp+1)
	var (
		keep    []*quant.Tx
		keepIDs []quant.Hash
		seen    = make(map[quant.Hash]struct{}, len(txs))
		size    = quant.MaxHeaderSize
		keys    = &keyState{base: c.atOrBefore(LastLocation)}
		height  = head.Header.Height + 1
	)
	for i, tx := range txs {
		if len(keep) == c.rules.MaxQuantTxs || size+4+tx.EncodedSize() > c.rules.MaxQuantBytes {
			break
		}
		id := ids[i]
		if _, dup := seen[id]; dup {
			continue
		}
		verified := c.verified(id)
		if c.checkTxNow(tx, verified, now) != nil || (!verified && c.checkTxProof(tx) != nil) || c.checkNotCommitted(id) != nil || c.checkTemplateWrite(keys, tx, id, height, len(keep), now) != nil {
			dropped = append(dropped, id)
			continue
		}
		seen[id] = struct{}{}
		keep = append(keep, tx)
		keepIDs = append(keepIDs, id)
		size += 4 + tx.EncodedSize()
	}
	q = &quant.Quant{
		Header: quant.Header{
			ChainID: c.id,
			Height:  height,
			Prev:    head.Hash,
			TxRoot:  quant.RootOfIDs(keepIDs),
			Time:    now,
			TxCount: uint32(len(keep)),
		},
		Txs: keep,
	}
	if err := c.engine.Prepare(c.reader(), &head.Header, &q.Header); err != nil {
		return nil, nil, err
	}
	return q, dropped, nil
}

// checkTemplateWrite checks a record write for a quant at height and now
// against keys, the state before it, and adds it there. On a parent that is
// not the tip (quants in flight), the state is the tip's: a write that the
// quants in flight make invalid is refused when the quant is added, and
// the caller cuts again.
func (c *Chain) checkTemplateWrite(keys *keyState, tx *quant.Tx, id quant.Hash, height uint64, i int, now int64) error {
	if tx.Key == "" {
		return nil
	}
	_, err := keys.write(c, tx, id, height, i, now)
	return err
}
