package node

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/client"
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
