package node

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// newRegistry is a node's registry (no global state): the Go runtime's and
// the process's series, then the store's and each chain's.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// metrics are one chain's Prometheus series, named
// qbc_<subsystem>_<name>_<unit>, registered with a chain label.
type metrics struct {
	height      prometheus.Gauge
	txsTotal    prometheus.Counter
	quantsTotal prometheus.Counter
	submitted   *prometheus.CounterVec
	accepted    prometheus.Counter // submitted's "accepted" child, looked up once
	poolTxs     prometheus.GaugeFunc
	poolBytes   prometheus.GaugeFunc
	leapSeconds prometheus.Histogram
	addSeconds  prometheus.Histogram
	reorgs      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, poolLen func() float64, poolBytes func() float64) *metrics {
	m := &metrics{
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qbc_chain_height", Help: "Height of the chain's tip.",
		}),
		txsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_chain_committed_txs_total", Help: "Transactions committed since start.",
		}),
		quantsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_chain_committed_quants_total", Help: "Quants committed since start.",
		}),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qbc_mempool_submitted_txs_total", Help: "Transactions submitted, by result (accepted or the refusal code).",
		}, []string{"result"}),
		poolTxs: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "qbc_mempool_txs", Help: "Transactions waiting in the pool.",
		}, poolLen),
		poolBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "qbc_mempool_bytes", Help: "Encoded bytes waiting in the pool.",
		}, poolBytes),
		leapSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "qbc_leap_duration_seconds", Help: "Time to make a quant: template, seal, validate, commit.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		addSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "qbc_chain_add_duration_seconds", Help: "Time to validate and durably commit a quant.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		reorgs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_chain_reorgs_total", Help: "Reorganizations to a heavier branch.",
		}),
	}
	m.accepted = m.submitted.WithLabelValues("accepted")
	reg.MustRegister(m.reorgs, m.height, m.txsTotal, m.quantsTotal, m.submitted, m.poolTxs, m.poolBytes, m.leapSeconds, m.addSeconds)
	return m
}

// trackedRegisterer remembers what it registers, so that a ledger's
// series go when its chain is left (and a chain followed again can
// register them anew).
type trackedRegisterer struct {
	prometheus.Registerer

	mu         sync.Mutex
	collectors []prometheus.Collector
}

// Register registers c and remembers it.
func (t *trackedRegisterer) Register(c prometheus.Collector) error {
	if err := t.Registerer.Register(c); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.collectors = append(t.collectors, c)
	return nil
}

// MustRegister registers cs and remembers them; it panics as
// prometheus.Registerer's does.
func (t *trackedRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

// unregisterAll unregisters everything registered through t.
func (t *trackedRegisterer) unregisterAll() {
	t.mu.Lock()
	cs := t.collectors
	t.collectors = nil
	t.mu.Unlock()
	for _, c := range cs {
		t.Registerer.Unregister(c)
	}
}
