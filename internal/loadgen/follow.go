package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

// pollEvery is how often a follower asks /stats for the height, to catch
// quants whose events it missed.
const pollEvery = 500 * time.Millisecond

// maxEventLine bounds one line of the event stream.
const maxEventLine = 1 << 20

// quantEvent is a committed quant as the event stream announced it.
type quantEvent struct {
	height  uint64
	hash    quant.Hash
	txCount uint32
	at      time.Time // when the bench received it
}

// quantSet counts the distinct quants committed during the run (from the
// clock's start), over all nodes. It is safe for concurrent use.
type quantSet struct {
	mu struct {
		sync.Mutex
		since    time.Time // zero: not started, nothing is counted
		seen     map[quant.Hash]struct{}
		nonEmpty int64
		txs      int64
	}
}

// start begins counting quants seen from t on.
func (s *quantSet) start(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.since = t
}

func newQuantSet() *quantSet {
	s := &quantSet{}
	s.mu.seen = make(map[quant.Hash]struct{})
	return s
}

// add records a quant with txCount transactions seen at time at; false if
// already known. Quants seen before the start are not recorded.
func (s *quantSet) add(h quant.Hash, txCount int, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mu.seen[h]; ok {
		return false
	}
	if s.mu.since.IsZero() || at.Before(s.mu.since) {
		return true
	}
	s.mu.seen[h] = struct{}{}
	if txCount > 0 {
		s.mu.nonEmpty++
		s.mu.txs += int64(txCount)
	}
	return true
}

func (s *quantSet) counts() (quants, nonEmpty, txs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.mu.seen)), s.mu.nonEmpty, s.mu.txs
}

// follower watches one node's committed quants and reports their
// transactions to the tracker.
type follower struct {
	url    string
	api    string       // "/v1", or "/v1/chains/{id}" for a chain other than the default
	hc     *http.Client // requests (bounded per request)
	stream *http.Client // the event stream (no time limit)
	tr     *tracker
	quants *quantSet
	cnt    *counters
	note   func(format string, args ...any)

	last uint64 // height of the last quant handled
}

// subscribe opens the node's event stream and reads the height it starts
// from; every quant after that height is then seen. The caller closes the
// body.
func (f *follower) subscribe(ctx context.Context) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+f.api+"/events?kinds=quant", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := f.stream.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %s: events: %w", f.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("loadgen: %s: events: status %d", f.url, resp.StatusCode)
	}
	h, err := f.height(ctx)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	f.last = h
	return resp.Body, nil
}

// fetchers is how many quants a follower fetches at once.
const fetchers = 4

// fetchJob is a quant to fetch (by height or hash) and the time its commit
// became known.
type fetchJob struct {
	ref string
	at  time.Time
}

// follow handles the stream's quants (and polls the height) until ctx
// ends. It closes body. Events are timed as they arrive, on a goroutine
// that never waits for the fetching, so a slow fetch does not add to the
// latencies it measures.
func (f *follower) follow(ctx context.Context, body io.ReadCloser) {
	q := newEventQueue()
	jobs := make(chan fetchJob, 4096)
	var wg sync.WaitGroup
	wg.Go(func() { readEvents(body, q) })
	for range fetchers {
		wg.Go(func() {
			for j := range jobs {
				f.fetch(ctx, j.ref, j.at)
			}
		})
	}
	defer wg.Wait()
	defer close(jobs)
	defer body.Close() // ends readEvents

	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var (
		polled uint64 // the height the previous poll found
		ended  bool
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.ready:
			evs, closed := q.take()
			for _, ev := range evs {
				if !f.handle(ctx, ev, jobs) {
					return
				}
			}
			if closed && !ended {
				ended = true
				if ctx.Err() == nil {
					f.note("%s: event stream ended; polling", f.url)
				}
			}
		case <-tick.C:
			// Quants the previous poll saw and no event has brought since
			// were missed (or the stream is gone): fetch them.
			if polled > f.last && !f.catchUp(ctx, polled+1, time.Now(), jobs) {
				return
			}
			if h, err := f.height(ctx); err == nil {
				polled = h
			}
		}
	}
}

