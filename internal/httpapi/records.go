package httpapi

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// recordRoutes serves a chain's records (docs/records.md). A key is one
// path segment, escaped (orders%2F42); for curl's sake a key with
// slashes may also be written as is, and then .../history at its end asks
// for its history (a key that itself ends in /history must be escaped).
func (s *Server) recordRoutes(chainRoute func(method, path string, fn http.HandlerFunc)) {
	chainRoute("GET", "/records", s.recordKeys)
	chainRoute("GET", "/records/{key}", s.record)
	chainRoute("GET", "/records/{key}/history", s.recordHistory)
	chainRoute("GET", "/records/{key...}", func(w http.ResponseWriter, r *http.Request) {
		if k, ok := strings.CutSuffix(r.PathValue("key"), "/history"); ok {
			r.SetPathValue("key", k)
			s.recordHistory(w, r)
			return
		}
		s.record(w, r)
	})
}

// record answers a key's latest version, its transaction and the proof;
// with ?proof=full (and &to=HASH) also the proof a client checks offline,
// as for a transaction.
func (s *Server) record(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	full, to, err := proofQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l := s.lg(r)
	if s.gated(w, r, l, key) {
		return
	}
	s.serveRecord(w, r, l, key, full, to)
}

// serveRecord answers key's latest version (record).
func (s *Server) serveRecord(w http.ResponseWriter, r *http.Request, l *Ledger, key string, full bool, to quant.Hash) {
	v, err := l.Chain.Record(key)
	if errors.Is(err, chain.ErrNotFound) {
		s.writeError(w, r, fmt.Errorf("%w: no record %q on this chain", ErrNotFound, key))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := l.Chain.TxProof(v.TxID)
	if err != nil {
		// A reorganisation between the two reads: ask again.
		s.writeError(w, r, fmt.Errorf("%w: record %q moved while it was read: %v", ErrRetry, key, err))
		return
	}
	st, err := s.committed(l.Chain, p, full, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Record{Key: key, Lock: api.FromLock(v.Lock), TxStatus: st})
}

// recordHistory answers a page of a key's versions, oldest first:
// ?after=HEIGHT.INDEX (a page's next) and ?limit= (at most 1,000).
func (s *Server) recordHistory(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var after *chain.Location
	if a := r.URL.Query().Get("after"); a != "" {
		loc, err := parseCursor(a)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		after = &loc
	}
	limit, err := pageLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.gated(w, r, s.lg(r), key) {
		return
	}
	vs, err := s.lg(r).Chain.History(key, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.History{Key: key, Versions: make([]api.Version, len(vs))}
	for i, v := range vs {
		out.Versions[i] = api.Version{Height: v.Height, Index: v.Index, TxID: v.TxID, Time: v.Time, Lock: api.FromLock(v.Lock)}
		if v.Signer != nil {
			out.Versions[i].Signer = hex.EncodeToString(v.Signer)
		}
	}
	if len(vs) == limit {
		out.Next = fmt.Sprintf("%d.%d", vs[len(vs)-1].Height, vs[len(vs)-1].Index)
	}
	writeJSON(w, http.StatusOK, out)
}

// recordKeys answers a page of keys: ?prefix=, ?after= (a page's next),
// ?limit= (at most 1,000).
func (s *Server) recordKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := pageLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	keys, err := s.lg(r).Chain.Keys(q.Get("prefix"), q.Get("after"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.Keys{Keys: keys}
	if out.Keys == nil {
		out.Keys = []string{}
	}
	if len(keys) == limit {
		out.Next = keys[len(keys)-1]
	}
	writeJSON(w, http.StatusOK, out)
}

// pageLimit reads ?limit=, 1 to chain.MaxRecordPage (default 100).
func pageLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > chain.MaxRecordPage {
		return 0, fmt.Errorf("%w: limit must be 1 to %d", ErrBadRequest, chain.MaxRecordPage)
	}
	return n, nil
}

// parseCursor reads a history cursor, HEIGHT.INDEX.
func parseCursor(s string) (chain.Location, error) {
	h, i, ok := strings.Cut(s, ".")
	height, err1 := strconv.ParseUint(h, 10, 64)
	index, err2 := strconv.ParseUint(i, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return chain.Location{}, fmt.Errorf("%w: after must be HEIGHT.INDEX, as a page's next gives it", ErrBadRequest)
	}
	return chain.Location{Height: height, Index: uint32(index)}, nil
}
