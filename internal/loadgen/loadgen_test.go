package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/loadgen"
	"github.com/qbc-chain/qbc/internal/node"
	"github.com/qbc-chain/qbc/internal/quant"
)

// genesis is a chain whose quants take almost no work: fixed difficulty 16,
// small quants so that checking each transaction's place stays cheap.
func genesis(policy string) string {
	return fmt.Sprintf(`{"name":"loadgen-test","created":1700000000000,"engine":"pow",
	"engine_params":{"target_ms":100,"initial_difficulty":16,"min_difficulty":16,"window":0},
	"write_policy":%q,"max_data_bytes":65536,"max_quant_txs":500,"max_quant_bytes":16777216,
	"max_time_drift_ms":120000}`, policy)
}

// startNode runs a real node in-process on 127.0.0.1:0 until the test ends.
func startNode(t *testing.T, policy string, mod func(*node.Config)) *node.Node {
	t.Helper()
	dir := t.TempDir()
	gen := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(gen, []byte(genesis(policy)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Genesis = gen
	cfg.LogLevel = "warn"
	if mod != nil {
		mod(&cfg)
	}
	n, err := node.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node run: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("node close: %v", err)
		}
	})
	return n
}

// ackedIDs collects the ids the bench reports acknowledged.
type ackedIDs struct {
	mu  sync.Mutex
	ids []quant.Hash
}

func (a *ackedIDs) add(ids []quant.Hash) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids = append(a.ids, ids...)
}

// checkReport checks a report's internal consistency.
func checkReport(t *testing.T, r loadgen.Report) {
	t.Helper()
	if r.Sent != r.Accepted+r.Rejected || r.Accepted != r.Committed+r.Uncommitted {
		t.Errorf("counts do not add up: sent %d = accepted %d + rejected %d; accepted = committed %d + uncommitted %d",
			r.Sent, r.Accepted, r.Rejected, r.Committed, r.Uncommitted)
	}
	if r.Committed > r.Accepted || r.Accepted == 0 || r.Committed == 0 {
		t.Errorf("accepted %d, committed %d", r.Accepted, r.Committed)
	}
	l := r.Latency
	if l.Samples != int(r.Committed) || !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || l.Max <= 0 {
		t.Errorf("latency %+v (committed %d)", l, r.Committed)
	}
	if r.AcceptedPerSec <= 0 || r.CommittedPerSec <= 0 || r.SendTime <= 0 || r.CommitTime <= 0 || r.TxBytes <= 0 {
		t.Errorf("rates or times missing: %+v", r)
	}
	if r.Quants.NonEmpty == 0 || r.Quants.Txs < r.Committed {
		t.Errorf("quants %+v for %d committed", r.Quants, r.Committed)
	}
	if r.Generator.Made < r.Sent || r.Generator.Producers == 0 {
		t.Errorf("generator %+v for %d sent", r.Generator, r.Sent)
	}
	if len(r.NodeStats) != len(r.Nodes) {
		t.Fatalf("%d node stats for %d nodes", len(r.NodeStats), len(r.Nodes))
	}
	for _, n := range r.NodeStats {
		if n.CPU <= 0 || n.RSSStart <= 0 || n.RSSEnd <= 0 || n.RSSPeak < n.RSSEnd {
			t.Errorf("node stats %+v", n)
		}
	}
}

// checkAllCommitted checks that every id is committed on the node,
// leaping what is still pending.
func checkAllCommitted(t *testing.T, c *client.Client, ids []quant.Hash) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range ids {
		for {
			st, err := c.Tx(ctx, id)
			if err != nil {
				t.Fatalf("acknowledged transaction %s: %v", id, err)
			}
			if st.Status == "committed" {
				break
			}
			if _, err := c.Leap(ctx); err != nil {
				t.Fatalf("leap: %v", err)
			}
		}
	}
}

