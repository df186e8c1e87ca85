package raftchain

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// testLogger discards logs unless QBC_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("QBC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func memberKeys(n int) []ed25519.PrivateKey {
	out := make([]ed25519.PrivateKey, n)
	for i := range out {
		seed := make([]byte, 32)
		seed[0], seed[1] = 0x5a, byte(i+1)
		out[i] = ed25519.NewKeyFromSeed(seed)
	}
	return out
}

func memberID(i int) string { return fmt.Sprintf("m%d", i) }

// newBang makes a raft chain listing keys as members m0, m1, ...
func newBang(t testing.TB, keys []ed25519.PrivateKey, edit func(*raftengine.Params)) *quant.Quant {
	t.Helper()
	p := raftengine.Params{MaxQuantTxs: 500, MaxQuantIntervalMs: 5}
	for i, k := range keys {
		p.Members = append(p.Members, raftengine.Member{ID: memberID(i), Key: hex.EncodeToString(k.Public().(ed25519.PublicKey))})
	}
	if edit != nil {
		edit(&p)
	}
	r := quant.DefaultRules("raft-chain-test", time.Now().UnixMilli()-60_000)
	r.Engine = raftengine.Name
	var err error
	if r.EngineParams, err = json.Marshal(p); err != nil {
		t.Fatal(err)
	}
	bang, err := quant.NewBang(r)
	if err != nil {
		t.Fatal(err)
	}
	return bang
}

// cluster is a set of replicas of one chain on loopback TCP, each with its
// own store and Raft directory, joined by a Local forwarder.
type cluster struct {
	t       testing.TB
	keys    []ed25519.PrivateKey
	bang    *quant.Quant
	local   *Local
	members []*member
	tune    func(*Config)
	nonce   atomic.Uint64
}

type member struct {
	i    int
	dir  string
	addr string // bound at first start, reused at restarts
	db   *store.DB
	st   *store.Chain
	r    *Replica // nil while stopped
}

// newCluster lists n members in the bang; none is started.
func newCluster(t testing.TB, n int, tune func(*Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, keys: memberKeys(n), local: NewLocal(), tune: tune}
	c.bang = newBang(t, c.keys, nil)
	for i := 0; i < n; i++ {
		c.members = append(c.members, &member{i: i, dir: t.TempDir()})
	}
	t.Cleanup(func() {
		for _, m := range c.members {
			c.stop(m.i)
		}
	})
	return c
}

// start opens member i's store and replica (fast Raft timings).
func (c *cluster) start(i int) *Replica {
	c.t.Helper()
	m := c.members[i]
	if m.r != nil {
		c.t.Fatalf("member %d already runs", i)
	}
	db, err := store.Open(store.Options{Dir: filepath.Join(m.dir, "store"), Logger: testLogger()})
	if err != nil {
		c.t.Fatal(err)
	}
	st := db.Chain(c.bang.Hash())
	if _, err := st.Bang(); err != nil {
		if err := chain.Init(st, c.bang, chain.Engines{raftengine.Name: raftengine.Factory(nil)}); err != nil {
			c.t.Fatal(err)
		}
	}
	bind := m.addr
	if bind == "" {
		bind = "127.0.0.1:0"
	}
	cfg := Config{
		Dir:                filepath.Join(m.dir, "raft"),
		Bind:               bind,
		Store:              st,
		Key:                c.keys[i],
		Forwarder:          c.local,
		Logger:             testLogger().With("test_member", i),
		HeartbeatTimeout:   200 * time.Millisecond,
		ElectionTimeout:    200 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
	}
	if c.tune != nil {
		c.tune(&cfg)
	}
	r, err := Open(cfg)
	if err != nil {
		db.Close()
		c.t.Fatalf("open member %d: %v", i, err)
	}
	m.db, m.st, m.r, m.addr = db, st, r, r.Addr()
	c.local.Add(r)
	return r
}

// stop closes member i (as a crash to the others), if it runs.
func (c *cluster) stop(i int) {
	m := c.members[i]
	if m.r == nil {
		return
	}
	c.local.Remove(m.r.ID())
	if err := m.r.Close(); err != nil {
		c.t.Errorf("close member %d: %v", i, err)
	}
	if err := m.db.Close(); err != nil {
		c.t.Errorf("close store %d: %v", i, err)
	}
	m.r, m.db, m.st = nil, nil, nil
}

