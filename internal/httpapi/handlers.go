package httpapi

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/quant"
)

// mediaType is the request's media type without parameters ("" if none).
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "application/json" || ct == "" {
		return ct // the common cases, without parsing
	}
	mt, _, _ := mime.ParseMediaType(ct)
	return mt
}

// decodeJSON reads one JSON value from the (already bounded) body into v.
func decodeJSON(r *http.Request, v any, strict bool) error {
	dec := json.NewDecoder(r.Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var (
			mb *http.MaxBytesError
			ae *apiError
		)
		if errors.As(err, &mb) || errors.As(err, &ae) {
			return err // the body's own bounds: too large, too slow
		}
		return fmt.Errorf("%w: body is not the expected JSON: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: body holds more than one JSON value", ErrBadRequest)
	}
	return nil
}

// newOpenTx builds an unsigned transaction for data on this node's chain,
// as the seed's /inject did: the node's time and a random nonce.
func (s *Server) newOpenTx(r *http.Request, data []byte) (*quant.Tx, error) {
	d, err := quant.CompactJSON(data)
	if err != nil {
		return nil, err
	}
	tx := &quant.Tx{Kind: quant.DataJSON, Data: d}
	s.stampOpen(r, tx)
	return tx, nil
}

// stampOpen fills what an unsigned transaction left out, as the seed's
// /inject did: the chain of the route, the node's time and a random nonce
// (so two equal readings are two transactions). Fields already set are
// kept. It must not be used on a signed transaction: the signature covers
// these fields.
func (s *Server) stampOpen(r *http.Request, tx *quant.Tx) {
	if tx.ChainID.IsZero() {
		tx.ChainID = s.lg(r).Chain.ID()
	}
	if tx.Time == 0 {
		tx.Time = time.Now().UnixMilli()
	}
	if tx.Nonce == 0 {
		var nonce [8]byte
		rand.Read(nonce[:])
		tx.Nonce = binary.BigEndian.Uint64(nonce[:])
	}
}

// inject is the seed's POST /inject: {"data": value} as JSON, or the form
// field data=value; a full signed transaction (api.Tx) is also taken.
func (s *Server) inject(w http.ResponseWriter, r *http.Request) {
	tx, err := s.readInject(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l := s.lg(r)
	id, err := l.Node.Submit(r.Context(), tx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeSubmitted(w, submitted(l, id))
}

// writeSubmitted answers 201 with sub, the bytes writeJSON would write,
// without reflection: one single-transaction submission is the request
// that many small clients send.
func writeSubmitted(w http.ResponseWriter, sub api.Submitted) {
	if sub.Status != "pending" && sub.Status != "committed" {
		writeJSON(w, http.StatusCreated, sub) // nothing else is answered today
		return
	}
	b := make([]byte, 0, len(`{"id":"","status":"committed"}`)+2*len(sub.ID)+1)
	b = append(b, `{"id":"`...)
	b = hex.AppendEncode(b, sub.ID[:])
	b = append(b, `","status":"`...)
	b = append(b, sub.Status...)
	b = append(b, "\"}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	w.Write(b)
}

func (s *Server) readInject(r *http.Request) (*quant.Tx, error) {
	switch mt := mediaType(r); mt {
	case "application/json", "":
		var t api.Tx
		if err := decodeJSON(r, &t, false); err != nil {
			return nil, err
		}
		if t.Raw != "" || t.PubKey != "" || t.Sig != "" || !t.Chain.IsZero() {
			return t.ToTx()
		}
		if len(t.Data) == 0 {
			return nil, fmt.Errorf(`%w: body needs a "data" field`, ErrBadRequest)
		}
		tx, err := s.newOpenTx(r, t.Data)
		if err != nil {
			return nil, err
		}
		// An open record: {"key": K, "data": V} (and a lock or reveal).
		if err := t.SetKeyedParts(tx); err != nil {
			return nil, err
		}
		return tx, nil
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			var (
				mb *http.MaxBytesError
				ae *apiError
			)
			if errors.As(err, &mb) || errors.As(err, &ae) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: form: %v", ErrBadRequest, err)
		}
		v, ok := r.PostForm["data"]
		if !ok || len(v) != 1 {
			return nil, fmt.Errorf("%w: form needs one data field", ErrBadRequest)
		}
		data := []byte(v[0])
		if !json.Valid(data) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // stored as sent: "a<b", not "a\u003cb"
			enc.Encode(v[0])
			data = bytes.TrimSpace(buf.Bytes())
		}
		tx, err := s.newOpenTx(r, data)
		if err != nil {
			return nil, err
		}
		// An open record: key=K beside data.
		t := api.Tx{Key: r.PostForm.Get("key")}
		if err := t.SetKeyedParts(tx); err != nil {
			return nil, err
		}
		return tx, nil
	default:
		return nil, errorf(api.CodeUnsupportedMedia, "Content-Type "+mt+" is not JSON or a form")
	}
}

// nonce returns a pow-style nonce for the seed's "proof" field, where the
// engine has one.
func (s *Server) nonce(r *http.Request, h *quant.Header) uint64 {
	if e, ok := s.lg(r).Chain.Engine().(consensus.Nonces); ok {
		return e.Nonce(h)
	}
	return 0
}

// leap is the seed's /leap: make a quant now, answer with it.
func (s *Server) leap(w http.ResponseWriter, r *http.Request) {
	q, err := s.lg(r).Node.Leap(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.FromQuantSeed(q, s.nonce(r, &q.Header)))
}

// pageParams reads ?from=&limit= (limit 0: no limit, where allowed).
func pageParams(r *http.Request, defLimit, maxLimit uint64) (from, limit uint64, err error) {
	q := r.URL.Query()
	if v := q.Get("from"); v != "" {
		if from, err = strconv.ParseUint(v, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("%w: from: not a height: %q", ErrBadRequest, v)
		}
	}
	limit = defLimit
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.ParseUint(v, 10, 64); err != nil || limit == 0 {
			return 0, 0, fmt.Errorf("%w: limit: not a positive count: %q", ErrBadRequest, v)
		}
	}
	if maxLimit > 0 && (limit == 0 || limit > maxLimit) {
		limit = maxLimit
	}
	return from, limit, nil
}

