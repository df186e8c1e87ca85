package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once,
// which tells a waiting reader of each write.
type syncBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{} // receives (without blocking the writer) after a write
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default: // a wake-up is pending already
	}
	return n, err
}

// waitFor waits until what was written satisfies cond, checking after each
// write, and fails the test with what if timeout passes first.
func (s *syncBuffer) waitFor(t *testing.T, timeout time.Duration, what string, cond func(string) bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond(s.String()) {
		select {
		case <-s.wrote:
		case <-deadline.C:
			t.Fatalf("waiting for %s: not written after %s: %q", what, timeout, s.String())
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDevnet starts a 3-node devnet and waits until the nodes mine one
// chain together, then stops it.
func TestDevnet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newSyncBuffer()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"devnet", "--nodes", "3", "--base-port", "0", "--dir", t.TempDir(), "--target", "200ms"}, out, io.Discard)
	}()
	var urls []string
	out.waitFor(t, 30*time.Second, "the three nodes' addresses", func(s string) bool {
		urls = urls[:0]
		for _, line := range strings.Split(s, "\n") {
			if _, u, ok := strings.Cut(line, " http://"); ok && strings.HasPrefix(line, "node") {
				urls = append(urls, "http://"+u)
			}
		}
		return len(urls) == 3
	})
	stats := func(u string) api.Stats {
		var s api.Stats
		resp, err := http.Get(u + "/stats")
		if err != nil {
			return s
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&s)
		return s
	}
	// Every node mines, so the tips race ahead: the nodes are on one chain
	// when they hold the same quant one below the lowest tip.
	hashAt := func(u string, h uint64) string {
		var q api.Quant
		resp, err := http.Get(fmt.Sprintf("%s/v1/quants/%d", u, h))
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&q)
		return q.Hash.String()
	}
	oneChain := func() (bool, string) {
		a, b, c := stats(urls[0]), stats(urls[1]), stats(urls[2])
		state := fmt.Sprintf("heights %d/%d/%d peers %d/%d/%d", a.Height, b.Height, c.Height, a.Peers, b.Peers, c.Peers)
		low := min(a.Height, b.Height, c.Height)
		if low < 3 || a.Peers != 2 || b.Peers != 2 || c.Peers != 2 {
			return false, state
		}
		h := hashAt(urls[0], low-1)
		return h != "" && h == hashAt(urls[1], low-1) && h == hashAt(urls[2], low-1), state
	}
	// A miner with an empty pool waits: a trickle of transactions to the
	// first node keeps them mining.
	var trickle sync.WaitGroup
	defer func() { cancel(); trickle.Wait() }()
	trickle.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			resp, err := http.Post(urls[0]+"/inject", "application/json", strings.NewReader(fmt.Sprintf(`{"data":{"n":%d}}`, i)))
			if err == nil {
				resp.Body.Close()
			}
		}
	})
	// The answer changes when a node commits a quant: check again on each
	// one any node announces.
	quants := quantEvents(ctx, t, urls)
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for ok, state := oneChain(); !ok; ok, state = oneChain() {
		select {
		case <-quants:
		case <-deadline.C:
			t.Fatalf("devnet nodes did not mine one chain together: %s", state)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("devnet: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("devnet did not stop")
	}
}

// quantEvents follows the nodes' event streams (GET /v1/events?kinds=quant)
// until ctx ends, and receives (without blocking the streams) after each
// quant any of them commits.
func quantEvents(ctx context.Context, t *testing.T, urls []string) <-chan struct{} {
	t.Helper()
	ch := make(chan struct{}, 1)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	for _, u := range urls {
		req, err := http.NewRequestWithContext(ctx, "GET", u+"/v1/events?kinds=quant", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: events: %v", u, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer resp.Body.Close()
			lines := bufio.NewScanner(resp.Body)
			for lines.Scan() {
				if strings.HasPrefix(lines.Text(), "event: quant") {
					select {
					case ch <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	return ch
}
