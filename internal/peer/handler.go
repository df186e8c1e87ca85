package peer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// ChainPath is where a node serves the peer protocol of chain id:
// /p2p/v1/ and the id in hex.
func ChainPath(id quant.Hash) string { return "/p2p/v1/" + id.String() }

// Handler serves POST ChainPath(chain): envelopes from peers, answered with
// envelopes. Refusals are answered with {"error":{"code","message"}}.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ChainPath(s.chain), s.serve)
	return mux
}

// refuse answers a message that failed the envelope checks with code.
func (s *Service) refuse(w http.ResponseWriter, r *http.Request, code Code, err error) {
	s.writeRefusal(w, r, code.Status(), code, err)
}

// refuseContent answers a message whose content could not be acted on:
// 422, with the code of the rule it broke (refusalOf).
func (s *Service) refuseContent(w http.ResponseWriter, r *http.Request, err error) {
	s.writeRefusal(w, r, http.StatusUnprocessableEntity, refusalOf(err), err)
}

func (s *Service) writeRefusal(w http.ResponseWriter, r *http.Request, status int, code Code, err error) {
	s.m.refused.WithLabelValues(string(code)).Inc()
	s.log.Warn("peer message refused", "remote", r.RemoteAddr, "code", code, "err", err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": string(code), "message": err.Error()}})
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	// At most maxServing messages at once: each may hold up to MaxEnvelope
	// of request and an answer of up to about maxSyncBytes.
	select {
	case s.serving <- struct{}{}:
		defer func() { <-s.serving }()
	default:
		s.refuse(w, r, CodeBusy, errors.New("too many peer messages at once; try again"))
		return
	}
	now := s.cfg.Now().UnixMilli()
	b, err := readRequest(w, r, func(e *Envelope) error {
		if err := s.guard.checkHead(e, now); err != nil {
			return err
		}
		if s.isBanned(IDOf(e.From)) {
			return ErrBanned
		}
		return nil
	})
	if err != nil {
		s.refuse(w, r, readRefusal(err), err)
		return
	}
	e, err := DecodeEnvelope(b)
	if err != nil {
		s.refuse(w, r, CodeMalformed, err)
		return
	}
	e.Chain = s.chain
	if err := s.guard.check(e, now); err != nil {
		s.refuse(w, r, guardRefusal(err), err)
		return
	}
	from := IDOf(e.From)
	if s.isBanned(from) {
		s.refuse(w, r, CodeBanned, ErrBanned)
		return
	}
	s.m.msgs.WithLabelValues(e.Kind.String(), "in").Inc()
	answer, err := s.handle(r.Context(), e)
	if err != nil {
		if senderFault(err) {
			s.penalty(from, costBadMessage, err)
		}
		s.refuseContent(w, r, err)
		return
	}
	rep := s.envelope(from, KindReply, replyBody(e.Nonce, answer))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(rep.Encode())
}

// handle acts on one checked envelope and returns the answer.
func (s *Service) handle(ctx context.Context, e *Envelope) ([]byte, error) {
	switch e.Kind {
	case KindHello:
		return s.handleHello(e)
	case KindStatus:
		return s.handleStatus(e)
	case KindPeers:
		return s.handlePeers(e)
	case KindTx:
		return nil, s.receiveTxs(ctx, e.Body, IDOf(e.From))
	case KindAnnounce:
		return s.handleAnnounce(e)
	case KindGetQuant:
		return s.handleGetQuant(e)
	case KindHashes:
		return s.handleHashes(e)
	case KindGetQuants:
		return s.handleGetQuants(e)
	}
	return nil, quant.Errorf(quant.CodeMalformed, "unknown message kind %d", e.Kind)
}

// handleHello admits the sender as a peer, takes note of the chains and
// peers it names, and answers with this node's hello.
func (s *Service) handleHello(e *Envelope) ([]byte, error) {
	var hb helloBody
	if err := decodeBody(e.Body, &hb); err != nil {
		return nil, err
	}
	if _, err := s.admit(e.From, hb.Addr, hb); err != nil {
		return nil, err
	}
	s.offered(hb)
	s.queueDiscover(IDOf(e.From), hb.Peers)
	return json.Marshal(s.hello())
}

// handleStatus marks a known sender seen, keeps the status its ping
// carries, and answers with this node's tip.
func (s *Service) handleStatus(e *Envelope) ([]byte, error) {
	// A ping carries the sender's status (an empty body: none).
	var st Status
	told := len(e.Body) > 0
	if told {
		var sb statusBody
		err := decodeBody(e.Body, &sb)
		if err == nil {
			st, err = fromStatusBody(sb)
		}
		if err != nil {
			return nil, err
		}
	}
	now := s.cfg.Now()
	s.mu.Lock()
	p, known := s.peers[IDOf(e.From)]
	if known {
		p.lastSeen = now
		if told {
			p.status, p.statusAt = st, now
		}
	}
	s.mu.Unlock()
	if known && told {
		s.maybeKick(st)
	}
	return json.Marshal(toStatusBody(s.cfg.Host.Status()))
}

// handlePeers queues the addresses the sender names for discovery; as
// announcements, they count only from known peers.
func (s *Service) handlePeers(e *Envelope) ([]byte, error) {
	var pb peersBody
	if err := decodeBody(e.Body, &pb); err != nil {
		return nil, err
	}
	if _, ok := s.peerByKey(e.From); !ok {
		return nil, nil
	}
	s.queueDiscover(IDOf(e.From), pb.Addrs)
	return nil, nil
}

// handleAnnounce queues the fetch of an announced quant this node lacks;
// announcements count only from known peers.
func (s *Service) handleAnnounce(e *Envelope) ([]byte, error) {
	var ab announceBody
	if err := decodeBody(e.Body, &ab); err != nil {
		return nil, err
	}
	p, ok := s.peerByKey(e.From)
	if !ok {
		return nil, nil
	}
	if !s.seen.has(ab.Hash) && !s.cfg.Host.HasQuant(ab.Hash) {
		s.fetches.add(func(ctx context.Context) { s.fetchAnnounced(ctx, p, ab) })
	}
	return nil, nil
}

// handleGetQuant answers one stored quant.
func (s *Service) handleGetQuant(e *Envelope) ([]byte, error) {
	if len(e.Body) != quant.HashSize {
		return nil, quant.Errorf(quant.CodeMalformed, "get_quant: body is not a hash")
	}
	q, err := s.cfg.Host.Quant(quant.Hash(e.Body))
	if err != nil {
		return nil, err
	}
	return q.Encode(), nil
}

// handleHashes answers the main chain's hashes after the fork point of the
// sender's locator (a sync plan), at most maxSyncHashes.
func (s *Service) handleHashes(e *Envelope) ([]byte, error) {
	var sb syncBody
	if err := decodeBody(e.Body, &sb); err != nil {
		return nil, err
	}
	hashes, err := s.cfg.Host.HashesAfter(sb.Locator, min(max(sb.Limit, 1), maxSyncHashes))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(hashes)*quant.HashSize)
	for _, h := range hashes {
		out = append(out, h[:]...)
	}
	return out, nil
}

