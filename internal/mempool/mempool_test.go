package mempool

import (
	"errors"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

func tx(n uint64, size int) *quant.Tx {
	return &quant.Tx{Time: 1, Nonce: n, Kind: quant.DataBytes, Data: make([]byte, size)}
}

func mustNew(t testing.TB, o Options) *Pool {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAddTakeRemove(t *testing.T) {
	p := mustNew(t, Options{})
	var ids []quant.Hash
	for i := uint64(0); i < 10; i++ {
		x := tx(i, 10)
		id := x.ID()
		ids = append(ids, id)
		if err := p.Add(id, x); err != nil {
			t.Fatal(err)
		}
	}
	if p.Len() != 10 {
		t.Fatalf("Len = %d", p.Len())
	}
	txs, got := p.Take(4, 1<<20)
	if len(txs) != 4 || got[0] != ids[0] || got[3] != ids[3] {
		t.Fatalf("Take(4) = %d txs, ids %v, want the 4 oldest", len(txs), got)
	}
	p.Remove(got)
	if p.Len() != 6 || p.Has(ids[0]) || !p.Has(ids[4]) {
		t.Fatalf("after Remove: Len %d, has first %v, has fifth %v", p.Len(), p.Has(ids[0]), p.Has(ids[4]))
	}
	_, got = p.Take(100, 1<<20)
	if len(got) != 6 || got[0] != ids[4] {
		t.Fatalf("Take after Remove = %v", got)
	}
	p.Remove(got)
	if p.Len() != 0 || p.Bytes() != 0 {
		t.Fatalf("empty pool: Len %d Bytes %d", p.Len(), p.Bytes())
	}
}

func TestDuplicateRefused(t *testing.T) {
	p := mustNew(t, Options{})
	x := tx(1, 10)
	if err := p.Add(x.ID(), x); err != nil {
		t.Fatal(err)
	}
	err := p.Add(x.ID(), x)
	if quant.CodeOf(err) != quant.CodeDuplicate {
		t.Fatalf("second Add: %v, want duplicate", err)
	}
}

func TestBounds(t *testing.T) {
	p := mustNew(t, Options{MaxTxs: 3, MaxBytes: quant.MaxTxSize})
	for i := uint64(0); i < 3; i++ {
		x := tx(i, 10)
		if err := p.Add(x.ID(), x); err != nil {
			t.Fatal(err)
		}
	}
	x := tx(99, 10)
	if err := p.Add(x.ID(), x); !errors.Is(err, ErrFull) {
		t.Fatalf("Add past MaxTxs: %v, want ErrFull", err)
	}
	if n, b := p.Free(); n != 0 || b != int64(quant.MaxTxSize)-p.Bytes() {
		t.Fatalf("Free of a full pool = %d txs, %d bytes", n, b)
	}

	p = mustNew(t, Options{MaxTxs: 100, MaxBytes: quant.MaxTxSize})
	big := tx(1, quant.MaxDataSize)
	big.PubKey, big.Sig = make([]byte, 32), make([]byte, 64) // the largest size there is:
	big.Key, big.Reveal = strings.Repeat("k", quant.MaxKeyLen), make([]byte, quant.MaxRevealLen)
	h := quant.Hash{}
	big.Lock = &quant.Lock{Owners: make([][]byte, quant.MaxOwners), Hash: &h, Commitment: &h}
	for i := range big.Lock.Owners {
		big.Lock.Owners[i] = make([]byte, 32)
	}
	for range quant.MaxCosigs {
		big.Cosigs = append(big.Cosigs, quant.Cosig{PubKey: make([]byte, 32), Sig: make([]byte, 64)})
	}
	big.ZK = &quant.ZK{Circuit: quant.ZKMembership, Scope: strings.Repeat("s", quant.MaxScopeLen), Proof: make([]byte, quant.MaxZKProof)}
	if big.EncodedSize() != quant.MaxTxSize {
		t.Fatalf("the largest transaction is %d bytes, MaxTxSize %d", big.EncodedSize(), quant.MaxTxSize)
	}
	if err := p.Add(big.ID(), big); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(x.ID(), x); !errors.Is(err, ErrFull) {
		t.Fatalf("Add past MaxBytes: %v, want ErrFull", err)
	}
	// Take honours a byte budget: the big one does not fit in 1 KiB.
	if txs, _ := p.Take(10, 1024); len(txs) != 0 {
		t.Fatalf("Take(1 KiB) returned %d txs", len(txs))
	}
	if err := (&Options{MaxTxs: 0, MaxBytes: 1}).Validate(); err == nil {
		t.Fatal("Validate accepted MaxTxs 0")
	}
}

func TestCompaction(t *testing.T) {
	p := mustNew(t, Options{})
	for round := 0; round < 50; round++ {
		var ids []quant.Hash
		for i := 0; i < 100; i++ {
			x := tx(uint64(round*1000+i), 8)
			ids = append(ids, x.ID())
			if err := p.Add(x.ID(), x); err != nil {
				t.Fatal(err)
			}
		}
		p.Remove(ids)
	}
	p.mu.Lock()
	n := len(p.mu.queue)
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("queue holds %d removed entries after everything was removed", n)
	}
}

func BenchmarkAdd(b *testing.B) {
	p := mustNew(b, Options{MaxTxs: 1 << 30, MaxBytes: 1 << 40})
	txs := make([]*quant.Tx, b.N)
	ids := make([]quant.Hash, b.N)
	for i := range txs {
		txs[i] = tx(uint64(i), 200)
		ids[i] = txs[i].ID()
	}
	b.ResetTimer()
	for i := range txs {
		if err := p.Add(ids[i], txs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// TestChanged: the channel Changed returns is closed by the next Add that
// admits a transaction, not by a refused one nor by Remove, and a new
// channel follows.
func TestChanged(t *testing.T) {
	p := mustNew(t, Options{MaxTxs: 1})
	closed := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	c := p.Changed()
	if closed(c) || p.Changed() != c {
		t.Fatal("Changed is closed, or not the same channel, before any Add")
	}
	x := tx(1, 10)
	if err := p.Add(x.ID(), x); err != nil {
		t.Fatal(err)
	}
	if !closed(c) {
		t.Fatal("Changed is not closed after Add")
	}
	c = p.Changed()
	if closed(c) {
		t.Fatal("a new Changed is closed already")
	}
	if err := p.Add(x.ID(), x); err == nil {
		t.Fatal("duplicate admitted")
	}
	if err := p.Add(tx(2, 10).ID(), tx(2, 10)); !errors.Is(err, ErrFull) {
		t.Fatalf("Add to a full pool: %v", err)
	}
	p.Remove([]quant.Hash{x.ID()})
	if closed(c) {
		t.Fatal("Changed closed by a refused Add or by Remove")
	}
}