// errStop ends an iteration early once a page is full.
var errStop = errors.New("httpapi: page full")

// iterate walks the main chain from `from` for up to limit quants (0: to
// the tip).
func (s *Server) iterate(r *http.Request, from, limit uint64, fn func(*quant.Quant) error) error {
	n := uint64(0)
	err := s.lg(r).Store.Iterate(r.Context(), from, func(q *quant.Quant) error {
		if limit > 0 && n == limit {
			return errStop
		}
		n++
		return fn(q)
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// jsonChain is the seed's /json-chain: the chain as a JSON array in the
// seed's shape, streamed.
func (s *Server) jsonChain(w http.ResponseWriter, r *http.Request) {
	from, limit, err := pageParams(r, 0, 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("[")
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	first := true
	err = s.iterate(r, from, limit, func(q *quant.Quant) error {
		if !first {
			bw.WriteString(",")
		}
		first = false
		return enc.Encode(api.FromQuantSeed(q, s.nonce(r, &q.Header)))
	})
	if err != nil {
		// The status is sent; cutting the stream short tells the client.
		s.log.Warn("json-chain stream cut", "err", err)
		panic(http.ErrAbortHandler)
	}
	bw.WriteString("]\n")
	bw.Flush()
}

// binaryChain is /chain: the chain in the canonical encoding, each quant
// preceded by its u32 big-endian length (the seed sent a pickle).
func (s *Server) binaryChain(w http.ResponseWriter, r *http.Request) {
	from, limit, err := pageParams(r, 0, 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	bw := bufio.NewWriterSize(w, 64<<10)
	err = s.iterate(r, from, limit, func(q *quant.Quant) error {
		b := q.Encode()
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		bw.Write(n[:])
		_, err := bw.Write(b)
		return err
	})
	if err != nil {
		s.log.Warn("chain stream cut", "err", err)
		panic(http.ErrAbortHandler)
	}
	bw.Flush()
}

// statsOf gathers the stats of the chain a request is for.
func (s *Server) statsOf(r *http.Request) api.Stats { return s.statsFor(s.lg(r)) }

// statsFor gathers a chain's stats.
func (s *Server) statsFor(l *Ledger) api.Stats {
	c := l.Chain
	head := c.Tip()
	syncing, target := l.Node.Syncing()
	var lag *uint64
	if l.SQLLag != nil {
		if n, ok := l.SQLLag(); ok {
			lag = &n
		}
	}
	return api.Stats{
		SQLLag:          lag,
		Syncing:         syncing,
		SyncTarget:      target,
		Chain:           c.ID(),
		Name:            c.Rules().Name,
		Engine:          c.Rules().Engine,
		Length:          head.Header.Height + 1,
		Height:          head.Header.Height,
		Tip:             head.Hash,
		TipTime:         head.Header.Time,
		Work:            head.Meta.Work.String(),
		Txs:             head.Meta.Txs,
		PoolTxs:         l.Pool.Len(),
		PoolBytes:       l.Pool.Bytes(),
		QuantsPerMinute: c.QuantsPerMinute(),
		Peers:           livePeers(l.Node.Peers()),
		Finality:        string(c.Finality()),
		Raft:            l.Node.RaftStatus(),
	}
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.statsOf(r))
}

type peerList struct {
	Peers []api.Peer `json:"peers"`
}

func (s *Server) peerList(r *http.Request) peerList {
	l := peerList{Peers: []api.Peer{}}
	l.Peers = append(l.Peers, s.lg(r).Node.Peers()...)
	return l
}

func (s *Server) peers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.peerList(r))
}

// discover is the seed's POST /discover host=ADDRESS.
func (s *Server) discover(w http.ResponseWriter, r *http.Request) {
	var host string
	switch mt := mediaType(r); mt {
	case "application/json", "":
		var body struct {
			Host string `json:"host"`
		}
		if err := decodeJSON(r, &body, true); err != nil {
			s.writeError(w, r, err)
			return
		}
		host = body.Host
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			s.writeError(w, r, fmt.Errorf("%w: form: %v", ErrBadRequest, err))
			return
		}
		host = r.PostForm.Get("host")
	default:
		s.writeError(w, r, errorf(api.CodeUnsupportedMedia, "Content-Type "+mt+" is not JSON or a form"))
		return
	}
	host = strings.TrimPrefix(strings.TrimPrefix(host, "http://"), "https://")
	if err := s.cfg.Node.AddPeer(r.Context(), host); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.peerList(r))
}

