package sqlproj

import "github.com/prometheus/client_golang/prometheus"

var lagDesc = prometheus.NewDesc("qbc_sql_lag_quants",
	"Quants of the chain's main chain not yet in the SQL projection.", []string{"chain"}, nil)

// Collector exports the projection's lag per chain, as of the scrape:
// qbc_sql_lag_quants{chain}.
func (p *Projector) Collector() prometheus.Collector { return collector{p} }

type collector struct{ p *Projector }

func (c collector) Describe(ch chan<- *prometheus.Desc) { ch <- lagDesc }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, src := range c.p.cfg.Sources() {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(c.p.lagOf(src)), src.Chain.ID().String())
	}
}
