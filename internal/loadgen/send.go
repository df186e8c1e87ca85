package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Error kinds the bench adds to the API's codes.
const (
	// KindTransport: the request failed below HTTP (refused, reset,
	// timed out); the transactions' fate is unknown and they are not
	// counted.
	KindTransport = "transport"
	// KindBadAnswer: the node answered with something that is not the API's
	// shape.
	KindBadAnswer = "bad_answer"
	// KindAbandoned: transactions refused with pool_full that the run
	// ended before it could send again.
	KindAbandoned = "abandoned"
	// KindFollow: a committed quant the bench could not fetch (its
	// transactions may then be reported uncommitted).
	KindFollow = "follow"
)

// Backoff after a pool_full refusal: all senders pause, for a time that
// doubles from backoffMin to backoffMax while refusals go on and starts
// again once a request is taken whole.
const (
	backoffMin = 25 * time.Millisecond
	backoffMax = time.Second
)

// requestTimeout bounds one request to a node.
const requestTimeout = 2 * time.Minute

// counters are the run's error and retry counts. It is safe for concurrent
// use.
type counters struct {
	mu struct {
		sync.Mutex
		errors   map[string]int64
		retries  int64
		requests int64
		stall    time.Duration
		// answered are the round-trip times of answered requests.
		answered []time.Duration
	}
}

func newCounters() *counters {
	c := &counters{}
	c.mu.errors = make(map[string]int64)
	return c
}

func (c *counters) addError(kind string, n int) {
	c.mu.Lock()
	c.mu.errors[kind] += int64(n)
	c.mu.Unlock()
}

func (c *counters) addRetries(n int) {
	c.mu.Lock()
	c.mu.retries += int64(n)
	c.mu.Unlock()
}

func (c *counters) addRequest() {
	c.mu.Lock()
	c.mu.requests++
	c.mu.Unlock()
}

func (c *counters) addAnswered(d time.Duration) {
	c.mu.Lock()
	c.mu.answered = append(c.mu.answered, d)
	c.mu.Unlock()
}

func (c *counters) answered() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.mu.answered)
}

func (c *counters) addStall(d time.Duration) {
	c.mu.Lock()
	c.mu.stall += d
	c.mu.Unlock()
}

// snapshot returns a copy of the error counts, the retries, the requests
// and the senders' time spent waiting for the generator.
func (c *counters) snapshot() (map[string]int64, int64, int64, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := make(map[string]int64, len(c.mu.errors))
	for k, v := range c.mu.errors {
		errs[k] = v
	}
	return errs, c.mu.retries, c.mu.requests, c.mu.stall
}

// poolFull is how many transactions the nodes refused with pool_full so
// far.
func (c *counters) poolFull() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.errors[api.CodePoolFull]
}

func (c *counters) errorCount() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, v := range c.mu.errors {
		n += v
	}
	return n
}

// sender posts prepared requests to the nodes.
type sender struct {
	api   string // "/v1", or "/v1/chains/{id}"
	hc    *http.Client
	urls  []string
	tr    *tracker
	cnt   *counters
	acked func(ids []quant.Hash)

	rate      float64
	start     time.Time
	scheduled atomic.Int64 // transactions scheduled so far (for the rate)
	rr        atomic.Uint64

	pause struct {
		sync.Mutex
		until   time.Time     // no sender sends before this
		backoff time.Duration // the last pause; 0 after a request taken whole
		raised  time.Time     // when backoff was last raised
	}
}

// backOff pauses every sender after a pool_full refusal of a request sent
// at sent. The pause doubles only for a refusal of a request sent after
// the last raise: the other requests in flight when the node first
// refused were refused for the same full pool, and doubling for each of
// them would pause the senders far longer than the node needs to make
// room (with 8 workers, the 1 s maximum after one refusal), leaving it
// idle.
func (s *sender) backOff(sent time.Time) {
	s.pause.Lock()
	defer s.pause.Unlock()
	now := time.Now()
	if s.pause.backoff == 0 || !sent.Before(s.pause.raised) {
		s.pause.backoff = min(max(2*s.pause.backoff, backoffMin), backoffMax)
		s.pause.raised = now
	}
	if until := now.Add(s.pause.backoff); until.After(s.pause.until) {
		s.pause.until = until
	}
}

// relax resets the backoff after a request the node took whole.
func (s *sender) relax() {
	s.pause.Lock()
	defer s.pause.Unlock()
	s.pause.backoff = 0
}

// waitPause waits out a pause; false if sendCtx ended first.
func (s *sender) waitPause(sendCtx context.Context) bool {
	s.pause.Lock()
	d := time.Until(s.pause.until)
	s.pause.Unlock()
	if d <= 0 {
		return sendCtx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-sendCtx.Done():
		return false
	}
}

