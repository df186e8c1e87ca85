package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/node"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// TestVerifyDamagedFile damages a table file of a stopped node's data
// directory and checks that qbc verify says so in one line and fails,
// instead of panicking with Pebble's stack trace.
func TestVerifyDamagedFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	storeDefaultChain(t, dir)
	// Opening again writes what the log holds to a table file.
	db, err := store.Open(store.Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) == 0 {
		t.Fatalf("no table file in %s", dir)
	}
	for _, p := range tables {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(b)/2; i++ {
			b[i] ^= 0x5a
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	out, errOut, err := runT(t, nil, "verify", "--data-dir", dir)
	if err == nil {
		t.Fatalf("verify passed a damaged data directory: %q", out)
	}
	var stderr strings.Builder
	code := exitCode(err, &stderr)
	msg := stderr.String()
	t.Logf("exit %d: %s", code, msg)
	if errOut != "" {
		t.Errorf("verify logged besides its finding: %q", errOut)
	}
	if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "damaged") || strings.Contains(msg, "goroutine") {
		t.Errorf("verify of a damaged file: exit %d, %q (stderr %q)", code, msg, errOut)
	}
}

// TestVerifyLostCommits flips one byte in the middle of the newest
// write-ahead log of a stopped node, which Pebble takes for a torn tail:
// the store comes back shorter than the node committed, and what is left
// verifies. qbc verify must still fail, in one line naming the chain, the
// committed quant and the lost heights.
func TestVerifyLostCommits(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(gen, []byte(benchGenesis), 0o600); err != nil {
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
	id := n.Chain().ID()
	for i := range 30 {
		tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: uint64(i), Kind: quant.DataJSON, Data: []byte(`{"i":1}`)}
		if _, err := n.Submit(t.Context(), tx); err != nil {
			t.Fatal(err)
		}
		if _, err := n.Leap(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	tip := n.Chain().Tip()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "*.log"))
	slices.Sort(logs)
	if len(logs) == 0 {
		t.Fatal("no write-ahead log")
	}
	b, err := os.ReadFile(logs[len(logs)-1])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(logs[len(logs)-1], b, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{}, {"--chain", id.String()}} {
		out, errOut, err := runT(t, nil, append([]string{"verify", "--data-dir", cfg.DataDir}, args...)...)
		if err == nil {
			t.Fatalf("verify %v passed a store that lost commits: %q", args, out)
		}
		var stderr strings.Builder
		code := exitCode(err, &stderr)
		msg := stderr.String()
		t.Logf("exit %d: %s", code, msg)
		want := fmt.Sprintf("chain %s: committed quant %d %s", id, tip.Header.Height, tip.Hash)
		if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, want) ||
			!strings.Contains(msg, fmt.Sprintf(" to %d lost", tip.Header.Height)) {
			t.Errorf("verify %v: exit %d, %q; want one line naming %q and the lost heights", args, code, msg, want)
		}
		if errOut != "" || out != "" {
			t.Errorf("verify %v printed besides its finding: %q %q", args, out, errOut)
		}
	}
}
