package sqlproj

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// mustCheck runs Check and fails unless every chain agrees.
func mustCheck(t *testing.T, p *Projector) api.SQLChecks {
	t.Helper()
	res, err := p.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("check: %+v", res)
	}
	return res
}

func mustCatchUp(t *testing.T, p *Projector) {
	t.Helper()
	if err := p.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// one runs a query that answers one value.
func one(t *testing.T, p *Projector, q string) any {
	t.Helper()
	res, err := p.Query(context.Background(), q, 0)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		t.Fatalf("%s: %v", q, res.Rows)
	}
	return res.Rows[0][0]
}

func num(v any) int64 {
	var n int64
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

func TestProjectAndCheck(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, nil)
		f.grow(5, 7)
		p := openProjector(t, dsn, f.source())
		if lag, ok := p.Lag(f.c.ID()); !ok || lag != 6 {
			t.Fatalf("lag before projecting: %d %v, want 6", lag, ok)
		}
		mustCatchUp(t, p)
		if lag, _ := p.Lag(f.c.ID()); lag != 0 {
			t.Fatalf("lag after: %d", lag)
		}
		res := mustCheck(t, p)
		if c := res.Chains[0]; c.Quants != 6 || c.Txs != 35 || c.Height != 5 {
			t.Fatalf("check: %+v", c)
		}
		if n := num(one(t, p, "SELECT count(*) FROM transactions WHERE signer IS NOT NULL")); n != 10 {
			t.Fatalf("signed: %d, want 10", n)
		}
		if n := num(one(t, p, "SELECT count(*) FROM transactions WHERE kind = 'bytes'")); n != 10 {
			t.Fatalf("bytes: %d", n)
		}
		// The data is JSON the database reads.
		q := "SELECT sum(json_extract(data, '$.n')) FROM transactions WHERE kind = 'json'"
		if strings.HasPrefix(dsn, "postgres") {
			q = "SELECT sum((data->>'n')::int) FROM transactions WHERE kind = 'json'"
		}
		if n := num(one(t, p, q)); n != 5*(3*1+2*2) {
			t.Fatalf("sum of n: %d", n)
		}
		id := f.tipQuant().Txs[0].ID()
		if h := num(one(t, p, "SELECT height FROM transactions WHERE id = '"+id.String()+"'")); h != 5 {
			t.Fatalf("by id: height %d", h)
		}
		// More quants, projected after what is there.
		f.grow(2, 3)
		mustCatchUp(t, p)
		if c := mustCheck(t, p).Chains[0]; c.Quants != 8 || c.Txs != 41 {
			t.Fatalf("check after more: %+v", c)
		}
	})
}

// TestResume: a projector reopened on the same database goes on from the
// position, with no gap and no duplicate; a batch cut short (a context
// ended mid-way) leaves nothing half-written.
func TestResume(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, nil)
		f.grow(4, 5)
		p, err := Open(context.Background(), Config{DSN: dsn, BatchTxs: 5, Sources: func() []Source { return []Source{f.source()} }})
		if err != nil {
			t.Fatal(err)
		}
		// One quant a batch: the bang, then the first two quants.
		for range 3 {
			if _, err := p.step(context.Background(), f.source()); err != nil {
				t.Fatal(err)
			}
		}
		// A step whose context is already ended writes nothing.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.step(ctx, f.source()); err == nil {
			t.Fatal("a step under an ended context succeeded")
		}
		p.Close()
		f.grow(3, 2)
		p = openProjector(t, dsn, f.source())
		mustCatchUp(t, p)
		c := mustCheck(t, p).Chains[0]
		if c.Quants != 8 || c.Txs != 26 || c.Height != 7 {
			t.Fatalf("after resuming: %+v", c)
		}
	})
}

