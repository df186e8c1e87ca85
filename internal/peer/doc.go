// Package peer connects QBC nodes into a network: node identity (an
// Ed25519 key in the data directory), signed envelopes with time and replay
// protection for every node-to-node message, discovery and liveness of
// peers, gossip of transactions and quants, and sync of the heaviest chain.
//
// Nodes talk over HTTP (POST /p2p/v1/<chain> on the node's API address):
// the body is an envelope signed by the sender and addressed to the
// receiver, and so is the answer. Nothing a peer sends is trusted before
// the envelope checks pass (guard.go), and its content is given to the
// node (Host), which validates it as it would a client's. See
// docs/security.md for the threat model.
//
// # The Host and its verdicts
//
// A Service serves one chain for one Host (the node's ledger of that
// chain). For what a peer sends, the Host answers with a Verdict, and the
// peer layer acts on the verdict alone: Accepted is relayed, Known and
// Declined are dropped without fault, Orphan starts a sync, Invalid scores
// the sender down. The error that comes with a verdict is for logs. The
// peer layer's own refusals of a message are the typed Codes of the wire
// protocol (codes.go), each with its HTTP status in one table.
//
// # Decisions without I/O
//
// What the peer layer decides is kept in plain structs that do no I/O and
// read no clock (the caller passes the time), each tested by tables or
// scripts with no network and no sleeps:
//
//   - scheduler (scheduler.go): one sync along a plan of hashes: which
//     span to fetch from which source, up to a window ahead, adding in
//     plan order, and handing a span a source lacked to another source.
//   - scoreboard (scoreboard.go): what each fault costs, bans at a score
//     and their expiry.
//   - backoff (backoff.go): when to try an address again, and when to
//     forget one.
//
// The Service carries their decisions out: sync.go runs the scheduler
// (plan, dispatch, collect, add), peers.go keeps the table of live peers
// and the scoreboard under one mutex, discover.go and liveness.go run
// discovery (with backoff) and pings, gossip.go batches transactions and
// announces quants, handler.go serves inbound messages.
//
// # Goroutines
//
// Every goroutine the Service starts runs under the context given to Run,
// and Run returns only once all of them have stopped (an errgroup). Work
// asked for outside Run (an announced quant to fetch, announcements and
// peer lists to send, Host.Offered) goes to bounded queues served by a
// fixed number of Run's goroutines (work.go); when a queue is full the work
// is dropped and counted (qbc_p2p_dropped_jobs_total): sync and the next
// hello make up for it. Fan-outs within one step (pings, transaction
// batches, a sync's requests) are waited for before the step returns.
// TestRunLeavesNoGoroutine checks this with goleak.
package peer