// handle takes one announced quant: the quants before it that were not
// announced are fetched by height, it by hash. It returns false if ctx
// ended.
func (f *follower) handle(ctx context.Context, ev quantEvent, jobs chan<- fetchJob) bool {
	if ev.height > f.last+1 && !f.catchUp(ctx, ev.height, ev.at, jobs) {
		return false
	}
	if ev.height > f.last {
		f.last = ev.height
	}
	if !f.quants.add(ev.hash, int(ev.txCount), ev.at) || ev.txCount == 0 {
		return true
	}
	return send(ctx, jobs, fetchJob{ref: ev.hash.String(), at: ev.at})
}

// catchUp fetches the quants from f.last+1 up to (not including) height.
func (f *follower) catchUp(ctx context.Context, height uint64, at time.Time, jobs chan<- fetchJob) bool {
	for h := f.last + 1; h < height; h++ {
		if !send(ctx, jobs, fetchJob{ref: strconv.FormatUint(h, 10), at: at}) {
			return false
		}
		f.last = h
	}
	return true
}

func send(ctx context.Context, jobs chan<- fetchJob, j fetchJob) bool {
	select {
	case jobs <- j:
		return true
	case <-ctx.Done():
		return false
	}
}

// fetch gets the quant ref (a height or a hash) and gives its
// transactions to the tracker as committed at time at.
func (f *follower) fetch(ctx context.Context, ref string, at time.Time) {
	q, err := f.quant(ctx, ref)
	if err != nil {
		if ctx.Err() == nil {
			f.cnt.addError(KindFollow, 1)
			f.note("%s: quant %s: %v", f.url, ref, err)
		}
		return
	}
	f.quants.add(q.Hash(), len(q.Txs), at)
	f.tr.seen(quant.TxIDs(q.Txs), at)
}

// quant fetches one quant in its canonical encoding.
func (f *follower) quant(ctx context.Context, ref string) (*quant.Quant, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+f.api+"/quants/"+ref, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := f.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, quant.MaxQuantSize+1))
	if err != nil {
		return nil, err
	}
	return quant.DecodeQuant(b)
}

// height is the node's tip height.
func (f *follower) height(ctx context.Context) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var s api.Stats
	if err := client.New(f.url, f.hc).Get(ctx, f.api+"/stats", &s); err != nil {
		return 0, err
	}
	return s.Height, nil
}

// eventQueue is an unbounded queue of events from the stream's reader to
// the follower, so that the reader never waits. It is safe for concurrent
// use.
type eventQueue struct {
	ready chan struct{} // has a value when there is something to take

	mu struct {
		sync.Mutex
		evs    []quantEvent
		closed bool
	}
}

func newEventQueue() *eventQueue { return &eventQueue{ready: make(chan struct{}, 1)} }

func (q *eventQueue) notify() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *eventQueue) push(ev quantEvent) {
	q.mu.Lock()
	q.mu.evs = append(q.mu.evs, ev)
	q.mu.Unlock()
	q.notify()
}

// close marks the end of the stream.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.mu.closed = true
	q.mu.Unlock()
	q.notify()
}

// take returns the queued events, oldest first, and whether the stream
// has ended.
func (q *eventQueue) take() ([]quantEvent, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.mu.evs
	q.mu.evs = nil
	return evs, q.mu.closed
}

// readEvents parses a server-sent event stream and queues its quant
// events, each timed as it arrives, until the stream ends.
func readEvents(r io.Reader, q *eventQueue) {
	defer q.close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	var kind string
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if kind == "quant" && len(data) > 0 {
				var ev api.Event
				if json.Unmarshal(data, &ev) == nil && ev.Header != nil {
					q.push(quantEvent{height: ev.Header.Height, hash: ev.Header.Hash, txCount: ev.Header.TxCount, at: time.Now()})
				}
			}
			kind, data = "", data[:0]
		case bytes.HasPrefix(line, []byte("event:")):
			kind = string(bytes.TrimSpace(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			data = append(data, bytes.TrimSpace(line[len("data:"):])...)
		}
	}
}