// TestReorg: the quants of the abandoned branch leave the projection and
// the new branch's arrive.
func TestReorg(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, nil)
		bang := f.c.Bang()
		a1 := f.on(bang, f.tx(`{"a":1}`, false))
		a2 := f.on(a1, f.tx(`{"a":2}`, false), f.tx(`{"a":3}`, false))
		f.add(a1)
		f.add(a2)
		p := openProjector(t, dsn, f.source())
		mustCatchUp(t, p)
		b1 := f.on(bang, f.tx(`{"b":1}`, false))
		b2 := f.on(b1, f.tx(`{"b":2}`, false))
		b3 := f.on(b2)
		for _, q := range []*quant.Quant{b1, b2, b3} {
			f.add(q)
		}
		if f.c.Tip().Hash != b3.Hash() {
			t.Fatal("no reorganisation")
		}
		if res, _ := p.Check(context.Background()); res.OK {
			t.Fatalf("check passed on a projection of the abandoned branch: %+v", res)
		}
		mustCatchUp(t, p)
		c := mustCheck(t, p).Chains[0]
		if c.Quants != 4 || c.Txs != 2 || c.Hash != b3.Hash() {
			t.Fatalf("after the reorganisation: %+v", c)
		}
		if n := num(one(t, p, "SELECT count(*) FROM quants WHERE hash = '"+a1.Hash().String()+"'")); n != 0 {
			t.Fatal("the abandoned quant is still projected")
		}
		// And back to a heavier A branch: a reorganisation to a branch
		// the projection has not seen, from below its position.
		a3 := f.on(a2)
		a4 := f.on(a3, f.tx(`{"a":4}`, true))
		f.add(a3)
		f.add(a4)
		mustCatchUp(t, p)
		if c := mustCheck(t, p).Chains[0]; c.Quants != 5 || c.Txs != 4 || c.Hash != a4.Hash() {
			t.Fatalf("after the second reorganisation: %+v", c)
		}
	})
}

func TestTypedView(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, func(r *quant.Rules) {
			r.Name = "Orders v2"
			r.Schema = []byte(`{"type":"object","properties":{"item":{"type":"string"},"qty":{"type":"integer"},"price":{"type":"number"},"paid":{"type":"boolean"},"tags":{"type":"array"},"id":{"type":["string","null"]},"bad name":{"type":"string"}},"required":["item"]}`)
		})
		f.add(f.on(f.c.Bang(),
			f.tx(`{"item":"apple","qty":3,"price":0.5,"paid":true,"tags":["a","b"],"id":"x1"}`, false),
			f.tx(`{"item":"pear","qty":10,"price":1.25,"paid":false}`, false)))
		p := openProjector(t, dsn, f.source())
		mustCatchUp(t, p)
		view := ViewName("Orders v2", f.c.ID())
		if !strings.HasPrefix(view, "tx_orders_v2_") {
			t.Fatalf("view name %q", view)
		}
		if v := one(t, p, "SELECT view FROM chains"); v != view {
			t.Fatalf("chains.view = %v, want %s", v, view)
		}
		res, err := p.Query(context.Background(), `SELECT item, qty, price, paid, data_id, tags FROM `+view+` WHERE qty > 5`, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 1 || res.Rows[0][0] != "pear" || num(res.Rows[0][1]) != 10 {
			t.Fatalf("view rows: %v", res.Rows)
		}
		if got := fmt.Sprint(res.Rows[0][3]); got != "false" && got != "0" {
			t.Fatalf("paid = %v", got)
		}
		res, err = p.Query(context.Background(), `SELECT sum(price * qty) FROM `+view, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res.Rows[0][0]); got != "14" {
			t.Fatalf("sum(price*qty) = %s", got)
		}
	})
}

