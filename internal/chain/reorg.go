package chain

import (
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Result says what an Add did to the main chain.
type Result struct {
	// Connected are the quants that joined the main chain, oldest first:
	// the added quant, or a whole branch after a reorganisation. Empty when
	// the quant was stored on a side branch that is not (yet) heavier.
	Connected []*quant.Quant
	// ConnectedIDs are the transaction ids of each of Connected, in
	// order.
	ConnectedIDs [][]quant.Hash
	// Disconnected are the quants a reorganisation took off the main
	// chain, tip first. Their transactions that are not in Connected are
	// pending again.
	Disconnected []*quant.Quant
}

// Extended reports whether the added quant joined the main chain.
func (r Result) Extended() bool { return len(r.Connected) > 0 }

// Add checks q and stores it. A quant on the tip is checked in full and
// becomes the tip. A quant on another known quant is checked against its
// parent and kept on a side branch; if its branch then has more
// accumulated weight than the main chain, the chain reorganizes to it
// (fork choice by weight, not length), checking the branch's transactions
// against the history they would join. Everything is committed durably
// before Add returns. Add keeps q.
func (c *Chain) Add(q *quant.Quant) (Result, error) {
	c.addMu.Lock()
	defer c.addMu.Unlock()
	hash := q.Hash()
	if err := checkNotBang(q); err != nil {
		return Result{}, err
	}
	if err := c.checkNotStored(q, hash); err != nil {
		return Result{}, err
	}
	if err := c.checkAncestorValid(q, hash); err != nil {
		c.markInvalid(hash)
		return Result{}, err
	}
	head, gen := c.tipGen()
	if q.Header.Prev == head.Hash {
		ids, versions, err := c.validateNext(q, &head, gen)
		if err != nil {
			return Result{}, err
		}
		meta := c.childMeta(&head.Meta, q)
		if err := c.w.Connect(Entry{Quant: q, Meta: meta, IDs: ids, Records: versions}); err != nil {
			return Result{}, fmt.Errorf("chain: commit quant %d: %w", q.Header.Height, err)
		}
		c.setTip(Tip{Hash: hash, Header: q.Header, Meta: meta})
		return Result{Connected: []*quant.Quant{q}, ConnectedIDs: [][]quant.Hash{ids}}, nil
	}
	return c.addSide(q, hash, head)
}

// checkNotBang refuses a bang (a quant naming no chain). It stops a second
// genesis, with other rules, from being spliced into a chain.
func checkNotBang(q *quant.Quant) error {
	if q.IsBang() {
		return quant.Errorf(quant.CodeBadLink, "a second bang cannot join a chain")
	}
	return nil
}

// checkNotStored refuses a quant the chain already holds. It stops a peer
// from making the chain validate the same quant over and over.
func (c *Chain) checkNotStored(q *quant.Quant, hash quant.Hash) error {
	has, err := c.st.Has(hash)
	if err != nil {
		return err
	}
	if has {
		return quant.Errorf(quant.CodeDuplicate, "quant %d %s is already stored", q.Header.Height, hash)
	}
	return nil
}

// checkAncestorValid refuses a child of a quant found invalid (and so
// every descendant of one). It stops a peer from making the chain
// re-validate a branch it already refused, one quant at a time.
func (c *Chain) checkAncestorValid(q *quant.Quant, hash quant.Hash) error {
	if _, bad := c.invalid[q.Header.Prev]; bad {
		return quant.Errorf(quant.CodeBadAncestor, "quant %s descends from an invalid quant", hash)
	}
	return nil
}

// addSide stores q on a side branch and reorganizes if that branch is now
// the heaviest.
func (c *Chain) addSide(q *quant.Quant, hash quant.Hash, head Tip) (Result, error) {
	parentHdr, err := c.st.Header(q.Header.Prev)
	if errors.Is(err, ErrNotFound) {
		return Result{}, quant.Errorf(quant.CodeUnknownParent, "parent %s of quant %d is not known", q.Header.Prev, q.Header.Height)
	}
	if err != nil {
		return Result{}, err
	}
	parentMeta, err := c.st.Meta(q.Header.Prev)
	if err != nil {
		return Result{}, err
	}
	parent := Tip{Hash: q.Header.Prev, Header: *parentHdr, Meta: parentMeta}
	// Everything but "not already on the branch" can be checked now; that
	// needs the branch's history and is checked if the branch wins.
	if _, _, err := c.validate(q, &parent, func(quant.Hash, int) error { return nil }, nil); err != nil {
		return Result{}, err
	}
	meta := c.childMeta(&parentMeta, q)
	if err := c.w.Save(Entry{Quant: q, Meta: meta}); err != nil {
		return Result{}, fmt.Errorf("chain: save side quant %d: %w", q.Header.Height, err)
	}
	if meta.Work.Cmp(head.Meta.Work) <= 0 {
		// Not heavier: the first-seen branch keeps a tie.
		return Result{}, nil
	}
	return c.reorg(hash, head)
}

// reorg makes the branch ending at tip the main chain: it finds where the
// branch leaves the main chain, checks that no transaction of the branch is
// already in the history it joins or twice in the branch (a replay across
// branches) and that its record writes pass the locks of that history, and
// swaps the branches in one durable commit. If a branch quant
// fails, it and its descendants are marked invalid and the chain keeps the
// valid part only if that part is still heavier.
func (c *Chain) reorg(tip quant.Hash, head Tip) (Result, error) {
	var branch []Entry // newest first, then reversed
	for h := tip; ; {
		hdr, err := c.st.Header(h)
		if err != nil {
			return Result{}, err
		}
		if at, err := c.st.HashAt(hdr.Height); err == nil && at == h {
			break // h is on the main chain: the fork point
		}
		q, err := c.st.Quant(h)
		if err != nil {
			return Result{}, err
		}
		meta, err := c.st.Meta(h)
		if err != nil {
			return Result{}, err
		}
		branch = append(branch, Entry{Quant: q, Meta: meta})
		h = hdr.Prev
	}
	slices.Reverse(branch)
	forkHeight := branch[0].Quant.Header.Height - 1

	var refusal error
	seen := make(map[quant.Hash]struct{})
	keys := &keyState{base: c.atOrBefore(Location{Height: forkHeight, Index: ^uint32(0)})}
	for k := range branch {
		e := &branch[k]
		e.IDs = quant.TxIDs(e.Quant.Txs)
		err := c.checkBranchTxs(e.Quant, e.IDs, forkHeight, seen)
		if err == nil {
			e.Records, err = c.recordWrites(e.Quant, e.IDs, keys)
		}
		if err != nil {
			refusal = err
			for _, bad := range branch[k:] {
				c.markInvalid(bad.Quant.Hash())
			}
			branch = branch[:k]
			break
		}
	}
	if len(branch) == 0 || branch[len(branch)-1].Meta.Work.Cmp(head.Meta.Work) <= 0 {
		return Result{}, refusal
	}

	var (
		disconnect []quant.Hash
		old        []*quant.Quant
	)
	for h := head.Header.Height; h > forkHeight; h-- {
		hash, err := c.st.HashAt(h)
		if err != nil {
			return Result{}, err
		}
		q, err := c.st.Quant(hash)
		if err != nil {
			return Result{}, err
		}
		disconnect = append(disconnect, hash)
		old = append(old, q)
	}
	if err := c.w.Reorg(disconnect, branch); err != nil {
		return Result{}, fmt.Errorf("chain: reorganize at %d: %w", forkHeight, err)
	}
	last := branch[len(branch)-1]
	c.setTip(Tip{Hash: last.Quant.Hash(), Header: last.Quant.Header, Meta: last.Meta})
	res := Result{Disconnected: old}
	for _, e := range branch {
		res.Connected = append(res.Connected, e.Quant)
		res.ConnectedIDs = append(res.ConnectedIDs, e.IDs)
	}
	c.opts.Logger.Info("chain reorganized", "chain", c.id.String(), "fork_height", forkHeight,
		"disconnected", len(old), "connected", len(branch), "height", last.Meta.Height)
	return res, refusal
}

// checkBranchTxs refuses a branch quant holding a transaction that is
// already in the history below the fork point or earlier in the branch. It
// stops a replay of a committed record from riding in on a reorganisation.
func (c *Chain) checkBranchTxs(q *quant.Quant, ids []quant.Hash, forkHeight uint64, seen map[quant.Hash]struct{}) error {
	for i := range q.Txs {
		id := ids[i]
		if _, dup := seen[id]; dup {
			return txErr(i, quant.Errorf(quant.CodeDuplicate, "transaction %s is twice on the branch", id))
		}
		seen[id] = struct{}{}
		loc, err := c.st.TxLocation(id)
		if err == nil && loc.Height <= forkHeight {
			return txErr(i, quant.Errorf(quant.CodeDuplicate, "transaction %s is already committed at %d", id, loc.Height))
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// maxInvalid bounds the memory of invalid quants.
const maxInvalid = 10_000

func (c *Chain) markInvalid(h quant.Hash) {
	if len(c.invalid) >= maxInvalid {
		clear(c.invalid)
	}
	c.invalid[h] = struct{}{}
}

// childMeta is the store meta of q, a child of the quant with meta parent:
// accumulated weight and transaction count.
func (c *Chain) childMeta(parent *Meta, q *quant.Quant) Meta {
	return c.childMetaOf(parent, &q.Header, len(q.Txs))
}

// childMetaOf is childMeta of the quant with header h and txs transactions.
func (c *Chain) childMetaOf(parent *Meta, h *quant.Header, txs int) Meta {
	return Meta{
		Height: h.Height,
		Work:   new(big.Int).Add(parent.Work, c.engine.Weight(h)),
		Txs:    parent.Txs + uint64(txs),
	}
}
