package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/qbc-chain/qbc/internal/loadgen"
	"github.com/qbc-chain/qbc/internal/quant"
)

const benchHelp = `Usage: qbc bench --nodes HOST:PORT[,HOST:PORT...] [flags]

Load nodes with transactions over their HTTP API and report what came of
it: accepted and committed transactions per second, commit latency (p50,
p90, p99, max: from a transaction's acknowledgement to the bench learning
of the committed quant holding it), errors by kind, and each node's CPU
time and resident memory (from its /metrics).

Transactions are signed (by --keys random keys) unless --unsigned, which
only open chains take; they are made, signed and encoded ahead of the
senders (up to 250,000 before the clock starts), so that the bench's own
signing competes as little as possible with the nodes. They go in batches
of --batch to POST /v1/txs (a JSON array of {"raw": hex}; --batch 1 sends
each alone as one such object; --binary sends length-prefixed canonical
encodings, which the node decodes without JSON or hex), round-robin over
the nodes, at --rate per second or as fast as taken. Refusals with
pool_full (429) pause every sender (25 ms, doubling to 1 s) and are sent
again, and counted.

The run is bounded: it sends for --duration or until --count transactions
are sent, whichever is first, then waits up to --drain for the
acknowledged ones to commit. It contacts only the nodes it is given.

Commits need quants: run the node with --mine, or give --leap-every to
have the bench ask the first node to leap the chain (POST /v1/leap, or
/v1/chains/ID/leap with --chain) at that interval.
If the nodes refuse everything with pool_full for --stuck (default 30s)
and nothing commits meanwhile, the bench stops sending, reports what it
has (without waiting for --drain) and exits with an error: their pool
would not have made room.

--reference first measures this machine's limits (about 4s): Ed25519
verifications per second on all cores, SHA-256 throughput, fsyncs per
second in the temporary directory, and small HTTP round trips on loopback
(one at a time, with their CPU: what system calls and wake-ups cost here,
which the raft and single-request figures follow); the report then gives
the run's figures as ratios of them, which compare across machines. Without
--nodes, --reference only measures and prints them (scripts/perf.sh puts
them beside its figures).

Progress goes to standard error once a second; the report to standard
output, as a table or, with --json, as one JSON object.
`

const benchExample = `qbc bench --reference
qbc node 5000 --mine &
qbc bench --nodes 127.0.0.1:5000 --duration 30s --batch 1000 --reference
qbc bench --nodes 127.0.0.1:5000 --count 100000 --unsigned --json > unsigned.json
qbc bench --nodes :5000,:5001 --rate 2000 --batch 1 --leap-every 100ms`

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", benchHelp, benchExample)
	var (
		nodes     = fs.String("nodes", "", "the nodes to load, comma-separated `HOST:PORT` or URLs (required)")
		duration  = fs.Duration("duration", 0, "send for `D` (default 10s; with --count, until the count is sent, at most 1h)")
		count     = fs.Int("count", 0, "send at most `N` transactions (0: no bound but --duration)")
		rate      = fs.Float64("rate", 0, "send `R` transactions per second in all (0: as fast as taken)")
		batch     = fs.Int("batch", 100, "`N` transactions per request, at most 10000 (1: each alone)")
		unsigned  = fs.Bool("unsigned", false, "send unsigned transactions (open chains only)")
		records   = fs.Int("records", 0, "write records: every transaction a new version of one of `N` keys (bench/0, ...)")
		binary    = fs.Bool("binary", false, "send batches in the binary encoding ("+loadgen.BatchMediaType+") instead of JSON")
		chainID   = fs.String("chain", "", "the chain `ID` (hex) to load, through /v1/chains/ID/... (default: the first node's default chain)")
		asJSON    = fs.Bool("json", false, "print the report as one JSON object")
		reference = fs.Bool("reference", false, "measure this machine's limits first and report ratios to them")
		leapEvery = fs.Duration("leap-every", 0, "ask the first node to leap the chain every `D` (for a node not started with --mine)")
		workers   = fs.Int("workers", 8, "`N` requests in flight")
		keys      = fs.Int("keys", 16, "sign with `N` random keys in turn")
		size      = fs.Int("size", 100, "payloads of `BYTES` bytes (a JSON object padded to it)")
		drain     = fs.Duration("drain", 0, "after sending, wait up to `D` for commits (default 10s)")
		stuck     = fs.Duration("stuck", 0, "stop sending after `D` of pool_full refusals with nothing committed (default 30s)")
		quiet     = fs.Bool("quiet", false, "no progress lines")
	)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("bench", pos, 0, 0); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg := loadgen.Config{
		Nodes:      splitList(*nodes),
		Duration:   *duration,
		Count:      *count,
		Rate:       *rate,
		Batch:      *batch,
		Unsigned:   *unsigned,
		RecordKeys: *records,
		Binary:     *binary,
		Workers:    *workers,
		Keys:       *keys,
		Size:       *size,
		Drain:      *drain,
		LeapEvery:  *leapEvery,
		Stuck:      *stuck,
		Reference:  *reference,
	}
	if len(cfg.Nodes) == 0 && *reference {
		return benchReference(ctx, e, *asJSON)
	}
	if len(cfg.Nodes) == 0 {
		return usagef("bench: --nodes is required (or --reference alone, for this machine's figures)\nRun 'qbc bench --help' for usage.")
	}
	for name, v := range map[string]int{"batch": *batch, "workers": *workers, "keys": *keys, "size": *size} {
		if v < 1 {
			return usagef("bench: --%s must be at least 1", name)
		}
	}
	if set["duration"] && *duration <= 0 {
		return usagef("bench: --duration must be positive")
	}
	if set["drain"] && *drain <= 0 {
		return usagef("bench: --drain must be positive")
	}
	if set["stuck"] && *stuck <= 0 {
		return usagef("bench: --stuck must be positive")
	}
	if *chainID != "" {
		id, err := quant.ParseHash(*chainID)
		if err != nil {
			return usagef("bench: --chain: %v", err)
		}
		cfg.Chain = id
	}
	if !*quiet {
		cfg.Progress = e.stderr
	}
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		if errors.Is(err, loadgen.ErrNoNodes) {
			return usagef("bench: --nodes is required")
		}
		return usagef("bench: %v", err)
	}

	rep, err := loadgen.Run(ctx, cfg)
	if rep.Started.IsZero() {
		return err // nothing was sent: no report
	}
	var werr error
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		werr = enc.Encode(rep)
	} else {
		werr = rep.WriteText(e.stdout)
	}
	return errors.Join(err, werr)
}

// benchReference measures and prints this machine's reference figures
// alone (qbc bench --reference, without --nodes), so that figures measured
// another way (a script's, a go test -bench's) can be put beside them.
func benchReference(ctx context.Context, e *env, asJSON bool) error {
	ref, err := loadgen.MeasureReference(ctx, "", time.Second)
	if err != nil {
		return fmt.Errorf("bench: reference: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(map[string]any{"reference": ref})
	}
	ref.WriteText(e.stdout)
	return nil
}
