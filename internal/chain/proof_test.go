package chain

import (
	"errors"
	"fmt"
	"testing"

	"github.com/qbc-chain/qbc/internal/merkle"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestTxProof: every committed transaction, in quants of odd and even
// sizes, gets a proof that verifies against its quant's header alone;
// unknown transactions and those left on an abandoned branch are
// ErrNotFound.
func TestTxProof(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.t = f.clock.t.Add(60_000_000_000) // all quants below are in the past
	var quants []*quant.Quant
	parent := f.c.Bang()
	for _, n := range []int{1, 2, 3, 5, 8} {
		txs := make([]*quant.Tx, n)
		for i := range txs {
			txs[i] = f.tx(fmt.Sprintf(`{"n":%d,"i":%d}`, n, i), i%2 == 0)
		}
		q := f.on(parent, txs...)
		f.mustAdd(q)
		quants, parent = append(quants, q), q
	}
	tip := f.c.Tip().Header.Height
	for _, q := range quants {
		for i, tx := range q.Txs {
			p, err := f.c.TxProof(tx.ID())
			if err != nil {
				t.Fatalf("quant %d tx %d: %v", q.Header.Height, i, err)
			}
			if p.Tx.ID() != tx.ID() || p.Height != q.Header.Height || p.Index != uint32(i) || p.Quant != q.Hash() ||
				p.Header.Hash() != q.Hash() || p.Confirmations != tip-q.Header.Height+1 {
				t.Fatalf("quant %d tx %d: proof %+v", q.Header.Height, i, p)
			}
			path := make([][merkle.Size]byte, len(p.Path))
			for j, h := range p.Path {
				path[j] = h
			}
			if err := merkle.Verify(p.Header.TxRoot, tx.ID(), uint64(p.Index), uint64(p.Header.TxCount), path); err != nil {
				t.Fatalf("quant %d tx %d: the proof does not verify: %v", q.Header.Height, i, err)
			}
		}
	}
	if _, err := f.c.TxProof(quant.Hash{7}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown transaction: %v, want ErrNotFound", err)
	}

	// A heavier branch from the bang abandons every quant above; their
	// transactions are no longer on the main chain.
	lost := quants[0].Txs[0].ID()
	b := f.c.Bang()
	for range len(quants) + 1 {
		b = f.on(b)
		f.mustAdd(b)
	}
	if f.c.Tip().Hash != b.Hash() {
		t.Fatal("the heavier branch did not become the chain")
	}
	if _, err := f.c.TxProof(lost); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a transaction of an abandoned quant: %v, want ErrNotFound", err)
	}
}
