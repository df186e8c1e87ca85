package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/store"
)

// TestLeaveChain: a node leaves a chain it followed from a peer: the
// chain's ledger, series, data and committed-tip record go; a peer's
// later offers (a hello naming it) do not bring it back, across a
// restart too; creating it here again follows it again, and it syncs from
// the peer. The default chain and a fork's parent cannot be left.
func TestLeaveChain(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	eventually(t, "the nodes peer", 10*time.Second, func() bool { return livePeers(a) == 1 && livePeers(b) == 1 })
	rules := schemaRules(t, "leave-me", `{"type":"object"}`)
	made, err := a.CreateChain(t.Context(), rules)
	if err != nil {
		t.Fatal(err)
	}
	id := made.Chain.ID()
	eventually(t, "b follows the new chain", 15*time.Second, func() bool { return b.ledger(id) != nil })
	for i := range 3 {
		if _, err := made.Node.Submit(t.Context(), dataTx(id, i, `{"n":1}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := made.Node.Leap(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	bl := b.ledger(id)
	eventually(t, "b syncs the chain", 15*time.Second, func() bool { return bl.chain.Tip().Header.Height == 3 })
	record := filepath.Join(b.cfg.DataDir, store.CommittedDir, id.String())
	if _, err := os.Stat(record); err != nil {
		t.Fatalf("b's committed-tip record of the chain: %v", err)
	}

	// What cannot be left.
	if err := b.LeaveChain(t.Context(), b.Chain().ID()); !errors.Is(err, httpapi.ErrNotSupported) {
		t.Fatalf("leaving the default chain: %v", err)
	}
	fork, err := b.Fork(t.Context(), id, 2, schemaRules(t, "leave-me-fork", `{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.LeaveChain(t.Context(), id); !errors.Is(err, httpapi.ErrNotSupported) || !strings.Contains(err.Error(), fork.Chain.ID().String()) {
		t.Fatalf("leaving a fork's parent: %v", err)
	}
	if err := b.LeaveChain(t.Context(), fork.Chain.ID()); err != nil {
		t.Fatalf("leaving the fork: %v", err)
	}
	if err := b.LeaveChain(t.Context(), id); err != nil {
		t.Fatalf("leaving the chain: %v", err)
	}
	if err := b.LeaveChain(t.Context(), id); !errors.Is(err, httpapi.ErrNotFound) {
		t.Fatalf("leaving it again: %v", err)
	}
	left := func(n *Node) {
		t.Helper()
		if _, ok := n.Ledger(id); ok {
			t.Fatal("the left chain is followed")
		}
		if ids, err := n.db.Chains(); err != nil || slices.Contains(ids, id) {
			t.Fatalf("the store still lists the left chain: %v", err)
		}
		if _, err := os.Stat(record); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the left chain's committed-tip record: %v", err)
		}
		if m := metricsOf(t, n); strings.Contains(m, id.String()) {
			t.Fatal("/metrics still has series of the left chain")
		}
	}
	left(b)

	// A's next hello names the chain again with a new one: b follows the
	// new one only.
	other, err := a.CreateChain(t.Context(), schemaRules(t, "after-leaving", `{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "b follows the next chain", 15*time.Second, func() bool { return b.ledger(other.Chain.ID()) != nil })
	left(b)

	// Across a restart (and with a's hello at start).
	c.stop(1)
	b = c.start(1, a.Addr())
	eventually(t, "the nodes peer again", 10*time.Second, func() bool { return livePeers(b) == 1 })
	eventually(t, "b follows the other chain after a restart", 15*time.Second, func() bool { return b.ledger(other.Chain.ID()) != nil })
	left(b)

	// Created here again: followed, synced from a, and no longer left.
	again, err := b.CreateChain(t.Context(), rules)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the chain made again syncs from a", 15*time.Second, func() bool { return again.Chain.Tip().Header.Height == 3 })
	if b.isLeft(id) {
		t.Fatal("the chain made again is still marked left")
	}
}

// TestLeaveFinishedAtStart: a node stopped after recording a chain as
// left but before deleting it deletes it at its next start.
func TestLeaveFinishedAtStart(t *testing.T) {
	c := newCluster(t)
	n := c.start(0)
	made, err := n.CreateChain(t.Context(), schemaRules(t, "half-left", `{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	id := made.Chain.ID()
	c.stop(0)
	if err := os.WriteFile(filepath.Join(n.cfg.DataDir, leftFile), []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n = c.start(0)
	if _, ok := n.Ledger(id); ok {
		t.Fatal("a chain recorded as left is followed")
	}
	if ids, _ := n.db.Chains(); slices.Contains(ids, id) {
		t.Fatal("a chain recorded as left is still stored")
	}
}

// TestOfferLimits: a node joining a peer that follows many chains follows
// at most offersPerPeer of them in offerWindow, and never past
// max_chains, logging what it leaves out.
func TestOfferLimits(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	for i := range offersPerPeer + 3 {
		if _, err := a.CreateChain(t.Context(), schemaRules(t, fmt.Sprintf("offered-%d", i), `{"type":"object"}`)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name      string
		maxChains int
		want      int // chains followed, the default among them
		log       string
	}{
		{"rate", 64, 1 + offersPerPeer, "over the limit of chains one peer may make this node follow"},
		{"max_chains", 3, 3, "this node follows max_chains chains"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Addr = "127.0.0.1:0"
			cfg.DataDir = t.TempDir()
			cfg.Genesis = filepath.Join(c.dir, "genesis.json")
			cfg.Peers = []string{a.Addr()}
			cfg.MaxChains = tc.maxChains
			logs := &syncBuffer{}
			n := runNode(t, cfg, slog.New(slog.NewTextHandler(logs, nil)))
			eventually(t, "the node follows what it may and logs the rest", 15*time.Second, func() bool {
				return len(n.Ledgers()) == tc.want && strings.Contains(logs.String(), tc.log)
			})
			if got := len(n.Ledgers()); got != tc.want {
				t.Fatalf("%d chains followed, want %d", got, tc.want)
			}
		})
	}
}

// TestOfferLimit: the per-peer limit counts follows within the window,
// per address, and forgets them as the window moves on.
func TestOfferLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	o := &offerLimit{now: func() time.Time { return now }}
	for i := range offersPerPeer {
		if !o.take("p:1") {
			t.Fatalf("follow %d refused", i)
		}
		now = now.Add(time.Second)
	}
	if o.take("p:1") {
		t.Fatal("a follow over the limit allowed")
	}
	if !o.take("p:2") {
		t.Fatal("another peer's first follow refused")
	}
	now = now.Add(offerWindow - time.Duration(offersPerPeer)*time.Second)
	if !o.take("p:1") {
		t.Fatal("the first follow's slot not freed after the window")
	}
	if o.take("p:1") {
		t.Fatal("a second slot freed before its time")
	}
}

// runNode runs a node on cfg with logger until the test ends.
func runNode(t *testing.T, cfg Config, logger *slog.Logger) *Node {
	t.Helper()
	n, err := New(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; n.Close() })
	return n
}

// syncBuffer is a bytes.Buffer a logger writes while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// metricsOf is the node's /metrics page.
func metricsOf(t *testing.T, n *Node) string {
	t.Helper()
	resp, err := http.Get("http://" + n.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLeaveMinedChain: a mining node leaves a chain it makes quants on:
// the mining stops, nothing of the chain is left in the store, the chain
// is no longer recorded as made here, and the default chain goes on.
func TestLeaveMinedChain(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Mine = true
	n := runNode(t, cfg, quiet())
	r := schemaRules(t, "mined-then-left", `{"type":"object"}`)
	r.EngineParams = json.RawMessage(`{"target_ms":200,"initial_difficulty":64,"min_difficulty":16,"window":0,"heartbeat_ms":20}`)
	l, err := n.CreateChain(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	id := l.Chain.ID()
	eventually(t, "the chain is mined", 20*time.Second, func() bool { return l.Chain.Tip().Header.Height >= 2 })
	if err := n.LeaveChain(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if ids, _ := n.db.Chains(); slices.Contains(ids, id) {
		t.Fatal("the left chain is still stored")
	}
	if _, _, err := n.db.Chain(id).Tip(); err == nil {
		t.Fatal("the left chain still has a tip: a quant was written after it was deleted")
	}
	if b, _ := os.ReadFile(filepath.Join(cfg.DataDir, minedFile)); strings.Contains(string(b), id.String()) {
		t.Fatal("the left chain is still recorded as made here")
	}
	if _, err := n.Submit(t.Context(), openTx(n, 1)); err != nil {
		t.Fatal(err)
	}
	waitQuants(t, n, "the default chain is still mined", 20*time.Second, func() bool { return n.Chain().Tip().Header.Height >= 1 })
}

// TestLeaveRaftChain: a member of a raft chain cannot leave it (the
// others count on it for a quorum); a node that only observes the chain
// can.
func TestLeaveRaftChain(t *testing.T) {
	c := newCluster(t)
	nodes := startThree(t, c)
	a, b, obs := nodes[0], nodes[1], nodes[2]
	made := createRaftChain(t, a, "members-stay", nodeKey(a), nodeKey(b))
	id := made.Chain.ID()
	eventually(t, "the member and the observer follow the raft chain", 20*time.Second, func() bool { return b.ledger(id) != nil && obs.ledger(id) != nil })
	if err := b.LeaveChain(t.Context(), id); !errors.Is(err, httpapi.ErrNotSupported) || !strings.Contains(err.Error(), "member") {
		t.Fatalf("a member leaving its raft chain: %v", err)
	}
	if err := obs.LeaveChain(t.Context(), id); err != nil {
		t.Fatalf("the observer leaving the raft chain: %v", err)
	}
	if ids, _ := obs.db.Chains(); slices.Contains(ids, id) {
		t.Fatal("the observer still stores the left raft chain")
	}
}
