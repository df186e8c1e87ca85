package chain

import (
	"errors"
	"fmt"
	"testing"

	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestHeaderChain: the headers between two quants of a branch link up,
// oldest first; a quant off the branch, or below, is not an ancestor; the
// limit is checked; and with TxProof they make proofs that verify
// offline against the tip's hash.
func TestHeaderChain(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.t = f.clock.t.Add(60_000_000_000) // all quants below are in the past
	quants := []*quant.Quant{f.c.Bang()}
	for n := range 5 {
		txs := make([]*quant.Tx, n+1)
		for i := range txs {
			txs[i] = f.tx(fmt.Sprintf(`{"n":%d,"i":%d}`, n, i), i%2 == 0)
		}
		q := f.on(quants[len(quants)-1], txs...)
		f.mustAdd(q)
		quants = append(quants, q)
	}
	side := f.on(quants[2])
	f.mustAdd(side)
	if f.c.Tip().Hash != quants[5].Hash() {
		t.Fatal("the side quant became the tip")
	}

	for i, from := range quants {
		for j := i; j < len(quants); j++ {
			hs, err := f.c.HeaderChain(from.Hash(), quants[j].Hash(), 10)
			if err != nil {
				t.Fatalf("%d to %d: %v", i, j, err)
			}
			if len(hs) != j-i {
				t.Fatalf("%d to %d: %d headers", i, j, len(hs))
			}
			prev := from.Hash()
			for k, h := range hs {
				if h.Prev != prev || h.Hash() != quants[i+k+1].Hash() {
					t.Fatalf("%d to %d: header %d is not quant %d", i, j, k, i+k+1)
				}
				prev = h.Hash()
			}
		}
	}
	if hs, err := f.c.HeaderChain(quants[2].Hash(), side.Hash(), 10); err != nil || len(hs) != 1 || hs[0].Hash() != side.Hash() {
		t.Fatalf("to a side quant from its parent: %v, %d headers", err, len(hs))
	}
	refused := []struct {
		name     string
		from, to quant.Hash
		max      int
		want     error
	}{
		{"to below from", quants[3].Hash(), quants[1].Hash(), 10, ErrNotAncestor},
		{"to on another branch", quants[3].Hash(), side.Hash(), 10, ErrNotAncestor},
		{"from on another branch", side.Hash(), quants[4].Hash(), 10, ErrNotAncestor},
		{"over the limit", quants[0].Hash(), quants[5].Hash(), 4, ErrTooLong},
		{"from unknown", quant.Hash{1}, quants[5].Hash(), 10, ErrNotFound},
		{"to unknown", quants[1].Hash(), quant.Hash{1}, 10, ErrNotFound},
	}
	for _, tc := range refused {
		if _, err := f.c.HeaderChain(tc.from, tc.to, tc.max); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if hs, err := f.c.HeaderChain(quants[0].Hash(), quants[5].Hash(), 5); err != nil || len(hs) != 5 {
		t.Fatalf("at the limit: %v", err)
	}

	tip := f.c.Tip().Hash
	for _, q := range quants[1:] {
		for i, tx := range q.Txs {
			p, err := f.c.TxProof(tx.ID())
			if err != nil {
				t.Fatal(err)
			}
			hs, err := f.c.HeaderChain(p.Quant, tip, 10)
			if err != nil {
				t.Fatal(err)
			}
			v, err := proof.Verify(proof.New(p.Tx, p.Index, &p.Header, p.Path, hs), tip)
			if err != nil {
				t.Fatalf("quant %d tx %d: %v", q.Header.Height, i, err)
			}
			if v.ID != tx.ID() || v.Height != q.Header.Height || v.Confirmations() != p.Confirmations {
				t.Fatalf("quant %d tx %d: verified %+v", q.Header.Height, i, v)
			}
		}
	}
}
