package loadgen

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Config is one run of the load generator. Zero fields take the defaults
// of EnsureDefaults.
type Config struct {
	// Nodes are the nodes to load, as HOST:PORT or URLs. Requests go
	// round-robin over them; commits are watched on all of them. Nothing
	// else is contacted.
	Nodes []string
	// Duration bounds the sending phase. Default: 10s without Count, and
	// MaxDuration with it (a count still ends in bounded time).
	Duration time.Duration
	// Count bounds the transactions sent (0: only Duration bounds them).
	Count int
	// Rate is the target in transactions per second over all workers; 0
	// sends as fast as the nodes take them.
	Rate float64
	// Batch is how many transactions go in one request; 1 sends each as
	// one api.Tx. Default 100, at most MaxBatch.
	Batch int
	// Binary sends each request as a binary batch (BatchMediaType)
	// instead of JSON; the node decodes it without JSON or hex.
	Binary bool
	// Unsigned sends unsigned transactions (for open chains).
	Unsigned bool
	// RecordKeys, if set, makes every transaction a write of a record:
	// keys bench/0 to bench/RecordKeys-1, in turn (docs/records.md).
	RecordKeys int
	// Chain is the chain to load, through the /v1/chains/{id}/... routes;
	// zero loads the first node's default chain (GET /v1/chain).
	Chain quant.Hash
	// Workers is the number of requests in flight. Default 8.
	Workers int
	// Keys is the number of signing keys, used in turn. Default 16.
	Keys int
	// Size is each payload's size in bytes (a JSON object padded to it).
	// Default 100.
	Size int
	// Prefill is how many transactions are made before the clock starts
	// (at most the whole run's Count). Default 250,000; -1 for none.
	Prefill int
	// Drain bounds the wait, after sending, for acknowledged transactions
	// to commit. Default 10s. A run stopped by Stuck does not wait: nothing
	// committed for that long.
	Drain time.Duration
	// LeapEvery, if set, makes the bench ask the first node to leap the
	// run's chain at this interval while it runs (for a node not mining).
	LeapEvery time.Duration
	// Stuck is how long the nodes may refuse everything with pool_full,
	// nothing acknowledged or committed meanwhile, before the run stops
	// sending and ends with ErrStuck. Default 30s.
	Stuck time.Duration
	// Reference measures the machine's limits before the load
	// (MeasureReference) and adds ratios to the report.
	Reference bool
	// ReferenceDir is where the fsync reference writes its temporary file;
	// default the system's temporary directory.
	ReferenceDir string
	// Progress, if set, gets one line a second while the run lasts.
	Progress io.Writer
	// Acked, if set, is called with the ids of the transactions each
	// request got acknowledged, from the sending goroutines (concurrently).
	// It must not keep ids.
	Acked func(ids []quant.Hash)
}

// Limits of a run.
const (
	// MaxBatch is the most transactions in one request (the node's limit).
	MaxBatch = 10_000
	// MaxDuration bounds a run's sending phase.
	MaxDuration = time.Hour
	// MaxCount bounds the transactions of a run.
	MaxCount = 100_000_000
	// maxSize bounds a payload.
	maxSize = 1 << 20
	// minSize is the smallest padded payload: {"n":<count>,"p":""} with a
	// count under MaxCount.
	minSize = 32
)

// EnsureDefaults fills the fields that are zero.
func (c *Config) EnsureDefaults() {
	if c.Duration == 0 {
		if c.Count > 0 {
			c.Duration = MaxDuration
		} else {
			c.Duration = 10 * time.Second
		}
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.Workers == 0 {
		c.Workers = 8
	}
	if c.Keys == 0 {
		c.Keys = 16
	}
	if c.Size == 0 {
		c.Size = 100
	}
	if c.Prefill == 0 {
		c.Prefill = 250_000
	}
	if c.Drain == 0 {
		c.Drain = 10 * time.Second
	}
	if c.Stuck == 0 {
		c.Stuck = 30 * time.Second
	}
}

// Validate names the first bad field.
func (c *Config) Validate() error {
	if len(c.Nodes) == 0 {
		return ErrNoNodes
	}
	for i, n := range c.Nodes {
		if _, err := client.BaseURL(n); err != nil {
			return fmt.Errorf("loadgen: nodes[%d]: %w", i, err)
		}
	}
	switch {
	case c.Duration < 0 || c.Duration > MaxDuration:
		return fmt.Errorf("loadgen: duration: must be between 0 and %s", MaxDuration)
	case c.Count < 0 || c.Count > MaxCount:
		return fmt.Errorf("loadgen: count: must be between 0 and %d", MaxCount)
	case c.Rate < 0:
		return fmt.Errorf("loadgen: rate: must not be negative")
	case c.Batch < 1 || c.Batch > MaxBatch:
		return fmt.Errorf("loadgen: batch: must be 1 to %d", MaxBatch)
	case c.Workers < 1 || c.Workers > 1024:
		return fmt.Errorf("loadgen: workers: must be 1 to 1024")
	case c.Keys < 1 || c.Keys > 100_000:
		return fmt.Errorf("loadgen: keys: must be 1 to 100000")
	case c.Size < minSize || c.Size > maxSize:
		return fmt.Errorf("loadgen: size: must be %d to %d bytes", minSize, maxSize)
	case c.Prefill < -1:
		return fmt.Errorf("loadgen: prefill: must be -1 (none) or more")
	case c.Drain < 0:
		return fmt.Errorf("loadgen: drain: must not be negative")
	case c.LeapEvery < 0:
		return fmt.Errorf("loadgen: leap_every: must not be negative")
	case c.Stuck < 0:
		return fmt.Errorf("loadgen: stuck: must not be negative")
	}
	return nil
}

// numProducers is the size of the generator's pool: one per core.
func numProducers() int { return runtime.GOMAXPROCS(0) }
