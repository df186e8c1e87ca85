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
