package peer

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const maxWait = 30 * time.Second
	var b backoff
	if !b.due(t0) {
		t.Fatal("a new address is not due at once")
	}
	wants := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	now := t0
	for i, w := range wants {
		b.failed(now, maxWait)
		if b.wait != w*time.Second {
			t.Fatalf("failure %d: wait %v, want %v", i+1, b.wait, w*time.Second)
		}
		if b.due(now.Add(b.wait - 1)) {
			t.Fatalf("failure %d: due before its wait", i+1)
		}
		now = now.Add(b.wait)
		if !b.due(now) {
			t.Fatalf("failure %d: not due after its wait", i+1)
		}
	}
}

func TestBackoffDown(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := downBackoff(t0)
	if b.due(t0) || !b.due(t0.Add(minBackoff)) {
		t.Fatal("a peer gone down is retried after minBackoff")
	}
	b.failed(t0.Add(minBackoff), time.Minute)
	if b.wait != 2*minBackoff {
		t.Fatalf("wait after a failed retry = %v, want %v", b.wait, 2*minBackoff)
	}
}

func TestBackoffGiveUp(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bootstrap := []string{"10.0.0.1:7000"}
	for _, tc := range []struct {
		addr  string
		fails int
		want  bool
	}{
		{"10.0.0.2:7000", maxFails - 1, false},
		{"10.0.0.2:7000", maxFails, true},
		{"10.0.0.1:7000", maxFails, false}, // a bootstrap address is never forgotten
		{"10.0.0.1:7000", 10 * maxFails, false},
	} {
		var b backoff
		for range tc.fails {
			b.failed(t0, time.Minute)
		}
		if got := b.givenUp(tc.addr, bootstrap); got != tc.want {
			t.Errorf("%s after %d failures: givenUp %v, want %v", tc.addr, tc.fails, got, tc.want)
		}
	}
}
