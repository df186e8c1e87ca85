package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Series read from a node's /metrics.
const (
	metricCPU  = "process_cpu_seconds_total"
	metricRSS  = "process_resident_memory_bytes"
	metricPool = "qbc_mempool_txs"
)

// maxMetrics bounds a /metrics answer.
const maxMetrics = 8 << 20

// procSample is one reading of a node's /metrics.
type procSample struct {
	cpu  float64 // CPU seconds since the process started
	rss  float64 // resident bytes
	pool float64 // pending transactions
}

// scrape reads a node's process figures from /metrics.
func scrape(ctx context.Context, hc *http.Client, url string) (procSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return procSample{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return procSample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return procSample{}, fmt.Errorf("loadgen: %s/metrics: status %d", url, resp.StatusCode)
	}
	return parseMetrics(io.LimitReader(resp.Body, maxMetrics))
}

// parseMetrics reads the series the bench needs from Prometheus text
// exposition. A series that is missing reads as -1.
func parseMetrics(r io.Reader) (procSample, error) {
	s := procSample{cpu: -1, rss: -1, pool: -1}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		name, rest, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			continue
		}
		var dst *float64
		switch string(name) {
		case metricCPU:
			dst = &s.cpu
		case metricRSS:
			dst = &s.rss
		case metricPool:
			dst = &s.pool
		default:
			continue
		}
		// A sample may carry a timestamp after the value.
		val, _, _ := bytes.Cut(bytes.TrimSpace(rest), []byte(" "))
		v, err := strconv.ParseFloat(string(val), 64)
		if err != nil {
			return s, fmt.Errorf("loadgen: metrics: %s: %v", name, err)
		}
		*dst = v
	}
	return s, sc.Err()
}
