package chain

import (
	"context"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// builtFixture is a fixture whose chain takes the transactions of pool as
// verified at admission, counting the lookups.
type builtFixture struct {
	*fixture
	pool    map[quant.Hash]bool
	lookups int
}

func newBuiltFixture(t *testing.T) *builtFixture {
	f := &builtFixture{fixture: newFixture(t, nil), pool: map[quant.Hash]bool{}}
	c, err := Open(f.st, testEngines, Options{Now: f.clock.Now, Verified: func(id quant.Hash) bool {
		f.lookups++
		return f.pool[id]
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

// pooled makes n signed transactions and admits them to the pool.
func (f *builtFixture) pooled(n int) []*quant.Tx {
	var txs []*quant.Tx
	for range n {
		tx := f.tx(`{"a":1}`, true)
		f.pool[tx.ID()] = true
		txs = append(txs, tx)
	}
	return txs
}

// sealed is Template of txs on the tip, sealed; it checks that nothing was
// dropped.
func (f *builtFixture) sealed(txs []*quant.Tx) *quant.Quant {
	f.t.Helper()
	f.clock.t = f.clock.t.Add(time.Second)
	q, dropped, err := f.c.Template(txs, nil)
	if err != nil || len(dropped) > 0 {
		f.t.Fatalf("Template: %v, dropped %d", err, len(dropped))
	}
	if err := f.c.Engine().Seal(context.Background(), &q.Header); err != nil {
		f.t.Fatal(err)
	}
	return q
}

// TestAddBuilt: Add of the quant Template made last on the tip, only
// sealed since, does not check its body again (no Verified lookup); a
// transaction swapped in, a transaction not verified at admission, or
// another template made in between brings every check back.
func TestAddBuilt(t *testing.T) {
	f := newBuiltFixture(t)

	q := f.sealed(f.pooled(3))
	if f.lookups != 3 {
		t.Fatalf("Template looked up %d transactions, want 3", f.lookups)
	}
	f.lookups = 0
	f.add(q)
	if f.lookups != 0 {
		t.Errorf("Add of the quant Template made looked up %d transactions, want none", f.lookups)
	}
	if loc, err := f.st.TxLocation(q.Txs[2].ID()); err != nil || loc.Height != q.Header.Height || loc.Index != 2 {
		t.Errorf("a transaction of the added quant: %+v, %v", loc, err)
	}

	t.Run("a transaction swapped after Template", func(t *testing.T) {
		txs := f.pooled(3)
		q := f.sealed(txs[:2])
		q.Txs[1] = txs[2] // the header still names txs[1]
		if _, err := f.c.Add(q); quant.CodeOf(err) != quant.CodeBadMerkleRoot {
			t.Fatalf("Add: %v, want %s", err, quant.CodeBadMerkleRoot)
		}
	})

	t.Run("a transaction not verified at admission", func(t *testing.T) {
		forged := f.tx(`{"a":2}`, true)
		forged.Data = []byte(`{"a":3}`) // the signature no longer matches; not in the pool
		q := f.sealed(append(f.pooled(1), forged))
		if _, err := f.c.Add(q); quant.CodeOf(err) != quant.CodeBadSignature {
			t.Fatalf("Add: %v, want %s", err, quant.CodeBadSignature)
		}
	})

	t.Run("another template in between", func(t *testing.T) {
		txs := f.pooled(2)
		q := f.sealed(txs[:1])
		f.sealed(txs[1:]) // the chain remembers only the last
		f.lookups = 0
		f.add(q)
		if f.lookups != 1 {
			t.Errorf("Add looked up %d transactions, want 1 (checked in full)", f.lookups)
		}
	})

	t.Run("the tip moved and came back", func(t *testing.T) {
		txs := f.pooled(2)
		q := f.sealed(txs[:1])
		f.c.setTip(f.c.Tip()) // the same tip, a new generation: the state may have changed in between
		f.lookups = 0
		f.add(q)
		if f.lookups != 1 {
			t.Errorf("Add looked up %d transactions, want 1 (checked in full)", f.lookups)
		}
	})
}
