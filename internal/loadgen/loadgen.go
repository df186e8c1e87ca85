package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

// subscribeTimeout bounds the wait for every node's event stream before
// the load starts.
const subscribeTimeout = 30 * time.Second

// run is the state of one Run.
type run struct {
	cfg    Config
	urls   []string
	api    string       // the API prefix of the chain: "/v1" or "/v1/chains/{id}"
	hc     *http.Client // requests
	stream *http.Client // event streams
	tr     *tracker
	cnt    *counters
	quants *quantSet

	progressMu sync.Mutex // serializes writes to cfg.Progress

	leapMu sync.Mutex
	leaps  LeapStats // guarded by leapMu

	peakMu sync.Mutex
	peak   []float64 // each node's highest RSS seen; guarded by peakMu

	stuck atomic.Bool // the monitor stopped sending (Config.Stuck)
}

// Run loads the nodes of cfg and reports what came of it. It returns once
// sending has stopped (Duration or Count), the acknowledged transactions
// have committed or Drain has passed, and every goroutine it started has
// ended. If ctx ends first, it returns the report so far with ctx's error.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	r := &run{cfg: cfg, api: "/v1", tr: newTracker(), cnt: newCounters(), quants: newQuantSet()}
	if !cfg.Chain.IsZero() {
		r.api = "/v1/chains/" + cfg.Chain.String()
	}
	for _, n := range cfg.Nodes {
		u, _ := client.BaseURL(n) // checked by Validate
		r.urls = append(r.urls, u)
	}
	tp := http.DefaultTransport.(*http.Transport).Clone()
	tp.MaxIdleConns = 0
	tp.MaxIdleConnsPerHost = cfg.Workers + 8
	r.hc = &http.Client{Transport: tp}
	stp := tp.Clone()
	r.stream = &http.Client{Transport: stp}
	defer tp.CloseIdleConnections()
	defer stp.CloseIdleConnections()
	r.peak = make([]float64, len(r.urls))
	return r.run(ctx)
}

// notef writes a progress line, if progress is on.
func (r *run) notef(format string, args ...any) {
	if r.cfg.Progress == nil {
		return
	}
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	fmt.Fprintf(r.cfg.Progress, "bench: "+format+"\n", args...)
}

