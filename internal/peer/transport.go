package peer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

func (s *Service) envelope(to ID, kind Kind, body []byte) *Envelope {
	var n [8]byte
	rand.Read(n[:])
	e := &Envelope{To: to, Time: s.cfg.Now().UnixMilli(), Nonce: binary.BigEndian.Uint64(n[:]), Kind: kind, Body: body, Chain: s.chain}
	e.Sign(s.cfg.Key)
	return e
}

// call sends a request to addr and returns the verified answer. want is
// the key the answer must come from (nil: any, for a first hello).
func (s *Service) call(ctx context.Context, addr string, to ID, want ed25519.PublicKey, kind Kind, body []byte) ([]byte, ed25519.PublicKey, error) {
	req := s.envelope(to, kind, body)
	hreq, err := http.NewRequestWithContext(ctx, "POST", "http://"+addr+ChainPath(s.chain), bytes.NewReader(req.Encode()))
	if err != nil {
		return nil, nil, err
	}
	hreq.Header.Set("Content-Type", "application/octet-stream")
	resp, err := s.client.Do(hreq)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	limit := maxAnswer(kind)
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > limit && resp.StatusCode == http.StatusOK {
		return nil, nil, fmt.Errorf("peer %s: %w: the answer to %s is over %d bytes", addr, ErrTooLarge, kind, limit)
	}
	s.m.msgs.WithLabelValues(kind.String(), "out").Inc()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code    Code
				Message string
			}
		}
		json.Unmarshal(b, &e)
		return nil, nil, fmt.Errorf("peer %s: %d %s: %s", addr, resp.StatusCode, e.Error.Code, e.Error.Message)
	}
	rep, err := decodeEnvelope(b, limit)
	if err != nil {
		return nil, nil, err
	}
	rep.Chain = s.chain
	if rep.Kind != KindReply {
		return nil, nil, fmt.Errorf("%w: answer of kind %d", ErrMalformed, rep.Kind)
	}
	if want != nil && !bytes.Equal(rep.From, want) {
		return nil, nil, fmt.Errorf("peer %s answered with another key", addr)
	}
	if err := s.guard.check(rep, s.cfg.Now().UnixMilli()); err != nil {
		return nil, nil, err
	}
	answer, err := splitReply(rep.Body, req.Nonce)
	return answer, bytes.Clone(rep.From), err
}

// callPeer sends a request to a known peer.
func (s *Service) callPeer(ctx context.Context, p peerState, kind Kind, body []byte) ([]byte, error) {
	b, _, err := s.call(ctx, p.addr, p.id, p.key, kind, body)
	return b, err
}
