package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qbc-chain/qbc/internal/quant"
)

// longFixture is a chain of n quants of 4 unsigned transactions each.
func longFixture(t *testing.T, n int) *fixture {
	t.Helper()
	f := newFixture(t, nil)
	for h := 1; h <= n; h++ {
		var txs []*quant.Tx
		for i := range 4 {
			txs = append(txs, f.tx(fmt.Sprintf(`{"h":%d,"i":%d}`, h, i), false))
		}
		f.add(f.quant(txs, nil))
	}
	return f
}

// stored returns the stored entry of the main chain's quant at height.
func (f *fixture) stored(height uint64) Entry {
	f.t.Helper()
	h, err := f.st.HashAt(height)
	if err != nil {
		f.t.Fatal(err)
	}
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	return f.st.quants[h]
}

// verifyOneByOne is how VerifyStored checked a chain before its pipeline:
// each quant in turn, through validate. Its first fault is the one
// VerifyStored must report.
func verifyOneByOne(st Stored) error {
	bang, _ := st.Bang()
	rules, _ := quant.CheckBang(bang)
	engine, _ := newEngine(rules, testEngines)
	c := &Chain{id: bang.Hash(), rules: rules, bang: bang, engine: engine, st: st}
	c.opts.Now = time.Now
	parent := Tip{Hash: bang.Hash(), Header: bang.Header, Meta: Meta{Height: bang.Header.Height, Work: new(big.Int)}}
	return st.Iterate(context.Background(), bang.Header.Height+1, func(q *quant.Quant) error {
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
		meta := c.childMeta(&parent.Meta, q)
		stored, err := st.Meta(q.Hash())
		if err != nil {
			return fmt.Errorf("verify: quant %d: meta: %w", height, err)
		}
		if stored.Height != meta.Height || stored.Work.Cmp(meta.Work) != 0 || stored.Txs != meta.Txs {
			return fmt.Errorf("verify: quant %d: stored meta (height %d, work %s, txs %d) differs from the chain's (%d, %s, %d)",
				height, stored.Height, stored.Work, stored.Txs, meta.Height, meta.Work, meta.Txs)
		}
		parent = Tip{Hash: q.Hash(), Header: q.Header, Meta: meta}
		return nil
	})
}

// TestVerifyStoredPipeline damages a long chain deep inside, in each of
// the ways VerifyStored's stages find, and requires the pipeline (with
// limits small enough that every stage holds several quants, and the
// index is looked up in many batches) to report the very fault a walk of
// one quant after another reports, at its height.
func TestVerifyStoredPipeline(t *testing.T) {
	const n = 60
	tiny := verifyLimits{workers: 4, window: 3, indexBatch: 7}
	for _, tc := range []struct {
		name   string
		damage func(f *fixture)
		height uint64
		code   quant.Code
		is     error
	}{
		{name: "none"},
		{
			name: "index entry points elsewhere",
			damage: func(f *fixture) {
				f.st.txs[f.stored(37).Quant.Txs[2].ID()] = Location{Height: 5, Index: 0}
			},
			height: 37, code: quant.CodeDuplicate,
		},
		{
			name:   "index entry missing",
			damage: func(f *fixture) { delete(f.st.txs, f.stored(50).Quant.Txs[0].ID()) },
			height: 50, is: ErrNotFound,
		},
		{
			name: "transaction changed",
			damage: func(f *fixture) {
				e := f.stored(23)
				tx := *e.Quant.Txs[1]
				tx.Data = []byte(`{"changed":true}`)
				e.Quant.Txs[1] = &tx
			},
			height: 23, code: quant.CodeBadMerkleRoot,
		},
		{
			name:   "stored meta",
			damage: func(f *fixture) { e := f.stored(30); e.Meta.Txs++; f.st.quants[e.Quant.Hash()] = e },
			height: 30,
		},
		{
			name: "the lower of two faults",
			damage: func(f *fixture) {
				e := f.stored(41)
				tx := *e.Quant.Txs[0]
				tx.Nonce++
				e.Quant.Txs[0] = &tx
				delete(f.st.txs, f.stored(12).Quant.Txs[3].ID())
			},
			height: 12, is: ErrNotFound,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := longFixture(t, n)
			if tc.damage != nil {
				tc.damage(f)
			}
			want := verifyOneByOne(f.st)
			for _, lim := range []verifyLimits{tiny, {workers: 1, window: 1, indexBatch: 1}, defaultVerifyLimits(2)} {
				err := verifyStored(context.Background(), f.st, testEngines, nil, lim)
				if fmt.Sprint(err) != fmt.Sprint(want) {
					t.Fatalf("limits %+v: %v\none by one: %v", lim, err, want)
				}
			}
			if tc.damage == nil {
				if want != nil {
					t.Fatal(want)
				}
				return
			}
			if !strings.HasPrefix(fmt.Sprint(want), fmt.Sprintf("verify: quant %d: ", tc.height)) ||
				tc.code != "" && quant.CodeOf(want) != tc.code || tc.is != nil && !errors.Is(want, tc.is) {
				t.Fatalf("%v, want a fault at quant %d (code %q, is %v)", want, tc.height, tc.code, tc.is)
			}
		})
	}
}

