package node

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestShutdownWithUnreadEventStreams: clients that open event streams and
// never read (their sockets full of events) do not hold a graceful
// shutdown: Run returns nil (`qbc node` exits 0) well within
// ShutdownTimeout, and every goroutine the streams used is gone.
func TestShutdownWithUnreadEventStreams(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	const timeout = 5 * time.Second
	cfg.ShutdownTimeout = Duration(timeout)
	n, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()

	before := n.bus.Len()
	const streams = 16
	for i := range streams {
		c, err := net.Dial("tcp", n.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() }) // only at the end: the node must not need it
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		path := "/v1/events"
		if i%2 == 1 {
			path = "/v1/chains/" + n.Chain().ID().String() + "/events"
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	}
	eventually(t, "the streams subscribe", 10*time.Second, func() bool { return n.bus.Len() == before+streams })
	// Far more than the sockets hold (some 40 MB a stream, in rounds the
	// handlers drain between): the streams' writes block, their
	// subscriptions drop the rest.
	chain := n.Chain().ID().String()
	for i := range 300_000 {
		n.bus.Publish(events.Event{Kind: events.KindTx, Chain: chain, Data: quant.Hash{byte(i), byte(i >> 8), byte(i >> 16)}})
		if i%500 == 0 {
			runtime.Gosched()
		}
	}

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v, want nil (a clean shutdown)", err)
		}
		if took := time.Since(start); took > timeout/2 {
			t.Fatalf("shutdown took %v with unread streams (timeout %v)", took, timeout)
		}
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("Run did not return within the shutdown timeout %v and 5 s", timeout)
	}
	if got := n.bus.Len(); got != before {
		t.Fatalf("%d subscriptions left after Run, want %d", got, before)
	}
}
