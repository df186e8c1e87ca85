package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireTool skips when a tool is missing on a developer's machine, and
// fails in CI (QBC_REQUIRE_ALL=1), where .ci/run provides it.
func requireTool(t *testing.T, name string, args ...string) {
	t.Helper()
	if err := exec.Command(name, args...).Run(); err != nil {
		if os.Getenv("QBC_REQUIRE_ALL") != "" {
			t.Fatalf("%s is required (QBC_REQUIRE_ALL is set): %v", name, err)
		}
		t.Skipf("%s is not available: %v", name, err)
	}
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return strings.TrimSpace(out.String())
}

// fastGenesis keeps quants coming every second or so, so the test is short:
// low difficulty, and a heartbeat so that idle miners make quants too (a
// miner with an empty pool waits otherwise).
const fastGenesis = `{"name":"compose-e2e","created":1767225600000,"engine":"pow",
 "engine_params":{"target_ms":1000,"initial_difficulty":4096,"min_difficulty":256,"window":8,"heartbeat_ms":1000},
 "write_policy":"open","max_data_bytes":65536,"max_quant_txs":50000,"max_quant_bytes":33554432,
 "max_time_drift_ms":120000}`

type compose struct {
	t        *testing.T
	root     string
	env      []string
	project  string
	override string // compose file with the test's changes
	urls     map[string]string
}

func (c *compose) args(args ...string) []string {
	return append([]string{"-p", c.project, "-f", "docker-compose.yml", "-f", c.override}, args...)
}

func (c *compose) dc(args ...string) string {
	return run(c.t, c.root, c.env, "docker-compose", c.args(args...)...)
}

func (c *compose) container(svc string) string { return c.dc("ps", "-q", svc) }

// url is a node's API address on the host, as last resolved.
func (c *compose) url(svc string) string { return c.urls[svc] }

// resolve looks up the nodes' host ports: a restarted or reconnected
// container gets a new one.
func (c *compose) resolve() {
	for _, svc := range []string{"node1", "node2", "node3"} {
		c.urls[svc] = "http://" + c.dc("port", svc, "5000")
	}
}

func getJSON(ctx context.Context, url string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, b)
	}
	return json.Unmarshal(b, v)
}

type stats struct {
	Height uint64 `json:"height"`
}

// waitFor checks cond every 250ms until it holds, and fails the test with
// what and cond's last state if limit passes first. The nodes run in
// containers, so their state is read over HTTP; the wait is bounded and
// names what it waits for.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%s: not reached in %v (last: %s)", what, limit, state)
		}
	}
}

// height is a node's main-chain height.
func (c *compose) height(svc string) (uint64, error) {
	var s stats
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := getJSON(ctx, c.url(svc)+"/stats", &s)
	return s.Height, err
}

// converged reports whether the nodes agree on their history: all answer,
// the lowest is at least minHeight, and all hold the same quant one below
// the lowest tip (the tips themselves race ahead while every node mines).
func (c *compose) converged(minHeight uint64) (bool, string) {
	var heights []uint64
	for _, svc := range []string{"node1", "node2", "node3"} {
		var s stats
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := getJSON(ctx, c.url(svc)+"/stats", &s)
		cancel()
		if err != nil {
			return false, svc + ": " + err.Error()
		}
		heights = append(heights, s.Height)
	}
	low := slices.Min(heights)
	if low < minHeight {
		return false, fmt.Sprintf("heights %v", heights)
	}
	var hashes []string
	for _, svc := range []string{"node1", "node2", "node3"} {
		var q struct{ Hash string }
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := getJSON(ctx, fmt.Sprintf("%s/v1/quants/%d", c.url(svc), low-1), &q)
		cancel()
		if err != nil {
			return false, svc + ": " + err.Error()
		}
		hashes = append(hashes, q.Hash)
	}
	state := fmt.Sprintf("heights %v, at %d: %s %s %s", heights, low-1, hashes[0][:8], hashes[1][:8], hashes[2][:8])
	return hashes[0] == hashes[1] && hashes[1] == hashes[2], state
}

