package sqlproj

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/consensus/consensustest"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

const t0 = 1767225600000

var testEngines = chain.Engines{consensustest.Name: consensustest.Factory}

// fixture is one chain on a real store, with quants made by hand.
type fixture struct {
	t     testing.TB
	dir   string
	db    *store.DB
	st    *store.Chain
	c     *chain.Chain
	key   ed25519.PrivateKey
	nonce uint64
}

// newFixture makes a chain on the test engine in a new store; edit
// changes its rules.
func newFixture(t testing.TB, edit func(r *quant.Rules)) *fixture {
	t.Helper()
	r := quant.DefaultRules("sql test", t0)
	r.Engine = consensustest.Name
	if edit != nil {
		edit(&r)
	}
	bang, err := quant.NewBang(r)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: t.TempDir(), key: ed25519.NewKeyFromSeed(make([]byte, 32))}
	f.open()
	f.st = f.db.Chain(bang.Hash())
	if err := chain.Init(f.st, bang, testEngines); err != nil {
		t.Fatal(err)
	}
	f.openChain(bang.Hash())
	return f
}

func (f *fixture) open() {
	db, err := store.Open(store.Options{Dir: f.dir})
	if err != nil {
		f.t.Fatal(err)
	}
	f.db = db
	f.t.Cleanup(func() { db.Close() })
	ids, _ := db.Chains()
	if len(ids) == 1 {
		f.openChain(ids[0])
	}
}

func (f *fixture) openChain(id quant.Hash) {
	f.st = f.db.Chain(id)
	c, err := chain.Open(f.st, testEngines, chain.Options{Now: func() time.Time { return time.UnixMilli(t0 + 1e9) }})
	if err != nil {
		f.t.Fatal(err)
	}
	f.c = c
}

func (f *fixture) source() Source { return Source{Chain: f.c, Store: f.st} }

// tx makes a JSON transaction, signed when signed is set.
func (f *fixture) tx(data string, signed bool) *quant.Tx {
	f.nonce++
	tx := &quant.Tx{ChainID: f.c.ID(), Time: t0 + int64(f.nonce), Nonce: f.nonce, Kind: quant.DataJSON, Data: []byte(data)}
	if signed {
		tx.Sign(f.key)
	}
	return tx
}

// bytesTx makes a transaction of opaque bytes.
func (f *fixture) bytesTx(b []byte) *quant.Tx {
	f.nonce++
	return &quant.Tx{ChainID: f.c.ID(), Time: t0 + int64(f.nonce), Nonce: f.nonce, Kind: quant.DataBytes, Data: b}
}

// on builds a sealed quant holding txs on parent.
func (f *fixture) on(parent *quant.Quant, txs ...*quant.Tx) *quant.Quant {
	f.t.Helper()
	ph := parent.Header
	q := &quant.Quant{
		Header: quant.Header{ChainID: f.c.ID(), Height: ph.Height + 1, Prev: parent.Hash(),
			TxRoot: quant.TxRoot(txs), Time: ph.Time + 1000, TxCount: uint32(len(txs))},
		Txs: txs,
	}
	if err := f.c.Engine().Prepare(f.st, &ph, &q.Header); err != nil {
		f.t.Fatal(err)
	}
	if err := f.c.Engine().Seal(context.Background(), &q.Header); err != nil {
		f.t.Fatal(err)
	}
	return q
}

func (f *fixture) add(q *quant.Quant) {
	f.t.Helper()
	if _, err := f.c.Add(q); err != nil {
		f.t.Fatalf("add quant %d: %v", q.Header.Height, err)
	}
}

// tipQuant is the tip's quant.
func (f *fixture) tipQuant() *quant.Quant {
	f.t.Helper()
	q, err := f.st.Quant(f.c.Tip().Hash)
	if err != nil {
		f.t.Fatal(err)
	}
	return q
}

// grow adds n quants of per transactions each on the tip.
func (f *fixture) grow(n, per int) {
	f.t.Helper()
	for range n {
		txs := make([]*quant.Tx, per)
		for i := range txs {
			switch i % 3 {
			case 0:
				txs[i] = f.tx(`{"n":1,"s":"x"}`, false)
			case 1:
				txs[i] = f.tx(`{"n":2}`, true)
			default:
				txs[i] = f.bytesTx([]byte{0xff, 0, byte(i)})
			}
		}
		f.add(f.on(f.tipQuant(), txs...))
	}
}
