package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
)

// netGenesis: a fixed low difficulty, so quants are quick and work is
// proportional to length.
var netGenesis = strings.Replace(fastGenesis, `"window":8`, `"window":0`, 1)

type cluster struct {
	t     testing.TB
	dir   string
	nodes []*Node
	stops []func()
	// configure, if set, changes each node's configuration before it
	// starts.
	configure func(*Config)
}

func newCluster(t testing.TB) *cluster {
	c := &cluster{t: t, dir: t.TempDir()}
	os.WriteFile(filepath.Join(c.dir, "genesis.json"), []byte(netGenesis), 0o600)
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	return c
}

// start runs node i (a new one, or i again after stop) with these peers.
func (c *cluster) start(i int, peers ...string) *Node {
	c.t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(c.dir, fmt.Sprintf("n%d", i))
	cfg.Genesis = filepath.Join(c.dir, "genesis.json")
	cfg.Peers = peers
	if c.configure != nil {
		c.configure(&cfg)
	}
	n, err := New(cfg, quiet())
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	stop := func() {
		cancel()
		<-done
		n.Close()
	}
	if i < len(c.nodes) {
		c.nodes[i], c.stops[i] = n, stop
	} else {
		c.nodes, c.stops = append(c.nodes, n), append(c.stops, stop)
	}
	return n
}

func (c *cluster) stop(i int) {
	if c.stops[i] != nil {
		c.stops[i]()
		c.stops[i] = nil
	}
}

// waitQuants waits, with a deadline, for cond to hold: it checks at once
// and again after each quant n commits on any chain (an event on n's bus),
// without polling.
func waitQuants(t testing.TB, n *Node, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	sub := n.bus.SubscribeTo(64, events.Filter{Kinds: []events.Kind{events.KindQuant}})
	defer sub.Close()
	timeout := time.After(limit)
	for !cond() {
		select {
		case <-sub.C:
		case <-timeout:
			t.Fatalf("%s: not within %v", what, limit)
		}
	}
}

// eventually waits for cond, polling, with a deadline: for conditions no
// event announces (peers connecting, a chain followed).
func eventually(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, with a deadline
	}
}

func livePeers(n *Node) int { return liveOn(n.def()) }

// liveOn counts l's live peers.
func liveOn(l *ledger) int {
	k := 0
	for _, p := range l.Peers() {
		if p.State == "live" {
			k++
		}
	}
	return k
}

func committed(n *Node, id quant.Hash) bool {
	ok, err := n.def().st.HasTx(id)
	return ok && err == nil
}

func sameTip(ns ...*Node) bool {
	for _, n := range ns[1:] {
		if n.Chain().Tip().Hash != ns[0].Chain().Tip().Hash {
			return false
		}
	}
	return true
}

