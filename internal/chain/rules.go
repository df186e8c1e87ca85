package chain

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/qbc-chain/qbc/internal/quant"
)

// medianTimePastSpan is how many quants the median time past looks at.
const medianTimePastSpan = 11

// medianTimePast is the median time of the last 11 quants ending at h.
func (c *Chain) medianTimePast(h *quant.Header) (int64, error) {
	return c.medianTimePastOf([]*quant.Header{h})
}

// medianTimePastOf is the median time of the last 11 quants ending at
// hs[0], where hs are headers of that quant and its nearest ancestors
// (each the parent of the one before); older ones are read from the store.
func (c *Chain) medianTimePastOf(hs []*quant.Header) (int64, error) {
	times := make([]int64, 0, medianTimePastSpan)
	cur := hs[0]
	for i := 1; ; i++ {
		times = append(times, cur.Time)
		if cur.IsBang() || len(times) == medianTimePastSpan {
			break
		}
		if i < len(hs) {
			cur = hs[i]
			continue
		}
		p, err := c.ancestor(cur.Prev)
		if err != nil {
			return 0, fmt.Errorf("chain: median time past: %w", err)
		}
		cur = p
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// ancestor returns the stored header h, from the headers the median time
// past read lately (c.ancestors) or from the store. A header never
// changes under its hash, so the copy kept is always right. Each new quant
// on a chain then reads one header from the store for its median time
// past, not ten.
func (c *Chain) ancestor(h quant.Hash) (*quant.Header, error) {
	if hd, ok := c.ancestors.get(h); ok {
		return hd, nil
	}
	hd, err := c.st.Header(h)
	if err != nil {
		return nil, err
	}
	c.ancestors.add(h, hd)
	return hd, nil
}

// Validate checks q as a child of parent: every rule a quant must pass,
// the same for quants made here and received.
func (c *Chain) Validate(q *quant.Quant, parent *Tip) error {
	_, _, err := c.validate(q, parent, c.notCommitted, &keyState{base: c.atOrBefore(LastLocation)})
	return err
}

// notCommitted is checkNotCommitted in the form validate takes.
func (c *Chain) notCommitted(id quant.Hash, _ int) error { return c.checkNotCommitted(id) }

// validate is Validate with the check that a transaction is new to the
// chain given as notCommitted (verification of a stored chain checks
// instead that the index points at the transaction's own place), and the
// record state its keyed writes are checked against as keys (nil: not
// checked, for a side branch, whose history is checked if it wins). It
// returns the ids of q's transactions and the record versions they make.
func (c *Chain) validate(q *quant.Quant, parent *Tip, notCommitted func(id quant.Hash, i int) error, keys *keyState) ([]quant.Hash, []Version, error) {
	if err := c.checkHead(q, parent); err != nil {
		return nil, nil, err
	}
	ids := quant.TxIDs(q.Txs)
	versions, err := c.checkBody(q, ids, notCommitted, keys)
	if err != nil {
		return nil, nil, err
	}
	return ids, versions, nil
}

// validateNext is validate for q, a child of the tip head of generation
// gen, against the chain's state there. For the quant Template made last
// on that tip (builtQuant), it skips what Template checked.
func (c *Chain) validateNext(q *quant.Quant, head *Tip, gen uint64) ([]quant.Hash, []Version, error) {
	keys := &keyState{base: c.atOrBefore(LastLocation)}
	b, ok := c.takeBuilt(q, gen)
	if !ok {
		return c.validate(q, head, c.notCommitted, keys)
	}
	if err := c.checkHead(q, head); err != nil {
		return nil, nil, err
	}
	versions, err := c.recordWrites(q, b.ids, keys)
	if err != nil {
		return nil, nil, err
	}
	return b.ids, versions, nil
}

// checkHead checks the rules on q alone and against its parent: all but
// those on its body.
func (c *Chain) checkHead(q *quant.Quant, parent *Tip) error {
	if err := c.checkAlone(q); err != nil {
		return err
	}
	mtp, err := c.medianTimePast(&parent.Header)
	if err != nil {
		return err
	}
	return c.checkOnParent(&q.Header, parent, mtp)
}

// validate's rules fall in three groups, checked in this order: those on
// the quant alone (checkAlone), those against its parent (checkOnParent),
// and those on its body (checkBody). The first and the last need nothing of
// the parent, so VerifyStored checks them for many quants at once, and the
// second in order, reporting the first fault in the order validate would.

// checkAlone checks the rules that look at q alone: its shape against the
// chain's limits, and its chain id.
func (c *Chain) checkAlone(q *quant.Quant) error {
	if err := checkQuantShape(q, c.rules); err != nil {
		return err
	}
	return checkQuantChain(&q.Header, c.id)
}

// checkOnParent checks the rules that look at the parent of the quant with
// header h: the link, the time against the parent's median time past mtp
// and now, and the seal.
func (c *Chain) checkOnParent(h *quant.Header, parent *Tip, mtp int64) error {
	if err := checkLink(h, parent); err != nil {
		return err
	}
	if err := checkQuantTime(h, mtp, c.opts.Now().UnixMilli(), c.rules.MaxTimeDriftMs); err != nil {
		return err
	}
	return c.engine.VerifySeal(c.reader(), &parent.Header, h)
}

// checkBody checks q's body, whose transaction ids are ids: the Merkle
// root, the transactions, and their record writes against keys (nil: not
// checked), and returns the versions those make.
func (c *Chain) checkBody(q *quant.Quant, ids []quant.Hash, notCommitted func(id quant.Hash, i int) error, keys *keyState) ([]Version, error) {
	if err := checkMerkleRoot(&q.Header, ids); err != nil {
		return nil, err
	}
	if err := c.checkTxs(q, ids, notCommitted); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, nil
	}
	return c.recordWrites(q, ids, keys)
}

// checkQuantShape checks the body against the header and the chain's block
// limits. It stops oversized quants and headers that lie about their body.
func checkQuantShape(q *quant.Quant, r *quant.Rules) error {
	h := &q.Header
	if err := checkNotBang(q); err != nil {
		return err
	}
	if int(h.TxCount) != len(q.Txs) {
		return quant.Errorf(quant.CodeMalformed, "header declares %d transactions, body holds %d", h.TxCount, len(q.Txs))
	}
	if len(q.Txs) > r.MaxQuantTxs {
		return quant.Errorf(quant.CodeLimitExceeded, "%d transactions, this chain's limit is %d", len(q.Txs), r.MaxQuantTxs)
	}
	size := quant.MaxHeaderSize
	for _, tx := range q.Txs {
		size += 4 + tx.EncodedSize()
	}
	if size > r.MaxQuantBytes {
		return quant.Errorf(quant.CodeLimitExceeded, "quant is about %d bytes, this chain's limit is %d", size, r.MaxQuantBytes)
	}
	return nil
}

// checkQuantChain requires the quant to name this chain. It stops a quant
// sealed for one chain from being replayed on another.
func checkQuantChain(h *quant.Header, id quant.Hash) error {
	if h.ChainID != id {
		return quant.Errorf(quant.CodeWrongChain, "quant is for chain %s, not %s", h.ChainID, id)
	}
	return nil
}

// checkLink requires the quant to follow its parent: the parent's hash and
// the next height. It stops quants spliced in from elsewhere, and on a fork
// (whose bang sits at its fork point's height) a first quant whose height
// does not continue the parent chain's.
func checkLink(h *quant.Header, parent *Tip) error {
	if h.Prev != parent.Hash {
		return quant.Errorf(quant.CodeBadLink, "previous hash %s is not the parent %s", h.Prev, parent.Hash)
	}
	if h.Height != parent.Header.Height+1 {
		return quant.Errorf(quant.CodeBadLink, "height %d does not follow the parent's %d", h.Height, parent.Header.Height)
	}
	return nil
}

// checkQuantTime checks the quant's time: after the median of the last 11
// quants (checkQuantNotTooOld) and not beyond now plus the chain's drift
// (checkQuantNotTooNew).
func checkQuantTime(h *quant.Header, mtp, now, drift int64) error {
	if err := checkQuantNotTooOld(h, mtp); err != nil {
		return err
	}
	return checkQuantNotTooNew(h, now, drift)
}

// checkQuantNotTooOld requires the quant's time to be after the median time
// past. It stops a miner from dating quants in the past to bend the
// difficulty down, and keeps quant times moving forward.
func checkQuantNotTooOld(h *quant.Header, mtp int64) error {
	if h.Time <= mtp {
		return quant.Errorf(quant.CodeTimeTooOld, "time %d is not after the median time past %d", h.Time, mtp)
	}
	return nil
}

// checkQuantNotTooNew refuses a quant dated beyond now plus the chain's
// drift. It stops a miner from dating quants in the future to bend the
// difficulty, or to make later honest quants look too old.
func checkQuantNotTooNew(h *quant.Header, now, drift int64) error {
	if h.Time > now+drift {
		return quant.Errorf(quant.CodeTimeTooNew, "time %d is more than %d ms ahead of now (%d)", h.Time, drift, now)
	}
	return nil
}

// checkMerkleRoot requires the header's transaction root to match the
// body. It stops transactions from being added, dropped or changed in a
// quant whose header (and work) is kept.
func checkMerkleRoot(h *quant.Header, ids []quant.Hash) error {
	if got := quant.RootOfIDs(ids); got != h.TxRoot {
		return quant.Errorf(quant.CodeBadMerkleRoot, "transaction root %s, body gives %s", h.TxRoot, got)
	}
	return nil
}

// checkTxs checks the transactions of q: their signatures (as a batch),
// then each one's rules and its time against the quant's, and that it
// appears once in the quant and never before in the chain. For transactions
// this node verified at admission, only the time and the duplicates are
// checked again.
func (c *Chain) checkTxs(q *quant.Quant, ids []quant.Hash, notCommitted func(id quant.Hash, i int) error) error {
	seen := make(map[quant.Hash]struct{}, len(ids))
	verified := make([]bool, len(ids))
	for i, id := range ids {
		verified[i] = c.verified(id)
	}
	skip := func(i int) bool { return verified[i] }
	if i, err := quant.CheckTxSignaturesParallel(q.Txs, skip, runtime.GOMAXPROCS(0)); err != nil {
		return txErr(i, err)
	}
	if i, err := c.checkTxProofs(q.Txs, skip); err != nil {
		return txErr(i, err)
	}
	for i, tx := range q.Txs {
		id := ids[i]
		if err := c.checkTxNow(tx, verified[i], q.Header.Time); err != nil {
			return txErr(i, err)
		}
		if _, dup := seen[id]; dup {
			return txErr(i, quant.Errorf(quant.CodeDuplicate, "transaction %s appears twice in the quant", id))
		}
		seen[id] = struct{}{}
		if err := notCommitted(id, i); err != nil {
			return txErr(i, err)
		}
	}
	return nil
}

func txErr(i int, err error) error {
	if code := quant.CodeOf(err); code != "" {
		return quant.Errorf(code, "transaction %d: %v", i, err)
	}
	return fmt.Errorf("transaction %d: %w", i, err)
}
