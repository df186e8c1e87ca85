package peer

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Bounds on reading a peer's message. A request is read in two steps:
// its fixed head (sender, addressee, time, kind, body length), checked
// against everything that needs no body (addressee, time window,
// membership of a closed network, bans, the kind's body cap), then its
// body, within bodyTimeout and the cap. So a stranger on a closed
// network, a banned peer or a message claiming a body larger than its kind
// needs costs a node the head's 66 bytes, not up to MaxEnvelope; and a
// sender that stops sending holds a handler for at most the timeouts.
const (
	headTimeout = 2 * time.Second
	bodyTimeout = 30 * time.Second

	// maxSmallBody bounds the bodies of messages that carry a few
	// fields: a status ping, an announcement, the answers that are empty.
	maxSmallBody = 4 << 10
	// maxHelloBody bounds a hello: an address, a status, up to
	// maxPeersList addresses and maxChains chain ids, as JSON.
	maxHelloBody = 64 << 10
)

// ErrTimeout: the message was not sent within its time.
var ErrTimeout = errors.New("peer: message not sent in time")

// maxRequestBody is the largest body a request of kind k may carry; -1
// for a kind no request has.
func maxRequestBody(k Kind) int {
	switch k {
	case KindHello:
		return maxHelloBody
	case KindStatus, KindAnnounce:
		return maxSmallBody
	case KindPeers:
		return maxHelloBody
	case KindTx:
		return MaxBody // a batch of up to maxTxBatch transactions
	case KindGetQuant:
		return quant.HashSize
	case KindHashes:
		return maxSmallBody + 64*quant.HashSize // a locator
	case KindGetQuants:
		return maxGetQuants * quant.HashSize
	}
	return -1
}

// maxAnswer is the largest answer a node reads to its own request of kind
// k: a peer's reply to a status ping is a few fields, not up to MaxReply.
func maxAnswer(k Kind) int {
	const reply = envelopeHead + 8 + ed25519.SignatureSize // envelope and request nonce
	switch k {
	case KindHello:
		return reply + maxHelloBody
	case KindStatus, KindPeers, KindTx, KindAnnounce:
		return reply + maxSmallBody
	case KindHashes:
		return reply + maxSyncHashes*quant.HashSize + maxSmallBody
	}
	return MaxReply // a quant, or quants up to maxSyncBytes past the first
}

// decodeHead reads the fixed head of an encoded envelope: every field but
// the body and signature, and the body's length, at most maxBody.
func decodeHead(b []byte, maxBody int) (*Envelope, int, error) {
	if len(b) < envelopeHead {
		return nil, 0, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(b))
	}
	if b[0] != envelopeVersion {
		return nil, 0, fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	e := &Envelope{}
	off := 1
	e.From = ed25519.PublicKey(b[off : off+ed25519.PublicKeySize])
	off += ed25519.PublicKeySize
	copy(e.To[:], b[off:off+IDSize])
	off += IDSize
	e.Time = int64(binary.BigEndian.Uint64(b[off:]))
	e.Nonce = binary.BigEndian.Uint64(b[off+8:])
	e.Kind = Kind(b[off+16])
	n := binary.BigEndian.Uint32(b[off+17:])
	if uint64(n) > uint64(maxBody) {
		return nil, 0, fmt.Errorf("%w: body of %d bytes", ErrTooLarge, n)
	}
	return e, int(n), nil
}

// readRequest reads one request envelope from r, cheap checks first (see
// headTimeout); check runs on the head alone. It returns the encoding.
func readRequest(w http.ResponseWriter, r *http.Request, check func(e *Envelope) error) ([]byte, error) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(headTimeout)) // not every writer supports it (tests)
	body := http.MaxBytesReader(w, r.Body, MaxEnvelope)
	head := make([]byte, envelopeHead)
	if _, err := io.ReadFull(body, head); err != nil {
		return nil, readErr(err, "head")
	}
	e, n, err := decodeHead(head, MaxBody)
	if err != nil {
		return nil, err
	}
	if err := check(e); err != nil {
		return nil, err
	}
	if limit := maxRequestBody(e.Kind); limit < 0 {
		return nil, fmt.Errorf("%w: no request is of kind %d", ErrMalformed, e.Kind)
	} else if n > limit {
		return nil, fmt.Errorf("%w: a %s message's body is at most %d bytes, this one says %d", ErrTooLarge, e.Kind, limit, n)
	}
	rc.SetReadDeadline(time.Now().Add(bodyTimeout))
	b := make([]byte, envelopeHead+n+ed25519.SignatureSize, envelopeHead+n+ed25519.SignatureSize+1)
	copy(b, head)
	if _, err := io.ReadFull(body, b[envelopeHead:]); err != nil {
		return nil, readErr(err, "body")
	}
	if k, _ := body.Read(b[len(b):cap(b)]); k > 0 {
		return nil, fmt.Errorf("%w: bytes after the signature", ErrMalformed)
	}
	return b, nil
}

// readErr names why a read of part ended: a deadline, a cut message, a
// message over MaxEnvelope.
func readErr(err error, part string) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fmt.Errorf("%w: over %d bytes", ErrTooLarge, MaxEnvelope)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: the message ends in its %s", ErrMalformed, part)
	case errors.Is(err, http.ErrBodyReadAfterClose):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return fmt.Errorf("%w: reading the %s: %v", ErrTimeout, part, err)
}
