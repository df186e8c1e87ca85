// Package history keeps a node's recent figures for its dashboard: a
// bounded ring of samples (one every interval, the last hours of them),
// each computed from two readings of the node's counters. It is pure: the
// node takes the readings and calls Add on its own clock.
package history

import (
	"sync"
)

// Chain is one chain's figures in a sample.
type Chain struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Height uint64 `json:"height"`
	// Txs is the chain's committed transactions, bang to tip.
	Txs uint64 `json:"txs"`
	// CommittedTPS is the rate of transactions committed on the chain
	// over the sample's interval.
	CommittedTPS float64 `json:"committed_tps"`
	PoolTxs      int     `json:"pool_txs"`
}

// Sample is the node's figures over one interval, ending at Time.
type Sample struct {
	Time int64 `json:"t"` // Unix ms
	// AcceptedTPS and CommittedTPS are the rates of transactions taken into
	// pools (or an ordered chain's log) and committed in quants, all
	// chains together.
	AcceptedTPS  float64 `json:"accepted_tps"`
	CommittedTPS float64 `json:"committed_tps"`
	// QuantsPerMin is the rate of quants committed.
	QuantsPerMin float64 `json:"quants_per_min"`
	// QuantIntervalMS is the mean time between quants committed in the
	// interval, all chains together; 0 when none was.
	QuantIntervalMS float64 `json:"quant_interval_ms"`
	// CommitMS is the mean time to validate and durably commit a quant in
	// the interval; 0 when none was committed.
	CommitMS float64 `json:"commit_ms"`
	PoolTxs  int     `json:"pool_txs"`
	// Txs is the committed transactions of every chain; DiskBytes the
	// store's size on disk.
	Txs       uint64 `json:"txs"`
	DiskBytes int64  `json:"disk_bytes"`
	// CPU is the process's CPU time over the interval per second of it
	// (1 = one core busy); RSSBytes its resident memory.
	CPU      float64 `json:"cpu"`
	RSSBytes int64   `json:"rss_bytes"`
	Chains   []Chain `json:"chains"`
}

// ChainReading is one chain's counters at a moment.
type ChainReading struct {
	ID, Name      string
	Height, Txs   uint64
	PoolTxs       int
	Committed     float64 // transactions committed since start
	Accepted      float64 // transactions admitted since start
	Quants        float64 // quants committed since start
	CommitSeconds float64 // summed time to commit those quants
	CommitCount   float64 // quants timed
}

// Reading is the node's counters at a moment; counters only grow (a
// chain followed or left between two readings counts from zero).
type Reading struct {
	Time       int64 // Unix ms
	CPUSeconds float64
	RSSBytes   int64
	DiskBytes  int64
	Chains     []ChainReading
}

// Diff is the sample over the interval from prev to cur. A counter that
// went down (a chain left and followed again) counts from zero.
func Diff(prev, cur Reading) Sample {
	s := Sample{Time: cur.Time, RSSBytes: cur.RSSBytes, DiskBytes: cur.DiskBytes, Chains: []Chain{}}
	dt := float64(cur.Time-prev.Time) / 1000
	if dt <= 0 {
		dt = 1
	}
	before := make(map[string]ChainReading, len(prev.Chains))
	for _, c := range prev.Chains {
		before[c.ID] = c
	}
	delta := func(now, was float64) float64 {
		if now < was {
			return now
		}
		return now - was
	}
	var quants, commitSec, commitN float64
	for _, c := range cur.Chains {
		p := before[c.ID]
		committed := delta(c.Committed, p.Committed)
		s.CommittedTPS += committed / dt
		s.AcceptedTPS += delta(c.Accepted, p.Accepted) / dt
		quants += delta(c.Quants, p.Quants)
		commitSec += delta(c.CommitSeconds, p.CommitSeconds)
		commitN += delta(c.CommitCount, p.CommitCount)
		s.PoolTxs += c.PoolTxs
		s.Txs += c.Txs
		s.Chains = append(s.Chains, Chain{ID: c.ID, Name: c.Name, Height: c.Height, Txs: c.Txs,
			CommittedTPS: committed / dt, PoolTxs: c.PoolTxs})
	}
	s.QuantsPerMin = quants / dt * 60
	if quants > 0 {
		s.QuantIntervalMS = dt * 1000 / quants
	}
	if commitN > 0 {
		s.CommitMS = commitSec / commitN * 1000
	}
	s.CPU = delta(cur.CPUSeconds, prev.CPUSeconds) / dt
	return s
}

// Ring holds the last samples, oldest first; safe for concurrent use.
type Ring struct {
	mu      sync.Mutex
	samples []Sample // ring storage, len up to cap
	next    int      // where the next sample goes once full
}

// NewRing holds up to n samples (at least 1).
func NewRing(n int) *Ring { return &Ring{samples: make([]Sample, 0, max(n, 1))} }

// Add appends s, dropping the oldest sample when full. It keeps s.
func (r *Ring) Add(s Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) < cap(r.samples) {
		r.samples = append(r.samples, s)
		return
	}
	r.samples[r.next] = s
	r.next = (r.next + 1) % len(r.samples)
}

// Since returns the samples later than t (Unix ms), oldest first; t = 0
// returns all. The samples share their Chains slices with the ring, which
// never changes them.
func (r *Ring) Since(t int64) []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Sample, 0, len(r.samples))
	n := len(r.samples)
	for i := range n {
		s := r.samples[(r.next+i)%n]
		if s.Time > t {
			out = append(out, s)
		}
	}
	return out
}

// Last is the newest sample, if any.
func (r *Ring) Last() (Sample, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.samples)
	if n == 0 {
		return Sample{}, false
	}
	return r.samples[(r.next+n-1)%n], true
}
