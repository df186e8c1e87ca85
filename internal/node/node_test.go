package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/quant"
)

const fastGenesis = `{"name":"node-test","created":1700000000000,"engine":"pow",
	"engine_params":{"target_ms":200,"initial_difficulty":256,"min_difficulty":16,"window":8},
	"write_policy":"open","max_data_bytes":65536,"max_quant_txs":500,"max_quant_bytes":16777216,
	"max_time_drift_ms":120000}`

func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	genesis := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(genesis, []byte(fastGenesis), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Genesis = genesis
	return cfg
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openTx(n *Node, i int) *quant.Tx {
	return &quant.Tx{ChainID: n.Chain().ID(), Time: time.Now().UnixMilli(), Nonce: uint64(i),
		Kind: quant.DataJSON, Data: []byte(fmt.Sprintf(`{"i":%d}`, i))}
}

func TestRestartKeepsChain(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	n, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	var txs []*quant.Tx
	for i := 0; i < 3; i++ {
		tx := openTx(n, i)
		if _, err := n.Submit(t.Context(), tx); err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		if _, err := n.Leap(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	head := n.Chain().Tip()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n, err = New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got := n.Chain().Tip(); got.Hash != head.Hash || got.Meta.Txs != 3 {
		t.Fatalf("after restart: tip %s (%d txs), want %s", got.Hash, got.Meta.Txs, head.Hash)
	}
	for _, tx := range txs {
		if _, err := n.Submit(t.Context(), tx); quant.CodeOf(err) != quant.CodeDuplicate {
			t.Fatalf("replay of committed tx %s after restart: %v", tx.ID(), err)
		}
	}
}

func TestGenesisMismatchRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	n, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(strings.Replace(fastGenesis, "node-test", "another", 1)), 0o600)
	cfg.Genesis = other
	if _, err := New(cfg, quiet()); err == nil || !strings.Contains(err.Error(), "holds chain") {
		t.Fatalf("New with another genesis on the same data dir: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		edit  func(c *Config)
		field string
	}{
		{func(c *Config) { c.Addr = "nohost" }, "addr"},
		{func(c *Config) { c.Addr = "127.0.0.1:99999" }, "addr"},
		{func(c *Config) { c.LogLevel = "loud" }, "log_level"},
		{func(c *Config) { c.MaxBodyBytes = 1 }, "max_body_bytes"},
		{func(c *Config) { c.PoolMaxTxs = -1 }, "pool"},
		{func(c *Config) { c.Peers = []string{"x"} }, "peers[0]"},
		{func(c *Config) { c.UI = "all" }, "ui"},
		{func(c *Config) { c.HistoryInterval = Duration(time.Millisecond) }, "history_interval"},
		{func(c *Config) { c.HistoryKeep = Duration(time.Second) }, "history_keep"},
	} {
		c := DefaultConfig()
		c.DataDir = "x"
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Validate: %v, want an error naming %s", err, tc.field)
		}
	}
	if a, b := DefaultDataDir("127.0.0.1:5000"), DefaultDataDir("127.0.0.1:5001"); a == b {
		t.Fatalf("two ports share a data dir: %s", a)
	}
}

// TestConcurrentSubmitAndLeap: transactions accepted while leaps run are
// all committed exactly once.
func TestConcurrentSubmitAndLeap(t *testing.T) {
	n, err := New(testConfig(t, t.TempDir()), quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var (
		mu       sync.Mutex
		accepted = map[quant.Hash]bool{}
		wg       sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				id, err := n.Submit(t.Context(), openTx(n, w*1000+i))
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				mu.Lock()
				accepted[id] = true
				mu.Unlock()
			}
		}(w)
	}
	leaps := make(chan struct{})
	go func() {
		defer close(leaps)
		for i := 0; i < 5; i++ {
			if _, err := n.Leap(context.Background()); err != nil {
				t.Errorf("leap: %v", err)
			}
		}
	}()
	wg.Wait()
	<-leaps
	for n.def().pool.Len() > 0 {
		if _, err := n.Leap(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Chain().Tip().Meta.Txs; got != uint64(len(accepted)) {
		t.Fatalf("chain holds %d txs, %d were accepted", got, len(accepted))
	}
	for id := range accepted {
		if ok, err := n.def().st.HasTx(id); !ok || err != nil {
			t.Fatalf("accepted tx %s is not committed (%v)", id, err)
		}
	}
}

// TestMining: a mining node makes a quant for each transaction that comes,
// and none in between: with an empty pool (and no heartbeat in the rules)
// it waits.
func TestMining(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Mine = true
	n, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	for i := range 5 {
		if _, err := n.def().Submit(ctx, openTx(n, i)); err != nil {
			t.Fatal(err)
		}
		want := uint64(i + 1)
		waitQuants(t, n, "mining commits the transaction", 30*time.Second, func() bool { return n.Chain().Tip().Meta.Txs >= want })
	}
	// Between transactions the miner waited: a few times each, not a
	// spin.
	if rounds := n.def().prod.(*leaper).rounds.Load(); rounds > 50 {
		t.Fatalf("the miner's loop turned %d times for 5 transactions: it polls", rounds)
	}
	// The node mined while the pool held something, never an empty quant.
	for h := uint64(1); h <= n.Chain().Tip().Header.Height; h++ {
		hash, err := n.def().st.HashAt(h)
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := n.def().st.Header(hash)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.TxCount == 0 {
			t.Fatalf("quant %d is empty: the miner did not wait for transactions", h)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

func TestHeartbeatDue(t *testing.T) {
	now := time.UnixMilli(10_000)
	for _, tc := range []struct {
		beat  time.Duration
		tipMs int64
		want  time.Duration
	}{
		{0, 10_000, -1},                                // no heartbeat: never
		{time.Second, 10_000, time.Second},             // a new tip: a beat from now
		{time.Second, 9_750, 750 * time.Millisecond},   // a quarter of a beat gone
		{time.Second, 9_000, 0},                        // due now
		{time.Second, 1_000, 0},                        // long overdue: now
		{time.Second, 10_500, 1500 * time.Millisecond}, // a tip ahead of the clock
	} {
		if got := heartbeatDue(tc.beat, tc.tipMs, now); got != tc.want {
			t.Errorf("heartbeatDue(%v, %d) = %v, want %v", tc.beat, tc.tipMs, got, tc.want)
		}
	}
}

// TestSubmitBatchRefusesWhatCannotFit: a batch larger than the pool's room
// is accepted up to the room and the rest refused as pool_full, without
// being checked, and nothing is lost once there is room again.
func TestSubmitBatchRefusesWhatCannotFit(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.PoolMaxTxs = 10
	n, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	txs := make([]*quant.Tx, 25)
	for i := range txs {
		txs[i] = openTx(n, i)
	}
	// A transaction past the room with a bad chain id: refused as full,
	// not checked.
	txs[20].ChainID = quant.Hash{9}
	ids, errs := n.SubmitBatch(t.Context(), txs)
	for i, err := range errs {
		switch {
		case i < 10 && err != nil:
			t.Fatalf("tx %d refused: %v", i, err)
		case i >= 10 && !errors.Is(err, mempool.ErrFull):
			t.Fatalf("tx %d: %v, want the pool full", i, err)
		}
		if ids[i] != txs[i].ID() {
			t.Fatalf("tx %d: id %s", i, ids[i])
		}
	}
	if _, err := n.Leap(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, errs = n.SubmitBatch(t.Context(), txs[10:20])
	for i, err := range errs {
		if err != nil {
			t.Fatalf("tx %d after a leap: %v", 10+i, err)
		}
	}
}
