package store

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Save stores e's quant and meta without putting it on the main chain (a
// side branch, or a quant to be connected later). It writes one batch
// without Sync: after a crash the quant is wholly stored or not at all, and
// it is durable once a later Connect or Reorg returns. Saving a stored quant
// again rewrites its meta. Save copies what it needs of e.
func (c *Chain) Save(e chain.Entry) error {
	if err := c.db.enterWrite(); err != nil {
		return err
	}
	defer c.db.leave()
	h, err := c.checkEntry(e)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.refuseDeleted(); err != nil {
		return err
	}
	b := c.db.pdb.NewBatchWithSize(batchSize([]chain.Entry{e}))
	defer b.Close()
	if err := c.putQuant(b, e, h); err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("chain %s: save quant %d %s: %w", short(c.id), e.Meta.Height, short(h), err)
	}
	return nil
}

// Connect stores e and makes it the main chain's tip, in one synced batch
// (unsynced if the chain defers its syncs, DeferSync):
// the quant (unless already saved), its height index entry, an index entry
// for each of its transactions, and the tip. e's parent must be the tip, or
// the chain must be empty and e its bang; otherwise Connect returns
// ErrBadLink and writes nothing. Connect copies what it needs of e.
func (c *Chain) Connect(e chain.Entry) error {
	if err := c.db.enterWrite(); err != nil {
		return err
	}
	defer c.db.leave()
	h, err := c.checkEntry(e)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.refuseDeleted(); err != nil {
		return err
	}
	if err := c.checkExtendsTip(e); err != nil {
		return err
	}
	if err := c.checkVersions(e); err != nil {
		return err
	}
	b := c.db.pdb.NewBatchWithSize(batchSize([]chain.Entry{e}))
	defer b.Close()
	if err := c.putQuant(b, e, h); err != nil {
		return err
	}
	if err := c.putIndex(b, e, h); err != nil {
		return err
	}
	if err := c.putRecords(b, e); err != nil {
		return err
	}
	if err := b.Set(c.tipKey(), h[:], nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := c.putCommit(b); err != nil {
		return err
	}
	if err := b.Commit(c.commitOptions()); err != nil {
		return fmt.Errorf("chain %s: connect quant %d %s: %w", short(c.id), e.Meta.Height, short(h), err)
	}
	c.db.wrote(b.Len())
	c.recordCommit(h, e.Meta.Height)
	return nil
}

// checkExtendsTip refuses e unless it is the child of the tip, or the bang
// of an empty chain. It stops a quant from being connected where its
// parent is not, which would break the main chain's linkage.
func (c *Chain) checkExtendsTip(e chain.Entry) error {
	hdr := &e.Quant.Header
	tipHash, tip, err := c.tip(c.db.pdb)
	switch {
	case errors.Is(err, ErrNotFound):
		if !e.Quant.IsBang() {
			return fmt.Errorf("chain %s: connect quant %d: the chain is empty and this is not its bang: %w",
				short(c.id), hdr.Height, ErrBadLink)
		}
		return nil
	case err != nil:
		return err
	case hdr.Prev != tipHash || hdr.Height != tip.header.Height+1:
		return fmt.Errorf("chain %s: connect quant %d (parent %s): tip is %d %s: %w",
			short(c.id), hdr.Height, short(hdr.Prev), tip.header.Height, short(tipHash), ErrBadLink)
	}
	return nil
}

// Reorg switches the main chain to another branch in one synced batch
// (unsynced if the chain defers its syncs, DeferSync). It
// takes the quants in disconnect (the tip first, then each one's parent)
// off the main chain, removing their height and transaction index entries
// but keeping them stored, then connects the entries in connect (oldest
// first; the first one's parent is the last disconnected one's parent).
// Either list may be empty, not both. Lists that do not link, or that would
// disconnect the bang, are refused with ErrBadLink and nothing is written.
// Reorg copies what it needs of connect.
func (c *Chain) Reorg(disconnect []quant.Hash, connect []chain.Entry) error {
	if err := c.db.enterWrite(); err != nil {
		return err
	}
	defer c.db.leave()
	if len(disconnect) == 0 && len(connect) == 0 {
		return fmt.Errorf("chain %s: reorg: nothing to disconnect or connect: %w", short(c.id), ErrInvalid)
	}
	hashes := make([]quant.Hash, len(connect))
	for i, e := range connect {
		h, err := c.checkEntry(e)
		if err != nil {
			return fmt.Errorf("reorg: connect[%d]: %w", i, err)
		}
		if err := c.checkVersions(e); err != nil {
			return fmt.Errorf("reorg: connect[%d]: %w", i, err)
		}
		hashes[i] = h
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.refuseDeleted(); err != nil {
		return err
	}

	forkHash, tip, err := c.tip(c.db.pdb)
	if err != nil {
		return fmt.Errorf("reorg: %w", err)
	}
	forkHeight := tip.header.Height
	gone := make([]*record, len(disconnect))
	for i, h := range disconnect {
		if err := c.checkDisconnect(i, h, forkHash); err != nil {
			return err
		}
		rec, err := c.record(c.db.pdb, h)
		if err != nil {
			return fmt.Errorf("reorg: disconnect[%d]: %w", i, err)
		}
		if rec.header.IsBang() {
			return fmt.Errorf("chain %s: reorg: disconnect[%d] is the bang: %w", short(c.id), i, ErrBadLink)
		}
		gone[i] = rec
		forkHash, forkHeight = rec.header.Prev, rec.header.Height-1
	}
	forkPoint := forkHeight
	for i, e := range connect {
		if err := c.checkConnect(i, e, forkHash, forkHeight); err != nil {
			return err
		}
		forkHash, forkHeight = hashes[i], e.Quant.Header.Height
	}

	b := c.db.pdb.NewBatchWithSize(batchSize(connect))
	defer b.Close()
	// Deletions come first: a height or a transaction that the new branch
	// shares with the old one is set again below, and the later write wins.
	keys := make(map[string]struct{}) // record keys the old branch wrote
	for i, h := range disconnect {
		if err := c.deleteIndex(b, h, gone[i], keys); err != nil {
			return fmt.Errorf("reorg: disconnect[%d]: %w", i, err)
		}
	}
	for i, e := range connect {
		if err := c.putQuant(b, e, hashes[i]); err != nil {
			return err
		}
		if err := c.putIndex(b, e, hashes[i]); err != nil {
			return err
		}
		if err := c.putRecords(b, e); err != nil {
			return err
		}
		for _, v := range e.Records {
			delete(keys, v.Key) // its latest is set by the new branch
		}
	}
	if err := c.restoreLatest(b, keys, forkPoint); err != nil {
		return fmt.Errorf("reorg: %w", err)
	}
	if err := b.Set(c.tipKey(), forkHash[:], nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := c.putCommit(b); err != nil {
		return err
	}
	if err := b.Commit(c.commitOptions()); err != nil {
		return fmt.Errorf("chain %s: reorg: %w", short(c.id), err)
	}
	c.db.wrote(b.Len())
	c.recordCommit(forkHash, forkHeight)
	c.db.log.Debug("reorg", "chain", c.id.String(), "disconnected", len(disconnect),
		"connected", len(connect), "height", forkHeight, "tip", short(forkHash))
	return nil
}

// checkDisconnect refuses disconnect[i] = h unless it is want: the tip for
// i = 0, else the parent of disconnect[i-1]. It stops a reorg from taking
// off the main chain a quant that is not on it, or leaving a gap.
func (c *Chain) checkDisconnect(i int, h, want quant.Hash) error {
	if h != want {
		what := "the tip"
		if i > 0 {
			what = fmt.Sprintf("the parent of disconnect[%d]", i-1)
		}
		return fmt.Errorf("chain %s: reorg: disconnect[%d] is %s, %s is %s: %w",
			short(c.id), i, short(h), what, short(want), ErrBadLink)
	}
	return nil
}

// checkConnect refuses connect[i] = e unless its parent is parent, at
// parentHeight: the fork point for i = 0, else connect[i-1]. It stops a
// reorg from connecting a branch that does not hang off the main chain
// where the disconnected part did.
func (c *Chain) checkConnect(i int, e chain.Entry, parent quant.Hash, parentHeight uint64) error {
	hdr := &e.Quant.Header
	if hdr.Prev != parent || hdr.Height != parentHeight+1 {
		what := "the fork point"
		if i > 0 {
			what = fmt.Sprintf("connect[%d]", i-1)
		}
		return fmt.Errorf("chain %s: reorg: connect[%d] is quant %d with parent %s, %s is %d %s: %w",
			short(c.id), i, hdr.Height, short(hdr.Prev), what, parentHeight, short(parent), ErrBadLink)
	}
	return nil
}

// checkEntry checks e's shape and returns its quant's hash. It stops a
// quant whose stored parts would disagree (a meta for another height, a
// body of another length than its header says, rules lost from a non-bang)
// and a bang stored under a chain it does not name.
func (c *Chain) checkEntry(e chain.Entry) (quant.Hash, error) {
	q := e.Quant
	switch {
	case q == nil:
		return quant.Hash{}, fmt.Errorf("chain %s: nil quant: %w", short(c.id), ErrInvalid)
	case e.Meta.Work == nil || e.Meta.Work.Sign() < 0:
		return quant.Hash{}, fmt.Errorf("chain %s: quant %d: work must be set and not negative: %w",
			short(c.id), q.Header.Height, ErrInvalid)
	case e.Meta.Txs >= maxTxs:
		return quant.Hash{}, fmt.Errorf("chain %s: quant %d: meta counts %d transactions, more than a chain holds: %w",
			short(c.id), q.Header.Height, e.Meta.Txs, ErrInvalid)
	case e.Meta.Height != q.Header.Height:
		return quant.Hash{}, fmt.Errorf("chain %s: quant %d: meta height is %d: %w",
			short(c.id), q.Header.Height, e.Meta.Height, ErrInvalid)
	case uint64(len(q.Txs)) != uint64(q.Header.TxCount):
		return quant.Hash{}, fmt.Errorf("chain %s: quant %d: header counts %d transactions, body has %d: %w",
			short(c.id), q.Header.Height, q.Header.TxCount, len(q.Txs), ErrInvalid)
	case q.IsBang() && len(q.Txs) != 0:
		return quant.Hash{}, fmt.Errorf("chain %s: a bang carries no transactions: %w", short(c.id), ErrInvalid)
	case !q.IsBang() && len(q.Rules) != 0:
		return quant.Hash{}, fmt.Errorf("chain %s: quant %d: only a bang carries rules: %w",
			short(c.id), q.Header.Height, ErrInvalid)
	}
	for i, tx := range q.Txs {
		if tx == nil {
			return quant.Hash{}, fmt.Errorf("chain %s: quant %d: transaction %d is nil: %w",
				short(c.id), q.Header.Height, i, ErrInvalid)
		}
	}
	h := q.Hash()
	if q.IsBang() && h != c.id {
		return quant.Hash{}, fmt.Errorf("chain %s: bang %s is another chain's: %w", short(c.id), short(h), ErrInvalid)
	}
	return h, nil
}

// putQuant adds quant h's record and, unless already stored, its
// transactions to b. A stored quant's transactions are left alone: they are
// keyed by its hash, so they are the same.
func (c *Chain) putQuant(b *pebble.Batch, e chain.Entry, h quant.Hash) error {
	key := c.appendQuantKey(make([]byte, 0, txKeyLen), h)
	stored, err := has(c.db.pdb, key)
	if err != nil {
		return err
	}
	if err := b.Set(key, encodeRecord(e.Quant, e.Meta), nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if e.Quant.IsBang() {
		if err := b.Set(chainsKey(c.id), nil, nil); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	if stored {
		return nil
	}
	return c.putPages(b, e.Quant.Header.Height, h, e.Quant.Txs)
}

// putIndex adds to b the main-chain index entries of quant h: its height
// and its transactions' locations.
func (c *Chain) putIndex(b *pebble.Batch, e chain.Entry, h quant.Hash) error {
	height := e.Quant.Header.Height
	if err := b.Set(c.appendHeightKey(make([]byte, 0, heightKeyLen), height), h[:], nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if len(e.Quant.Txs) == 0 {
		return nil
	}
	epoch := txEpoch(e.Meta.Txs, uint64(len(e.Quant.Txs)))
	if err := c.noteEpoch(epoch); err != nil {
		return err
	}
	key := make([]byte, 0, txIndexKeyLen)
	ids := txIDs(&e)
	for i := range e.Quant.Txs {
		key = c.appendTxIndexKey(key[:0], epoch, ids[i])
		if err := b.Set(key, encodeLocation(chain.Location{Height: height, Index: uint32(i)}), nil); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	// Before the batch commits, so that the filter never says "no" for an
	// indexed id.
	c.filter.add(ids, epoch)
	return nil
}

// deleteIndex adds to b the deletion of stored quant h's main-chain index
// entries (rec is its record): height, transactions' locations and record
// versions, adding the record keys it wrote to keys. It streams h's
// transactions to learn their ids.
func (c *Chain) deleteIndex(b *pebble.Batch, h quant.Hash, rec *record, keys map[string]struct{}) error {
	hdr := rec.header
	epoch := txEpoch(rec.txs, uint64(hdr.TxCount))
	if err := b.Delete(c.appendHeightKey(make([]byte, 0, heightKeyLen), hdr.Height), nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	key := make([]byte, 0, txIndexKeyLen)
	var (
		encs [][]byte
		i    uint32 // the transaction's index in h
	)
	n, err := c.eachPage(c.db.pdb, hdr.Height, h, func(page []byte) (int, error) {
		var err error
		// One more than due, so that a page holding too many shows.
		if encs, err = splitPage(encs[:0], page, int(hdr.TxCount)-int(i)+1); err != nil {
			return 0, err
		}
		for _, enc := range encs {
			tx, err := quant.DecodeTx(enc) // aliases the iterator's buffer only until ID
			if err != nil {
				return 0, fmt.Errorf("quant %s: transaction %d: %v: %w", short(h), i, err, ErrCorrupt)
			}
			key = c.appendTxIndexKey(key[:0], epoch, tx.ID())
			if err := b.Delete(key, nil); err != nil {
				return 0, fmt.Errorf("store: %w", err)
			}
			for _, k := range tx.WrittenKeys() {
				if err := c.deleteRecord(b, k, chain.Location{Height: hdr.Height, Index: i}); err != nil {
					return 0, err
				}
				keys[k] = struct{}{}
			}
			i++
		}
		return len(encs), nil
	})
	if err != nil {
		return err
	}
	if n != hdr.TxCount {
		return fmt.Errorf("quant %s: %d transactions stored, header says %d: %w", short(h), n, hdr.TxCount, ErrCorrupt)
	}
	return nil
}

// batchSize estimates the bytes a batch writing entries takes, so that it
// is allocated once.
func batchSize(entries []chain.Entry) int {
	const perTx = txIndexKeyLen + 16 + 32 // index key, location, framing (page keys are few)
	n := 1024
	for _, e := range entries {
		if e.Quant == nil {
			continue
		}
		n += quant.MaxHeaderSize + len(e.Quant.Rules)
		for _, tx := range e.Quant.Txs {
			if tx != nil {
				n += tx.EncodedSize() + perTx
			}
		}
	}
	return n
}

// commitOptions are the write options of a commit (Connect, Reorg): synced,
// unless the chain defers its syncs (DeferSync). The caller holds the
// write lock.
func (c *Chain) commitOptions() *pebble.WriteOptions {
	if c.tipState.deferred {
		return pebble.NoSync
	}
	return pebble.Sync
}