func TestQueryRefusesWrites(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, nil)
		f.grow(1, 2)
		p := openProjector(t, dsn, f.source())
		mustCatchUp(t, p)
		pgOnly := strings.HasPrefix(dsn, "postgres")
		for _, q := range []string{
			"DELETE FROM transactions",
			"INSERT INTO chains (id) VALUES ('x')",
			"UPDATE chains SET height = 0",
			"DROP TABLE quants",
			"CREATE TABLE x (a int)",
			"SELECT 1; DELETE FROM transactions",
			"SELECT 1; SELECT 2",
			"/* hi */ DELETE FROM quants",
			"ATTACH DATABASE '/tmp/x.db' AS x",
			"PRAGMA query_only = 0",
			"BEGIN",
			"",
		} {
			if _, err := p.Query(context.Background(), q, 0); !errors.Is(err, ErrRefused) {
				t.Errorf("%q: %v, want refused", q, err)
			}
		}
		// Writes that look like reads: stopped by the connection.
		writes := []string{"WITH x AS (SELECT 1) DELETE FROM transactions"}
		if pgOnly {
			writes = append(writes, "SELECT set_config('transaction_read_only', 'off', true)",
				"WITH d AS (DELETE FROM transactions RETURNING 1) SELECT count(*) FROM d")
		} else {
			writes = append(writes, "SELECT * FROM pragma_table_info('quants')")
		}
		for _, q := range writes {
			if _, err := p.Query(context.Background(), q, 0); !errors.Is(err, ErrQuery) && !errors.Is(err, ErrRefused) {
				t.Errorf("%q: %v, want an error of the query", q, err)
			}
		}
		mustCheck(t, p) // nothing changed
		if _, err := p.Query(context.Background(), "SELECT nonsense FROM nowhere", 0); !errors.Is(err, ErrQuery) {
			t.Errorf("a bad query: %v", err)
		}
	})
}

func TestQueryLimits(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, nil)
		p, err := Open(context.Background(), Config{DSN: dsn, QueryTimeout: 300 * time.Millisecond, MaxRows: 100,
			Sources: func() []Source { return []Source{f.source()} }})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		mustCatchUp(t, p)
		many := "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) SELECT i FROM n"
		res, err := p.Query(context.Background(), many, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 100 || !res.Truncated {
			t.Fatalf("rows %d truncated %v, want 100 and truncated", len(res.Rows), res.Truncated)
		}
		if res, err = p.Query(context.Background(), many, 1e6); err != nil || len(res.Rows) != 1000 {
			t.Fatalf("max_rows over the cap: %d rows, %v; want 1000 (ten times the default)", len(res.Rows), err)
		}
		if !strings.HasPrefix(dsn, "postgres") {
			if _, err := p.Query(context.Background(), "SELECT length(zeroblob(1000000000))", 0); !errors.Is(err, ErrQuery) {
				t.Fatalf("a gigabyte blob: %v, want refused by the database", err)
			}
		}
		forever := "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
		start := time.Now()
		if _, err := p.Query(context.Background(), forever, 0); !errors.Is(err, ErrTimeout) {
			t.Fatalf("an endless query: %v, want the time limit", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("the endless query took %v", d)
		}
	})
}

// TestRestartedPostgres: the projector goes on after PostgreSQL stopped
// and came back, with nothing lost or doubled.
func TestRestartedPostgres(t *testing.T) {
	dsn := postgresURL(t)
	f := newFixture(t, nil)
	f.grow(3, 4)
	p := openProjector(t, dsn, f.source())
	mustCatchUp(t, p)
	if out, err := pg.ctl("stop", "-m", "immediate"); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	f.grow(3, 4)
	if err := p.CatchUp(context.Background()); err == nil {
		t.Fatal("projected with PostgreSQL stopped")
	}
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	f.grow(1, 4)
	mustCatchUp(t, p)
	if c := mustCheck(t, p).Chains[0]; c.Quants != 8 || c.Txs != 28 {
		t.Fatalf("after the restart: %+v", c)
	}
}

