package loadgen

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Reference is what this machine can do at most, measured in the same run
// as the load: the limits the node's figures are reported against.
type Reference struct {
	// Cores is GOMAXPROCS: the goroutines the CPU measurements ran on.
	Cores int `json:"cores"`
	// Ed25519VerifyPerSec is Ed25519 signature verifications per second
	// (crypto/ed25519, 200-byte messages) on all cores.
	Ed25519VerifyPerSec float64 `json:"ed25519_verify_per_sec"`
	// SHA256MBPerSec is SHA-256 throughput in MB (10^6 bytes) per second
	// on all cores, over 4 KiB messages.
	SHA256MBPerSec float64 `json:"sha256_mb_per_sec"`
	// FsyncPerSec is 4 KiB appends each followed by fsync, per second, on
	// one goroutine, in FsyncDir.
	FsyncPerSec float64 `json:"fsync_per_sec"`
	FsyncDir    string  `json:"fsync_dir"`
	// HTTPRoundTripsPerSec is small POSTs to a bare net/http server on
	// loopback, one connection, one at a time, per second; HTTPCPUMicros
	// is the CPU time (client and server, user and system) per round
	// trip, in µs (0 where the process's CPU time is not measured). They
	// are what a system call, a wake-up and a context switch cost here:
	// machines of one kind that verify and fsync alike can differ in them
	// by half, and the raft and single-request figures follow them
	// (docs/performance.md).
	HTTPRoundTripsPerSec float64 `json:"http_round_trips_per_sec"`
	HTTPCPUMicros        float64 `json:"http_cpu_us_per_round_trip"`
	// Seconds is the time each measurement ran.
	Seconds float64 `json:"seconds"`
}

// MeasureReference measures this machine's limits, each for about d (one
// second if d is 0): Ed25519 verifications per second on all cores,
// SHA-256 throughput on all cores, fsyncs per second in dir (the system's
// temporary directory if empty) and loopback HTTP round trips. Run it while
// nothing else is busy.
func MeasureReference(ctx context.Context, dir string, d time.Duration) (Reference, error) {
	if d <= 0 {
		d = time.Second
	}
	if dir == "" {
		dir = os.TempDir()
	}
	ref := Reference{Cores: runtime.GOMAXPROCS(0), FsyncDir: dir, Seconds: d.Seconds()}
	ref.Ed25519VerifyPerSec = onAllCores(ctx, d, verifyLoop())
	ref.SHA256MBPerSec = onAllCores(ctx, d, hashLoop()) / 1e6
	f, err := fsyncRate(ctx, dir, d)
	if err != nil {
		return ref, err
	}
	ref.FsyncPerSec = f
	if ref.HTTPRoundTripsPerSec, ref.HTTPCPUMicros, err = httpRoundTrips(ctx, d); err != nil {
		return ref, err
	}
	return ref, ctx.Err()
}

// onAllCores runs work on GOMAXPROCS goroutines until d has passed and
// returns the units of work done per second. work does a small fixed amount
// of work and returns its units.
func onAllCores(ctx context.Context, d time.Duration, newWork func() func() float64) float64 {
	n := runtime.GOMAXPROCS(0)
	var (
		wg    sync.WaitGroup
		total atomic.Int64 // units × 1000, for fractional units
		stop  atomic.Bool
	)
	start := time.Now()
	for range n {
		work := newWork()
		wg.Add(1)
		go func() {
			defer wg.Done()
			var units float64
			for !stop.Load() {
				units += work()
			}
			total.Add(int64(units * 1000))
		}()
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	stop.Store(true)
	wg.Wait()
	return float64(total.Load()) / 1000 / time.Since(start).Seconds()
}

// verifyLoop returns a maker of work that verifies one Ed25519 signature of
// a 200-byte message (the size of a small signed transaction's signing
// bytes) a few times.
func verifyLoop() func() func() float64 {
	return func() func() float64 {
		pub, priv, _ := ed25519.GenerateKey(nil)
		msg := make([]byte, 200)
		sig := ed25519.Sign(priv, msg)
		return func() float64 {
			const n = 16
			for range n {
				if !ed25519.Verify(pub, msg, sig) {
					panic("loadgen: reference signature does not verify")
				}
			}
			return n
		}
	}
}

// hashLoop returns a maker of work that hashes 4 KiB with SHA-256 a few
// times; its units are bytes.
func hashLoop() func() func() float64 {
	return func() func() float64 {
		buf := make([]byte, 4<<10)
		return func() float64 {
			const n = 16
			for range n {
				sum := sha256.Sum256(buf)
				buf[0] = sum[0]
			}
			return n * float64(len(buf))
		}
	}
}

// fsyncRate appends 4 KiB and fsyncs, in a loop, in a temporary file in
// dir for about d, and returns the fsyncs per second.
func fsyncRate(ctx context.Context, dir string, d time.Duration) (float64, error) {
	tmp, err := os.MkdirTemp(dir, "qbc-bench-fsync-")
	if err != nil {
		return 0, fmt.Errorf("loadgen: fsync reference: %w", err)
	}
	defer os.RemoveAll(tmp)
	f, err := os.Create(filepath.Join(tmp, "fsync"))
	if err != nil {
		return 0, fmt.Errorf("loadgen: fsync reference: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 4<<10)
	start := time.Now()
	n := 0
	for time.Since(start) < d && ctx.Err() == nil {
		if _, err := f.Write(buf); err != nil {
			return 0, fmt.Errorf("loadgen: fsync reference: %w", err)
		}
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("loadgen: fsync reference: %w", err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// httpRoundTrips posts 256-byte bodies to a bare net/http server on
// 127.0.0.1, one at a time over one kept-alive connection, for about d. It
// returns the round trips per second and the process's CPU time per round
// trip in µs (client and server: both run here).
func httpRoundTrips(ctx context.Context, d time.Duration) (perSec, cpuMicros float64, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, fmt.Errorf("loadgen: HTTP reference: %w", err)
	}
	answer := bytes.Repeat([]byte("0"), 80)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusCreated)
			w.Write(answer)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = fmt.Errorf("loadgen: HTTP reference: %w", serr)
		}
	}()
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	body := make([]byte, 256)
	post := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusCreated {
			err = fmt.Errorf("answered %s", resp.Status)
		}
		return err
	}
	if err := post(); err != nil { // the connection made, outside the count
		return 0, 0, fmt.Errorf("loadgen: HTTP reference: %w", err)
	}
	cpu0, start, n := selfCPU(), time.Now(), 0
	for time.Since(start) < d && ctx.Err() == nil {
		if err := post(); err != nil {
			if ctx.Err() != nil {
				break
			}
			return 0, 0, fmt.Errorf("loadgen: HTTP reference: %w", err)
		}
		n++
	}
	elapsed, cpu := time.Since(start), selfCPU()-cpu0
	if n == 0 {
		return 0, 0, ctx.Err()
	}
	return float64(n) / elapsed.Seconds(), float64(cpu.Microseconds()) / float64(n), nil
}
