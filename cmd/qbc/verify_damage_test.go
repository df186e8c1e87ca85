package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
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
	dataDir := filepath.Join(t.TempDir(), "data")
	id, height, tip := leapNode(t, dataDir, 30)
	logs, _ := filepath.Glob(filepath.Join(dataDir, "*.log"))
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
		out, errOut, err := runT(t, nil, append([]string{"verify", "--data-dir", dataDir}, args...)...)
		if err == nil {
			t.Fatalf("verify %v passed a store that lost commits: %q", args, out)
		}
		var stderr strings.Builder
		code := exitCode(err, &stderr)
		msg := stderr.String()
		t.Logf("exit %d: %s", code, msg)
		want := fmt.Sprintf("chain %s: committed quant %d %s", id, height, tip)
		if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, want) ||
			!strings.Contains(msg, fmt.Sprintf(" to %d lost", height)) {
			t.Errorf("verify %v: exit %d, %q; want one line naming %q and the lost heights", args, code, msg, want)
		}
		if errOut != "" || out != "" {
			t.Errorf("verify %v printed besides its finding: %q %q", args, out, errOut)
		}
	}
}

// TestVerifyFlippedTableByte flips one byte of a table file, at positions
// spread over the whole file (data, index, filter and properties blocks,
// the footer), in a copy of a stopped node's data directory each time, and
// checks that qbc verify fails every time in one line that names the file,
// without a stack trace: wherever the byte is, even in a block that
// verifying the chain would not read.
func TestVerifyFlippedTableByte(t *testing.T) {
	base := filepath.Join(t.TempDir(), "data")
	id, _, _ := leapNode(t, base, 20)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(store.Options{Dir: base, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// A side branch of 300 transactions (saved, never on the main chain):
	// most of the table's data blocks hold it, and verifying the chain
	// reads none of them.
	bang, err := db.Chain(id).Bang()
	if err != nil {
		t.Fatal(err)
	}
	side := &quant.Quant{Header: quant.Header{ChainID: id, Height: bang.Header.Height + 1, Prev: id, Time: bang.Header.Time + 1, Seal: []byte{1}}}
	for i := range 300 {
		side.Txs = append(side.Txs, &quant.Tx{ChainID: id, Time: bang.Header.Time, Nonce: uint64(1000 + i), Kind: quant.DataBytes,
			Data: bytes.Repeat([]byte{byte(i)}, 200)})
	}
	side.Header.TxCount, side.Header.TxRoot = uint32(len(side.Txs)), quant.TxRoot(side.Txs)
	if err := db.Chain(id).Save(chain.Entry{Quant: side, Meta: chain.Meta{Height: side.Header.Height, Work: big.NewInt(1), Txs: 300}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again writes what the log holds to a table file.
	if db, err = store.Open(store.Options{Dir: base, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The largest table: the one that holds the side branch.
	tables, _ := filepath.Glob(filepath.Join(base, "*.sst"))
	var name string
	var orig []byte
	for _, p := range tables {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > len(orig) {
			name, orig = filepath.Base(p), b
		}
	}
	if orig == nil {
		t.Fatalf("no table file in %s", base)
	}
	var at []int
	for i := range 16 {
		at = append(at, i*len(orig)/16)
	}
	at = append(at, len(orig)-60, len(orig)-20, len(orig)-1)
	for _, i := range at {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
			t.Fatal(err)
		}
		b := slices.Clone(orig)
		b[i] ^= 0x10
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, errOut, err := runT(t, nil, "verify", "--data-dir", dir)
		if err == nil {
			t.Errorf("byte %d of %d flipped: verify passed: %q", i, len(orig), out)
			continue
		}
		var stderr strings.Builder
		code := exitCode(err, &stderr)
		msg := stderr.String()
		if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "is damaged") ||
			!strings.Contains(msg, name) || strings.Contains(msg+errOut, "goroutine") || errOut != "" {
			t.Errorf("byte %d of %d flipped: exit %d, %q (stderr %q)", i, len(orig), code, msg, errOut)
		} else if i == at[len(at)/2] {
			t.Logf("byte %d of %d flipped: exit %d: %s", i, len(orig), code, msg)
		}
	}
}

// leapNode runs a node on a fast test chain in dataDir (not serving) and
// leaps n quants of one transaction each; it returns the chain's id and
// the tip's height and hash.
func leapNode(t *testing.T, dataDir string, n int) (id quant.Hash, height uint64, tip quant.Hash) {
	t.Helper()
	gen := filepath.Join(t.TempDir(), "genesis.json")
	if err := os.WriteFile(gen, []byte(benchGenesis), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.Genesis = gen
	nd, err := node.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	id = nd.Chain().ID()
	for i := range n {
		tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: uint64(i), Kind: quant.DataJSON, Data: []byte(`{"i":1}`)}
		if _, err := nd.Submit(t.Context(), tx); err != nil {
			t.Fatal(err)
		}
		if _, err := nd.Leap(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	h := nd.Chain().Tip()
	if err := nd.Close(); err != nil {
		t.Fatal(err)
	}
	return id, h.Header.Height, h.Hash
}
