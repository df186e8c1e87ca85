package httpapi

import (
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

// events is GET /v1/events: server-sent events, `quant` for each committed
// quant (its header) and `tx` for each transaction entering the pool (its
// id); ?kinds=quant,tx filters. A subscriber that falls behind gets a
// `missed` event with the count it lost.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	f := events.Filter{Chain: s.lg(r).Chain.ID().String()}
	if k := r.URL.Query().Get("kinds"); k != "" {
		for _, v := range strings.Split(k, ",") {
			f.Kinds = append(f.Kinds, events.Kind(v))
		}
	}
	rc := http.NewResponseController(w)
	sub := s.cfg.Events.SubscribeTo(1024, f)
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	rc.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if n := sub.Missed(); n > 0 {
				fmt.Fprintf(w, "event: missed\ndata: {\"count\":%d}\n\n", n)
			}
			if err := writeEvent(w, e); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func writeEvent(w http.ResponseWriter, e events.Event) error {
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
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Kind, b)
	return err
}
