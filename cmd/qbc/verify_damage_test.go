package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
