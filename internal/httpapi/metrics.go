package httpapi

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// requestMetrics counts and times requests by route (and status). It keeps
// each label set's child once looked up: the lookup (hashing the labels, a
// map under a lock, formatting the status) cost more than the increment on
// every request. Routes are the mux's patterns and statuses a handful, so
// the caches stay small.
type requestMetrics struct {
	reqs *prometheus.CounterVec
	dur  *prometheus.HistogramVec

	counters  sync.Map // routeStatus → prometheus.Counter
	observers sync.Map // route → prometheus.Observer
}

type routeStatus struct {
	route  string
	status int
}

func newRequestMetrics(reg prometheus.Registerer) *requestMetrics {
	m := &requestMetrics{
		reqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qbc_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "qbc_http_request_duration_seconds", Help: "HTTP request time by route.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 18),
		}, []string{"route"}),
	}
	reg.MustRegister(m.reqs, m.dur)
	return m
}

// done records one request to route answered with status after d.
func (m *requestMetrics) done(route string, status int, d time.Duration) {
	key := routeStatus{route, status}
	c, ok := m.counters.Load(key)
	if !ok {
		c, _ = m.counters.LoadOrStore(key, m.reqs.WithLabelValues(route, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
	o, ok := m.observers.Load(route)
	if !ok {
		o, _ = m.observers.LoadOrStore(route, m.dur.WithLabelValues(route))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}