// TestVerifyStoredTxOrder requires a quant's faults to be reported in the
// order validate takes them when one is the transaction index's, which the
// pipeline looks up after the rest: a transaction's entry is looked at
// after its other checks, and only if every transaction before it passed.
func TestVerifyStoredTxOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		fix  func(f *fixture, q *quant.Quant) // after the quant [a b a c] is stored at height 3
		want string                           // the fault's start, after "verify: quant 3: duplicate: "
		what string                           // and a part of its end
	}{
		// a's entry points at its second place, 2: the first, 0, is wrong
		// before the duplicate at 2 is reached.
		{name: "index first", want: "transaction 0: ", what: "is indexed at 3/2, found at 3/0"},
		{
			name: "duplicate first",
			fix: func(f *fixture, q *quant.Quant) {
				f.st.txs[q.Txs[0].ID()] = Location{Height: 3, Index: 0}
				f.st.txs[q.Txs[3].ID()] = Location{Height: 3, Index: 9}
			},
			want: "transaction 2: ", what: "appears twice in the quant",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := longFixture(t, 2)
			a, b, c := f.tx(`"a"`, false), f.tx(`"b"`, false), f.tx(`"c"`, false)
			q := f.quant([]*quant.Tx{a, b, a, c}, nil)
			head := f.c.Tip()
			if err := f.st.Connect(Entry{Quant: q, Meta: f.c.childMeta(&head.Meta, q)}); err != nil {
				t.Fatal(err)
			}
			if tc.fix != nil {
				tc.fix(f, q)
			}
			want := verifyOneByOne(f.st)
			if s := fmt.Sprint(want); !strings.HasPrefix(s, "verify: quant 3: duplicate: "+tc.want) || !strings.Contains(s, tc.what) {
				t.Fatalf("one by one: %v, want %q ... %q at quant 3", want, tc.want, tc.what)
			}
			for _, lim := range []verifyLimits{{workers: 2, window: 2, indexBatch: 3}, defaultVerifyLimits(2)} {
				if err := verifyStored(context.Background(), f.st, testEngines, nil, lim); fmt.Sprint(err) != fmt.Sprint(want) {
					t.Fatalf("limits %+v: %v\none by one: %v", lim, err, want)
				}
			}
		})
	}
}

// TestVerifyStoredCancel cancels VerifyStored from its progress report
// deep in a long chain: it stops there, with the context's error, and
// leaves no goroutine behind.
func TestVerifyStoredCancel(t *testing.T) {
	f := longFixture(t, 60)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, lim := range []verifyLimits{{workers: 3, window: 2, indexBatch: 5}, defaultVerifyLimits(2)} {
		ctx, cancel := context.WithCancel(context.Background())
		last := uint64(0)
		err := verifyStored(ctx, f.st, testEngines, func(height, tip uint64) {
			last = height
			if height == 20 {
				cancel()
			}
		}, lim)
		cancel()
		if !errors.Is(err, context.Canceled) || last != 20 {
			t.Fatalf("limits %+v: %v, last progress at %d; want context.Canceled at 20", lim, err, last)
		}
	}
}
