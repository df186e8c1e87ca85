package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value p50", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"two values p50 is the lower", ms(1, 2), 50, time.Millisecond},
		{"two values p51 is the upper", ms(1, 2), 51, 2 * time.Millisecond},
		{"four values p90", ms(1, 2, 3, 4), 90, 4 * time.Millisecond},
		{"1..100 p50", hundred, 50, 50 * time.Millisecond},
		{"1..100 p90", hundred, 90, 90 * time.Millisecond},
		{"1..100 p99", hundred, 99, 99 * time.Millisecond},
		{"1..100 p100", hundred, 100, 100 * time.Millisecond},
		{"tiny p is the minimum", hundred, 0.001, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestLatencyOfIsOrdered(t *testing.T) {
	if got := latencyOf(nil); got != (Latency{}) {
		t.Fatalf("latencyOf(nil) = %+v, want zero", got)
	}
	// Unsorted input, with a long tail.
	var ls []time.Duration
	for i := 1000; i > 0; i-- {
		ls = append(ls, time.Duration(i*i)*time.Microsecond)
	}
	l := latencyOf(ls)
	if l.Samples != 1000 {
		t.Fatalf("samples %d, want 1000", l.Samples)
	}
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Fatalf("latencies out of order: %+v", l)
	}
	if l.Max != 1000 { // 1000² µs
		t.Fatalf("max %v ms, want 1000", l.Max)
	}
	if l.P50 != 250 { // 500² µs
		t.Fatalf("p50 %v ms, want 250", l.P50)
	}
}

func TestTracker(t *testing.T) {
	id := func(b byte) quant.Hash { return quant.Hash{b} }
	t0 := time.Unix(1000, 0)
	tr := newTracker()
	tr.sent([]quant.Hash{id(1), id(2), id(3), id(4)})

	tr.acked([]quant.Hash{id(1)}, t0)
	// Committed before its acknowledgement arrived: latency zero.
	if n := tr.seen([]quant.Hash{id(1), id(2), id(9)}, t0.Add(30*time.Millisecond)); n != 2 {
		t.Fatalf("seen: %d of ours, want 2 (id 9 is not ours)", n)
	}
	tr.acked([]quant.Hash{id(2)}, t0.Add(40*time.Millisecond))
	// Refused: forgotten, never committed.
	tr.dropped([]quant.Hash{id(3)})
	if n := tr.seen([]quant.Hash{id(3)}, t0.Add(50*time.Millisecond)); n != 0 {
		t.Fatalf("a dropped transaction was counted as committed")
	}
	// Acknowledged, not committed.
	tr.acked([]quant.Hash{id(4)}, t0.Add(60*time.Millisecond))
	// Seen twice (two nodes): counted once.
	tr.seen([]quant.Hash{id(1)}, t0.Add(time.Second))

	s := tr.stats()
	if s.sent != 4 || s.accepted != 3 || s.committed != 2 || s.outstanding() != 1 {
		t.Fatalf("stats %+v, want sent 4, accepted 3, committed 2, outstanding 1", s)
	}
	got := tr.latencies()
	want := map[time.Duration]bool{30 * time.Millisecond: true, 0: true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] || got[0] == got[1] {
		t.Fatalf("latencies %v, want 30ms and 0", got)
	}
}

func TestPayload(t *testing.T) {
	for _, size := range []int{minSize, 100, 200, 4096} {
		for _, seq := range []uint64{0, 7, 99_999_999} {
			p := payload(seq, size)
			if len(p) != size {
				t.Fatalf("payload(%d, %d) is %d bytes", seq, size, len(p))
			}
			c, err := quant.CompactJSON(p)
			if err != nil || !bytes.Equal(c, p) {
				t.Fatalf("payload(%d, %d) = %s is not compact JSON (%v)", seq, size, p, err)
			}
		}
	}
	if bytes.Equal(payload(1, 100), payload(2, 100)) {
		t.Fatal("payloads of different transactions are equal")
	}
}

