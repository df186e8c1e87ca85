package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"os"
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
	bang := storeDefaultChain(t, dir)

	out, _, err := runT(t, nil, "verify", "--data-dir", dir)
	if err != nil || !strings.HasPrefix(out, "ok: chain qbc "+bang.Hash().String()+": 1 quants (heights 0 to 0)") {
		t.Fatalf("verify of a sound chain: %q, %v", out, err)
	}

	db, err := store.Open(store.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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

// TestVerifyFork runs a node, forks its chain at height 2, leaps on both,
// and checks that qbc verify passes the data directory: the fork's stored
// chain (its bang at 2, its quants from 3) verifies on its own.
func TestVerifyFork(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(gen, []byte(benchGenesis), 0o600); err != nil {
		t.Fatal(err)
	}
	forkRules := filepath.Join(dir, "fork.json")
	if err := os.WriteFile(forkRules, []byte(strings.Replace(benchGenesis, "bench-test", "fork-test", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Genesis = gen
	n, err := node.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node run: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("node close: %v", err)
		}
	}
	defer func() {
		if ctx.Err() == nil {
			stop()
		}
	}()
	vars := map[string]string{"QBC_NODE": n.Addr()}
	for i := 0; i < 3; i++ {
		if _, errOut, err := runT(t, vars, "leap"); err != nil {
			t.Fatalf("leap: %v\n%s", err, errOut)
		}
	}
	out, errOut, err := runT(t, vars, "chain", "fork", "--height", "2", forkRules)
	if err != nil {
		t.Fatalf("chain fork: %v\n%s", err, errOut)
	}
	var fork struct {
		ID quant.Hash `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &fork); err != nil {
		t.Fatalf("chain fork printed %q: %v", out, err)
	}
	for i := 0; i < 2; i++ {
		if _, errOut, err := runT(t, vars, "leap", "--chain", fork.ID.String()); err != nil {
			t.Fatalf("leap on the fork: %v\n%s", err, errOut)
		}
	}
	stop()

	out, _, err = runT(t, nil, "verify", "--data-dir", cfg.DataDir, "--chain", fork.ID.String())
	if err != nil || !strings.HasPrefix(out, "ok: chain fork-test "+fork.ID.String()+": 3 quants (heights 2 to 4)") {
		t.Fatalf("verify of the fork: %q, %v", out, err)
	}
	out, _, err = runT(t, nil, "verify", "--data-dir", cfg.DataDir)
	if err != nil || strings.Count(out, "ok: chain ") != 2 {
		t.Fatalf("verify of the data directory: %q, %v", out, err)
	}
}

// TestVerifyQuotesChainNames: a chain's name is anyone's choice, so verify
// prints one that holds control characters quoted with Go's escapes; an
// ANSI escape in it never reaches the terminal raw.
func TestVerifyQuotesChainNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(store.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rules := node.DefaultRules()
	rules.Name = "red\x1b[31m\rok: chain"
	bang, err := quant.NewBang(rules)
	if err != nil {
		t.Fatal(err)
	}
	if err := chain.Init(db.Chain(bang.Hash()), bang, engines.Consensus(nil)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runT(t, nil, "verify", "--data-dir", dir)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, errOut)
	}
	if strings.ContainsAny(out+errOut, "\x1b\r") {
		t.Fatalf("verify printed a control character: %q %q", out, errOut)
	}
	if want := `ok: chain "red\x1b[31m\rok: chain" ` + bang.Hash().String(); !strings.HasPrefix(out, want) {
		t.Fatalf("verify printed %q, want it to start %q", out, want)
	}
	for name, want := range map[string]string{"qbc": "qbc", "température ☀": "température ☀", "a\u202eb": `"a\u202eb"`, "\xff": `"\xff"`} {
		if got := printable(name); got != want {
			t.Errorf("printable(%q) = %s, want %s", name, got, want)
		}
	}
}

// storeDefaultChain stores the default chain's bang in a new data
// directory dir, closed again, and returns the bang.
func storeDefaultChain(t *testing.T, dir string) *quant.Quant {
	t.Helper()
	db, err := store.Open(store.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	bang, err := quant.NewBang(node.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	if err := chain.Init(db.Chain(bang.Hash()), bang, engines.Consensus(nil)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return bang
}
