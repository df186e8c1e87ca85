package chain

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Stored is what VerifyStored reads: a chain's storage, its id, and a walk
// of its main chain. *store.Chain implements it. VerifyStored calls its
// methods from several goroutines at once.
type Stored interface {
	Reader
	// ID is the chain id the storage is kept under.
	ID() quant.Hash
	// Iterate calls fn with each main-chain quant from height from upward,
	// in order, until the tip, fn's first error or the end of ctx.
	Iterate(ctx context.Context, from uint64, fn func(*quant.Quant) error) error
	// TxLocations is TxLocation for each of ids: locs[i] and errs[i] are
	// what TxLocation(ids[i]) returns; errs is nil if every lookup found
	// its entry. A store answers it faster than one TxLocation per id.
	TxLocations(ids []quant.Hash) (locs []Location, errs []error)
}

// VerifyStored re-checks a stored chain from its bang: every quant against
// its parent with the same rules Add applies, the height and transaction
// indexes, and the stored accumulated weight and counts. It returns the first
// fault, naming its height, and calls progress (if set) after each quant,
// in order, from the calling goroutine.
//
// It runs as a pipeline (verifyPipeline), over every core, and reports what
// the same checks made one quant after another would: the first fault of
// the lowest faulty quant, each quant's faults taken in the order validate
// takes them. Every goroutine it starts has stopped when it returns.
func VerifyStored(ctx context.Context, st Stored, engines Engines, progress func(height, tip uint64)) error {
	return verifyStored(ctx, st, engines, progress, defaultVerifyLimits(runtime.GOMAXPROCS(0)))
}

// verifyLimits size VerifyStored's pipeline.
type verifyLimits struct {
	// workers check quants alone, at once.
	workers int
	// window is how many quants may be read ahead of the ones checked:
	// each holds its transactions (up to the chain's max_quant_bytes).
	window int
	// indexBatch is how many transaction ids are looked up in the index
	// together, at least: in key order, the more at once the fewer of the
	// index's blocks each lookup reads. Each takes about 50 bytes, and at
	// most about three batches are held.
	indexBatch int
}

func defaultVerifyLimits(cores int) verifyLimits {
	return verifyLimits{workers: cores, window: cores + 1, indexBatch: 1 << 19}
}

