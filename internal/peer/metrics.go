package peer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	msgs       *prometheus.CounterVec
	refused    *prometheus.CounterVec
	invalid    prometheus.Counter
	txsIn      prometheus.Counter
	quantsIn   prometheus.Counter
	syncQuants prometheus.Counter
	dropped    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, live func() float64) *metrics {
	m := &metrics{
		msgs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qbc_p2p_messages_total", Help: "Peer messages by kind and direction.",
		}, []string{"kind", "dir"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qbc_p2p_refused_total", Help: "Inbound peer messages refused, by reason.",
		}, []string{"reason"}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_p2p_invalid_total", Help: "Invalid data received from peers.",
		}),
		txsIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_p2p_received_txs_total", Help: "Transactions accepted from peers.",
		}),
		quantsIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_p2p_received_quants_total", Help: "Announced quants fetched and accepted.",
		}),
		syncQuants: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qbc_p2p_sync_quants_total", Help: "Quants fetched and added while syncing.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qbc_p2p_dropped_jobs_total", Help: "Peer work dropped because its queue was full, by queue.",
		}, []string{"queue"}),
	}
	if reg != nil {
		reg.MustRegister(m.msgs, m.refused, m.invalid, m.txsIn, m.quantsIn, m.syncQuants, m.dropped,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qbc_p2p_peers", Help: "Live peers."}, live))
	}
	return m
}