func (s *Server) chainInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.chainOf(s.lg(r)))
}

// span is a run of heights of a chain's history that one followed chain's
// own storage holds (chain.Span, with the ledger that serves it).
type span struct {
	l        *Ledger
	from, to uint64
}

// history is what a read of l shows, as spans oldest first: with
// ?shared=true (the default), l's whole history as chain.History gives it
// (for a fork, its parent's quants up to the fork point, then its own);
// with ?shared=false, l's own storage alone, from its bang.
func (s *Server) history(r *http.Request, l *Ledger) ([]span, error) {
	shared := true
	if v := r.URL.Query().Get("shared"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%w: shared: not true or false: %q", ErrBadRequest, v)
		}
		shared = b
	}
	if !shared {
		return []span{{l: l, from: l.Chain.Base(), to: math.MaxUint64}}, nil
	}
	spans, err := chain.History(l.Chain, func(id quant.Hash) *chain.Chain {
		if p, ok := s.cfg.Chains.Ledger(id); ok {
			return p.Chain
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]span, 0, len(spans))
	for _, sp := range spans {
		sl := l
		if id := sp.Chain.ID(); id != l.Chain.ID() {
			p, ok := s.cfg.Chains.Ledger(id)
			if !ok {
				continue // stopped following since History looked
			}
			sl = p
		}
		out = append(out, span{l: sl, from: sp.From, to: sp.To})
	}
	return out, nil
}

