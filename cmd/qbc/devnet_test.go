package main

import (
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

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// TestDevnet starts a 3-node devnet and waits until the nodes mine one
// chain together, then stops it.
func TestDevnet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"devnet", "--nodes", "3", "--base-port", "0", "--dir", t.TempDir(), "--target", "200ms"}, &out, io.Discard)
	}()
	var urls []string
	deadline := time.Now().Add(30 * time.Second)
	for len(urls) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("devnet printed no addresses: %q", out.String())
		}
		urls = urls[:0]
		for _, line := range strings.Split(out.String(), "\n") {
			if _, u, ok := strings.Cut(line, " http://"); ok && strings.HasPrefix(line, "node") {
				urls = append(urls, "http://"+u)
			}
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, with a deadline
	}
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
	deadline = time.Now().Add(60 * time.Second)
	for {
		a, b, c := stats(urls[0]), stats(urls[1]), stats(urls[2])
		low := min(a.Height, b.Height, c.Height)
		if low >= 3 && a.Peers == 2 && b.Peers == 2 && c.Peers == 2 {
			h := hashAt(urls[0], low-1)
			if h != "" && h == hashAt(urls[1], low-1) && h == hashAt(urls[2], low-1) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("devnet nodes did not mine one chain together: %d/%d/%d peers %d/%d/%d",
				a.Height, b.Height, c.Height, a.Peers, b.Peers, c.Peers)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, with a deadline
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
