package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/loadgen"
	"github.com/qbc-chain/qbc/internal/node"
)

// benchGenesis is an open chain whose quants take almost no work.
const benchGenesis = `{"name":"bench-test","created":1700000000000,"engine":"pow",
	"engine_params":{"target_ms":100,"initial_difficulty":16,"min_difficulty":16,"window":0},
	"write_policy":"open","max_data_bytes":65536,"max_quant_txs":2000,"max_quant_bytes":16777216,
	"max_time_drift_ms":120000}`

// benchNode runs a real node in-process on 127.0.0.1:0, not mining, until
// the test ends, and returns its address.
func benchNode(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	gen := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(gen, []byte(benchGenesis), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Genesis = gen
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
	return n.Addr()
}

// TestBenchJSON runs "qbc bench --json" for two seconds against a real
// node that leaps only when the bench asks, and checks that the report is
// complete and consistent and that the chain holds exactly the
// transactions the bench reports accepted once the rest is leapt.
func TestBenchJSON(t *testing.T) {
	addr := benchNode(t)
	out, errOut, err := runT(t, nil, "bench", "--nodes", addr, "--duration", "2s", "--unsigned",
		"--rate", "3000", "--batch", "50", "--leap-every", "100ms", "--json")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "bench:") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	for f := range reflect.TypeFor[loadgen.Report]().Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if _, ok := m[name]; !ok && !strings.Contains(opts, "omitempty") {
			t.Errorf("report lacks %q", name)
		}
	}
	var r loadgen.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Sent != r.Accepted+r.Rejected || r.Committed > r.Accepted || r.Accepted != r.Committed+r.Uncommitted {
		t.Errorf("counts: sent %d, accepted %d, rejected %d, committed %d, uncommitted %d",
			r.Sent, r.Accepted, r.Rejected, r.Committed, r.Uncommitted)
	}
	if r.Accepted == 0 || r.Committed == 0 || r.Leaps.Count == 0 || r.Signed {
		t.Errorf("accepted %d, committed %d, leaps %d, signed %v", r.Accepted, r.Committed, r.Leaps.Count, r.Signed)
	}
	l := r.Latency
	if !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || l.Samples != int(r.Committed) {
		t.Errorf("latency %+v", l)
	}
	if len(r.NodeStats) != 1 || r.NodeStats[0].RSSEnd <= 0 || r.NodeStats[0].CPU <= 0 {
		t.Errorf("node stats %+v", r.NodeStats)
	}

	// Leap what is left; then the chain holds what was accepted, no more.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client.New(addr, nil)
	for {
		s, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.PoolTxs == 0 {
			if s.Txs != uint64(r.Accepted) {
				t.Fatalf("the chain holds %d transactions, the bench reported %d accepted", s.Txs, r.Accepted)
			}
			break
		}
		if _, err := c.Leap(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBenchTable checks the human-readable report.
func TestBenchTable(t *testing.T) {
	addr := benchNode(t)
	out, errOut, err := runT(t, nil, "bench", "--nodes", addr, "--count", "500", "--unsigned",
		"--batch", "1", "--workers", "4", "--leap-every", "50ms", "--quiet")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut)
	}
	if errOut != "" {
		t.Errorf("--quiet wrote to stderr: %q", errOut)
	}
	for _, want := range []string{"qbc bench: 1 node(s)", "batch 1", "accepted", "500", "commit latency", "p50", "errors: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench"}, // no --nodes
		{"bench", "--nodes", ":1", "--batch", "0"},     // bad batch
		{"bench", "--nodes", ":1", "--batch", "20000"}, // over the node's limit
		{"bench", "--nodes", ":1", "--chain", "zz"},    // bad chain id
		{"bench", "--nodes", ":1", "--duration", "0s"},
		{"bench", "--nodes", ":1", "extra"},
	} {
		_, _, err := runT(t, nil, args...)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("qbc %s: %v is not a usage error", strings.Join(args, " "), err)
		}
	}
	// A node that is not there: an error, not a report.
	out, _, err := runT(t, nil, "bench", "--nodes", "127.0.0.1:1", "--duration", "1s", "--quiet")
	if err == nil || out != "" {
		t.Errorf("bench against a closed port: err %v, stdout %q", err, out)
	}
}

// TestChainNewAndList creates a chain with 'qbc chain new' and finds it in
// 'qbc chain list'; bad rules fail with the node's reason.
func TestChainNewAndList(t *testing.T) {
	addr := benchNode(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "temps.json")
	os.WriteFile(rules, []byte(`{"name":"temps","created":1767225600001,"engine":"pow",
		"engine_params":{"target_ms":1000,"initial_difficulty":1,"min_difficulty":1,"window":0},
		"write_policy":"open","max_data_bytes":1024,"max_quant_txs":100,"max_quant_bytes":2097152,
		"max_time_drift_ms":120000,"schema":{"type":"object","required":["temp"]}}`), 0o600)
	out, errOut, err := runT(t, nil, "chain", "new", "--node", addr, rules)
	if err != nil {
		t.Fatalf("chain new: %v\n%s", err, errOut)
	}
	var c api.Chain
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Stats.Name != "temps" {
		t.Fatalf("chain new printed %q (%v)", out, err)
	}
	out, errOut, err = runT(t, nil, "chain", "list", "--node", addr)
	if err != nil {
		t.Fatalf("chain list: %v\n%s", err, errOut)
	}
	var list []api.Chain
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 || list[1].ID != c.ID {
		t.Fatalf("chain list printed %q (%v)", out, err)
	}
	forkRules := filepath.Join(dir, "fork.json")
	os.WriteFile(forkRules, []byte(`{"name":"temps-2","created":1767225600002,"engine":"pow",
		"engine_params":{"target_ms":1000,"initial_difficulty":1,"min_difficulty":1,"window":0},
		"write_policy":"signed","max_data_bytes":1024,"max_quant_txs":100,"max_quant_bytes":2097152,
		"max_time_drift_ms":120000}`), 0o600)
	out, errOut, err = runT(t, nil, "chain", "fork", "--node", addr, "--chain", c.ID.String(), "--height", "0", forkRules)
	if err != nil {
		t.Fatalf("chain fork: %v\n%s", err, errOut)
	}
	var f api.Chain
	if err := json.Unmarshal([]byte(out), &f); err != nil || !strings.Contains(string(f.Rules), c.ID.String()) {
		t.Fatalf("chain fork printed %q (%v)", out, err)
	}
	os.WriteFile(rules, []byte(`{"name":"bad","engine":"nope"}`), 0o600)
	if _, _, err := runT(t, nil, "chain", "new", "--node", addr, rules); err == nil || !strings.Contains(err.Error(), "bad_rules") {
		t.Fatalf("chain new with bad rules: %v", err)
	}
	if _, _, err := runT(t, nil, "chain", "fork", "--node", addr, "--height", "7", forkRules); err == nil || !strings.Contains(err.Error(), "invalid_request") {
		t.Fatalf("chain fork past the tip: %v", err)
	}
}
