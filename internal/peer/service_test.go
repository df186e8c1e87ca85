package peer

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/big"
	"net"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qbc-chain/qbc/internal/quant"
)

// fakeHost is a Host holding quants in a map. Offered blocks until its
// context ends, so a Run that did not own the goroutine calling it would
// never return.
type fakeHost struct {
	chain quant.Hash

	mu       sync.Mutex
	quants   map[quant.Hash]*quant.Quant
	offered  []string
	pending  []*quant.Tx   // what Pending gives
	received []quant.Hash  // what SubmitTx was given
	height   atomic.Uint64 // what Status says
}

func newFakeHost(chain quant.Hash) *fakeHost {
	return &fakeHost{chain: chain, quants: make(map[quant.Hash]*quant.Quant)}
}

func (h *fakeHost) Status() Status {
	return Status{Chain: h.chain, Tip: h.chain, Height: h.height.Load(), Work: big.NewInt(0)}
}

func (h *fakeHost) SubmitTx(ctx context.Context, tx *quant.Tx) (Verdict, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.received = append(h.received, tx.ID())
	return Declined, nil
}

func (h *fakeHost) Pending(max int, maxBytes int64) []*quant.Tx {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pending[:min(max, len(h.pending))]
}

// got lists the ids of the transactions peers sent.
func (h *fakeHost) got() []quant.Hash {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]quant.Hash(nil), h.received...)
}

func (h *fakeHost) AddQuant(ctx context.Context, q *quant.Quant) (Verdict, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.quants[q.Hash()]; ok {
		return Known, nil
	}
	h.quants[q.Hash()] = q
	return Accepted, nil
}

func (h *fakeHost) HasQuant(id quant.Hash) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.quants[id]
	return ok
}

func (h *fakeHost) Quant(id quant.Hash) (*quant.Quant, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if q, ok := h.quants[id]; ok {
		return q, nil
	}
	return nil, fmt.Errorf("quant %s is not stored here", id)
}

func (h *fakeHost) Locator() []quant.Hash { return []quant.Hash{h.chain} }

func (h *fakeHost) HashesAfter([]quant.Hash, int) ([]quant.Hash, error) { return nil, nil }

func (h *fakeHost) Chains() []quant.Hash { return []quant.Hash{h.chain} }

func (h *fakeHost) Offered(ctx context.Context, addr string, chains []quant.Hash) {
	h.mu.Lock()
	h.offered = append(h.offered, addr)
	h.mu.Unlock()
	<-ctx.Done()
}

func (h *fakeHost) timesOffered() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.offered)
}

// testNode is a Service served over HTTP on loopback.
type testNode struct {
	svc  *Service
	host *fakeHost
	srv  *httptest.Server
}

func newTestNode(t *testing.T, chain quant.Hash, bootstrap ...string) *testNode {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	host := newFakeHost(chain)
	svc, err := New(Config{Key: key, Advertise: srv.Listener.Addr().String(), Host: host, Bootstrap: bootstrap,
		PingInterval: 50 * time.Millisecond, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = svc.Handler()
	srv.Start()
	return &testNode{svc: svc, host: host, srv: srv}
}

// runAll runs the nodes' services until the test ends, then stops them,
// waits for their Run to return and closes their servers.
func runAll(t *testing.T, nodes ...*testNode) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { done <- n.svc.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for _, n := range nodes {
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			n.srv.Close()
		}
	})
}

// waitFor waits for cond, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestRunLeavesNoGoroutine runs two services that discover each other,
// hear of each other's chains (Host.Offered, which blocks until its
// context ends) and gossip a quant (an announcement, then a fetch, each on
// a worker of Run), then ends their Run: every goroutine they started has
// stopped when Run returns.
func TestRunLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	chain := quant.Hash{7}
	b := newTestNode(t, chain)
	a := newTestNode(t, chain, b.srv.Listener.Addr().String(), "127.0.0.1:1")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	for _, n := range []*testNode{a, b} {
		go func() { done <- n.svc.Run(ctx) }()
	}
	live := func(n *testNode, other *testNode) func() bool {
		return func() bool {
			for _, p := range n.svc.Peers() {
				if p.ID == other.svc.ID() && p.State == StateLive {
					return true
				}
			}
			return false
		}
	}
	waitFor(t, "a and b to be peers", func() bool { return live(a, b)() && live(b, a)() })
	waitFor(t, "chains offered", func() bool { return a.host.timesOffered() > 0 && b.host.timesOffered() > 0 })

	q := &quant.Quant{Header: quant.Header{ChainID: chain, Height: 1, Prev: chain, TxRoot: quant.RootOfIDs(nil),
		Time: time.Now().UnixMilli(), Seal: make([]byte, 16)}}
	b.host.AddQuant(ctx, q)
	b.svc.AnnounceQuant(q, ID{})
	waitFor(t, "a to fetch the announced quant", func() bool { return a.host.HasQuant(q.Hash()) })

	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	a.srv.Close()
	b.srv.Close()
}