// run is a Run's steps: check the chain, sample the nodes, follow their
// commits, make transactions ahead, send and drain, sample the nodes again
// and report.
func (r *run) run(ctx context.Context) (Report, error) {
	rep := r.newReport()
	chain, err := r.checkChain(ctx)
	if err != nil {
		return rep, err
	}
	rep.Chain = chain
	if r.cfg.Reference {
		r.notef("measuring this machine's reference figures (about 3s)")
		ref, err := MeasureReference(ctx, r.cfg.ReferenceDir, time.Second)
		if err != nil {
			return rep, err
		}
		rep.Reference = &ref
	}
	before, err := r.sampleNodes(ctx)
	if err != nil {
		return rep, err
	}
	// Follow every node's commits before anything is sent.
	fl, err := r.followNodes(ctx)
	if err != nil {
		return rep, err
	}
	defer fl.close()
	// Make transactions ahead of the senders.
	p := r.startProducers(ctx, chain)
	defer p.close()
	if err := p.waitPrefill(ctx, r.notef); err != nil {
		return rep, err
	}
	prefilled := p.gen.made.Load()
	cpu0 := selfCPU()

	// The clock starts.
	start := time.Now()
	rep.Started = start
	r.quants.start(start)
	sendEnd, end := r.load(ctx, p, start)
	fl.close()
	p.close()
	benchCPU := selfCPU() - cpu0

	rep.NodeStats = r.nodeStats(before, end.Sub(start).Seconds())
	r.results(&rep, p.gen, prefilled, start, sendEnd, end)
	rep.BenchCPU = benchCPU.Seconds()
	if rep.Reference != nil {
		rep.Ratios = ratiosOf(&rep, rep.Reference)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if r.stuck.Load() {
		rep.Stopped = r.stuckReason()
		return rep, fmt.Errorf("%w for %s: sending stopped early (a chain that makes no quants: run the node with --mine, or the bench with --leap-every)", ErrStuck, r.cfg.Stuck)
	}
	return rep, nil
}

// newReport is the report of the run's settings, before anything is
// measured.
func (r *run) newReport() Report {
	cfg := &r.cfg
	rep := Report{
		Nodes: cfg.Nodes, Signed: !cfg.Unsigned, Batch: cfg.Batch, Rate: cfg.Rate,
		Workers: cfg.Workers, Keys: cfg.Keys, Count: cfg.Count,
		Duration: cfg.Duration.Seconds(), LeapEvery: cfg.LeapEvery.Seconds(),
		Errors: map[string]int64{}, NodeStats: []NodeStats{},
	}
	if cfg.Unsigned {
		rep.Keys = 0
	}
	switch {
	case cfg.Binary:
		rep.Encoding = "binary"
	case cfg.Batch == 1:
		rep.Encoding = "single"
	default:
		rep.Encoding = "json"
	}
	return rep
}

// sampleNodes reads every node's process figures before the load, and
// starts each one's peak memory from them.
func (r *run) sampleNodes(ctx context.Context) ([]procSample, error) {
	before := make([]procSample, len(r.urls))
	for i, u := range r.urls {
		s, err := scrape(ctx, r.hc, u)
		if err != nil {
			return nil, fmt.Errorf("loadgen: %s: %w", u, err)
		}
		before[i] = s
		r.peak[i] = s.rss
	}
	return before, nil
}

// following is the followers of every node's event stream.
type following struct {
	stop context.CancelFunc
	g    errgroup.Group
}

// close stops the followers and waits for them. It may be called again.
func (f *following) close() {
	f.stop()
	f.g.Wait()
}

// followNodes subscribes to every node's event stream and follows each in
// a goroutine until close. It fails if a node has no stream within
// subscribeTimeout.
func (r *run) followNodes(ctx context.Context) (*following, error) {
	followCtx, stop := context.WithCancel(ctx)
	fl := &following{stop: stop}
	for _, u := range r.urls {
		f := &follower{url: u, api: r.api, hc: r.hc, stream: r.stream, tr: r.tr, quants: r.quants, cnt: r.cnt, note: r.notef}
		// The stream's request lives as long as its context, so the
		// subscription's time limit cancels it only if it is not ready.
		fctx, cancel := context.WithCancel(followCtx)
		limit := time.AfterFunc(subscribeTimeout, cancel)
		body, err := f.subscribe(fctx)
		if !limit.Stop() && err != nil {
			err = fmt.Errorf("loadgen: %s: no event stream after %s: %w", u, subscribeTimeout, err)
		}
		if err != nil {
			cancel()
			fl.close()
			return nil, err
		}
		fl.g.Go(func() error {
			defer cancel()
			f.follow(fctx, body)
			return nil
		})
	}
	return fl, nil
}

// producing is the generator's producers at work.
type producing struct {
	gen    *generator
	stop   context.CancelFunc
	closed chan struct{} // gen.out is closed once every producer has returned
}

// startProducers starts the generator's producers, which make
// transactions into gen.out until stop.
func (r *run) startProducers(ctx context.Context, chain quant.Hash) *producing {
	genCtx, stop := context.WithCancel(ctx)
	p := &producing{gen: newGenerator(&r.cfg, chain), stop: stop, closed: make(chan struct{})}
	var producers errgroup.Group
	for range numProducers() {
		producers.Go(func() error { return p.gen.produce(genCtx) })
	}
	go func() { producers.Wait(); close(p.gen.out); close(p.closed) }()
	return p
}

// waitPrefill waits for the transactions made before the clock starts.
func (p *producing) waitPrefill(ctx context.Context, notef func(string, ...any)) error {
	if p.gen.prefill > 0 {
		notef("making %s transactions before the clock starts", inum(p.gen.prefill))
	}
	select {
	case <-p.gen.prefilled:
		return nil
	case <-ctx.Done():
		p.stop()
		return ctx.Err()
	}
}

// close stops the producers and waits for them. It may be called again.
func (p *producing) close() {
	p.stop()
	<-p.closed
}

// load sends from start until Duration or Count is reached or ctx ends,
// with the monitor (and the leap loop) beside the senders, then waits up
// to Drain for the acknowledged transactions to commit. It returns when
// sending ended and when draining ended, once the monitor and the leap
// loop have stopped.
func (r *run) load(ctx context.Context, p *producing, start time.Time) (sendEnd, end time.Time) {
	cfg := &r.cfg
	sendCtx, stopSend := context.WithDeadline(ctx, start.Add(cfg.Duration))
	defer stopSend()
	s := &sender{api: r.api, hc: r.hc, urls: r.urls, tr: r.tr, cnt: r.cnt, acked: cfg.Acked, rate: cfg.Rate, start: start}

	sideCtx, stopSide := context.WithCancel(ctx)
	var side errgroup.Group
	defer func() { stopSide(); side.Wait() }()
	side.Go(func() error { r.monitor(sideCtx, start, sendCtx, stopSend); return nil })
	if cfg.LeapEvery > 0 {
		side.Go(func() error { r.leapLoop(sideCtx); return nil })
	}

	var senders errgroup.Group
	for range cfg.Workers {
		senders.Go(func() error { s.work(ctx, sendCtx, p.gen.out); return nil })
	}
	senders.Wait()
	sendEnd = time.Now()
	stopSend()
	p.stop()

	// Drain: wait for the acknowledged transactions to commit. Not after a
	// stuck stop: nothing committed for Config.Stuck, so nothing is coming.
	if ctx.Err() == nil && cfg.Drain > 0 && !r.stuck.Load() && r.tr.stats().outstanding() > 0 {
		r.notef("sending done; waiting up to %s for %s transactions to commit", cfg.Drain, inum(r.tr.stats().outstanding()))
		r.drain(ctx, cfg.Drain)
	}
	return sendEnd, time.Now()
}

// nodeStats samples every node again after the load and reports its CPU
// over wall seconds and its memory at the start, peak and end.
func (r *run) nodeStats(before []procSample, wall float64) []NodeStats {
	actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := []NodeStats{}
	for i, u := range r.urls {
		// A series a node does not export reads as -1: reported as 0.
		ns := NodeStats{Node: u, RSSStart: int64(max(before[i].rss, 0))}
		after, err := scrape(actx, r.hc, u)
		if err == nil {
			if after.cpu >= 0 && before[i].cpu >= 0 {
				ns.CPU = after.cpu - before[i].cpu
				ns.Cores = ratio(ns.CPU, wall)
			}
			ns.RSSEnd = int64(max(after.rss, 0))
			r.peakMu.Lock()
			r.peak[i] = max(r.peak[i], after.rss)
			r.peakMu.Unlock()
		}
		r.peakMu.Lock()
		ns.RSSPeak = int64(max(r.peak[i], 0))
		r.peakMu.Unlock()
		out = append(out, ns)
	}
	return out
}

// results fills in what the run counted: requests and errors, sent,
// accepted and committed transactions, their rates and latencies, quants,
// leaps and the generator's work (prefilled transactions were made before
// the clock started).
func (r *run) results(rep *Report, gen *generator, prefilled int64, start, sendEnd, end time.Time) {
	wall := end.Sub(start).Seconds()
	ts := r.tr.stats()
	errs, retries, requests, stall := r.cnt.snapshot()
	rep.Errors = errs
	rep.Retries, rep.Requests = retries, requests
	rep.Sent, rep.Accepted, rep.Committed = ts.sent, ts.accepted, ts.committed
	rep.Rejected = ts.sent - ts.accepted
	rep.Uncommitted = ts.accepted - ts.committed
	rep.DrainTime = end.Sub(sendEnd).Seconds()
	if !ts.lastAck.IsZero() {
		rep.SendTime = ts.lastAck.Sub(start).Seconds()
	}
	if !ts.lastCommit.IsZero() {
		rep.CommitTime = ts.lastCommit.Sub(start).Seconds()
	}
	rep.TxBytes = int(gen.txSize.Load())
	rep.AcceptedPerSec = ratio(float64(rep.Accepted), rep.SendTime)
	rep.CommittedPerSec = ratio(float64(rep.Committed), rep.CommitTime)
	rep.CommittedBytesPerSec = rep.CommittedPerSec * float64(rep.TxBytes)
	rep.Latency = latencyOf(r.tr.latencies())
	rep.RequestLatency = latencyOf(r.cnt.answered())
	q, nonEmpty, qtxs := r.quants.counts()
	rep.Quants = QuantStats{Count: q, NonEmpty: nonEmpty, Txs: qtxs, PerSec: ratio(float64(q), wall)}
	r.leapMu.Lock()
	rep.Leaps = r.leaps
	r.leapMu.Unlock()
	busy := time.Duration(gen.busy.Load()).Seconds()
	rep.Generator = GeneratorStats{
		Producers: numProducers(), Made: gen.made.Load(), Prefilled: prefilled,
		Busy: busy, PerSec: ratio(float64(gen.made.Load()), busy), Stall: stall.Seconds(),
	}
}

// checkChain finds the chain to load (Config.Chain, or the first node's)
// and checks that its rules take what the run will send.
func (r *run) checkChain(ctx context.Context) (quant.Hash, error) {
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var id quant.Hash
	for i, u := range r.urls {
		var info api.Chain
		if err := client.New(u, r.hc).Get(cctx, r.api+"/chain", &info); err != nil {
			return id, fmt.Errorf("loadgen: %w", err)
		}
		if i == 0 {
			id = r.cfg.Chain
			if id.IsZero() {
				id = info.ID
			}
		}
		if info.ID != id {
			r.notef("warning: %s serves chain %s, not %s", u, info.ID, id)
			continue
		}
		if err := checkRules(info, &r.cfg); err != nil {
			return id, fmt.Errorf("%w (%s)", err, u)
		}
	}
	return id, nil
}

// checkRules refuses a run the chain's rules would refuse wholesale.
func checkRules(info api.Chain, cfg *Config) error {
	var rules quant.Rules
	if err := json.Unmarshal(info.Rules, &rules); err != nil {
		return fmt.Errorf("loadgen: chain %s: rules: %w", info.ID, err)
	}
	switch {
	case rules.WritePolicy == quant.PolicySigned && cfg.Unsigned:
		return fmt.Errorf("%w: chain %s takes only signed transactions; drop --unsigned", ErrPolicy, info.ID)
	case rules.WritePolicy == quant.PolicyAllowlist:
		return fmt.Errorf("%w: chain %s takes only listed writers' keys, which the bench does not hold", ErrPolicy, info.ID)
	case rules.MaxDataBytes > 0 && cfg.Size > rules.MaxDataBytes:
		return fmt.Errorf("loadgen: size: %d bytes is over chain %s's payload limit of %d", cfg.Size, info.ID, rules.MaxDataBytes)
	}
	return nil
}

// drain waits for the acknowledged transactions to commit, for at most d.
func (r *run) drain(ctx context.Context, d time.Duration) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for r.tr.stats().outstanding() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// monitor samples the nodes' /metrics every second (for peak RSS and the
// pool) and writes a progress line. It stops sending (stopSend) once the
// nodes have refused everything with pool_full for Config.Stuck with
// nothing acknowledged or committed.
func (r *run) monitor(ctx context.Context, start time.Time, sendCtx context.Context, stopSend func()) {
	every := r.tick()
	tick := time.NewTicker(every)
	defer tick.Stop()
	var prev trackerStats
	moved, full := start, r.cnt.poolFull() // the last progress; pool_full refusals then
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			return
		case now = <-tick.C:
		}
		ts := r.tr.stats()
		if f := r.cnt.poolFull(); ts.accepted > prev.accepted || ts.committed > prev.committed || f == full {
			moved, full = now, f
		} else if now.Sub(moved) >= r.cfg.Stuck && sendCtx.Err() == nil {
			r.stuck.Store(true)
			r.notef("%s: sending stops", r.stuckReason())
			stopSend()
		}
		var pool float64
		for i, u := range r.urls {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			s, err := scrape(sctx, r.hc, u)
			cancel()
			if err != nil {
				continue
			}
			r.peakMu.Lock()
			r.peak[i] = max(r.peak[i], s.rss)
			r.peakMu.Unlock()
			pool += max(s.pool, 0)
		}
		phase := "sending"
		if sendCtx.Err() != nil {
			phase = "draining"
		}
		r.notef("%3.0fs %s: acked %s (%s/s)  committed %s (%s/s)  waiting %s  pool %s  errors %s",
			time.Since(start).Seconds(), phase,
			inum(ts.accepted), num(float64(ts.accepted-prev.accepted)/every.Seconds()),
			inum(ts.committed), num(float64(ts.committed-prev.committed)/every.Seconds()),
			inum(ts.outstanding()), inum(int64(pool)), inum(r.cnt.errorCount()))
		prev = ts
	}
}

// leapLoop asks the first node to leap the run's chain (POST /v1/leap, or
// /v1/chains/{id}/leap with Config.Chain) every Config.LeapEvery until ctx
// ends.
func (r *run) leapLoop(ctx context.Context) {
	c := client.New(r.urls[0], r.hc)
	if !r.cfg.Chain.IsZero() {
		c = c.OnChain(r.cfg.Chain)
	}
	tick := time.NewTicker(r.cfg.LeapEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, err := c.LeapQuant(ctx)
		if ctx.Err() != nil {
			return
		}
		r.leapMu.Lock()
		r.leaps.Count++
		if err != nil {
			r.leaps.Errors++
		}
		r.leapMu.Unlock()
		if err != nil {
			r.notef("leap: %v", err)
		}
	}
}

// stuckReason says why the monitor stopped sending (Config.Stuck).
func (r *run) stuckReason() string {
	return fmt.Sprintf("the nodes refused every request with pool_full for %s and nothing committed", r.cfg.Stuck)
}

// tick is how often the monitor samples: every second, or more often when
// Config.Stuck is shorter than 4 s (tests).
func (r *run) tick() time.Duration {
	return min(time.Second, max(r.cfg.Stuck/4, 10*time.Millisecond))
}
