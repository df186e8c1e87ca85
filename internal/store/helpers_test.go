package store

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// openTest opens a store in dir (a fresh temporary one if dir is "") and
// closes it when the test ends, unless the test closed it.
func openTest(t testing.TB, dir string) *DB {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := Open(Options{Dir: dir, Logger: discard()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testBang returns the bang of a test chain; created makes distinct chains.
func testBang(t testing.TB, created int64) *quant.Quant {
	t.Helper()
	r := quant.DefaultRules("test", 1_700_000_000_000+created)
	r.Engine = "pow"
	q, err := quant.NewBang(r)
	if err != nil {
		t.Fatalf("NewBang: %v", err)
	}
	return q
}

// builder makes test quants for one chain: each transaction's nonce is
// unique across the builder, so transaction ids are too.
type builder struct {
	chain quant.Hash
	nonce uint64
	size  int // payload bytes per transaction
	rng   *rand.Rand
}

func newBuilder(chain quant.Hash, seed uint64) *builder {
	return &builder{chain: chain, size: 200, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (b *builder) tx() *quant.Tx {
	b.nonce++
	data := make([]byte, b.size)
	for i := 0; i+8 <= len(data); i += 8 {
		binary.LittleEndian.PutUint64(data[i:], b.rng.Uint64())
	}
	return &quant.Tx{ChainID: b.chain, Time: 1_700_000_000_000 + int64(b.nonce), Nonce: b.nonce, Kind: quant.DataBytes, Data: data}
}

// child returns a quant of n fresh transactions on parent, with the given
// extra transactions appended.
func (b *builder) child(parent *quant.Header, parentHash quant.Hash, n int, extra ...*quant.Tx) *quant.Quant {
	txs := make([]*quant.Tx, 0, n+len(extra))
	for range n {
		txs = append(txs, b.tx())
	}
	txs = append(txs, extra...)
	return &quant.Quant{
		Header: quant.Header{
			ChainID: b.chain,
			Height:  parent.Height + 1,
			Prev:    parentHash,
			TxRoot:  quant.TxRoot(txs),
			Time:    parent.Time + 1000,
			TxCount: uint32(len(txs)),
			Seal:    []byte{byte(b.rng.Uint32())}, // siblings differ even with equal bodies
		},
		Txs: txs,
	}
}

// entry pairs q with a meta whose work is its height plus bonus.
func entry(q *quant.Quant, bonus int64) chain.Entry {
	return chain.Entry{Quant: q, Meta: chain.Meta{Height: q.Header.Height, Work: big.NewInt(int64(q.Header.Height) + bonus)}}
}

// grow connects n quants of txs transactions each on c's tip and returns
// them (the bang first if the chain was empty and bang is given).
func grow(t testing.TB, c *Chain, b *builder, bang *quant.Quant, n, txs int) []*quant.Quant {
	t.Helper()
	var out []*quant.Quant
	tipHash, _, err := c.Tip()
	if err != nil {
		if err := c.Connect(entry(bang, 0)); err != nil {
			t.Fatalf("Connect bang: %v", err)
		}
		out = append(out, bang)
		tipHash = bang.Hash()
	}
	parent, err := c.Header(tipHash)
	if err != nil {
		t.Fatalf("Header(tip): %v", err)
	}
	for range n {
		q := b.child(parent, tipHash, txs)
		if err := c.Connect(entry(q, 0)); err != nil {
			t.Fatalf("Connect %d: %v", q.Header.Height, err)
		}
		out = append(out, q)
		parent, tipHash = &q.Header, q.Hash()
	}
	return out
}

func sameQuant(t testing.TB, got, want *quant.Quant) {
	t.Helper()
	if got == nil {
		t.Fatalf("got nil quant, want %d", want.Header.Height)
	}
	if !bytes.Equal(got.Encode(), want.Encode()) {
		t.Fatalf("quant %d differs from what was stored", want.Header.Height)
	}
}
