package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

// sqlCaughtUp reports whether n's projection has every quant of every
// chain n follows.
func sqlCaughtUp(n *Node) bool {
	for _, l := range n.ledgers() {
		if lag, ok := l.sqlLag(); !ok || lag != 0 {
			return false
		}
	}
	return true
}

// TestSQLProjectionOnThreeNodes: each node of a network keeps its own
// projection; the three agree with their chains and with each other, the
// API answers queries and refuses writes, and the lag is in the stats and
// the metrics.
func TestSQLProjectionOnThreeNodes(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	d := c.start(2, a.Addr(), b.Addr())
	eventually(t, "peers", 10*time.Second, func() bool { return livePeers(a) == 2 && livePeers(d) == 2 })
	for i := range 4 {
		for j := range 5 {
			if _, err := a.Submit(t.Context(), openTx(a, 100*i+j)); err != nil {
				t.Fatal(err)
			}
		}
		leap(t, a)
	}
	nodes := []*Node{a, b, d}
	eventually(t, "same tip", 20*time.Second, func() bool { return sameTip(nodes...) })
	eventually(t, "projections caught up", 20*time.Second, func() bool {
		return sqlCaughtUp(a) && sqlCaughtUp(b) && sqlCaughtUp(d)
	})
	var digests []string
	for _, n := range nodes {
		cl := client.New(n.Addr(), nil)
		chk, err := cl.SQLCheck(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !chk.OK || len(chk.Chains) != 1 || chk.Chains[0].Txs != 20 {
			t.Fatalf("check on %s: %+v", n.Addr(), chk)
		}
		digests = append(digests, chk.Chains[0].SQLDigest)
		res, err := cl.SQL(t.Context(), "SELECT count(*) AS n, sum(json_extract(data, '$.i')) FROM transactions", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res.Rows); got != "[[20 3040]]" || res.Columns[0] != "n" {
			t.Fatalf("query on %s: %v %v", n.Addr(), res.Columns, got)
		}
		st, err := cl.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.SQLLag == nil || *st.SQLLag != 0 {
			t.Fatalf("stats: sql lag %v", st.SQLLag)
		}
	}
	if digests[0] != digests[1] || digests[1] != digests[2] {
		t.Fatalf("the nodes' projections differ: %v", digests)
	}
	cl := client.New(a.Addr(), nil)
	_, err := cl.SQL(t.Context(), "DELETE FROM transactions", 0)
	var se *client.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest {
		t.Fatalf("a write: %v, want 400", err)
	}
	resp, err := http.Get("http://" + a.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 1<<16)
	for {
		k, err := resp.Body.Read(buf)
		sb.Write(buf[:k])
		if err != nil {
			break
		}
	}
	if !strings.Contains(sb.String(), `qbc_sql_lag_quants{chain="`+a.Chain().ID().String()+`"} 0`) {
		t.Fatal("no qbc_sql_lag_quants in /metrics")
	}
}

// TestSQLOff: --sql off opens no database and answers the SQL routes
// not_supported.
func TestSQLOff(t *testing.T) {
	c := newCluster(t)
	c.configure = func(cfg *Config) { cfg.SQL = "off" }
	n := c.start(0)
	if n.sql != nil {
		t.Fatal("a projection with --sql off")
	}
	_, err := client.New(n.Addr(), nil).SQL(t.Context(), "SELECT 1", 0)
	var se *client.StatusError
	if !errors.As(err, &se) || se.Err.Err.Code != "not_supported" {
		t.Fatalf("query with the projection off: %v", err)
	}
	st, err := client.New(n.Addr(), nil).Stats(t.Context())
	if err != nil || st.SQLLag != nil {
		t.Fatalf("stats: %v %v", st.SQLLag, err)
	}
}

// benchIngestSQL is benchIngest (unsigned) on a running node with the SQL
// projection set to sqlTo ("off" or "" for SQLite): the cost of the
// projection to the commit path. It reports committed txs/s, and how long
// the projection took after the last commit to hold everything.
//
//	go test ./internal/node -run '^$' -bench IngestSQL -benchtime 200x
func benchIngestSQL(b *testing.B, sqlTo string) {
	cfg := testConfig(&testing.T{}, b.TempDir())
	os.WriteFile(cfg.Genesis, []byte(strings.Replace(fastGenesis, `"window":8`, `"window":0`, 1)), 0o600)
	cfg.PoolMaxTxs = 1 << 20
	cfg.PoolMaxBytes = 1 << 30
	cfg.SQL = sqlTo
	n, err := New(cfg, quiet())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		n.Close()
	}()
	const batch = 1000
	pad := fmt.Sprintf("%0160d", 0)
	for r := 0; b.Loop(); r++ {
		b.StopTimer()
		txs := make([]*quant.Tx, batch)
		now := time.Now().UnixMilli()
		for i := range txs {
			txs[i] = &quant.Tx{ChainID: n.Chain().ID(), Time: now, Nonce: uint64(r*batch + i),
				Kind: quant.DataJSON, Data: []byte(`{"i":` + fmt.Sprint(i) + `,"p":"` + pad + `"}`)}
		}
		b.StartTimer()
		if _, errs := n.SubmitBatch(b.Context(), txs); errs[0] != nil {
			b.Fatal(errs[0])
		}
		if n.def().pool.Len() >= 5*batch {
			if _, err := n.Leap(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	for n.def().pool.Len() > 0 {
		if _, err := n.Leap(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "txs/s")
	if n.sql != nil {
		start := time.Now()
		for !sqlCaughtUp(n) {
			time.Sleep(time.Millisecond) // polling the lag, in a benchmark
		}
		b.ReportMetric(time.Since(start).Seconds(), "s-sql-behind")
	}
}

func BenchmarkIngestSQLOff(b *testing.B)    { benchIngestSQL(b, "off") }
func BenchmarkIngestSQLSQLite(b *testing.B) { benchIngestSQL(b, "") }

// TestSQLAfterReorg: a node whose chain reorganises (a partition heals onto
// the heavier half) removes the abandoned quants' rows from its projection
// and projects the new branch: its check passes and its digest is the
// other half's.
func TestSQLAfterReorg(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	x := c.start(1)
	txA, _ := a.Submit(t.Context(), openTx(a, 100))
	leap(t, a)
	leap(t, a)
	x.Submit(t.Context(), openTx(x, 200))
	for range 4 {
		leap(t, x)
	}
	eventually(t, "a projected its own branch", 10*time.Second, func() bool { return sqlCaughtUp(a) })
	cl := client.New(a.Addr(), nil)
	res, err := cl.SQL(t.Context(), "SELECT count(*) FROM transactions WHERE id = '"+txA.String()+"'", 0)
	if err != nil || fmt.Sprint(res.Rows) != "[[1]]" {
		t.Fatalf("a's own tx before the heal: %v %v", res, err)
	}
	if err := a.AddPeer(context.Background(), x.Addr()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a on the heavier branch", 20*time.Second, func() bool { return sameTip(a, x) })
	eventually(t, "projections caught up", 10*time.Second, func() bool { return sqlCaughtUp(a) && sqlCaughtUp(x) })
	var digests []string
	for _, n := range []*Node{a, x} {
		chk, err := client.New(n.Addr(), nil).SQLCheck(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !chk.OK || chk.Chains[0].Height != 4 || chk.Chains[0].Txs != 1 {
			t.Fatalf("check on %s: %+v", n.Addr(), chk)
		}
		digests = append(digests, chk.Chains[0].SQLDigest)
	}
	if digests[0] != digests[1] {
		t.Fatalf("the projections differ after the reorganisation: %v", digests)
	}
	res, err = cl.SQL(t.Context(), "SELECT count(*) FROM transactions WHERE id = '"+txA.String()+"'", 0)
	if err != nil || fmt.Sprint(res.Rows) != "[[0]]" {
		t.Fatalf("the abandoned branch's tx is still projected: %v %v", res, err)
	}
}
