package httpapi

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
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

// ChainNode is what the API asks of the node for one chain beyond reads.
type ChainNode interface {
	// Submit checks tx and admits it, returning its id. It keeps tx.
	Submit(ctx context.Context, tx *quant.Tx) (quant.Hash, error)
	// SubmitBatch submits txs and returns each one's id and error (nil
	// when accepted), in order. It keeps txs.
	SubmitBatch(ctx context.Context, txs []*quant.Tx) ([]quant.Hash, []error)
	Leap(ctx context.Context) (*quant.Quant, error)
	Peers() []api.Peer
	Syncing() (bool, uint64)
	// RaftStatus is the cluster's state on a raft chain's member; nil
	// elsewhere.
	RaftStatus() *api.RaftStatus
}

// Ledger is one chain the node follows, as the API serves it.
type Ledger struct {
	Chain *chain.Chain
	Store *store.Chain
	Pool  *mempool.Pool
	Node  ChainNode
	// SQLLag, if set, is how many quants the SQL projection is behind
	// (ok false: not projected).
	SQLLag func() (lag uint64, ok bool)
}

// Chains is the node's registry of the chains it follows.
type Chains interface {
	// Default is the chain the seed's routes and the unscoped /v1 routes
	// serve.
	Default() *Ledger
	// Ledger returns a followed chain.
	Ledger(id quant.Hash) (*Ledger, bool)
	// Ledgers lists the followed chains, the default first.
	Ledgers() []*Ledger
	// CreateChain makes a bang from rules, stores it and follows the new
	// chain, offering it to peers. A *quant.RuleError names what is wrong
	// with the rules.
	CreateChain(ctx context.Context, rules *quant.Rules) (*Ledger, error)
	// Fork creates a chain that shares parent's history up to its
	// main-chain quant at height and follows rules after it.
	Fork(ctx context.Context, parent quant.Hash, height uint64, rules *quant.Rules) (*Ledger, error)
	// LeaveChain stops following a chain and deletes it from this node
	// (ErrNotSupported for a chain the node may not leave, ErrNotFound
	// for one it does not follow).
	LeaveChain(ctx context.Context, id quant.Hash) error
	// Lineage lists a chain's ancestors, nearest first (empty for a chain
	// that is not a fork), each checked as far as this node can.
	Lineage(id quant.Hash) ([]api.Ancestor, error)
}

// Node is what the API asks of the node as a whole.
type Node interface {
	// AddPeer registers another node (the seed's /discover).
	AddPeer(ctx context.Context, addr string) error
	// Info says who the node is and where it is reached; the API adds the
	// chains' replicas.
	Info() api.NodeInfo
}

// Config wires the API to a node's parts.
type Config struct {
	Chains   Chains
	Events   *events.Bus
	Node     Node
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int64
	// DebugToken opens /debug/pprof to requests bearing it; empty keeps it
	// closed.
	DebugToken string
	// AdminToken, when set, is the bearer token the admin routes
	// (creating, forking and leaving chains) require; empty leaves them
	// open.
	AdminToken string
	// MaxBatch bounds a batch submission; default 10,000.
	MaxBatch int
	// BodyTimeout bounds the reading of a request body, from the moment
	// the handler starts to the body's end, so that a client sending a
	// byte now and then does not hold a handler; default 30 s.
	BodyTimeout time.Duration
	// MaxStreams bounds the event streams served at once; past it a
	// stream is answered 503 unavailable. Default 256.
	MaxStreams int
	// StreamWriteTimeout bounds each write to an event stream: a client
	// that stops reading loses its stream after it; default 10 s.
	StreamWriteTimeout time.Duration
	// MaxProofHeaders bounds the header chain of a proof (?proof=full);
	// default api.MaxProofHeaders.
	MaxProofHeaders int
	// SQL is the node's SQL projection; nil when it is off.
	SQL SQL
	// Console serves the routes behind the node's console (history,
	// configuration, peers, following); nil answers them not_supported.
	Console Console
	// ZKKeyDir, if set, is the directory of the proving keys this node
	// serves ({circuit}.pk, each checked against its chain's rules).
	ZKKeyDir string
}

// Server is the API as an http.Handler.
type Server struct {
	cfg        Config
	log        *slog.Logger
	mux        checkedMux
	reqMetrics *requestMetrics
	// cop refuses cross-site browser requests that change state.
	cop *http.CrossOriginProtection

	// closing is closed by Shutdown so long-lived streams end.
	closeOnce sync.Once
	closing   chan struct{}
	// streams counts the event streams being served (MaxStreams).
	streams atomic.Int64
	// challenges are the zk read challenges outstanding.
	challenges challenges
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
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = 30 * time.Second
	}
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = 256
	}
	if cfg.StreamWriteTimeout == 0 {
		cfg.StreamWriteTimeout = 10 * time.Second
	}
	if cfg.MaxProofHeaders == 0 {
		cfg.MaxProofHeaders = api.MaxProofHeaders
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, closing: make(chan struct{}), cop: http.NewCrossOriginProtection()}
	s.mux = checkedMux{ServeMux: http.NewServeMux(), s: s}
	// The unmatched: a wrong method (405) or an unknown path (404), in
	// the API's error shape.
	s.mux.ServeMux.HandleFunc(unmatched, s.notFound)
	s.reqMetrics = newRequestMetrics(cfg.Registry)
	s.routes()
	return s
}