// verifyStored is VerifyStored with its pipeline's limits.
//
// Its stages: one goroutine reads the quants in order (Iterate); workers
// check each read quant alone (checkVerifyJob): all that needs nothing of
// its parent, but the transaction index; one goroutine looks up the index
// entries of a batch of quants' transactions at once (lookUpVerifyBatch),
// in order; and the calling goroutine checks each quant against its parent
// and reports, in order.
func verifyStored(ctx context.Context, st Stored, engines Engines, progress func(height, tip uint64), lim verifyLimits) error {
	bang, err := st.Bang()
	if err != nil {
		return fmt.Errorf("verify: bang: %w", err)
	}
	rules, err := quant.CheckBang(bang)
	if err != nil {
		return fmt.Errorf("verify: bang: %w", err)
	}
	if bang.Hash() != st.ID() {
		return fmt.Errorf("verify: bang: its hash %s is not the chain id %s", bang.Hash(), st.ID())
	}
	engine, err := newEngine(rules, engines)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	tipHash, tipMeta, err := st.Tip()
	if err != nil {
		return fmt.Errorf("verify: tip: %w", err)
	}
	zkk, err := loadZK(rules)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	sch, err := compileSchema(rules)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	c := &Chain{id: bang.Hash(), rules: rules, bang: bang, engine: engine, schema: sch, zk: zkk, st: st,
		checked: newRecent[struct{}](checkedGen), ancestors: newRecent[*quant.Header](headerCacheGen)}
	c.opts.Now = time.Now
	parent := Tip{Hash: bang.Hash(), Header: bang.Header, Meta: Meta{Height: bang.Header.Height, Work: new(big.Int)}}
	if at, err := st.HashAt(bang.Header.Height); err != nil || at != parent.Hash {
		return fmt.Errorf("verify: quant %d: the height index does not hold the bang there", bang.Header.Height)
	}

	var g errgroup.Group
	defer g.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before the Wait: every stage stops
	// send sends j on ch unless ctx ends first.
	send := func(ch chan<- *verifyJob, j *verifyJob) bool {
		select {
		case ch <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	read := make(chan *verifyJob, lim.window) // in order
	work := make(chan *verifyJob)
	batches := make(chan []*verifyJob)
	g.Go(func() error {
		defer close(read)
		defer close(work)
		err := st.Iterate(ctx, bang.Header.Height+1, func(q *quant.Quant) error {
			j := &verifyJob{q: q, done: make(chan struct{})}
			if !send(read, j) || !send(work, j) {
				return ctx.Err()
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			// The read's fault, after those of the quants read before it.
			j := &verifyJob{err: err, done: make(chan struct{})}
			close(j.done)
			send(read, j)
		}
		return nil
	})
	for range lim.workers {
		g.Go(func() error {
			for j := range work {
				c.checkVerifyJob(st, j)
				close(j.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(batches)
		var batch []*verifyJob
		n := 0
		flush := func() bool {
			lookUpVerifyBatch(st, batch)
			ok := len(batch) == 0 || func() bool {
				select {
				case batches <- batch:
					return true
				case <-ctx.Done():
					return false
				}
			}()
			batch, n = nil, 0
			return ok
		}
		for j := range read {
			select {
			case <-j.done:
			case <-ctx.Done():
				return nil
			}
			batch = append(batch, j)
			n += len(j.ids)
			if (n >= lim.indexBatch || j.err != nil) && !flush() {
				return nil
			}
		}
		flush()
		return nil
	})

	// ancestors are the last quants' headers, the parent's first, for the
	// median time past.
	ancestors := make([]*quant.Header, 0, medianTimePastSpan)
	ancestors = append(ancestors, &bang.Header)
	for batch := range batches {
		for _, j := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if j.err != nil {
				return j.err
			}
			h := &j.header
			if j.alone != nil {
				return fmt.Errorf("verify: quant %d: %w", h.Height, j.alone)
			}
			mtp, err := c.medianTimePastOf(ancestors)
			if err != nil {
				return fmt.Errorf("verify: quant %d: %w", h.Height, err)
			}
			if err := c.checkOnParent(h, &parent, mtp); err != nil {
				return fmt.Errorf("verify: quant %d: %w", h.Height, err)
			}
			if err := j.bodyErr(); err != nil {
				return fmt.Errorf("verify: quant %d: %w", h.Height, err)
			}
			meta := c.childMetaOf(&parent.Meta, h, len(j.ids)) // checkAlone: as many as the header says
			if j.metaErr != nil {
				return fmt.Errorf("verify: quant %d: meta: %w", h.Height, j.metaErr)
			}
			stored := j.meta
			if stored.Height != meta.Height || stored.Work.Cmp(meta.Work) != 0 || stored.Txs != meta.Txs {
				return fmt.Errorf("verify: quant %d: stored meta (height %d, work %s, txs %d) differs from the chain's (%d, %s, %d)",
					h.Height, stored.Height, stored.Work, stored.Txs, meta.Height, meta.Work, meta.Txs)
			}
			parent = Tip{Hash: j.hash, Header: *h, Meta: meta}
			if len(ancestors) == medianTimePastSpan {
				ancestors = ancestors[:medianTimePastSpan-1]
			}
			ancestor := *h // a copy: j is let go
			ancestors = slices.Insert(ancestors, 0, &ancestor)
			if progress != nil {
				progress(h.Height, tipMeta.Height)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if parent.Hash != tipHash {
		return fmt.Errorf("verify: the main chain ends at %d %s, but the tip is %d %s", parent.Header.Height, parent.Hash, tipMeta.Height, tipHash)
	}
	return checkStoredKeys(ctx, st)
}

// verifyJob is one quant on its way through VerifyStored's pipeline.
type verifyJob struct {
	q    *quant.Quant  // until checked alone; then nil, its transactions let go
	err  error         // the read's fault, in place of a quant
	done chan struct{} // closed when checkVerifyJob has set the fields below

	header  quant.Header
	hash    quant.Hash
	ids     []quant.Hash
	alone   error // checkAlone's fault
	body    error // checkBody's fault but the index's, or the record index's
	reached int   // the last transaction whose index entry checkBody would have looked at; -1: none
	meta    Meta  // the stored meta
	metaErr error

	index error // lookUpVerifyBatch's: the fault of the first transaction whose index entry is wrong
	at    int   // that transaction's index in the quant
}

// checkVerifyJob checks what VerifyStored checks of j.q that needs nothing
// of its parent, but the transaction index: the rules on the quant alone,
// then its body (its record writes against the stored record state before
// it), and the stored versions and meta. It stops at the first fault, as
// validate does; where the body's check looks at a transaction's index
// entry it notes how far it got (j.reached) for lookUpVerifyBatch.
func (c *Chain) checkVerifyJob(st Stored, j *verifyJob) {
	q := j.q
	j.q = nil
	j.header = q.Header
	j.hash = q.Hash()
	j.reached = -1
	j.meta, j.metaErr = st.Meta(j.hash)
	if j.alone = c.checkAlone(q); j.alone != nil {
		return
	}
	j.ids = quant.TxIDs(q.Txs)
	reached := func(_ quant.Hash, i int) error {
		j.reached = i
		return nil
	}
	keys := &keyState{base: c.atOrBefore(Location{Height: q.Header.Height - 1, Index: ^uint32(0)})}
	versions, err := c.checkBody(q, j.ids, reached, keys)
	if err != nil {
		j.body = err
		return
	}
	j.body = checkStoredVersions(st, versions)
}

// lookUpVerifyBatch looks up the index entries of the transactions of
// batch's quants, checked alone, at once, and sets each quant's first
// wrong one: an entry must point at its transaction's own place (so that a
// transaction twice on the chain is found: its entry points at one place).
func lookUpVerifyBatch(st Stored, batch []*verifyJob) {
	var ids []quant.Hash
	for _, j := range batch {
		ids = append(ids, j.ids...)
	}
	if len(ids) == 0 {
		return
	}
	locs, errs := st.TxLocations(ids)
	k := 0
	for _, j := range batch {
		for i, id := range j.ids {
			if errs != nil && errs[k+i] != nil {
				j.index, j.at = txErr(i, fmt.Errorf("transaction index: %w", errs[k+i])), i
				break
			}
			if loc := locs[k+i]; loc.Height != j.header.Height || loc.Index != uint32(i) {
				j.index, j.at = txErr(i, quant.Errorf(quant.CodeDuplicate, "transaction %s is indexed at %d/%d, found at %d/%d",
					id, loc.Height, loc.Index, j.header.Height, i)), i
				break
			}
		}
		k += len(j.ids)
	}
}

// bodyErr is the quant's first fault in its body, as validate and
// checkStoredVersions would find it: checkBody looks at a transaction's
// index entry after that transaction's other checks, and only if every
// transaction before it passed.
func (j *verifyJob) bodyErr() error {
	if j.index != nil && j.at <= j.reached {
		return j.index
	}
	return j.body
}

// checkStoredVersions requires the record index to hold exactly the
// versions that re-checking the chain makes.
func checkStoredVersions(st Reader, versions []Version) error {
	for _, v := range versions {
		got, err := st.RecordAt(v.Key, v.Location())
		if err != nil {
			return fmt.Errorf("record index: %q at %d/%d: %w", v.Key, v.Height, v.Index, err)
		}
		if !sameVersion(&got, &v) {
			return fmt.Errorf("record index: %q at %d/%d holds %+v, the chain makes %+v", v.Key, v.Height, v.Index, got, v)
		}
	}
	return nil
}

// checkStoredKeys requires every indexed key to have a version on the
// main chain, the latest of its history.
func checkStoredKeys(ctx context.Context, st Reader) error {
	after := ""
	for {
		keys, err := st.Keys("", after, MaxRecordPage)
		if err != nil {
			return fmt.Errorf("verify: record keys: %w", err)
		}
		for _, k := range keys {
			if err := ctx.Err(); err != nil {
				return err
			}
			latest, err := st.RecordAt(k, LastLocation)
			if err != nil {
				return fmt.Errorf("verify: record %q is listed but has no version: %w", k, err)
			}
			if at, err := st.TxLocation(latest.TxID); err != nil || at != latest.Location() {
				return fmt.Errorf("verify: record %q: its latest version's transaction %s is not at %d/%d", k, latest.TxID, latest.Height, latest.Index)
			}
		}
		if len(keys) < MaxRecordPage {
			return nil
		}
		after = keys[len(keys)-1]
	}
}

func sameVersion(a, b *Version) bool {
	return a.Key == b.Key && a.Height == b.Height && a.Index == b.Index && a.TxID == b.TxID &&
		a.Time == b.Time && bytes.Equal(a.Signer, b.Signer) && a.Lock.Equal(b.Lock)
}
