package loadgen

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Report is the outcome of a run. Its JSON is one object with every field
// present (zero when nothing was measured), for comparison across runs.
type Report struct {
	// What was run.
	Nodes      []string   `json:"nodes"`
	Chain      quant.Hash `json:"chain"`
	Signed     bool       `json:"signed"`
	Batch      int        `json:"batch"`
	Encoding   string     `json:"encoding"` // "json", "single" (one api.Tx per request) or "binary"
	Rate       float64    `json:"rate"`     // target tx/s; 0: as fast as taken
	Workers    int        `json:"workers"`
	Keys       int        `json:"keys"`
	TxBytes    int        `json:"tx_bytes"`           // encoded size of each transaction
	Count      int        `json:"count"`              // the bound given; 0: none
	Duration   float64    `json:"duration_seconds"`   // the bound given
	LeapEvery  float64    `json:"leap_every_seconds"` // 0: the bench did not leap
	Started    time.Time  `json:"started"`            // when the clock started
	SendTime   float64    `json:"send_seconds"`       // from the start to the last acknowledgement
	CommitTime float64    `json:"commit_seconds"`     // from the start to the last commit seen
	DrainTime  float64    `json:"drain_seconds"`      // waiting for commits after sending
	// Stopped, if set, says why sending stopped before Count or Duration
	// (ErrStuck).
	Stopped string `json:"stopped,omitempty"`

	// Transactions. Sent = Accepted + Rejected; Committed + Uncommitted =
	// Accepted.
	Sent        int64 `json:"sent"`
	Accepted    int64 `json:"accepted"`
	Rejected    int64 `json:"rejected"`
	Committed   int64 `json:"committed"`
	Uncommitted int64 `json:"uncommitted"`
	Retries     int64 `json:"retries"`  // transactions sent again after pool_full
	Requests    int64 `json:"requests"` // HTTP submissions, resends included

	AcceptedPerSec       float64 `json:"accepted_per_sec"`        // Accepted / SendTime
	CommittedPerSec      float64 `json:"committed_per_sec"`       // Committed / CommitTime
	CommittedBytesPerSec float64 `json:"committed_bytes_per_sec"` // of encoded transactions

	Latency Latency `json:"latency"`
	// RequestLatency is each answered request's round trip, from sending
	// it to reading its answer. On a chain that answers only once a
	// transaction is committed (raft), this is the commit latency.
	RequestLatency Latency `json:"request_latency"`
	// Errors counts refusals and failures by kind: the API's error codes
	// (pool_full counts every refusal, retried or not) and the bench's own
	// (KindTransport, KindBadAnswer, KindAbandoned, KindFollow, http_NNN).
	Errors map[string]int64 `json:"errors"`

	Quants    QuantStats     `json:"quants"`
	Leaps     LeapStats      `json:"leaps"`
	Generator GeneratorStats `json:"generator"`
	NodeStats []NodeStats    `json:"node_stats"`
	// BenchCPU is the CPU seconds of the bench process itself over the
	// timed part (it shares the machine with the nodes it measures).
	BenchCPU float64 `json:"bench_cpu_seconds"`

	// Reference and Ratios are present with Config.Reference.
	Reference *Reference `json:"reference,omitempty"`
	Ratios    *Ratios    `json:"ratios,omitempty"`
}