// startVoters starts members 0..n-1 and bootstraps them as the voters.
func (c *cluster) startVoters(n int) {
	c.t.Helper()
	var servers []Server
	for i := 0; i < n; i++ {
		r := c.start(i)
		servers = append(servers, Server{ID: r.ID(), Addr: r.Addr()})
	}
	for i := 0; i < n; i++ {
		if err := c.members[i].r.Bootstrap(servers); err != nil {
			c.t.Fatal(err)
		}
	}
}

// running are the members that run.
func (c *cluster) running() []*member {
	var out []*member
	for _, m := range c.members {
		if m.r != nil {
			out = append(out, m)
		}
	}
	return out
}

// leader waits for a running member that leads and is ready. It wakes at
// each leader or state change of a member (a barrier's end included),
// not on a clock.
func (c *cluster) leader() *member {
	c.t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for {
		cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(deadline.C)}}
		for _, m := range c.running() {
			moved := m.r.movedCh() // before the check: a change after it closes moved
			if m.r.leading() {
				return m
			}
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(moved)})
		}
		if i, _, _ := reflect.Select(cases); i == 0 {
			c.t.Fatalf("timed out waiting for a ready leader")
		}
	}
}

// converged waits until every running member has the same tip, at least
// at minHeight.
func (c *cluster) converged(minHeight uint64) {
	c.t.Helper()
	waitFor(c.t, 20*time.Second, "members at one tip", func() bool {
		ms := c.running()
		h0 := ms[0].r.Chain().Tip()
		if h0.Header.Height < minHeight {
			return false
		}
		for _, m := range ms[1:] {
			if m.r.Chain().Tip().Hash != h0.Hash {
				return false
			}
		}
		return true
	})
}

// txs makes n distinct unsigned transactions for the chain.
func (c *cluster) txs(n int) []*quant.Tx {
	out := make([]*quant.Tx, n)
	for i := range out {
		nonce := c.nonce.Add(1)
		out[i] = &quant.Tx{ChainID: c.bang.Hash(), Time: time.Now().UnixMilli(), Nonce: nonce, Kind: quant.DataBytes, Data: fmt.Appendf(nil, "record %d", nonce)}
	}
	return out
}

// occurrences counts each transaction id on member m's main chain.
func occurrences(t testing.TB, m *member) map[quant.Hash]int {
	t.Helper()
	seen := make(map[quant.Hash]int)
	err := m.st.Iterate(context.Background(), 1, func(q *quant.Quant) error {
		for _, tx := range q.Txs {
			seen[tx.ID()]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// checkOnce requires every id in ids exactly once on each running member,
// and no transaction twice.
func (c *cluster) checkOnce(ids []quant.Hash) {
	c.t.Helper()
	for _, m := range c.running() {
		seen := occurrences(c.t, m)
		for id, n := range seen {
			if n != 1 {
				c.t.Errorf("member %d: transaction %s appears %d times", m.i, id, n)
			}
		}
		missing := 0
		for _, id := range ids {
			if seen[id] != 1 {
				missing++
			}
		}
		if missing > 0 {
			c.t.Errorf("member %d: %d of %d acknowledged transactions are missing", m.i, missing, len(ids))
		}
	}
}

// waitFor checks cond at every tick until it holds, and fails the test
// if it does not within timeout. Nothing sleeps: the wait is a select on
// a ticker and the deadline.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			if cond() {
				return
			}
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-tick.C:
		}
	}
}

// idsOf returns the ids of txs.
func idsOf(txs []*quant.Tx) []quant.Hash { return quant.TxIDs(txs) }

// collector gathers the ids of acknowledged transactions from many
// goroutines.
type collector struct {
	mu  sync.Mutex
	ids []quant.Hash
}

func (c *collector) add(ids ...quant.Hash) {
	c.mu.Lock()
	c.ids = append(c.ids, ids...)
	c.mu.Unlock()
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

func (c *collector) all() []quant.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]quant.Hash(nil), c.ids...)
}
