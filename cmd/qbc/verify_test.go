package main

import (
	"io"
	"log/slog"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/engines"
	"github.com/qbc-chain/qbc/internal/node"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// TestVerifyFindsDamage stores a chain whose quant 1 breaks a consensus rule
// (its Merkle root does not match its transactions: the store checks links,
// not rules) and checks that qbc verify fails naming height 1, while the
// same chain without it passes.
func TestVerifyFindsDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(store.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	bang, err := quant.NewBang(node.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	st := db.Chain(bang.Hash())
	if err := chain.Init(st, bang, engines.Consensus(nil)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	out, _, err := runT(t, nil, "verify", "--data-dir", dir)
	if err != nil || !strings.HasPrefix(out, "ok: chain qbc "+bang.Hash().String()+": 1 quants (heights 0 to 0)") {
		t.Fatalf("verify of a sound chain: %q, %v", out, err)
	}

	db, err = store.Open(store.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tx := &quant.Tx{ChainID: bang.Hash(), Time: node.DefaultChainCreated + 1000, Kind: quant.DataJSON, Data: []byte(`{"a":1}`)}
	q := &quant.Quant{
		Header: quant.Header{
			ChainID: bang.Hash(), Height: 1, Prev: bang.Hash(),
			TxRoot: quant.Hash{0xba, 0xd}, // not the root of Txs
			Time:   node.DefaultChainCreated + 2000, TxCount: 1, Seal: make([]byte, 16),
		},
		Txs: []*quant.Tx{tx},
	}
	if err := db.Chain(bang.Hash()).Connect(chain.Entry{Quant: q, Meta: chain.Meta{Height: 1, Work: big.NewInt(1), Txs: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	out, _, err = runT(t, nil, "verify", "--data-dir", dir)
	if err == nil {
		t.Fatalf("verify passed a damaged chain: %q", out)
	}
	if msg := err.Error(); !strings.Contains(msg, "is damaged") || !strings.Contains(msg, "quant 1:") {
		t.Errorf("verify's error does not name height 1: %v", err)
	}
	if out != "" {
		t.Errorf("verify printed a summary for a damaged chain: %q", out)
	}

	// Missing data directories and unknown chains are errors too.
	if _, _, err := runT(t, nil, "verify", "--data-dir", filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("verify of a missing directory passed")
	}
	if _, _, err := runT(t, nil, "verify", "--data-dir", dir, "--chain", strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), "holds no chain") {
		t.Errorf("verify --chain of an unknown chain: %v", err)
	}
}
