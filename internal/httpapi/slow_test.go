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
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Clients that are slow on purpose: a body sent a byte at a time, event
// streams nobody reads, more streams than the node serves. Each is cut off
// by a bound of the server's Config, set small here.

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
	// The server's deadline started when it read the headers, a little
	// before start: only far too early or far too late is wrong.
	if took < limit/2 || took > 5*time.Second {
		t.Fatalf("answered after %v, want about %v", took, limit)
	}
	// An honest client is still served.
	tn.json("GET", "/v1/chain", nil, 200, nil)
}

// TestUnreadStreamEnds: a client that opens an event stream and never
// reads loses it once a write has waited StreamWriteTimeout: the stream's
// subscription is gone however many events are published meanwhile.
func TestUnreadStreamEnds(t *testing.T) {
	tn := startNode(t, func(c *testConfig) { c.StreamWriteTimeout = 100 * time.Millisecond })
	c := tn.dial(t)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096) // fill up sooner
	}
	fmt.Fprint(c, "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
	bus := tn.node.bus
	waitFor(t, "the stream subscribes", 5*time.Second, func() bool { return bus.Len() == 1 })
	chain := tn.chainID().String()
	// Publish until the stream's handler has given up on the client; each
	// round is far more than a socket buffer holds.
	waitFor(t, "the unread stream ends", 20*time.Second, func() bool {
		for i := range 2000 {
			bus.Publish(events.Event{Kind: events.KindTx, Chain: chain, Data: quant.Hash{byte(i), byte(i >> 8)}})
		}
		return bus.Len() == 0
	})
	tn.json("GET", "/v1/chain", nil, 200, nil)
}

// TestStreamLimit: past MaxStreams open streams, another is answered 503
// unavailable; once one closes, a new one is served.
func TestStreamLimit(t *testing.T) {
	tn := startNode(t, func(c *testConfig) { c.MaxStreams = 2 })
	open := func() *http.Response {
		resp, err := http.Get(tn.base + "/v1/events")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	first, second := open(), open()
	for _, r := range []*http.Response{first, second} {
		if r.StatusCode != 200 {
			t.Fatalf("stream status %d", r.StatusCode)
		}
	}
	third := open()
	if third.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a stream past the limit: status %d, want 503", third.StatusCode)
	}
	var e api.Error
	if err := jsonDecode(third.Body, &e); err != nil || e.Err.Code != api.CodeUnavailable {
		t.Fatalf("answer %+v (%v), want code unavailable", e, err)
	}
	first.Body.Close()
	waitFor(t, "a stream is served again", 5*time.Second, func() bool {
		r := open()
		r.Body.Close()
		return r.StatusCode == 200
	})
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

// TestIdleStreamLives: an event stream outlives BodyTimeout and idle gaps
// longer than StreamWriteTimeout (a quiet chain): the body's read deadline
// is for requests with a body, and the write deadline bounds each write,
// not the gaps between them. (The body bound once set a read deadline on
// every request, a GET's included; net/http's background read hit it and
// ended every stream after 30 s.)
func TestIdleStreamLives(t *testing.T) {
	const limit = 100 * time.Millisecond
	tn := startNode(t, func(c *testConfig) { c.StreamWriteTimeout, c.BodyTimeout = limit, limit })
	// The client's limit ends a stream that stays open but brings nothing.
	hc := &http.Client{Timeout: 20 * time.Second}
	resp, err := hc.Get(tn.base + "/v1/events?kinds=tx")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	bus := tn.node.bus
	waitFor(t, "the stream subscribes", 5*time.Second, func() bool { return bus.Len() == 1 })
	lines := bufio.NewScanner(resp.Body)
	chain := tn.chainID().String()
	for round := range 3 {
		time.Sleep(3 * limit) // idle past the write deadline
		id := quant.Hash{byte(round + 1)}
		bus.Publish(events.Event{Kind: events.KindTx, Chain: chain, Data: id})
		for {
			if !lines.Scan() {
				t.Fatalf("round %d: the stream ended after %v idle (%v)", round, 3*limit, lines.Err())
			}
			if strings.Contains(lines.Text(), id.String()) {
				break
			}
		}
	}
	if n := bus.Len(); n != 1 {
		t.Fatalf("%d subscriptions after the idle rounds, want 1", n)
	}
}
