// Package loadgen is QBC's load generator and performance report: it sends
// signed or unsigned transactions to one or more nodes over the real HTTP
// API, single or batched, at a fixed rate or as fast as the nodes take
// them, for a bounded time and count, and reports what came of them.
//
// A run has four parts:
//
//   - Generation. A pool of producer goroutines (one per core) makes, signs
//     and encodes the transactions and builds the request bodies ahead of
//     the senders. Up to Config.Prefill transactions (no more than the run
//     can send) are made before the clock starts, and producers start again
//     only when three quarters of that supply is used, so that the
//     generator's own signing competes with the node being measured as
//     little and as late as possible. Its time is reported separately
//     (Report.Generator).
//   - Sending. Config.Workers goroutines POST the prepared bodies to
//     /v1/txs (a JSON array of {"raw": hex} per batch, one such object for
//     single submissions, or with Config.Binary the binary batch
//     BatchMediaType), round-robin over the nodes, paced to Config.Rate on a
//     fixed schedule. When a node refuses with pool_full (HTTP 429, or a
//     batch item with that code) every sender pauses (25 ms, doubling to 1 s
//     while refusals go on) and the refused transactions are sent again, and
//     counted.
//   - Following. Before anything is sent, one follower per node subscribes
//     to /v1/events (kind quant). Each event is timed as it arrives, on a
//     goroutine that never waits for anything else; four fetchers then get
//     each non-empty quant in its canonical encoding and match its
//     transaction ids against those acknowledged. Commit latency runs from a
//     transaction's acknowledgement to the arrival of its quant's event.
//     Gaps in heights (missed events) are fetched by height; a poll of
//     /stats every half second catches a stream that stalls.
//   - Draining. After sending stops, the run waits (up to Config.Drain) for
//     the acknowledged transactions to commit. The bench leaps itself only
//     with Config.LeapEvery (POST /leap on the first node), for nodes not
//     started with --mine.
//
// With Config.Reference the run first measures the machine's own limits
// (Ed25519 verifications per second on all cores, SHA-256 throughput,
// fsyncs per second: see MeasureReference) and reports the node's figures
// as ratios of them, so results compare across machines.
//
// The package talks to nodes only through HTTP and the api shapes; it
// never imports the node.
package loadgen