// Latency is the commit latency: from a transaction's acknowledgement to
// the bench learning of the committed quant that holds it, in
// milliseconds.
type Latency struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P90     float64 `json:"p90_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
	Mean    float64 `json:"mean_ms"`
}

// QuantStats are the quants committed during the run (on any node).
type QuantStats struct {
	Count    int64   `json:"count"`
	NonEmpty int64   `json:"non_empty"`
	Txs      int64   `json:"txs"`     // transactions in them, the bench's or not
	PerSec   float64 `json:"per_sec"` // Count / CommitTime
}

// LeapStats are the bench's own leaps (Config.LeapEvery).
type LeapStats struct {
	Count  int64 `json:"count"`
	Errors int64 `json:"errors"`
}

// GeneratorStats are the cost of making the transactions, apart from the
// nodes'.
type GeneratorStats struct {
	Producers int   `json:"producers"`
	Made      int64 `json:"made"`
	Prefilled int64 `json:"prefilled"` // made before the clock started
	// Busy is the producers' summed time making transactions, in
	// seconds; PerSec is Made / Busy (per producer).
	Busy   float64 `json:"busy_seconds"`
	PerSec float64 `json:"per_sec"`
	// Stall is the senders' summed time waiting for the generator after
	// the clock started, in seconds: large means the generator, not the
	// node, set the pace.
	Stall float64 `json:"stall_seconds"`
}

// NodeStats are one node's process figures from its /metrics, before and
// after the run (peak: sampled every second).
type NodeStats struct {
	Node     string  `json:"node"`
	CPU      float64 `json:"cpu_seconds"` // CPU seconds used during the run
	Cores    float64 `json:"cores"`       // CPU / the run's wall time
	RSSStart int64   `json:"rss_start_bytes"`
	RSSEnd   int64   `json:"rss_end_bytes"`
	RSSPeak  int64   `json:"rss_peak_bytes"`
}

// Ratios are the run's figures over the machine's limits (Reference).
type Ratios struct {
	// CommittedPerVerify is committed tx/s ÷ Ed25519 verifications/s on
	// all cores: the share of the machine's signature-checking rate the
	// node commits at (issue target for signed load: ≥ 0.75).
	CommittedPerVerify float64 `json:"committed_per_verify"`
	// AcceptedPerVerify is the same for acknowledgements.
	AcceptedPerVerify float64 `json:"accepted_per_verify"`
	// CommittedBytesPerSHA256 is committed transaction bytes/s ÷ SHA-256
	// bytes/s on all cores.
	CommittedBytesPerSHA256 float64 `json:"committed_bytes_per_sha256"`
	// CommittedPerFsync is committed tx/s ÷ fsyncs/s: how many
	// transactions each fsync's worth of time carries.
	CommittedPerFsync float64 `json:"committed_per_fsync"`
	// QuantsPerFsync is quants/s ÷ fsyncs/s.
	QuantsPerFsync float64 `json:"quants_per_fsync"`
	// NodeCPUPerTxInVerifies is the nodes' CPU time per committed
	// transaction, in units of one Ed25519 verification's CPU time.
	NodeCPUPerTxInVerifies float64 `json:"node_cpu_per_tx_in_verifies"`
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It returns 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// latencyOf summarizes latencies. It sorts them in place.
func latencyOf(ls []time.Duration) Latency {
	if len(ls) == 0 {
		return Latency{}
	}
	slices.Sort(ls)
	var sum time.Duration
	for _, l := range ls {
		sum += l
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Latency{
		Samples: len(ls),
		P50:     ms(percentile(ls, 50)),
		P90:     ms(percentile(ls, 90)),
		P99:     ms(percentile(ls, 99)),
		Max:     ms(ls[len(ls)-1]),
		Mean:    ms(sum / time.Duration(len(ls))),
	}
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ratiosOf computes r's ratios against ref.
func ratiosOf(r *Report, ref *Reference) *Ratios {
	var cpu float64
	for _, n := range r.NodeStats {
		cpu += n.CPU
	}
	perCoreVerify := ratio(ref.Ed25519VerifyPerSec, float64(ref.Cores))
	return &Ratios{
		CommittedPerVerify:      ratio(r.CommittedPerSec, ref.Ed25519VerifyPerSec),
		AcceptedPerVerify:       ratio(r.AcceptedPerSec, ref.Ed25519VerifyPerSec),
		CommittedBytesPerSHA256: ratio(r.CommittedBytesPerSec, ref.SHA256MBPerSec*1e6),
		CommittedPerFsync:       ratio(r.CommittedPerSec, ref.FsyncPerSec),
		QuantsPerFsync:          ratio(r.Quants.PerSec, ref.FsyncPerSec),
		NodeCPUPerTxInVerifies:  ratio(cpu*perCoreVerify, float64(r.Committed)),
	}
}

// WriteText writes the report as a human-readable table.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	kind := "signed"
	if !r.Signed {
		kind = "unsigned"
	}
	rate := "as fast as taken"
	if r.Rate > 0 {
		rate = fmt.Sprintf("%s tx/s", num(r.Rate))
	}
	chain := r.Chain.String()
	fmt.Fprintf(&b, "qbc bench: %d node(s) %s, chain %s…\n", len(r.Nodes), strings.Join(r.Nodes, ","), chain[:16])
	fmt.Fprintf(&b, "  %s transactions of %d bytes, batch %d (%s), %s, %d workers, %d keys\n",
		kind, r.TxBytes, r.Batch, r.Encoding, rate, r.Workers, r.Keys)
	leap := ""
	if r.LeapEvery > 0 {
		leap = fmt.Sprintf(", leaping every %s", secs(r.LeapEvery))
	}
	fmt.Fprintf(&b, "  sent for %s, drained %s%s\n", secs(r.SendTime), secs(r.DrainTime), leap)
	if r.Stopped != "" {
		fmt.Fprintf(&b, "  sending stopped early: %s\n", r.Stopped)
	}
	b.WriteString("\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "transactions\ttotal\tper second\t\n")
	fmt.Fprintf(tw, "sent\t%s\t\t\n", inum(r.Sent))
	fmt.Fprintf(tw, "accepted\t%s\t%s\t\n", inum(r.Accepted), num(r.AcceptedPerSec))
	fmt.Fprintf(tw, "committed\t%s\t%s\t\n", inum(r.Committed), num(r.CommittedPerSec))
	fmt.Fprintf(tw, "uncommitted\t%s\t\t\n", inum(r.Uncommitted))
	fmt.Fprintf(tw, "rejected\t%s\t\t\n", inum(r.Rejected))
	fmt.Fprintf(tw, "retried (pool full)\t%s\t\t\n", inum(r.Retries))
	tw.Flush()

	l := r.Latency
	fmt.Fprintf(&b, "\ncommit latency (acknowledged → in a committed quant), %s samples\n", inum(int64(l.Samples)))
	fmt.Fprintf(&b, "  p50 %s   p90 %s   p99 %s   max %s   mean %s\n", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Mean))
	l = r.RequestLatency
	fmt.Fprintf(&b, "request latency (sent → answered; on raft chains, committed), %s requests\n", inum(int64(l.Samples)))
	fmt.Fprintf(&b, "  p50 %s   p90 %s   p99 %s   max %s   mean %s\n", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Mean))

	q := r.Quants
	fmt.Fprintf(&b, "\nquants: %s committed (%s/s), %s with transactions", inum(q.Count), num(q.PerSec), inum(q.NonEmpty))
	if q.NonEmpty > 0 {
		fmt.Fprintf(&b, ", %s transactions each on average", num(float64(q.Txs)/float64(q.NonEmpty)))
	}
	b.WriteString("\n")
	if r.LeapEvery > 0 {
		fmt.Fprintf(&b, "leaps by the bench: %s (%s failed)\n", inum(r.Leaps.Count), inum(r.Leaps.Errors))
	}

	b.WriteString("\nerrors: ")
	if len(r.Errors) == 0 {
		b.WriteString("none\n")
	} else {
		kinds := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for i, k := range kinds {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %s", k, inum(r.Errors[k]))
		}
		b.WriteString("\n")
	}

	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "node\tCPU s\tcores\tRSS start\tRSS end\tRSS peak\t\n")
	for _, n := range r.NodeStats {
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%s\t%s\t%s\t\n", n.Node, n.CPU, n.Cores, mib(n.RSSStart), mib(n.RSSEnd), mib(n.RSSPeak))
	}
	fmt.Fprintf(tw, "bench (this process)\t%.1f\t\t\t\t\t\n", r.BenchCPU)
	tw.Flush()

	g := r.Generator
	fmt.Fprintf(&b, "\ngenerator: %s transactions (%s before the clock) by %d producers in %s of their time, %s/s each; senders waited %s for it\n",
		inum(g.Made), inum(g.Prefilled), g.Producers, secs(g.Busy), num(g.PerSec), secs(g.Stall))

	if ref := r.Reference; ref != nil {
		b.WriteString("\n")
		ref.WriteText(&b)
	}
	if x := r.Ratios; x != nil {
		b.WriteString("\nratios:\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  committed/s ÷ Ed25519 verifications/s\t%.3f\n", x.CommittedPerVerify)
		fmt.Fprintf(tw, "  accepted/s ÷ Ed25519 verifications/s\t%.3f\n", x.AcceptedPerVerify)
		fmt.Fprintf(tw, "  committed bytes/s ÷ SHA-256 bytes/s\t%.4f\n", x.CommittedBytesPerSHA256)
		fmt.Fprintf(tw, "  committed/s ÷ fsyncs/s\t%.2f\n", x.CommittedPerFsync)
		fmt.Fprintf(tw, "  quants/s ÷ fsyncs/s\t%.3f\n", x.QuantsPerFsync)
		fmt.Fprintf(tw, "  node CPU per committed tx, in Ed25519 verifications\t%.2f\n", x.NodeCPUPerTxInVerifies)
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// num formats a rate or count with thousands separators and no more
// precision than it deserves.
func num(v float64) string {
	switch {
	case v >= 100 || v == 0:
		return inum(int64(math.Round(v)))
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// inum formats an integer with thousands separators.
func inum(v int64) string {
	s := fmt.Sprint(v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func ms(v float64) string { return fmt.Sprintf("%.1f ms", v) }

func secs(v float64) string { return fmt.Sprintf("%.1fs", v) }

func mib(v int64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(v)/(1<<20))
}

// WriteText writes the reference figures as a small table.
func (ref *Reference) WriteText(w io.Writer) {
	fmt.Fprintf(w, "reference (this machine, %d cores, %s each):\n", ref.Cores, secs(ref.Seconds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Ed25519 verifications\t%s/s\t(all cores)\n", num(ref.Ed25519VerifyPerSec))
	fmt.Fprintf(tw, "  SHA-256\t%s MB/s\t(all cores)\n", num(ref.SHA256MBPerSec))
	fmt.Fprintf(tw, "  fsync of 4 KiB appends\t%s/s\t(%s)\n", num(ref.FsyncPerSec), ref.FsyncDir)
	fmt.Fprintf(tw, "  loopback HTTP round trips\t%s/s\t(one at a time; %.1f µs CPU each, client and server)\n", num(ref.HTTPRoundTripsPerSec), ref.HTTPCPUMicros)
	tw.Flush()
}
