package sqlproj

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkProject measures the rows (transactions) projected per second
// from a stored chain of 40 quants of 500 transactions each (a third
// signed, a third bytes) into a new database, SQLite and PostgreSQL:
//
//	go test ./internal/sqlproj -run '^$' -bench Project -benchtime 3x
func BenchmarkProject(b *testing.B) {
	f := newFixture(b, nil)
	f.grow(40, 500)
	txs := 40 * 500
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				var dsn string
				if backend == "sqlite" {
					dsn = "sqlite:" + filepath.Join(b.TempDir(), fmt.Sprintf("p%d.sqlite", i))
				} else {
					dsn = benchPostgres(b)
				}
				p, err := Open(context.Background(), Config{DSN: dsn, Sources: func() []Source { return []Source{f.source()} }})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := p.CatchUp(context.Background()); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				p.Close()
			}
			b.ReportMetric(float64(txs*b.N)/total.Seconds(), "rows/s")
		})
	}
}

// BenchmarkQueryByID measures a by-id lookup through Query (one read-only
// statement, answered as JSON-ready rows) on a transactions table of 1M
// rows, written straight into the table:
//
//	go test ./internal/sqlproj -run '^$' -bench QueryByID -benchtime 2000x
func BenchmarkQueryByID(b *testing.B) {
	const rows = 1_000_000
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			dsn := "sqlite:" + filepath.Join(b.TempDir(), "q.sqlite")
			if backend == "postgres" {
				dsn = benchPostgres(b)
			}
			p, err := Open(context.Background(), Config{DSN: dsn})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			chain := fmt.Sprintf("%064x", 1)
			id := func(i int) string { return fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15) }
			for start := 0; start < rows; start += 10_000 {
				tx, err := p.db.w.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				ins := inserter{db: p.db, tx: tx, table: "transactions", cols: []string{"chain", "height", "position", "id", "time", "signer", "kind", "data"}}
				for i := start; i < start+10_000; i++ {
					if err := ins.add(ctx, chain, int64(i/500), i%500, id(i), int64(t0+i), nil, "json", fmt.Sprintf(`{"i":%d,"p":"%0100d"}`, i, 0)); err != nil {
						b.Fatal(err)
					}
				}
				if err := ins.flush(ctx); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				res, err := p.Query(ctx, "SELECT height, position, data FROM transactions WHERE id = '"+id((i*7919)%rows)+"'", 0)
				if err != nil || len(res.Rows) != 1 {
					b.Fatalf("%v %v", res, err)
				}
			}
		})
	}
}
