package chain

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Stored is what VerifyStored reads: a chain's storage, its id, and a walk
// of its main chain. *store.Chain implements it.
type Stored interface {
	Reader
	// ID is the chain id the storage is kept under.
	ID() quant.Hash
	// Iterate calls fn with each main-chain quant from height from upward,
	// in order, until the tip, fn's first error or the end of ctx.
	Iterate(ctx context.Context, from uint64, fn func(*quant.Quant) error) error
}

// VerifyStored re-checks a stored chain from its bang: every quant against
// its parent with the same rules Add applies, the height and transaction
// indexes, and the stored accumulated weight and counts. It returns the first
// fault, naming its height, and calls progress (if set) after each quant.
func VerifyStored(ctx context.Context, st Stored, engines Engines, progress func(height, tip uint64)) error {
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
	c := &Chain{id: bang.Hash(), rules: rules, bang: bang, engine: engine, schema: sch, zk: zkk, st: st}
	c.opts.Now = time.Now
	parent := Tip{Hash: bang.Hash(), Header: bang.Header, Meta: Meta{Height: bang.Header.Height, Work: new(big.Int)}}
	if at, err := st.HashAt(bang.Header.Height); err != nil || at != parent.Hash {
		return fmt.Errorf("verify: quant %d: the height index does not hold the bang there", bang.Header.Height)
	}
	err = st.Iterate(ctx, bang.Header.Height+1, func(q *quant.Quant) error {
		height := q.Header.Height
		at := func(id quant.Hash, i int) error {
			loc, err := st.TxLocation(id)
			if err != nil {
				return fmt.Errorf("transaction index: %w", err)
			}
			if loc.Height != height || loc.Index != uint32(i) {
				return quant.Errorf(quant.CodeDuplicate, "transaction %s is indexed at %d/%d, found at %d/%d", id, loc.Height, loc.Index, height, i)
			}
			return nil
		}
		keys := &keyState{base: c.atOrBefore(Location{Height: height - 1, Index: ^uint32(0)})}
		_, versions, err := c.validate(q, &parent, at, keys)
		if err != nil {
			return fmt.Errorf("verify: quant %d: %w", height, err)
		}
		if err := checkStoredVersions(st, versions); err != nil {
			return fmt.Errorf("verify: quant %d: %w", height, err)
		}
		hash := q.Hash()
		meta := c.childMeta(&parent.Meta, q)
		stored, err := st.Meta(hash)
		if err != nil {
			return fmt.Errorf("verify: quant %d: meta: %w", height, err)
		}
		if stored.Height != meta.Height || stored.Work.Cmp(meta.Work) != 0 || stored.Txs != meta.Txs {
			return fmt.Errorf("verify: quant %d: stored meta (height %d, work %s, txs %d) differs from the chain's (%d, %s, %d)",
				height, stored.Height, stored.Work, stored.Txs, meta.Height, meta.Work, meta.Txs)
		}
		parent = Tip{Hash: hash, Header: q.Header, Meta: meta}
		if progress != nil {
			progress(height, tipMeta.Height)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if parent.Hash != tipHash {
		return fmt.Errorf("verify: the main chain ends at %d %s, but the tip is %d %s", parent.Header.Height, parent.Hash, tipMeta.Height, tipHash)
	}
	return checkStoredKeys(ctx, st)
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