// TestRunSignedMining loads a mining node with signed transactions for
// two seconds and checks the report and that every acknowledged
// transaction is in the chain.
func TestRunSignedMining(t *testing.T) {
	n := startNode(t, quant.PolicySigned, func(c *node.Config) { c.Mine = true })
	var acked ackedIDs
	var progress lockedBuffer
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Nodes:    []string{n.Addr()},
		Duration: 2 * time.Second,
		Rate:     1500,
		Batch:    50,
		Workers:  4,
		Keys:     3,
		Progress: &progress,
		Acked:    acked.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
	if !rep.Signed || rep.Chain != n.Chain().ID() {
		t.Errorf("report: signed %v, chain %s", rep.Signed, rep.Chain)
	}
	if rep.Uncommitted != 0 {
		t.Errorf("%d transactions uncommitted on a mining node after the drain", rep.Uncommitted)
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
	if int64(len(acked.ids)) != rep.Accepted {
		t.Fatalf("%d ids acknowledged, report says %d", len(acked.ids), rep.Accepted)
	}
	if got := progress.String(); got == "" {
		t.Error("no progress lines")
	}
	checkAllCommitted(t, client.New(n.Addr(), nil), acked.ids)
}

// TestRunPoolFull loads a node whose pool holds 300 transactions, leaping
// only on the bench's request, with binary batches: the node refuses with
// pool_full, the bench backs off and sends again until every transaction
// is taken.
func TestRunPoolFull(t *testing.T) {
	n := startNode(t, quant.PolicyOpen, func(c *node.Config) { c.PoolMaxTxs = 300 })
	var acked ackedIDs
	const count = 3000
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Nodes:     []string{n.Addr()},
		Count:     count,
		Duration:  30 * time.Second,
		Batch:     100,
		Workers:   4,
		Unsigned:  true,
		Binary:    true,
		LeapEvery: 50 * time.Millisecond,
		Acked:     acked.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
	if rep.Signed || rep.Encoding != "binary" || rep.Sent != count || rep.Accepted != count {
		t.Errorf("sent %d, accepted %d, want %d (signed %v)", rep.Sent, rep.Accepted, count, rep.Signed)
	}
	if rep.Retries == 0 || rep.Errors[api.CodePoolFull] == 0 || rep.Retries != rep.Errors[api.CodePoolFull] {
		t.Errorf("retries %d, pool_full %d: want equal and non-zero", rep.Retries, rep.Errors[api.CodePoolFull])
	}
	if rep.Leaps.Count == 0 {
		t.Error("the bench did not leap")
	}
	checkAllCommitted(t, client.New(n.Addr(), nil), acked.ids)
}

// TestRunRefusesPolicy: unsigned load on a signed chain is refused before
// anything is sent.
func TestRunRefusesPolicy(t *testing.T) {
	n := startNode(t, quant.PolicySigned, nil)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Nodes: []string{n.Addr()}, Unsigned: true, Duration: time.Second})
	if !errors.Is(err, loadgen.ErrPolicy) {
		t.Fatalf("err %v, want ErrPolicy", err)
	}
	if !rep.Started.IsZero() || rep.Sent != 0 {
		t.Fatalf("a refused run started: %+v", rep)
	}
}

// TestRunUnreachable: a node that does not answer is an error, not a
// report of nothing.
func TestRunUnreachable(t *testing.T) {
	_, err := loadgen.Run(context.Background(), loadgen.Config{Nodes: []string{"127.0.0.1:1"}, Duration: time.Second})
	if err == nil {
		t.Fatal("a run against a closed port succeeded")
	}
}

// TestRunEventsRefused: a second node that refuses the event stream ends
// the run with an error once the first node's stream is already open, and
// the run does not hang.
func TestRunEventsRefused(t *testing.T) {
	n := startNode(t, quant.PolicyOpen, nil)
	target, err := url.Parse("http://" + n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/events" {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer fake.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := loadgen.Run(ctx, loadgen.Config{Nodes: []string{n.Addr(), fake.URL}, Unsigned: true, Duration: time.Second})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("err %v (context: %v), want a prompt error", err, ctx.Err())
	}
	if !rep.Started.IsZero() {
		t.Fatal("the run started")
	}
}

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// TestRunStuck: a node that makes no quants, its pool full, and a count
// above the pool's room: the run stops sending after Config.Stuck with
// ErrStuck and a report that says so, rather than wait out its duration.
func TestRunStuck(t *testing.T) {
	n := startNode(t, quant.PolicyOpen, func(c *node.Config) { c.PoolMaxTxs = 300 })
	began := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Nodes:    []string{n.Addr()},
		Count:    3000,
		Duration: time.Minute,
		Drain:    time.Minute, // not waited for: nothing commits after a stuck stop
		Stuck:    500 * time.Millisecond,
		Batch:    100,
		Workers:  4,
		Unsigned: true,
		Binary:   true,
	})
	if !errors.Is(err, loadgen.ErrStuck) {
		t.Fatalf("Run: %v, want ErrStuck", err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("the run took %s, want it stopped well before its minute of sending or of draining", took)
	}
	if rep.Stopped == "" || rep.Accepted != 300 || rep.Committed != 0 || rep.Errors[api.CodePoolFull] == 0 {
		t.Errorf("stopped %q, accepted %d, committed %d, pool_full %d: want a reason, 300, 0 and some",
			rep.Stopped, rep.Accepted, rep.Committed, rep.Errors[api.CodePoolFull])
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "sending stopped early: the nodes refused every request with pool_full") {
		t.Errorf("the text report does not say why sending stopped:\n%s", text.String())
	}
}

// TestRunLeapsOnChain: with Chain and LeapEvery, the bench leaps the chain
// it loads, not the node's default chain, so everything commits there.
func TestRunLeapsOnChain(t *testing.T) {
	n := startNode(t, quant.PolicyOpen, nil)
	ch, err := client.New(n.Addr(), nil).CreateChain(context.Background(), []byte(`{"name":"side","write_policy":"open"}`))
	if err != nil {
		t.Fatal(err)
	}
	const count = 500
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Nodes:     []string{n.Addr()},
		Chain:     ch.ID,
		Count:     count,
		Batch:     100,
		Workers:   2,
		Unsigned:  true,
		Binary:    true,
		LeapEvery: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing but the bench's leaps makes quants here. (Leaps.Count may
	// be 0: a leap still waiting for its answer when the run ends is not
	// counted.)
	if rep.Chain != ch.ID || rep.Committed != count {
		t.Errorf("chain %s, committed %d: want %s, %d", rep.Chain, rep.Committed, ch.ID, count)
	}
}