// TestRunUnreachable runs a service whose only peer cannot be reached and
// ends it.
func TestRunUnreachable(t *testing.T) {
	defer goleak.VerifyNone(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := l.Addr().String()
	l.Close()
	n := newTestNode(t, quant.Hash{7}, gone)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.svc.Run(ctx) }()
	waitFor(t, "a failed discovery", func() bool {
		n.svc.mu.Lock()
		defer n.svc.mu.Unlock()
		b, ok := n.svc.pending[gone]
		return ok && b.fails > 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	n.srv.Close()
}

// TestPingCarriesStatus: a ping tells the pinged node the pinger's status,
// so of two peers only one need ping: b, which never pings (an hour's
// interval), still learns a's height from a's pings and keeps a live.
func TestPingCarriesStatus(t *testing.T) {
	chain := quant.Hash{7}
	b := newTestNode(t, chain)
	b.svc.cfg.PingInterval = time.Hour
	a := newTestNode(t, chain, b.srv.Listener.Addr().String())
	runAll(t, a, b)
	heightOfA := func() (uint64, bool) {
		for _, p := range b.svc.Peers() {
			if p.ID == a.svc.ID() && p.State == StateLive {
				return p.Height, true
			}
		}
		return 0, false
	}
	waitFor(t, "b to know a", func() bool { _, ok := heightOfA(); return ok })
	a.host.height.Store(42)
	waitFor(t, "b to learn a's height from a's pings", func() bool { h, ok := heightOfA(); return ok && h == 42 })
}

// TestNewPeerGetsPending: gossip goes to live peers only, so each side of a
// new connection sends the other its pending transactions, those it took
// while it was alone: b, which dials, and a, which is dialled, each
// receive the other's, once.
func TestNewPeerGetsPending(t *testing.T) {
	chain := quant.Hash{7}
	tx := func(nonce uint64) *quant.Tx {
		return &quant.Tx{ChainID: chain, Time: time.Now().UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(`"x"`)}
	}
	a := newTestNode(t, chain)
	fromA, fromB := tx(1), tx(2)
	a.host.pending = []*quant.Tx{fromA}
	b := newTestNode(t, chain, a.srv.Listener.Addr().String())
	b.host.pending = []*quant.Tx{fromB}
	runAll(t, a, b)
	waitFor(t, "each to receive the other's pending transaction", func() bool {
		return len(a.host.got()) > 0 && len(b.host.got()) > 0
	})
	time.Sleep(200 * time.Millisecond) // pings meanwhile send nothing more
	if got := a.host.got(); len(got) != 1 || got[0] != fromB.ID() {
		t.Errorf("a received %v, want b's %v", got, fromB.ID())
	}
	if got := b.host.got(); len(got) != 1 || got[0] != fromA.ID() {
		t.Errorf("b received %v, want a's %v", got, fromA.ID())
	}
}

// TestDiscoveryLoopSleeps: with no address waiting for discovery the
// discovery loop makes no pass (an idle node does not wake for it); an
// address queued wakes it at once, it then passes every discoverEvery while
// the address waits, and sleeps again once the address is forgotten.
func TestDiscoveryLoopSleeps(t *testing.T) {
	n := newTestNode(t, quant.Hash{7})
	defer n.srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.svc.discoverLoop(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("discoverLoop: %v", err)
		}
	}()
	passes := func() int64 { return n.svc.discoverPasses.Load() }
	waitFor(t, "the first pass", func() bool { return passes() == 1 })
	time.Sleep(3 * discoverEvery)
	if got := passes(); got != 1 {
		t.Fatalf("%d passes with nothing to discover, want 1", got)
	}

	const addr = "127.0.0.1:1" // nothing listens there
	n.svc.queueDiscover(ID{1}, []string{addr})
	waitFor(t, "a pass for the queued address", func() bool { return passes() >= 2 })
	waitFor(t, "passes while it waits", func() bool { return passes() >= 4 })

	if !n.svc.Forget(addr) {
		t.Fatal("the queued address was not known")
	}
	time.Sleep(2 * discoverEvery) // the pass that finds nothing waiting
	idle := passes()
	time.Sleep(3 * discoverEvery)
	if got := passes(); got != idle {
		t.Fatalf("%d passes after the address was forgotten, want none", got-idle)
	}
}

// TestEveryOnTheClock: two loops of every started half an interval apart
// run their later passes together, on the clock's multiples of the
// interval (a node's chain services then wake it once per interval).
func TestEveryOnTheClock(t *testing.T) {
	const d = 200 * time.Millisecond
	n := newTestNode(t, quant.Hash{7})
	defer n.srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	passes := [2][]time.Time{}
	run := func(i int) {
		n.svc.every(ctx, d, func(context.Context) {
			mu.Lock()
			passes[i] = append(passes[i], time.Now())
			mu.Unlock()
		})
	}
	go run(0)
	time.Sleep(d / 2)
	go run(1)
	waitFor(t, "passes of both", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(passes[0]) >= 5 && len(passes[1]) >= 3
	})
	mu.Lock()
	defer mu.Unlock()
	// Each of the second loop's passes after its first falls on a multiple
	// of d with one of the first loop's, where a plain ticker would keep
	// them d/2 apart.
	for _, b := range passes[1][1:3] {
		gap := d
		for _, a := range passes[0] {
			gap = min(gap, a.Sub(b).Abs())
		}
		if gap > d/4 {
			t.Fatalf("a pass %v from the other loop's nearest, want them together (within %v)", gap, d/4)
		}
	}
}
