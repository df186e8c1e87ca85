package httpapi

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// Node is what the API asks of the running node beyond reads.
type Node interface {
	Submit(tx *quant.Tx) (quant.Hash, error)
	SubmitBatch(txs []*quant.Tx) ([]quant.Hash, []error)
	Leap(ctx context.Context) (*quant.Quant, error)
	Peers() []api.Peer
	AddPeer(ctx context.Context, addr string) error
	Syncing() (bool, uint64)
}

// Config wires the API to a node's parts.
type Config struct {
	Chain    *chain.Chain
	Store    *store.Chain
	Pool     *mempool.Pool
	Events   *events.Bus
	Node     Node
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int64
	// DebugToken opens /debug/pprof to requests bearing it; empty keeps it
	// closed.
	DebugToken string
	// MaxBatch bounds a batch submission; default 10,000.
	MaxBatch int
}

// Server is the API as an http.Handler.
type Server struct {
	cfg  Config
	log  *slog.Logger
	mux  *http.ServeMux
	reqs *prometheus.CounterVec
	dur  *prometheus.HistogramVec

	// closing is closed by Shutdown so long-lived streams end.
	closeOnce sync.Once
	closing   chan struct{}
}

//go:embed openapi.json
var openAPI []byte

// New builds the API.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = 10_000
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), closing: make(chan struct{})}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qbc_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"route", "status"})
	s.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "qbc_http_request_duration_seconds", Help: "HTTP request time by route.",
		Buckets: prometheus.ExponentialBuckets(0.0002, 2, 18),
	}, []string{"route"})
	cfg.Registry.MustRegister(s.reqs, s.dur)
	s.routes()
	return s
}

func (s *Server) routes() {
	h := s.mux.HandleFunc
	// The seed's routes.
	h("POST /inject", s.inject)
	h("GET /leap", s.leap)
	h("POST /leap", s.leap)
	h("GET /json-chain", s.jsonChain)
	h("GET /chain", s.binaryChain)
	h("GET /stats", s.stats)
	h("GET /discover", s.peers)
	h("POST /discover", s.discover)
	// The versioned API.
	h("GET /v1/chain", s.chainInfo)
	h("GET /v1/quants", s.quants)
	h("GET /v1/quants/{ref}", s.quant)
	h("POST /v1/txs", s.submitTxs)
	h("GET /v1/txs/{id}", s.tx)
	h("GET /v1/events", s.events)
	h("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	h("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	s.mux.Handle("/debug/pprof/", s.guard(http.HandlerFunc(pprof.Index)))
	s.mux.Handle("/debug/pprof/profile", s.guard(http.HandlerFunc(pprof.Profile)))
	s.mux.Handle("/debug/pprof/trace", s.guard(http.HandlerFunc(pprof.Trace)))
	s.mux.Handle("/debug/pprof/symbol", s.guard(http.HandlerFunc(pprof.Symbol)))
	s.mux.Handle("/debug/pprof/cmdline", s.guard(http.HandlerFunc(pprof.Cmdline)))
}

// guard opens a handler only to requests bearing the debug token.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.DebugToken == "" {
			s.writeError(w, r, errorf(api.CodeNotFound, "profiling is off (no debug token configured)"))
			return
		}
		want := "Bearer " + s.cfg.DebugToken
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			s.writeError(w, r, errorf(api.CodeUnauthorized, "a valid debug bearer token is required"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Shutdown ends long-lived streams (server-sent events) so that a graceful
// shutdown does not wait for them. Register it with
// http.Server.RegisterOnShutdown.
func (s *Server) Shutdown() { s.closeOnce.Do(func() { close(s.closing) }) }

// ServeHTTP bounds the body, recovers from panics, answers unknown routes
// and wrong methods in the API's error shape, and records metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBodyBytes)
	_, pattern := s.mux.Handler(r)
	route := pattern
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", p)
			if !sw.wrote {
				s.writeError(sw, r, errorf(api.CodeInternal, "internal error"))
			}
		}
		if route == "" {
			route = "unmatched"
		}
		s.reqs.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		s.dur.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}()
	if pattern == "" {
		s.notFound(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// notFound tells a wrong method (405, with Allow) from an unknown path
// (404).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		for _, m := range allowed {
			w.Header().Add("Allow", m)
		}
		s.writeError(w, r, errorf(api.CodeMethodNotAllowed, r.Method+" is not allowed here"))
		return
	}
	s.writeError(w, r, errorf(api.CodeNotFound, "no route "+r.URL.Path))
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // payloads go out as they were hashed
	enc.Encode(v)
}
