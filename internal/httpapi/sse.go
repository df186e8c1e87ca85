package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/quant"
)

// heartbeat keeps idle event streams (and the proxies between) open.
const heartbeat = 15 * time.Second

// streamBuffer is how many events a stream's subscription holds for a
// client that reads slower than they come; past it the bus drops them and
// the stream says how many it missed.
const streamBuffer = 1024

// events is GET /v1/events: server-sent events, `quant` for each committed
// quant (its header) and `tx` for each transaction entering the pool (its
// id); ?kinds=quant,tx filters. A subscriber that falls behind gets a
// `missed` event with the count it lost.
//
// What a client that connects and never reads can hold is bounded: at
// most MaxStreams streams are served at once (503 past it), each with a
// buffer of streamBuffer events, and every write has StreamWriteTimeout to
// complete; a write that fails or times out ends the stream. Shutdown ends
// every stream, a write blocked on an unread connection included.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if s.streams.Add(1) > int64(s.cfg.MaxStreams) {
		s.streams.Add(-1)
		s.writeError(w, r, errorf(api.CodeUnavailable,
			fmt.Sprintf("this node serves at most %d event streams at once; retry later", s.cfg.MaxStreams)))
		return
	}
	defer s.streams.Add(-1)
	f := events.Filter{Chain: s.lg(r).Chain.ID().String()}
	if k := r.URL.Query().Get("kinds"); k != "" {
		for _, v := range strings.Split(k, ",") {
			f.Kinds = append(f.Kinds, events.Kind(v))
		}
	}
	rc := http.NewResponseController(w)
	// On shutdown, a write blocked on a client that does not read is cut
	// short at once rather than at its deadline. send checks closing after
	// setting its own deadline, so one of the two always wins.
	stop := s.onClosing(func() { rc.SetWriteDeadline(time.Now()) })
	defer stop()
	sub := s.cfg.Events.SubscribeTo(streamBuffer, f)
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	var buf bytes.Buffer
	// send writes what buf holds and flushes it, within the write
	// deadline; false ends the stream.
	send := func() bool {
		defer buf.Reset()
		if err := rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamWriteTimeout)); err != nil {
			return false // no deadline, no stream: it could be held forever
		}
		select {
		case <-s.closing:
			return false
		default:
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	w.WriteHeader(http.StatusOK)
	buf.WriteString("retry: 2000\n\n")
	if !send() {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-tick.C:
			buf.WriteString(": ping\n\n")
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if n := sub.Missed(); n > 0 {
				fmt.Fprintf(&buf, "event: missed\ndata: {\"count\":%d}\n\n", n)
			}
			if err := writeEvent(&buf, e); err != nil {
				return
			}
		}
		if !send() {
			return
		}
	}
}

// onClosing runs f once Shutdown is called, unless the returned stop is
// called first. Its goroutine is the caller's: stop ends it and returns
// once it has (f run or never to run); call stop exactly once.
func (s *Server) onClosing(f func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-s.closing:
			f()
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func writeEvent(w *bytes.Buffer, e events.Event) error {
	id, _ := quant.ParseHash(e.Chain)
	out := api.Event{Kind: string(e.Kind), Chain: id}
	switch d := e.Data.(type) {
	case *quant.Quant:
		h := api.FromHeader(&d.Header)
		out.Header = &h
	case quant.Hash:
		out.TxID = &d
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Kind, b)
	return nil
}
