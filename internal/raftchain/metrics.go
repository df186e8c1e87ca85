package raftchain

import (
	hraft "github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a replica's Prometheus series, qbc_raft_*, labelled with
// the chain's name.
type metrics struct {
	quants        prometheus.Counter
	txs           prometheus.Counter
	refused       prometheus.Counter
	restores      prometheus.Counter
	nudges        prometheus.Counter
	commitSeconds prometheus.Histogram
	forwardSecs   prometheus.Histogram
	catchUpSecs   prometheus.Histogram
	quantTxs      prometheus.Histogram
	inFlight      prometheus.Histogram
	funcs         []prometheus.Collector
}

// latency is a histogram of durations from 0.5 ms to about 16 s.
func latency(name, help string) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: name, Help: help, Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	})
}

func newMetrics(r *Replica) *metrics {
	m := &metrics{
		quants: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_raft_committed_quants_total", Help: "Quants applied to the chain from the Raft log.",
		}),
		txs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_raft_committed_txs_total", Help: "Transactions applied to the chain from the Raft log.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_raft_refused_entries_total", Help: "Raft log entries the chain refused.",
		}),
		restores: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_raft_snapshot_restores_total", Help: "Snapshots restored.",
		}),
		nudges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_raft_nudges_total", Help: "Leader: empty entries appended after a quant nothing followed, so that followers learn of its commit at once.",
		}),
		commitSeconds: latency("qbc_raft_commit_duration_seconds", "Leader: time from handing Raft a quant to its being applied here."),
		forwardSecs:   latency("qbc_raft_forward_duration_seconds", "Follower: time from forwarding a Submit to the leader to the leader's answer that the transactions are committed."),
		catchUpSecs:   latency("qbc_raft_forward_catch_up_seconds", "Follower: time from the leader's answer to a forwarded Submit to this replica's chain holding the transactions."),
		quantTxs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "qbc_raft_quant_txs", Help: "Leader: transactions per quant cut.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}),
		inFlight: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "qbc_raft_quants_in_flight", Help: "Leader: quants handed to Raft and not yet applied here when one is proposed, that one included.",
			Buckets: prometheus.LinearBuckets(1, 1, 8),
		}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.funcs = []prometheus.Collector{
		gauge("qbc_raft_term", "Current Raft term.", func() float64 { return float64(r.raft.CurrentTerm()) }),
		gauge("qbc_raft_commit_index", "Last committed Raft log index known here.", func() float64 { return float64(r.raft.CommitIndex()) }),
		gauge("qbc_raft_leader", "1 if this replica leads.", func() float64 {
			if r.raft.State() == hraft.Leader {
				return 1
			}
			return 0
		}),
		gauge("qbc_raft_pending_txs", "Leader: transactions waiting to be cut.", func() float64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			return float64(len(r.mu.pending))
		}),
	}
	return m
}

func (m *metrics) all() []prometheus.Collector {
	return append([]prometheus.Collector{m.quants, m.txs, m.refused, m.restores, m.nudges, m.commitSeconds, m.forwardSecs, m.catchUpSecs, m.quantTxs, m.inFlight}, m.funcs...)
}

// register adds the series to reg (nil: nowhere). A series reg already
// has (another replica of the same chain name) is skipped.
func (m *metrics) register(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.all() {
		_ = reg.Register(c)
	}
}

func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.all() {
		reg.Unregister(c)
	}
}