// quants is GET /v1/quants?from=&limit=&shared=: headers, a page at a
// time, in height order across the spans of the chain's history.
func (s *Server) quants(w http.ResponseWriter, r *http.Request) {
	from, limit, err := pageParams(r, 20, 1000)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	spans, err := s.history(r, s.lg(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Quants []api.Quant `json:"quants"`
	}{Quants: []api.Quant{}}
	for _, sp := range spans {
		if sp.to < from || uint64(len(out.Quants)) == limit {
			continue
		}
		err = sp.l.Store.IterateHeaders(r.Context(), max(from, sp.from), func(h *quant.Header) error {
			if uint64(len(out.Quants)) == limit || h.Height > sp.to {
				return errStop
			}
			out.Quants = append(out.Quants, api.Quant{Header: api.FromHeader(h)})
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// lookupQuant finds a quant by height, in the spans of the chain's
// history, or by hash: stored by the chain itself (on its main chain or
// not), or on an ancestor's main chain within the shared history.
func (s *Server) lookupQuant(r *http.Request, ref string) (*quant.Quant, error) {
	spans, err := s.history(r, s.lg(r))
	if err != nil {
		return nil, err
	}
	if len(ref) == 2*quant.HashSize {
		hash, err := quant.ParseHash(ref)
		if err != nil {
			return nil, err
		}
		q, err := s.lg(r).Store.Quant(hash)
		if !errors.Is(err, chain.ErrNotFound) {
			return q, err
		}
		for _, sp := range spans {
			if sp.l == s.lg(r) {
				continue
			}
			h, err := sp.l.Store.Header(hash)
			if err != nil || h.Height < sp.from || h.Height > sp.to {
				continue
			}
			if at, err := sp.l.Store.HashAt(h.Height); err == nil && at == hash {
				return sp.l.Store.Quant(hash)
			}
		}
		return nil, err
	}
	height, err := strconv.ParseUint(ref, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is neither a height nor a hash", ErrBadRequest, ref)
	}
	sp, ok := spanAt(spans, height)
	if !ok {
		return nil, fmt.Errorf("%w: height %d is not in the history this node holds of chain %s", ErrNotFound, height, s.lg(r).Chain.ID())
	}
	hash, err := sp.l.Store.HashAt(height)
	if err != nil {
		return nil, err
	}
	return sp.l.Store.Quant(hash)
}

// spanAt is the span of spans that holds height.
func spanAt(spans []span, height uint64) (span, bool) {
	for _, sp := range spans {
		if height >= sp.from && height <= sp.to {
			return sp, true
		}
	}
	return span{}, false
}

// quant is GET /v1/quants/{height|hash}: JSON, or the canonical encoding
// when the client accepts application/octet-stream.
func (s *Server) quant(w http.ResponseWriter, r *http.Request) {
	q, err := s.lookupQuant(r, r.PathValue("ref"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/octet-stream") {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(q.Encode())
		return
	}
	writeJSON(w, http.StatusOK, api.FromQuant(q, true))
}

// submitTxs is POST /v1/txs: one transaction (JSON or canonical bytes), a
// JSON array of them, or a binary batch (BatchMediaType).
func (s *Server) submitTxs(w http.ResponseWriter, r *http.Request) {
	if err := resultsQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch mt := mediaType(r); mt {
	case "application/octet-stream":
		s.submitCanonical(w, r)
	case BatchMediaType:
		s.submitBinaryBatch(w, r)
	case "application/json", "":
		s.submitJSON(w, r)
	default:
		s.writeError(w, r, errorf(api.CodeUnsupportedMedia, "Content-Type "+mt+" is not application/json or application/octet-stream"))
	}
}

// submitCanonical submits one transaction in its canonical encoding.
func (s *Server) submitCanonical(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tx, err := quant.DecodeTx(b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.submitOne(w, r, tx.Clone())
}

// submitBinaryBatch submits a binary batch (EncodeBatch).
func (s *Server) submitBinaryBatch(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if pool := s.lg(r).Pool; pool != nil {
		if free, _ := pool.Free(); free == 0 {
			// A full pool refuses the whole batch before decoding it:
			// a client under back-pressure sends it again anyway.
			s.writeError(w, r, mempool.ErrFull)
			return
		}
	}
	txs, err := DecodeBatch(b, s.cfg.MaxBatch)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.submitDecoded(w, r, txs, make([]*api.ErrorBody, len(txs)))
}

// submitJSON submits one api.Tx or a JSON array of them. The body is
// read once and decoded once (a single transaction is the common request
// of many small clients: its cost is the node's cost per request).
func (s *Server) submitJSON(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		s.submitBatch(w, r, trimmed)
		return
	}
	if raw, ok := rawOnly(body); ok {
		tx, err := api.DecodeRaw(raw)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.submitOne(w, r, tx)
		return
	}
	var t api.Tx
	if err := strictUnmarshal(body, &t); err != nil {
		s.writeError(w, r, err)
		return
	}
	tx, err := s.txFromJSON(r, &t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.submitOne(w, r, tx)
}

// strictUnmarshal decodes b, one JSON value, into v; unknown fields and a
// second value are errors.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body is not the expected JSON: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: body holds more than one JSON value", ErrBadRequest)
	}
	return nil
}

// readBody reads a request's whole body within its bounds (size and
// time), whose errors it returns as they are.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var (
			mb *http.MaxBytesError
			ae *apiError
		)
		if errors.As(err, &mb) || errors.As(err, &ae) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: reading the body: %v", ErrBadRequest, err)
	}
	return b, nil
}

// submitted answers a transaction the node took: "committed" when the
// chain's main chain holds it already (an ordered chain's member answers
// once its log committed it), else "pending" (in the pool).
func submitted(l *Ledger, id quant.Hash) api.Submitted {
	status := "pending"
	if has, err := l.Store.HasTx(id); err == nil && has {
		status = "committed"
	}
	return api.Submitted{ID: id, Status: status}
}

func (s *Server) submitOne(w http.ResponseWriter, r *http.Request, tx *quant.Tx) {
	l := s.lg(r)
	id, err := l.Node.Submit(r.Context(), tx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeSubmitted(w, submitted(l, id))
}

func (s *Server) submitBatch(w http.ResponseWriter, r *http.Request, raw json.RawMessage) {
	var items []api.Tx
	if err := strictUnmarshal(raw, &items); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(items) == 0 {
		s.writeError(w, r, fmt.Errorf("%w: batch is empty", api.ErrInvalid))
		return
	}
	if len(items) > s.cfg.MaxBatch {
		s.writeError(w, r, quant.Errorf(quant.CodeTooLarge, "batch of %d transactions, limit %d", len(items), s.cfg.MaxBatch))
		return
	}
	out := api.Batch{Results: make([]api.BatchResult, len(items))}
	var (
		txs []*quant.Tx
		at  []int // out index of each tx
	)
	for i := range items {
		tx, err := s.txFromJSON(r, &items[i])
		if err != nil {
			out.Results[i].Error = s.body(err)
			continue
		}
		txs = append(txs, tx)
		at = append(at, i)
	}
	ids, errs := s.lg(r).Node.SubmitBatch(r.Context(), txs)
	for j, i := range at {
		out.Results[i].ID = ids[j]
		if errs[j] != nil {
			out.Results[i].Error = s.body(errs[j])
		}
	}
	s.writeBatch(w, r, out)
}

// submitDecoded submits decoded transactions (pre[i] is nil for each).
func (s *Server) submitDecoded(w http.ResponseWriter, r *http.Request, txs []*quant.Tx, pre []*api.ErrorBody) {
	out := api.Batch{Results: make([]api.BatchResult, len(txs))}
	ids, errs := s.lg(r).Node.SubmitBatch(r.Context(), txs)
	for i := range txs {
		out.Results[i].ID = ids[i]
		if errs[i] != nil {
			out.Results[i].Error = s.body(errs[i])
		}
	}
	s.writeBatch(w, r, out)
}

// writeBatch answers a batch submission with out, or, with
// ?results=refused, with its refused transactions alone, each with its
// index.
func (s *Server) writeBatch(w http.ResponseWriter, r *http.Request, out api.Batch) {
	refusedOnly := r.URL.Query().Get("results") == api.ResultsRefused
	var refused []api.BatchResult
	for i, res := range out.Results {
		if res.Error == nil {
			out.Accepted++
			continue
		}
		out.Rejected++
		if refusedOnly {
			res.Index = &i
			refused = append(refused, res)
		}
	}
	if refusedOnly {
		out.Results = refused
		if out.Results == nil {
			out.Results = []api.BatchResult{}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// resultsQuery refuses a batch submission's results parameter other than
// all or refused.
func resultsQuery(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil // the common request: not worth parsing
	}
	switch v := r.URL.Query().Get("results"); v {
	case "", api.ResultsAll, api.ResultsRefused:
		return nil
	default:
		return errorf(api.CodeInvalidRequest, "results="+v+": want "+api.ResultsAll+" or "+api.ResultsRefused)
	}
}

func (s *Server) body(err error) *api.ErrorBody {
	code, msg := classify(err)
	return &api.ErrorBody{Code: code, Message: msg}
}

// tx is GET /v1/txs/{id}: pending, or committed with its place, its
// confirmations and a Merkle proof of inclusion; with ?proof=full (and
// &to=HASH) also the proof a client checks offline (proofQuery,
// fullProof).
func (s *Server) tx(w http.ResponseWriter, r *http.Request) {
	id, err := quant.ParseHash(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	full, to, err := proofQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if tx, ok := s.lg(r).Pool.Get(id); ok {
		writeJSON(w, http.StatusOK, api.TxStatus{Status: "pending", Tx: api.FromTx(tx)})
		return
	}
	p, err := s.lg(r).Chain.TxProof(id)
	if errors.Is(err, chain.ErrNotFound) {
		s.writeError(w, r, fmt.Errorf("%w: no transaction %s pending or committed", ErrNotFound, id))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.committed(s.lg(r).Chain, p, full, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func livePeers(ps []api.Peer) int {
	n := 0
	for _, p := range ps {
		if p.State != "down" {
			n++
		}
	}
	return n
}