// work sends requests from in until it is closed or sendCtx ends. Requests
// already under way finish under ctx, so an acknowledgement is never lost
// to the end of the sending window.
func (s *sender) work(ctx, sendCtx context.Context, in <-chan *request) {
	for {
		var (
			r  *request
			ok bool
		)
		select {
		case <-sendCtx.Done():
			return
		case r, ok = <-in:
		default:
			t0 := time.Now()
			select {
			case <-sendCtx.Done():
				return
			case r, ok = <-in:
			}
			s.cnt.addStall(time.Since(t0))
		}
		if !ok || sendCtx.Err() != nil {
			return
		}
		if !s.pace(sendCtx, len(r.ids)) || !s.waitPause(sendCtx) {
			return
		}
		url := s.urls[(s.rr.Add(1)-1)%uint64(len(s.urls))]
		s.submit(ctx, sendCtx, url, r)
	}
}

// pace waits until the rate allows n more transactions; false if sendCtx
// ended first. The schedule is fixed from the start (open loop): a sender
// that fell behind sends at once.
func (s *sender) pace(sendCtx context.Context, n int) bool {
	if s.rate <= 0 {
		return true
	}
	k := s.scheduled.Add(int64(n)) - int64(n)
	at := s.start.Add(time.Duration(float64(k) / s.rate * float64(time.Second)))
	d := time.Until(at)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-sendCtx.Done():
		return false
	}
}

// submit sends r to the node at url, resending what the node refuses with
// pool_full after a backoff until it is taken or sendCtx ends.
func (s *sender) submit(ctx, sendCtx context.Context, url string, r *request) {
	s.tr.sent(r.ids)
	for {
		sent := time.Now()
		retry := s.post(ctx, url, r)
		if len(retry) == 0 {
			s.relax()
			return
		}
		s.cnt.addError(api.CodePoolFull, len(retry))
		s.backOff(sent)
		if !s.waitPause(sendCtx) {
			s.cnt.addError(KindAbandoned, len(retry))
			s.tr.dropped(pick(r.ids, retry))
			return
		}
		s.cnt.addRetries(len(retry))
		r = r.subset(retry)
	}
}

// post sends r once and records the outcome of each transaction. It
// returns the indices (in r) of those refused with pool_full.
func (s *sender) post(ctx context.Context, url string, r *request) (retry []int) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	s.cnt.addRequest()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+s.api+"/txs", bytes.NewReader(r.body))
	if err != nil {
		s.fail(KindTransport, r.ids)
		return nil
	}
	req.Header.Set("Content-Type", r.contentType())
	req.Header.Set("Accept", "application/json")
	sent := time.Now()
	resp, err := s.hc.Do(req)
	if err != nil {
		s.fail(KindTransport, r.ids)
		return nil
	}
	defer func() { s.cnt.addAnswered(time.Since(sent)) }()
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, client.MaxLargeResponse+1))
	at := time.Now()
	if err != nil {
		s.fail(KindTransport, r.ids)
		return nil
	}
	switch {
	case resp.StatusCode == http.StatusOK && r.enc != encSingle:
		var out batchAnswer
		if json.Unmarshal(b, &out) != nil || len(out.Results) != len(r.ids) {
			s.fail(KindBadAnswer, r.ids)
			return nil
		}
		var ok, refused []quant.Hash
		for i, res := range out.Results {
			switch {
			case res.Error == nil:
				ok = append(ok, r.ids[i])
			case res.Error.Code == api.CodePoolFull:
				retry = append(retry, i)
			default:
				s.cnt.addError(res.Error.Code, 1)
				refused = append(refused, r.ids[i])
			}
		}
		s.tr.dropped(refused)
		s.ack(ok, at)
		return retry
	case resp.StatusCode == http.StatusCreated && r.enc == encSingle:
		s.ack(r.ids, at)
		return nil
	case resp.StatusCode == http.StatusTooManyRequests:
		retry = make([]int, len(r.ids))
		for i := range retry {
			retry[i] = i
		}
		return retry
	default:
		var e api.Error
		kind := "http_" + strconv.Itoa(resp.StatusCode)
		if json.Unmarshal(b, &e) == nil && e.Err.Code != "" {
			kind = e.Err.Code
		}
		s.fail(kind, r.ids)
		return nil
	}
}

// batchAnswer is the part of an api.Batch answer the sender reads: each
// item's error. It leaves out the ids (the sender has them, in order), so
// that decoding an answer of thousands of items does not parse each hash:
// the load generator shares the machine with the node it measures.
type batchAnswer struct {
	Results []struct {
		Error *api.ErrorBody `json:"error"`
	} `json:"results"`
}

func (s *sender) ack(ids []quant.Hash, at time.Time) {
	if len(ids) == 0 {
		return
	}
	s.tr.acked(ids, at)
	if s.acked != nil {
		s.acked(ids)
	}
}

func (s *sender) fail(kind string, ids []quant.Hash) {
	s.cnt.addError(kind, len(ids))
	s.tr.dropped(ids)
}

func pick(ids []quant.Hash, idx []int) []quant.Hash {
	out := make([]quant.Hash, len(idx))
	for j, i := range idx {
		out[j] = ids[i]
	}
	return out
}