// unmatched is the pattern of the API's fallback route, which every
// request no other route matches reaches.
const unmatched = "/"

// checkedMux is the API's mux: each route it registers refuses cross-site
// requests that would change state (crossSite) before its handler runs,
// so that a request's route is looked up once, by the mux, which names
// it in Request.Pattern.
type checkedMux struct {
	*http.ServeMux
	s *Server
}

// Handle registers h for pattern behind the cross-site check.
func (m checkedMux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.s.crossSite(w, r, pattern) {
			h.ServeHTTP(w, r)
		}
	}))
}

// HandleFunc registers fn for pattern behind the cross-site check.
func (m checkedMux) HandleFunc(pattern string, fn func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(fn))
}

// ledgerKey is the request context key of the chain a route serves.
type ledgerKey struct{}

// lg is the chain a request is for: /v1/chains/{chain}/... names it, every
// other route serves the default chain.
func (s *Server) lg(r *http.Request) *Ledger {
	if l, ok := r.Context().Value(ledgerKey{}).(*Ledger); ok {
		return l
	}
	return s.cfg.Chains.Default()
}

// scoped resolves {chain} for a chain route, answering 404 for a chain
// this node does not follow.
func (s *Server) scoped(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := quant.ParseHash(r.PathValue("chain"))
		if err != nil {
			s.writeError(w, r, fmt.Errorf("%w: chain id: %v", ErrBadRequest, err))
			return
		}
		l, ok := s.cfg.Chains.Ledger(id)
		if !ok {
			s.writeError(w, r, errorf(api.CodeNotFound, "this node does not follow chain "+id.String()))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ledgerKey{}, l)))
	}
}

func (s *Server) routes() {
	h := s.mux.HandleFunc
	// chainRoute serves a /v1 route for the default chain and, under
	// /v1/chains/{chain}, for any followed chain.
	chainRoute := func(method, path string, fn http.HandlerFunc) {
		h(method+" /v1"+path, fn)
		h(method+" /v1/chains/{chain}"+path, s.scoped(fn))
	}
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
	h("GET /v1/node", s.nodeInfo)
	h("GET /v1/chains", s.listChains)
	h("POST /v1/chains", s.admin(s.createChain))
	h("GET /v1/chains/{chain}", s.scoped(s.chainInfo))
	h("DELETE /v1/chains/{chain}", s.admin(s.leaveChain))
	chainRoute("GET", "/chain", s.chainInfo)
	chainRoute("GET", "/stats", s.stats)
	chainRoute("GET", "/quants", s.quants)
	chainRoute("GET", "/quants/{ref}", s.quant)
	chainRoute("POST", "/txs", s.submitTxs)
	chainRoute("GET", "/txs/{id}", s.tx)
	chainRoute("GET", "/events", s.events)
	chainRoute("POST", "/leap", s.leapV1)
	chainRoute("GET", "/peers", s.peers)
	chainRoute("POST", "/fork", s.admin(s.fork))
	chainRoute("GET", "/lineage", s.lineage)
	s.recordRoutes(chainRoute)
	s.zkRoutes(chainRoute)
	chainRoute("GET", "/export", s.export)
	h("POST /v1/sql", s.sqlQuery)
	h("GET /v1/sql/check", s.sqlCheck)
	chainRoute("POST", "/sql/rebuild", s.sqlRebuild)
	s.consoleRoutes()
	s.seedChainRoutes()
	s.indexRoute()
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

// admin opens a handler that changes what the node follows (or shows its
// configuration) only to requests bearing the admin token, when one is
// configured.
func (s *Server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.AdminToken != "" {
			want := "Bearer " + s.cfg.AdminToken
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="qbc admin"`)
				s.writeError(w, r, errorf(api.CodeUnauthorized, "this route needs the node's admin token (Authorization: Bearer TOKEN)"))
				return
			}
		}
		next(w, r)
	}
}

// Shutdown ends long-lived streams (server-sent events) so that a graceful
// shutdown does not wait for them. Register it with
// http.Server.RegisterOnShutdown.
func (s *Server) Shutdown() { s.closeOnce.Do(func() { close(s.closing) }) }

// ServeHTTP bounds the body, recovers from panics, answers unknown routes
// and wrong methods in the API's error shape, refuses cross-site browser
// requests that change state, and records metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	// deadlineBody sees the body as it came, so that it can leave a
	// request without one (an event stream's GET) alone.
	r.Body = http.MaxBytesReader(sw, s.deadlineBody(w, r.Body), s.cfg.MaxBodyBytes)
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
		route := r.Pattern // set by the mux
		if route == "" || route == unmatched {
			route = "unmatched"
		}
		s.reqMetrics.done(route, sw.status, time.Since(start))
	}()
	s.mux.ServeHTTP(sw, r)
}

// notFound tells a wrong method (405, with Allow) from an unknown path
// (404).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" && p != unmatched {
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
