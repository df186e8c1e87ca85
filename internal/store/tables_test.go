package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckTables: a sound store passes; one flipped byte in the middle of
// a table file is found and the file named, though no chain read touches
// the damaged block.
func TestCheckTables(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	grow(t, c, newBuilder(c.ID(), 1), bang, 20, 50)
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckTables(context.Background()); err != nil {
		t.Fatalf("CheckTables of a sound store: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) == 0 {
		t.Fatal("no table file")
	}
	flipByte(t, tables[0], func(n int) int { return n / 2 })
	// Read-only, as qbc verify opens it: no compaction may read the
	// damaged block first.
	db, _ = openLogged(t, dir, true)
	err := db.CheckTables(context.Background())
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), filepath.Base(tables[0])) {
		t.Fatalf("CheckTables of a damaged table: %v", err)
	}
	t.Log(err)
}
