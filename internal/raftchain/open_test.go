package raftchain

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/replica"
	"github.com/qbc-chain/qbc/internal/store"
)

// peers is a replica.Directory: node keys to the addresses of test
// servers standing for the members' nodes.
type peers struct {
	mu    sync.Mutex
	addrs map[string]string // hex key -> HOST:PORT
}

func (p *peers) Addr(key ed25519.PublicKey) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.addrs[hex.EncodeToString(key)]
	return a, ok
}

// fakeNode stands for a member's node: the two routes of the HTTP API a
// replica uses (stats, binary batch), served from its replica.
type fakeNode struct {
	srv     *httptest.Server
	batches atomic.Int64 // binary batches received
	mu      sync.Mutex
	rep     replica.Replica // nil while stopped
}

func (n *fakeNode) replica() replica.Replica {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rep
}

func (n *fakeNode) set(r replica.Replica) {
	n.mu.Lock()
	n.rep = r
	n.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (n *fakeNode) handler() http.Handler {
	mux := http.NewServeMux()
	unavailable := func(w http.ResponseWriter, msg string) {
		writeJSON(w, 503, api.Error{Err: api.ErrorBody{Code: api.CodeUnavailable, Message: msg}})
	}
	mux.HandleFunc("GET /v1/chains/{id}/stats", func(w http.ResponseWriter, r *http.Request) {
		rep := n.replica()
		if rep == nil {
			unavailable(w, "stopped")
			return
		}
		writeJSON(w, 200, api.Stats{Chain: rep.Chain().ID(), Raft: rep.Status()})
	})
	mux.HandleFunc("POST /v1/chains/{id}/txs", func(w http.ResponseWriter, r *http.Request) {
		rep := n.replica()
		if rep == nil {
			unavailable(w, "stopped")
			return
		}
		n.batches.Add(1)
		b, _ := io.ReadAll(r.Body)
		txs, err := api.DecodeBatch(b, 100_000)
		if r.Header.Get("Content-Type") != api.BatchMediaType || err != nil {
			writeJSON(w, 400, api.Error{Err: api.ErrorBody{Code: api.CodeInvalidRequest, Message: "not a batch"}})
			return
		}
		err = rep.Submit(r.Context(), txs)
		switch {
		case errors.Is(err, replica.ErrUnavailable):
			unavailable(w, err.Error())
			return
		case err != nil:
			writeJSON(w, 422, api.Error{Err: api.ErrorBody{Code: string(quant.CodeOf(err)), Message: err.Error()}})
			return
		}
		out := api.Batch{Accepted: len(txs)}
		for _, id := range quant.TxIDs(txs) {
			out.Results = append(out.Results, api.BatchResult{ID: id})
		}
		writeJSON(w, 200, out)
	})
	return mux
}

// nodes is a raft chain of three members, each a replica opened with
// OpenReplica behind a fake node.
type nodes struct {
	t     *testing.T
	bang  *quant.Quant
	keys  []ed25519.PrivateKey
	peers *peers
	fakes []*fakeNode
	dirs  []string
	dbs   []*store.DB
}

func newNodes(t *testing.T, n int) *nodes {
	ns := &nodes{t: t, keys: memberKeys(n), peers: &peers{addrs: map[string]string{}}}
	ns.bang = newBang(t, ns.keys, nil)
	for i := range n {
		f := &fakeNode{}
		f.srv = httptest.NewServer(f.handler())
		ns.fakes = append(ns.fakes, f)
		ns.dirs = append(ns.dirs, t.TempDir())
		ns.dbs = append(ns.dbs, nil)
		ns.peers.addrs[hex.EncodeToString(ns.keys[i].Public().(ed25519.PublicKey))] = strings.TrimPrefix(f.srv.URL, "http://")
	}
	return ns
}

// open opens member i's store and replica.
func (ns *nodes) open(i int) replica.Replica {
	ns.t.Helper()
	db, err := store.Open(store.Options{Dir: filepath.Join(ns.dirs[i], "store"), Logger: testLogger()})
	if err != nil {
		ns.t.Fatal(err)
	}
	st := db.Chain(ns.bang.Hash())
	if _, err := st.Bang(); err != nil {
		if err := chain.Init(st, ns.bang, chain.Engines{raftengine.Name: raftengine.Factory(nil)}); err != nil {
			ns.t.Fatal(err)
		}
	}
	rep, err := OpenReplica(replica.Config{
		Dir: filepath.Join(ns.dirs[i], "raft"), Store: st, Key: ns.keys[i], Host: "127.0.0.1",
		Peers: ns.peers, Logger: testLogger().With("test_member", i),
	})
	if err != nil {
		db.Close()
		ns.t.Fatalf("open member %d: %v", i, err)
	}
	ns.dbs[i] = db
	ns.fakes[i].set(rep)
	return rep
}

// close closes member i's replica (twice: Close is idempotent) and store.
func (ns *nodes) close(i int) {
	ns.t.Helper()
	rep := ns.fakes[i].replica()
	ns.fakes[i].set(nil)
	for range 2 {
		if err := rep.Close(); err != nil {
			ns.t.Errorf("close member %d: %v", i, err)
		}
	}
	if err := ns.dbs[i].Close(); err != nil {
		ns.t.Errorf("close store %d: %v", i, err)
	}
}

// TestOpenReplica: three replicas opened as a node opens them find each
// other through their nodes, bootstrap in Run, take transactions at a
// follower (forwarded to the leader's node as a binary batch), keep their
// transport address over a restart, and leave no goroutine behind.
func TestOpenReplica(t *testing.T) {
	before := runtime.NumGoroutine()
	ns := newNodes(t, 3)
	reps := make([]replica.Replica, 3)
	for i := range reps {
		reps[i] = ns.open(i)
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	var runs sync.WaitGroup
	run := func(r replica.Replica) {
		runs.Add(1)
		go func() {
			defer runs.Done()
			if err := r.Run(runCtx); err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
	}
	for _, r := range reps {
		run(r)
	}

	// Bootstrap through Run: a leader, and every member a voter.
	var lead, follower int
	waitFor(t, 20*time.Second, "a leader with every member", func() bool {
		for i, r := range reps {
			if s := r.Status(); s.State == "Leader" && s.Pending == 0 {
				voters, err := r.(*nodeReplica).r.Voters()
				if err == nil && len(voters) == 3 && r.(*nodeReplica).r.leading() {
					lead, follower = i, (i+1)%3
					return true
				}
			}
		}
		return false
	})
	for i, r := range reps {
		b, err := os.ReadFile(filepath.Join(ns.dirs[i], "raft", addrFile))
		if err != nil || strings.TrimSpace(string(b)) != r.Status().Addr {
			t.Fatalf("member %d: %s holds %q, %v; the transport is at %s", i, addrFile, b, err, r.Status().Addr)
		}
	}

	// Submit at a follower: forwarded, committed, applied there.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &cluster{t: t, bang: ns.bang}
	txs := c.txs(5)
	if err := reps[follower].Submit(ctx, txs); err != nil {
		t.Fatalf("Submit at follower %d (leader %d): %v", follower, lead, err)
	}
	if ns.fakes[lead].batches.Load() == 0 {
		t.Fatal("the follower's Submit did not reach the leader's node")
	}
	st := ns.dbs[follower].Chain(ns.bang.Hash())
	for _, id := range quant.TxIDs(txs) {
		if has, err := st.HasTx(id); !has || err != nil {
			t.Fatalf("transaction %s not in the follower's chain: %v", id, err)
		}
	}
	// A refusal keeps its code through the forwarder.
	bad := c.txs(1)
	bad[0].ChainID = quant.Hash{1}
	if err := reps[follower].Submit(ctx, bad); quant.CodeOf(err) != quant.CodeWrongChain || errors.Is(err, replica.ErrUnavailable) {
		t.Fatalf("Submit of another chain's transaction: %v", err)
	}
	// A deadline that passes first is ErrUnavailable.
	past, cancelPast := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancelPast()
	if err := reps[lead].Submit(past, c.txs(1)); !errors.Is(err, replica.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit after the deadline: %v", err)
	}

	// A restarted follower binds its first address again and takes
	// transactions.
	addr := reps[follower].Status().Addr
	ns.close(follower)
	reps[follower] = ns.open(follower)
	run(reps[follower])
	if got := reps[follower].Status().Addr; got != addr {
		t.Fatalf("restarted member binds %s, first bound %s", got, addr)
	}
	if err := reps[follower].Submit(ctx, c.txs(3)); err != nil {
		t.Fatalf("Submit at the restarted follower: %v", err)
	}

	// Run ends with its context; Close leaves no goroutine.
	stopRun()
	runs.Wait()
	for i := range reps {
		ns.close(i)
	}
	for _, f := range ns.fakes {
		f.srv.Close()
	}
	waitFor(t, 5*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestListenAddrs: where a replica's transport binds and what it tells the
// other members, from replica.Config's Host and Bind and the address a
// replica bound before.
func TestListenAddrs(t *testing.T) {
	free := func() (string, int) { // a port nothing holds now
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	}
	addrs := func(cfg replica.Config) (string, string) {
		t.Helper()
		if cfg.Dir == "" {
			cfg.Dir = t.TempDir()
		}
		bind, adv, err := listenAddrs(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return bind, adv
	}

	// No setting: the advertised host, a port the system picks.
	if bind, adv := addrs(replica.Config{Host: "127.0.0.1:5000"}); bind != "127.0.0.1:0" || adv != "" {
		t.Fatalf("no setting: bind %q, advertise %q", bind, adv)
	}
	// A free configured port is taken as it is.
	host, port := free()
	want := net.JoinHostPort(host, strconv.Itoa(port))
	if bind, adv := addrs(replica.Config{Host: "127.0.0.1", Bind: want}); bind != want || adv != "" {
		t.Fatalf("free %s: bind %q, advertise %q", want, bind, adv)
	}
	// A port in use (another chain's transport): the next free one.
	held, err := net.Listen("tcp", want)
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", port, err)
	}
	defer held.Close()
	bind, _ := addrs(replica.Config{Host: "127.0.0.1", Bind: want})
	if _, p, _ := net.SplitHostPort(bind); p == strconv.Itoa(port) || !fits(bind, want) {
		t.Fatalf("%s in use: bind %q", want, bind)
	}
	// An unspecified host listens everywhere and tells the advertised
	// host, with the port picked now.
	bind, adv := addrs(replica.Config{Host: "10.1.2.3:5000", Bind: "0.0.0.0:0"})
	h, p, _ := net.SplitHostPort(bind)
	if h != "0.0.0.0" || p == "0" || adv != net.JoinHostPort("10.1.2.3", p) {
		t.Fatalf("0.0.0.0:0: bind %q, advertise %q", bind, adv)
	}
	// A replica bound before keeps its address; a setting it does not fit
	// is logged.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, addrFile), []byte("127.0.0.1:9999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	bind, _ = addrs(replica.Config{Dir: dir, Host: "127.0.0.1", Bind: "127.0.0.1:7000", Logger: log})
	if bind != "127.0.0.1:9999" || !strings.Contains(logged.String(), "raft_addr=127.0.0.1:7000") {
		t.Fatalf("after a first bind at 127.0.0.1:9999, setting 127.0.0.1:7000: bind %q, log %q", bind, logged.String())
	}
	logged.Reset()
	addrs(replica.Config{Dir: dir, Host: "127.0.0.1", Bind: "127.0.0.1:9990", Logger: log})
	if logged.Len() != 0 {
		t.Fatalf("a setting the bound address fits is logged: %q", logged.String())
	}
}

// TestBatchErr: a leader node's answer to a forwarded batch, whole or
// with the refused transactions alone (as Forward asks), is the first
// refused transaction's error by its index, nil when none is, and
// ErrUnavailable when it does not match the batch.
func TestBatchErr(t *testing.T) {
	at := func(i int) *int { return &i }
	dup := &api.ErrorBody{Code: string(quant.CodeDuplicate), Message: "committed"}
	bad := &api.ErrorBody{Code: string(quant.CodeBadSignature), Message: "forged"}
	for _, c := range []struct {
		name    string
		b       api.Batch
		code    quant.Code
		unavail bool
	}{
		{"whole, all taken", api.Batch{Accepted: 3, Results: make([]api.BatchResult, 3)}, "", false},
		{"whole, one refused", api.Batch{Accepted: 2, Rejected: 1, Results: []api.BatchResult{{}, {Error: bad}, {}}}, quant.CodeBadSignature, false},
		{"refused only, none", api.Batch{Accepted: 3, Results: []api.BatchResult{}}, "", false},
		{"refused only, the first by index", api.Batch{Accepted: 1, Rejected: 2, Results: []api.BatchResult{{Error: dup, Index: at(2)}, {Error: bad, Index: at(1)}}}, quant.CodeBadSignature, false},
		{"counts that do not add up", api.Batch{Accepted: 2, Results: make([]api.BatchResult, 2)}, "", true},
		{"an index past the batch", api.Batch{Accepted: 2, Rejected: 1, Results: []api.BatchResult{{Error: bad, Index: at(3)}}}, "", true},
		{"refused, none named", api.Batch{Accepted: 2, Rejected: 1, Results: []api.BatchResult{}}, "", true},
		{"unavailable", api.Batch{Accepted: 2, Rejected: 1, Results: []api.BatchResult{{Error: &api.ErrorBody{Code: api.CodeUnavailable, Message: "closing"}, Index: at(0)}}}, "", true},
	} {
		err := batchErr(c.b, 3)
		switch {
		case c.unavail && !errors.Is(err, ErrUnavailable):
			t.Errorf("%s: %v, want ErrUnavailable", c.name, err)
		case !c.unavail && quant.CodeOf(err) != c.code:
			t.Errorf("%s: %v, want code %q", c.name, err, c.code)
		case c.code == quant.CodeBadSignature && !strings.Contains(err.Error(), "transaction 1"):
			t.Errorf("%s: %v, want transaction 1 named", c.name, err)
		}
	}
}