// TestRequests checks the bodies the generator makes: valid JSON or
// binary batches the node decodes, carrying exactly the transactions whose
// ids they list, and resendable in part.
func TestRequests(t *testing.T) {
	if BatchMediaType != httpapi.BatchMediaType {
		t.Fatalf("BatchMediaType %q, the node's is %q", BatchMediaType, httpapi.BatchMediaType)
	}
	chain := quant.Hash{0xc4}
	for _, tt := range []struct {
		name     string
		batch    int
		unsigned bool
		binary   bool
	}{
		{"signed batch", 5, false, false},
		{"unsigned batch", 3, true, false},
		{"single", 1, false, false},
		{"binary signed batch", 4, false, true},
		{"binary single", 1, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Nodes: []string{"x:1"}, Batch: tt.batch, Unsigned: tt.unsigned, Binary: tt.binary, Keys: 2, Prefill: -1}
			cfg.EnsureDefaults()
			g := newGenerator(&cfg, chain)
			r := g.make(10, tt.batch)
			txs := decodeBody(t, r)
			if len(txs) != tt.batch || len(r.ids) != tt.batch || len(r.items) != tt.batch {
				t.Fatalf("%d transactions, %d ids, %d items, want %d", len(txs), len(r.ids), len(r.items), tt.batch)
			}
			for i, tx := range txs {
				if tx.ID() != r.ids[i] || tx.ChainID != chain || tx.Signed() == tt.unsigned {
					t.Fatalf("tx %d: id %s (want %s), chain %s, signed %v", i, tx.ID(), r.ids[i], tx.ChainID, tx.Signed())
				}
				if err := quant.CheckTxSanity(tx, quant.MaxDataSize); err != nil {
					t.Fatalf("tx %d: %v", i, err)
				}
				if int64(tx.EncodedSize()) != g.txSize.Load() {
					t.Fatalf("tx %d: %d bytes, generator says %d", i, tx.EncodedSize(), g.txSize.Load())
				}
			}
			if tt.batch < 3 {
				return
			}
			sub := r.subset([]int{2, 0})
			got := decodeBody(t, sub)
			if len(got) != 2 || got[0].ID() != r.ids[2] || got[1].ID() != r.ids[0] ||
				sub.ids[0] != r.ids[2] || sub.ids[1] != r.ids[0] {
				t.Fatalf("subset: %v", sub.ids)
			}
		})
	}
}

