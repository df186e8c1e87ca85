package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
)

// Clients that are slow on purpose: a body sent a byte at a time. Each is
// cut off by a bound of the server's Config, set small here.

// dial opens a raw connection to the API, for clients net/http will not
// play: ones that stop sending or reading half way.
func (tn *testNode) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(tn.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSlowBodyTimesOut: a client that sends its body a byte at a time
// (it would take 20 s) is answered 408 request_timeout once BodyTimeout
// has passed since the handler began reading, however often bytes arrive.
func TestSlowBodyTimesOut(t *testing.T) {
	const limit = 300 * time.Millisecond
	tn := startNode(t, func(c *testConfig) { c.BodyTimeout = limit })
	c := tn.dial(t)
	const size = 1000
	fmt.Fprintf(c, "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", size)
	// The trickler sends one byte every 20 ms until the answer comes.
	answered := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range size - 1 {
			select {
			case <-answered:
				return
			case <-tick.C:
				if _, err := c.Write([]byte(" ")); err != nil {
					return // the server hung up
				}
			}
		}
	}()
	start := time.Now()
	c.SetReadDeadline(start.Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	close(answered)
	<-trickled
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	defer resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	var e api.Error
	if err := jsonDecode(resp.Body, &e); err != nil || e.Err.Code != api.CodeRequestTimeout {
		t.Fatalf("answer %+v (%v), want code %s", e, err, api.CodeRequestTimeout)
	}
	if took < limit || took > 5*time.Second {
		t.Fatalf("answered after %v, want about %v", took, limit)
	}
	// An honest client is still served.
	tn.json("GET", "/v1/chain", nil, 200, nil)
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// waitFor waits for cond, checking it again and again, with a deadline:
// for conditions no event announces (a handler gone).
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, with a deadline
	}
}
