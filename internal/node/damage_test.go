package node

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/store"
)

// TestLostQuantsRefused flips one byte in the middle of the newest
// write-ahead log of a stopped node, which makes the store come back
// shorter than it committed. The node must say so in an error log naming
// the chain and the committed height, and refuse to start, rather than
// serve the shorter chain.
func TestLostQuantsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	n, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	id := n.Chain().ID()
	for i := range 30 {
		if _, err := n.Submit(t.Context(), openTx(n, i)); err != nil {
			t.Fatal(err)
		}
		if _, err := n.Leap(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	height := n.Chain().Tip().Header.Height
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

	var out strings.Builder
	n, err = New(cfg, slog.New(slog.NewTextHandler(&out, nil)))
	if err == nil {
		h := n.Chain().Tip().Header.Height
		n.Close()
		t.Fatalf("node started at height %d after committing %d", h, height)
	}
	var lost *store.LostError
	if !errors.As(err, &lost) || lost.Chain != id || lost.Committed.Height != height {
		t.Fatalf("New: %v, want a LostError naming chain %s and height %d", err, id, height)
	}
	if l := out.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "chain="+id.String()) {
		t.Errorf("no error log naming the chain: %q", l)
	}
	t.Logf("refused: %v", err)
}