// decodeBody decodes a request's body as the node does.
func decodeBody(t *testing.T, r *request) []*quant.Tx {
	t.Helper()
	var items []api.Tx
	switch r.enc {
	case encBinary:
		txs, err := httpapi.DecodeBatch(r.body, MaxBatch)
		if err != nil {
			t.Fatalf("binary body: %v", err)
		}
		return txs
	case encSingle:
		var tx api.Tx
		if err := json.Unmarshal(r.body, &tx); err != nil {
			t.Fatalf("single body %s: %v", r.body, err)
		}
		items = []api.Tx{tx}
	default:
		if err := json.Unmarshal(r.body, &items); err != nil {
			t.Fatalf("batch body: %v", err)
		}
	}
	var txs []*quant.Tx
	for i, it := range items {
		if string(r.items[i]) != `{"raw":"`+it.Raw+`"}` {
			t.Fatalf("item %d is %s", i, r.items[i])
		}
		tx, err := it.ToTx()
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	return txs
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
process_resident_memory_bytes 4.194304e+07
qbc_mempool_txs 17
qbc_mempool_txs_other{x="y"} 3
go_goroutines 9
`
	s, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if s.cpu != 12.5 || s.rss != 41943040 || s.pool != 17 {
		t.Fatalf("parsed %+v", s)
	}
	s, err = parseMetrics(strings.NewReader("go_goroutines 3\n"))
	if err != nil || s.cpu != -1 || s.rss != -1 {
		t.Fatalf("missing series: %+v, %v", s, err)
	}
	if _, err := parseMetrics(strings.NewReader("process_cpu_seconds_total x\n")); err == nil {
		t.Fatal("a bad value was accepted")
	}
}

func TestNumbers(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{{0, "0"}, {1.234, "1.23"}, {12.34, "12.3"}, {999.6, "1,000"}, {1234567, "1,234,567"}} {
		if got := num(tt.in); got != tt.want {
			t.Errorf("num(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := inum(-1234); got != "-1,234" {
		t.Errorf("inum(-1234) = %q", got)
	}
}

func TestRatios(t *testing.T) {
	r := &Report{
		CommittedPerSec: 15_000, AcceptedPerSec: 20_000, CommittedBytesPerSec: 15_000 * 250,
		Committed: 30_000, Quants: QuantStats{PerSec: 10},
		NodeStats: []NodeStats{{CPU: 3}, {CPU: 1}},
	}
	ref := &Reference{Cores: 2, Ed25519VerifyPerSec: 30_000, SHA256MBPerSec: 2000, FsyncPerSec: 1000}
	x := ratiosOf(r, ref)
	want := Ratios{
		CommittedPerVerify: 0.5, AcceptedPerVerify: 2.0 / 3, CommittedBytesPerSHA256: 3.75e6 / 2e9,
		CommittedPerFsync: 15, QuantsPerFsync: 0.01,
		NodeCPUPerTxInVerifies: 4 * 15_000 / 30_000.0, // 4 CPU s at 15,000 verifications per core-second
	}
	if *x != want {
		t.Fatalf("ratios %+v, want %+v", *x, want)
	}
	if ratiosOf(&Report{}, &Reference{}).CommittedPerVerify != 0 {
		t.Fatal("a zero reference gave a non-zero ratio")
	}
}

// TestReportShapes checks that the JSON has every field, even when zero,
// and that the table names each part.
func TestReportShapes(t *testing.T) {
	r := Report{Errors: map[string]int64{"pool_full": 3}, NodeStats: []NodeStats{{Node: "http://n:1"}},
		Reference: &Reference{Cores: 2}, Ratios: &Ratios{}}
	var m map[string]any
	if err := json.Unmarshal(mustJSON(t, r), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range requiredKeys(reflect.TypeFor[Report]()) {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accepted", "committed", "commit latency", "p99", "pool_full 3", "http://n:1", "generator", "reference", "ratios"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// requiredKeys are the JSON keys of struct type t's fields that are not
// omitempty.
func requiredKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" && !strings.Contains(opts, "omitempty") {
			keys = append(keys, name)
		}
	}
	return keys
}

func TestMeasureReference(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the machine")
	}
	ref, err := MeasureReference(context.Background(), t.TempDir(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Cores < 1 || ref.Ed25519VerifyPerSec <= 0 || ref.SHA256MBPerSec <= 0 || ref.FsyncPerSec <= 0 ||
		ref.HTTPRoundTripsPerSec <= 0 || (runtime.GOOS == "linux" && ref.HTTPCPUMicros <= 0) {
		t.Fatalf("reference %+v has a zero figure", ref)
	}
	var b strings.Builder
	ref.WriteText(&b)
	for _, want := range []string{"Ed25519", "fsync", "loopback HTTP round trips"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("reference text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestHTTPRoundTripsEnds checks that the HTTP reference stops when its
// context ends, long before its duration, with what it counted so far.
func TestHTTPRoundTripsEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	perSec, _, err := httpRoundTrips(ctx, time.Minute)
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("httpRoundTrips ran %v, past its context's end", took)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("httpRoundTrips ended with %v", err)
	}
	if err == nil && perSec <= 0 {
		t.Fatalf("httpRoundTrips counted nothing in 200 ms")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func() Config {
		c := Config{Nodes: []string{"127.0.0.1:5000"}}
		c.EnsureDefaults()
		return c
	}
	if c := ok(); c.Validate() != nil || c.Duration != 10*time.Second || c.Batch != 100 {
		t.Fatalf("defaults: %+v", c)
	}
	if c := (Config{Nodes: []string{"x:1"}, Count: 5}); true {
		c.EnsureDefaults()
		if c.Duration != MaxDuration {
			t.Fatalf("with a count the duration bound is %s, want %s", c.Duration, MaxDuration)
		}
	}
	for _, tt := range []struct {
		field string
		mod   func(*Config)
	}{
		{"no nodes", func(c *Config) { c.Nodes = nil }},
		{"nodes[0]", func(c *Config) { c.Nodes = []string{"ftp://x"} }},
		{"batch", func(c *Config) { c.Batch = MaxBatch + 1 }},
		{"rate", func(c *Config) { c.Rate = -1 }},
		{"size", func(c *Config) { c.Size = 3 }},
		{"duration", func(c *Config) { c.Duration = 2 * MaxDuration }},
		{"workers", func(c *Config) { c.Workers = -2 }},
	} {
		c := ok()
		tt.mod(&c)
		if c.Validate() == nil {
			t.Errorf("%s: a bad config was accepted", tt.field)
		}
	}
}

// TestBackOffOncePerRefusal: the requests in flight when the node first
// refuses with pool_full pause the senders once, not once each; a refusal
// of a request sent after the pause doubles it.
func TestBackOffOncePerRefusal(t *testing.T) {
	var s sender
	sent := time.Now()
	for range 8 {
		s.backOff(sent)
	}
	if s.pause.backoff != backoffMin {
		t.Fatalf("after 8 refusals of requests sent together, backoff %v, want %v", s.pause.backoff, backoffMin)
	}
	s.backOff(time.Now())
	if s.pause.backoff != 2*backoffMin {
		t.Fatalf("after a refusal of a later request, backoff %v, want %v", s.pause.backoff, 2*backoffMin)
	}
	s.relax()
	s.backOff(sent)
	if s.pause.backoff != backoffMin {
		t.Fatalf("after a request taken whole, backoff %v, want %v", s.pause.backoff, backoffMin)
	}
}