// handleGetQuants answers the quants asked for, in order, as frames (an
// empty frame for one not stored here), up to maxSyncBytes.
func (s *Service) handleGetQuants(e *Envelope) ([]byte, error) {
	hashes, err := splitHashes(e.Body, maxGetQuants)
	if err != nil {
		return nil, err
	}
	items := make([][]byte, 0, len(hashes))
	size := 0
	for _, h := range hashes {
		q, err := s.cfg.Host.Quant(h)
		if err != nil {
			items = append(items, nil)
			continue
		}
		enc := q.Encode()
		if size+len(enc) > maxSyncBytes && len(items) > 0 {
			break
		}
		size += len(enc)
		items = append(items, enc)
	}
	return encodeFrames(items), nil
}

// fetchAnnounced fetches an announced quant this node lacks and adds it;
// an unknown parent means this node is behind: sync. It runs on a
// goroutine Run owns.
func (s *Service) fetchAnnounced(ctx context.Context, p peerState, ab announceBody) {
	if !s.seen.add(ab.Hash) || s.cfg.Host.HasQuant(ab.Hash) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := s.callPeer(ctx, p, KindGetQuant, ab.Hash[:])
	if err != nil {
		s.seen.remove(ab.Hash)
		return
	}
	q, err := quant.DecodeQuant(b)
	if err == nil && q.Hash() != ab.Hash {
		err = quant.Errorf(quant.CodeMalformed, "get_quant answered with another quant")
	}
	if err != nil {
		s.penalty(p.id, costInvalidQuant, err)
		return
	}
	switch v, err := s.cfg.Host.AddQuant(ctx, q); v {
	case Accepted:
		s.m.quantsIn.Inc()
		s.AnnounceQuant(q, p.id)
	case Orphan:
		s.seen.remove(ab.Hash)
		s.kickSync()
	case Invalid:
		s.penalty(p.id, costInvalidQuant, err)
	}
}

// readRefusal is the code of a request that readRequest refused.
func readRefusal(err error) Code {
	switch {
	case errors.Is(err, ErrTooLarge):
		return CodeTooLarge
	case errors.Is(err, ErrTimeout):
		return CodeTimeout
	case errors.Is(err, ErrBanned):
		return CodeBanned
	case errors.Is(err, ErrMalformed):
		return CodeMalformed
	}
	return guardRefusal(err)
}
