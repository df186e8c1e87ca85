package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/store"
)

// storeCollector exports the store's figures at scrape time.
type storeCollector struct {
	db    *store.DB
	descs map[string]*prometheus.Desc
}

func newStoreCollector(db *store.DB) *storeCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &storeCollector{db: db, descs: map[string]*prometheus.Desc{
		"disk":    d("qbc_store_disk_bytes", "Bytes on disk: tables, blob files, write-ahead log, manifest."),
		"tables":  d("qbc_store_table_bytes", "Bytes of live tables."),
		"blobs":   d("qbc_store_blob_bytes", "Bytes of live blob files (transaction pages kept apart from the tables)."),
		"wal":     d("qbc_store_wal_bytes", "Bytes of write-ahead log."),
		"mem":     d("qbc_store_memtable_bytes", "Bytes of memtables."),
		"debt":    d("qbc_store_compaction_debt_bytes", "Bytes compaction must still rewrite."),
		"readamp": d("qbc_store_read_amplification", "Tables a read may consult."),
		"hits":    d("qbc_store_block_cache_hits_total", "Block cache hits."),
		"misses":  d("qbc_store_block_cache_misses_total", "Block cache misses."),
	}}
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.db.Stats()
	if err != nil {
		return // closed: nothing to report
	}
	g := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.GaugeValue, v) }
	k := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.CounterValue, v) }
	g("disk", float64(s.DiskBytes))
	g("tables", float64(s.TableBytes))
	g("blobs", float64(s.BlobBytes))
	g("wal", float64(s.WALBytes))
	g("mem", float64(s.MemtableBytes))
	g("debt", float64(s.CompactionDebt))
	g("readamp", float64(s.ReadAmp))
	k("hits", float64(s.BlockCacheHits))
	k("misses", float64(s.BlockCacheMisses))
}