// TestComposeNetwork runs the README's three-node compose network, kills
// one node with SIGKILL under load and cuts another off the network, and
// checks that every node ends on the same chain holding every transaction
// the network acknowledged.
func TestComposeNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the compose test builds an image and runs three containers")
	}
	requireTool(t, "docker", "info")
	requireTool(t, "docker-compose", "version")
	root := repoRoot(t)
	tmp := t.TempDir()
	run(t, root, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-o", "bin/qbc", "./cmd/qbc")
	genesis := filepath.Join(tmp, "genesis.json")
	os.WriteFile(genesis, []byte(fastGenesis), 0o644)
	override := filepath.Join(tmp, "override.yml")
	var o strings.Builder
	o.WriteString("version: \"2.4\"\nservices:\n")
	for _, svc := range []string{"node1", "node2", "node3"} {
		fmt.Fprintf(&o, "  %s:\n    volumes: [\"%s:/genesis.json:ro\"]\n    environment: [\"QBC_GENESIS=/genesis.json\"]\n", svc, genesis)
	}
	os.WriteFile(override, []byte(o.String()), 0o644)
	project := fmt.Sprintf("qbce2e%d", os.Getpid())
	c := &compose{t: t, root: root, project: project, override: override, urls: map[string]string{},
		env: []string{"QBC_IMAGE=" + project + ":test", "QBC_PORT1=0", "QBC_PORT2=0", "QBC_PORT3=0"}}
	t.Cleanup(func() {
		cmd := exec.Command("docker-compose", c.args("down", "-v", "--rmi", "local", "-t", "5")...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), c.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("compose down: %v\n%s", err, out)
		}
	})
	began := time.Now()
	phase := func(what string) { t.Logf("%6.1fs %s", time.Since(began).Seconds(), what) }
	c.dc("build", "-q")
	phase("image built")
	c.dc("up", "-d")
	c.resolve()
	phase("network up")
	waitFor(t, "three nodes on one chain", 90*time.Second, func() (bool, string) { return c.converged(3) })
	phase("converged")

	// Load on node1 and node2 while node3 is killed and restarted.
	var (
		mu        sync.Mutex
		acked     []string
		perWriter [2]int // acknowledged, by writer
	)
	ctx, stop := context.WithTimeout(context.Background(), 8*time.Second)
	defer stop()
	var wg sync.WaitGroup
	for w, svc := range []string{"node1", "node2"} {
		wg.Add(1)
		go func(w int, url string) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				body := fmt.Sprintf(`{"data":{"writer":%d,"i":%d}}`, w, i)
				req, _ := http.NewRequestWithContext(ctx, "POST", url+"/inject", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					continue
				}
				var sub struct{ ID string }
				json.NewDecoder(resp.Body).Decode(&sub)
				resp.Body.Close()
				if resp.StatusCode == 201 {
					mu.Lock()
					acked = append(acked, sub.ID)
					perWriter[w]++
					mu.Unlock()
				}
			}
		}(w, c.url(svc)) // node1 and node2 keep their ports while node3 is killed
	}
	// Kill node3 once the load is under way: both writers acknowledged.
	waitFor(t, "both writers' transactions acknowledged before the kill", 6*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return perWriter[0] > 0 && perWriter[1] > 0, fmt.Sprintf("acknowledged %v", perWriter)
	})
	run(t, root, nil, "docker", "kill", "-s", "KILL", c.container("node3"))
	wg.Wait()
	phase("load done, node3 killed")
	c.dc("start", "node3")
	c.resolve()

	// Cut node2 off for a while: both sides mine apart, then heal.
	netName := project + "_default"
	n2 := c.container("node2")
	run(t, root, nil, "docker", "network", "disconnect", netName, n2)
	// The partition lasts while node1's side mines 3 quants (node2, cut
	// off, cannot be asked; it mines on its own meanwhile).
	cut, err := c.height("node1")
	if err != nil {
		t.Fatalf("node1's height at the partition: %v", err)
	}
	waitFor(t, "node1's side to mine 3 quants during the partition", 60*time.Second, func() (bool, string) {
		h, err := c.height("node1")
		if err != nil {
			return false, err.Error()
		}
		return h >= cut+3, fmt.Sprintf("node1 at %d, cut at %d", h, cut)
	})
	run(t, root, nil, "docker", "network", "connect", "--alias", "node2", netName, n2)
	c.resolve()

	phase("partition healed")
	waitFor(t, "convergence after kill and partition", 120*time.Second, func() (bool, string) { return c.converged(5) })
	phase("converged again")
	if len(acked) == 0 {
		t.Fatal("no transaction was acknowledged under load")
	}
	t.Logf("%d transactions acknowledged under load", len(acked))
	for _, svc := range []string{"node1", "node2", "node3"} {
		url := c.url(svc)
		waitFor(t, svc+" holds every acknowledged transaction", 90*time.Second, func() (bool, string) {
			var chain []struct{ Transactions []string }
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err := getJSON(ctx, url+"/json-chain", &chain)
			cancel()
			if err != nil {
				return false, err.Error()
			}
			in := map[string]bool{}
			for _, q := range chain {
				for _, id := range q.Transactions {
					if in[id] {
						return false, "transaction " + id + " is twice in the chain"
					}
					in[id] = true
				}
			}
			missing := 0
			for _, id := range acked {
				if !in[id] {
					missing++
				}
			}
			return missing == 0, fmt.Sprintf("%d of %d acknowledged transactions not committed yet", missing, len(acked))
		})
		phase(svc + " holds every transaction")
	}
}