// TestRebuild: a rebuilt chain is projected again from its bang, whatever
// was in its rows.
func TestRebuild(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, nil)
		f.grow(3, 4)
		p := openProjector(t, dsn, f.source())
		mustCatchUp(t, p)
		// Damage the rows behind the projector's back.
		if _, err := p.db.w.Exec(p.db.bind(`DELETE FROM transactions WHERE height = ?`), 2); err != nil {
			t.Fatal(err)
		}
		if res, _ := p.Check(context.Background()); res.OK {
			t.Fatal("check passed on damaged rows")
		}
		if err := p.Rebuild(context.Background(), f.c.ID()); err != nil {
			t.Fatal(err)
		}
		mustCatchUp(t, p)
		if c := mustCheck(t, p).Chains[0]; c.Quants != 4 || c.Txs != 12 {
			t.Fatalf("after the rebuild: %+v", c)
		}
	})
}

// TestRecordsViews: keyed transactions are the rows of record_history, and
// records holds each key's newest version; a reorganisation that drops a
// version drops it from both.
func TestRecordsViews(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, nil)
		keyed := func(key, data string) *quant.Tx {
			tx := f.tx(data, false)
			tx.Key = key
			return tx
		}
		bang := f.c.Bang()
		a1 := f.on(bang, keyed("orders/1", `{"v":1}`), keyed("orders/2", `{"v":1}`), f.tx(`{"plain":1}`, false))
		a2 := f.on(a1, keyed("orders/1", `{"v":2}`))
		f.add(a1)
		f.add(a2)
		p := openProjector(t, dsn, f.source())
		mustCatchUp(t, p)
		if n := num(one(t, p, "SELECT count(*) FROM record_history WHERE key = 'orders/1'")); n != 2 {
			t.Fatalf("history of orders/1: %d versions", n)
		}
		if n := num(one(t, p, "SELECT count(*) FROM records")); n != 2 {
			t.Fatalf("records: %d keys, want 2", n)
		}
		if h := num(one(t, p, "SELECT height FROM records WHERE key = 'orders/1'")); h != 2 {
			t.Fatalf("latest of orders/1 at %d, want 2", h)
		}
		// A heavier branch without a2: orders/1's latest is back at 1.
		b2 := f.on(a1)
		b3 := f.on(b2)
		f.add(b2)
		f.add(b3)
		mustCatchUp(t, p)
		if h := num(one(t, p, "SELECT height FROM records WHERE key = 'orders/1'")); h != 1 {
			t.Fatalf("latest of orders/1 after the reorganisation at %d, want 1", h)
		}
		if n := num(one(t, p, "SELECT count(*) FROM record_history")); n != 2 {
			t.Fatalf("history after the reorganisation: %d versions, want 2", n)
		}
		mustCheck(t, p)
	})
}

// TestPostgresRestartUnderLoad: PostgreSQL is stopped (immediate: no
// clean shutdown) and started again while quants keep coming and the
// projector runs; once the load stops the projection catches up with no
// gap and no duplicate.
func TestPostgresRestartUnderLoad(t *testing.T) {
	dsn := postgresURL(t)
	f := newFixture(t, nil)
	f.grow(2, 10)
	src := f.source()
	p, err := Open(context.Background(), Config{DSN: dsn, Poll: 20 * time.Millisecond, BusyShare: 1,
		Sources: func() []Source { return []Source{src} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	run := make(chan error, 1)
	go func() { run <- p.Run(ctx) }()
	load := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); {
			f.grow(1, 20)
			time.Sleep(10 * time.Millisecond)
		}
	}
	load(300 * time.Millisecond)
	if out, err := pg.ctl("stop", "-m", "immediate"); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	load(500 * time.Millisecond)
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	load(500 * time.Millisecond)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if lag, ok := p.Lag(f.c.ID()); ok && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the projection did not catch up after the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-run; err != nil {
		t.Fatal(err)
	}
	c := mustCheck(t, p).Chains[0]
	if want := f.c.Tip().Header.Height + 1; c.Quants != want { // the bang too
		t.Fatalf("projected %d quants, the chain has %d", c.Quants, want)
	}
}