func leap(t testing.TB, n *Node) *quant.Quant {
	t.Helper()
	q, err := n.Leap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestGossip: nodes find each other through one another; a transaction
// given to A is mined into a quant at B and reaches C.
func TestGossip(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	cc := c.start(2, b.Addr())
	eventually(t, "every node knows the other two", 15*time.Second, func() bool {
		return livePeers(a) == 2 && livePeers(b) == 2 && livePeers(cc) == 2
	})
	id, err := a.Submit(t.Context(), openTx(a, 1))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the transaction reaches B's pool", 10*time.Second, func() bool { return b.def().pool.Has(id) })
	q := leap(t, b)
	if len(q.Txs) != 1 {
		t.Fatalf("B's quant holds %d txs", len(q.Txs))
	}
	eventually(t, "the quant reaches A and C", 10*time.Second, func() bool {
		return committed(a, id) && committed(cc, id) && sameTip(a, b, cc)
	})
	if a.def().pool.Len() != 0 || cc.def().pool.Len() != 0 {
		t.Fatal("committed transaction still pending elsewhere")
	}
}

// TestPendingReachesLaterPeer: a transaction a node took while it had no
// peer reaches a node that connects later, on the default chain and on a
// chain of its own, and a quant made there commits it everywhere.
func TestPendingReachesLaterPeer(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	temps, err := a.CreateChain(t.Context(), schemaRules(t, "temps", `{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	tID := temps.Chain.ID()
	id, err := a.Submit(t.Context(), openTx(a, 1))
	if err != nil {
		t.Fatal(err)
	}
	tempID, err := temps.Node.Submit(t.Context(), dataTx(tID, 2, `{"temp":1}`))
	if err != nil {
		t.Fatal(err)
	}
	b := c.start(1, a.Addr())
	eventually(t, "a's pending transaction reaches b's pool", 10*time.Second, func() bool { return b.def().pool.Has(id) })
	eventually(t, "b follows temps and has a's pending temperature", 15*time.Second, func() bool {
		bt, ok := b.Ledger(tID)
		return ok && bt.Pool.Has(tempID)
	})
	q := leap(t, b)
	if len(q.Txs) != 1 {
		t.Fatalf("b's quant holds %d transactions", len(q.Txs))
	}
	eventually(t, "the quant commits it on a", 10*time.Second, func() bool { return committed(a, id) && a.def().pool.Len() == 0 })
}

// TestPooledAfterCommit: a transaction checked before a quant committed it
// and pooled after (the quant's ids already taken out of the pool) is
// taken out again, and its answer stays a success; while no quant commits
// between the check and the pooling, nothing is looked up.
func TestPooledAfterCommit(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	l := a.def()
	tx := openTx(a, 1)
	id, err := a.Submit(t.Context(), tx)
	if err != nil {
		t.Fatal(err)
	}
	since := l.commits.Load() // as a check before the commit read it
	leap(t, a)
	if !committed(a, id) || l.pool.Has(id) {
		t.Fatal("the leap did not commit the transaction")
	}
	errs := []error{l.pool.Add(id, tx)} // pooled after the commit
	l.unpoolCommitted(since, []quant.Hash{id}, errs)
	if l.pool.Has(id) || errs[0] != nil {
		t.Fatalf("after a commit: pending %v, error %v; want taken out, no error", l.pool.Has(id), errs[0])
	}
	errs = []error{l.pool.Add(id, tx)}
	l.unpoolCommitted(l.commits.Load(), []quant.Hash{id}, errs)
	if !l.pool.Has(id) || errs[0] != nil {
		t.Fatalf("no commit since the check: pending %v, error %v; want left alone", l.pool.Has(id), errs[0])
	}
}

// TestPartitionHeal: two halves mine apart; when they meet, every node
// converges on the branch with more work, and the transactions of the
// abandoned branch are pending again and committed later.
func TestPartitionHeal(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	x := c.start(2)
	y := c.start(3, x.Addr())
	eventually(t, "each half connected", 15*time.Second, func() bool { return livePeers(a) == 1 && livePeers(x) == 1 })

	// Half 1 (a, b): 2 quants; half 2 (x, y): 4 quants, so more work.
	txA, _ := a.Submit(t.Context(), openTx(a, 100))
	leap(t, a)
	eventually(t, "b follows a", 10*time.Second, func() bool { return sameTip(a, b) })
	leap(t, b)
	txX, _ := x.Submit(t.Context(), openTx(x, 200))
	eventually(t, "x's tx reaches y", 10*time.Second, func() bool { return y.def().pool.Has(txX) })
	for i := 0; i < 4; i++ {
		leap(t, y)
	}
	eventually(t, "halves agree within", 10*time.Second, func() bool { return sameTip(a, b) && sameTip(x, y) })
	if !committed(a, txA) {
		t.Fatal("half 1's tx not committed in half 1")
	}
	// Heal: a meets x.
	if err := a.AddPeer(context.Background(), x.Addr()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all four on the heavier branch", 20*time.Second, func() bool { return sameTip(a, b, x, y) })
	if h := a.Chain().Tip().Header.Height; h != 4 {
		t.Fatalf("converged at height %d, want 4 (the heavier half)", h)
	}
	if !committed(a, txX) {
		t.Fatal("the heavier half's tx is not on the converged chain")
	}
	// Half 1's transaction went back to a pool and is not lost.
	eventually(t, "the abandoned branch's tx is pending again", 10*time.Second, func() bool {
		return a.def().pool.Has(txA) || b.def().pool.Has(txA)
	})
	leaper := a
	if !a.def().pool.Has(txA) {
		leaper = b
	}
	leap(t, leaper)
	eventually(t, "the abandoned branch's tx is committed everywhere", 10*time.Second, func() bool {
		return committed(a, txA) && committed(b, txA) && committed(x, txA) && committed(y, txA)
	})
}

// TestRestartCatchUp: a node stopped for a while catches up on restart.
func TestRestartCatchUp(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1, a.Addr())
	eventually(t, "connected", 10*time.Second, func() bool { return livePeers(a) == 1 })
	leap(t, a)
	eventually(t, "b follows", 10*time.Second, func() bool { return sameTip(a, b) })
	c.stop(1)
	for i := 0; i < 20; i++ {
		leap(t, a)
	}
	b = c.start(1, a.Addr())
	eventually(t, "b catches up after restart", 20*time.Second, func() bool { return sameTip(a, b) })
}

// TestHostileMessages: forged, tampered, replayed, misaddressed, stale and
// oversized messages are refused with the right status, a peer sending
// invalid quants is scored down, and the node goes on.
func TestHostileMessages(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	url := "http://" + a.Addr() + peer.ChainPath(a.Chain().ID())
	post := func(b []byte) (int, string) {
		resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct{ Error struct{ Code string } }
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error.Code
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	env := func(to peer.ID, kind peer.Kind, body []byte, at time.Time) *peer.Envelope {
		e := &peer.Envelope{To: to, Time: at.UnixMilli(), Nonce: uint64(at.UnixNano()), Kind: kind, Body: body, Chain: a.Chain().ID()}
		e.Sign(key)
		return e
	}
	good := env(a.ID(), peer.KindStatus, nil, time.Now())
	if s, _ := post(good.Encode()); s != 200 {
		t.Fatalf("a well-formed status request: %d", s)
	}
	tampered := env(a.ID(), peer.KindStatus, []byte("x"), time.Now()).Encode()
	tampered[len(tampered)-70] ^= 1
	unsigned := env(a.ID(), peer.KindStatus, nil, time.Now())
	unsigned.Sig = make([]byte, 64)
	for _, tc := range []struct {
		name   string
		b      []byte
		status int
	}{
		{"replayed", good.Encode(), 401},
		{"tampered", tampered, 401},
		{"unsigned", unsigned.Encode(), 401},
		{"for another node", env(peer.ID{1}, peer.KindStatus, nil, time.Now()).Encode(), 401},
		{"stale", env(a.ID(), peer.KindStatus, nil, time.Now().Add(-time.Hour)).Encode(), 401},
		{"garbage", []byte("hello"), 400},
		{"oversized", env(a.ID(), peer.KindTx, make([]byte, peer.MaxBody+1), time.Now()).Encode(), 413},
		{"over its kind's cap", env(a.ID(), peer.KindStatus, make([]byte, 8<<10), time.Now()).Encode(), 413},
		{"a reply sent as a request", env(a.ID(), peer.KindReply, nil, time.Now()).Encode(), 400},
		{"bad body", env(a.ID(), peer.KindHashes, []byte("{"), time.Now()).Encode(), 422},
	} {
		if s, code := post(tc.b); s != tc.status {
			t.Errorf("%s: status %d (%s), want %d", tc.name, s, code, tc.status)
		}
	}
	// An announced quant with bad work from a "peer": refused, scored down.
	h := quant.Header{ChainID: a.Chain().ID(), Height: 1, Prev: a.Chain().ID(), TxRoot: quant.RootOfIDs(nil),
		Time: time.Now().UnixMilli(), Seal: make([]byte, 16)}
	bad := &quant.Quant{Header: h}
	if v, err := a.def().AddQuant(t.Context(), bad); v != peer.Invalid || quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("quant with no work: %v", err)
	}
	// The node goes on.
	leap(t, a)
	if a.Chain().Tip().Header.Height != 1 {
		t.Fatal("the node did not go on after hostile input")
	}
}

// TestClosedNetwork: a node outside the member list is refused.
func TestClosedNetwork(t *testing.T) {
	c := newCluster(t)
	outsider := c.start(0)
	member := c.start(1)
	// Restart the member closed to its own key and a third key only.
	pub := hexKey(member.key.Public().(ed25519.PublicKey))
	c.stop(1)
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", filepath.Join(c.dir, "n1")
	cfg.Genesis = filepath.Join(c.dir, "genesis.json")
	cfg.NetworkAllow = []string{pub}
	closed, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); closed.Run(ctx) }()
	defer func() { cancel(); wg.Wait(); closed.Close() }()
	err = outsider.AddPeer(context.Background(), closed.Addr())
	if err == nil || !strings.Contains(err.Error(), "not_member") {
		t.Fatalf("outsider joining a closed network: %v", err)
	}
	if livePeers(closed) != 0 {
		t.Fatal("the closed node admitted an outsider")
	}
}

func hexKey(k ed25519.PublicKey) string { return fmt.Sprintf("%x", []byte(k)) }

// TestSyncLongChain: a node started empty syncs a chain of 10,000 quants.
func TestSyncLongChain(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and syncs a 10,000-quant chain")
	}
	const n = 10_000
	c := newCluster(t)
	a := c.start(0)
	start := time.Now()
	for i := 0; i < n; i++ {
		leap(t, a)
	}
	t.Logf("built %d quants in %v", n, time.Since(start))
	start = time.Now()
	b := c.start(1, a.Addr())
	eventually(t, "the new node syncs 10,000 quants", 5*time.Minute, func() bool { return sameTip(a, b) })
	d := time.Since(start)
	t.Logf("synced %d quants in %v (%.0f quants/s)", n, d, n/d.Seconds())
}

// TestSyncFromSeveralPeers: a new node fetches a chain from all the peers
// that have it at once, not only from the heaviest.
func TestSyncFromSeveralPeers(t *testing.T) {
	const n = 1500
	c := newCluster(t)
	a := c.start(0)
	for i := 0; i < n; i++ {
		leap(t, a)
	}
	b := c.start(1, a.Addr())
	d := c.start(2, a.Addr())
	eventually(t, "b and c sync from a", 2*time.Minute, func() bool { return sameTip(a, b, d) })
	e := c.start(3, a.Addr(), b.Addr(), d.Addr())
	eventually(t, "the new node syncs", 2*time.Minute, func() bool { return sameTip(a, e) })
	// A span's quants are credited to its peer after the span is added, so
	// the count may trail the tip for a moment.
	var sources int
	eventually(t, "the new node counts every quant synced", 10*time.Second, func() bool {
		sources = 0
		total := uint64(0)
		for _, p := range e.Peers() {
			total += p.SyncedQuants
			if p.SyncedQuants > 0 {
				sources++
			}
		}
		return total >= n
	})
	for _, p := range e.Peers() {
		t.Logf("peer %s: %d quants", p.Addr, p.SyncedQuants)
	}
	if sources < 2 {
		t.Fatalf("synced from %d peer(s), want several", sources)
	}
}

// BenchmarkPropagation5 measures how long a quant takes to reach every node
// of a 5-node network after the leap that made it returns.
func BenchmarkPropagation5(b *testing.B) {
	c := newCluster(b)
	first := c.start(0)
	for i := 1; i < 5; i++ {
		c.start(i, first.Addr())
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.nodes {
		for livePeers(n) < 4 {
			if time.Now().After(deadline) {
				b.Fatal("the 5 nodes did not all connect")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		src := c.nodes[i%5]
		q, err := src.Leap(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for _, n := range c.nodes {
			for n.Chain().Tip().Hash != q.Hash() {
				if time.Since(start) > 10*time.Second {
					b.Fatal("quant did not propagate in 10s")
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/propagation")
}

// benchSync measures how fast a new node syncs a chain of 1,000 quants of
// 100 transactions (about 200 bytes each) from one or several peers.
func benchSync(b *testing.B, sources int) {
	const quants, perQuant = 1000, 100
	c := newCluster(b)
	a := c.start(0)
	pad := fmt.Sprintf("%0150d", 0)
	for i := 0; i < quants; i++ {
		txs := make([]*quant.Tx, perQuant)
		for j := range txs {
			txs[j] = &quant.Tx{ChainID: a.Chain().ID(), Time: time.Now().UnixMilli(), Nonce: uint64(i*perQuant + j),
				Kind: quant.DataJSON, Data: []byte(fmt.Sprintf(`{"i":%d,"p":"%s"}`, i*perQuant+j, pad))}
		}
		if _, errs := a.SubmitBatch(b.Context(), txs); errs[0] != nil {
			b.Fatal(errs[0])
		}
		leap(b, a)
	}
	peers := []string{a.Addr()}
	for i := 1; i < sources; i++ {
		n := c.start(i, a.Addr())
		eventually(b, "a source syncs", 5*time.Minute, func() bool { return sameTip(a, n) })
		peers = append(peers, n.Addr())
	}
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		n := c.start(sources+i, peers...)
		eventually(b, "the new node syncs", 5*time.Minute, func() bool { return sameTip(a, n) })
		total += time.Since(start)
		c.stop(sources + i)
	}
	secs := total.Seconds() / float64(b.N)
	b.ReportMetric(quants/secs, "quants/s")
	b.ReportMetric(quants*perQuant/secs, "txs/s")
}

func BenchmarkSync1(b *testing.B) { benchSync(b, 1) }
func BenchmarkSync3(b *testing.B) { benchSync(b, 3) }
