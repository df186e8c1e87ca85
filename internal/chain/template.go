package chain

import (
	"slices"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Template builds an unsealed quant on the current tip from txs (pool
// order), with the seal fields the engine fixes. ids, if of txs' length,
// are the transactions' ids (the pool holds them), else Template computes
// them.
// Transactions that no longer pass the chain's rules (already committed,
// say) are left out and their ids returned as dropped; those past the
// chain's block limits are left out for a later quant. The caller seals the
// quant (engine.Seal) and gives it to Add. Template keeps txs, not ids;
// ids given must be the transactions' own, and nobody may change the
// transactions: Add of that quant, only sealed since, on a tip that has not
// moved, takes its body as Template checked it (builtQuant).
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
	tip, gen := c.tipGen() // before any state is read
	allVerified := true
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
		allVerified = allVerified && verified
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
	if parent == tip.Hash && allVerified && q.Header.Time == now {
		c.built.Store(&builtQuant{q: q, header: q.Header, txs: slices.Clone(keep), ids: keepIDs, gen: gen})
	} else {
		c.built.Store(nil)
	}
	return q, dropped, nil
}

// builtQuant is what Template checked of a quant it made on the tip:
// every transaction's rules at the quant's time (each verified at
// admission, Options.Verified), none twice and none committed, each
// record write against the tip's records, all on the state of the tip
// of generation gen. Add of that quant, sealed but otherwise as Template
// made it, on the same tip, needs none of it again: the body's checks
// are functions of the transactions, the header and that state. It still
// checks the quant's shape, its seal and time against the parent, and
// collects the record versions. This is what a miner does with its own
// block in Bitcoin Core and go-ethereum: a node checks every quant it
// receives in full, and the one it made from checked parts in part.
type builtQuant struct {
	q      *quant.Quant
	header quant.Header // without meaning in Seal, which the engine fills
	txs    []*quant.Tx  // q.Txs as made: a caller that swaps one is caught
	ids    []quant.Hash
	gen    uint64
}

// takeBuilt returns what Template checked of q, if q is the quant it
// made last, unchanged but for its seal, and the tip has not moved since
// (gen is the tip's generation now); it forgets it either way.
func (c *Chain) takeBuilt(q *quant.Quant, gen uint64) (*builtQuant, bool) {
	b := c.built.Swap(nil)
	if b == nil || b.q != q || b.gen != gen || !sameButSeal(&b.header, &q.Header) || len(b.txs) != len(q.Txs) {
		return nil, false
	}
	for i, tx := range q.Txs {
		if b.txs[i] != tx {
			return nil, false
		}
	}
	return b, true
}

// sameButSeal reports whether a and b are equal in every field but Seal.
func sameButSeal(a, b *quant.Header) bool {
	return a.ChainID == b.ChainID && a.Height == b.Height && a.Prev == b.Prev &&
		a.TxRoot == b.TxRoot && a.Time == b.Time && a.TxCount == b.TxCount
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
