package peer

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hdevalence/ed25519consensus"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Envelope limits and version.
const (
	envelopeVersion = 1
	// MaxBody bounds an envelope's body (a batch of quants in sync).
	MaxBody      = 64 << 20
	envelopeHead = 1 + ed25519.PublicKeySize + IDSize + 8 + 8 + 1 + 4
	// MaxEnvelope is the largest encoded envelope a node takes unasked.
	MaxEnvelope = envelopeHead + MaxBody + ed25519.SignatureSize
	// MaxReply is the largest answer a node reads to its own request: one
	// quant of the largest size a chain's rules allow, with room to spare.
	MaxReply = envelopeHead + quant.MaxQuantSize + 1<<20 + ed25519.SignatureSize
	domain   = "qbc/p2p/v1"
)

// Kind is what an envelope carries.
type Kind uint8

// Message kinds.
const (
	KindHello    Kind = 1 // body: helloBody; answered with helloBody
	KindStatus   Kind = 2 // body: empty; answered with statusBody
	KindPeers    Kind = 3 // body: peersBody (addresses to discover); answered empty
	KindTx       Kind = 4 // body: canonical transaction; answered empty
	KindAnnounce Kind = 5 // body: announceBody; answered empty
	KindGetQuant Kind = 6 // body: 32-byte hash; answered with a canonical quant
	// 7 was a one-peer sync, retired for KindHashes and KindGetQuants.
	KindReply Kind = 8 // an answer: body is the request nonce then the answer
	// KindHashes: body syncBody (locator, limit); answered with the hashes
	// (32 bytes each) of the main-chain quants after the fork point.
	KindHashes Kind = 9
	// KindGetQuants: body is up to maxGetQuants hashes; answered with a
	// frame per hash, in order: the quant, or an empty frame when unknown,
	// stopping early when the answer would pass maxSyncBytes.
	KindGetQuants Kind = 10
)

var kindNames = map[Kind]string{
	KindHello: "hello", KindStatus: "status", KindPeers: "peers", KindTx: "tx", KindAnnounce: "announce",
	KindGetQuant: "get_quant", KindReply: "reply", KindHashes: "hashes", KindGetQuants: "get_quants",
}

// String names the kind, as the metrics label it ("unknown" for a kind
// this version does not know).
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "unknown"
}

// Envelope is one signed node-to-node message.
type Envelope struct {
	From  ed25519.PublicKey // sender's node key
	To    ID                // receiver's id (zero only in a hello)
	Time  int64             // sender's clock, Unix ms
	Nonce uint64            // random: with From and Time, unique
	Kind  Kind
	Body  []byte
	Sig   []byte // over domain || 0 || Chain || the encoding before the signature
	// Chain is the chain whose peer service the message is for. It is not
	// sent but it is signed, so a message captured on one chain's service
	// is refused by every other's. Set it before Sign and before Verify.
	Chain quant.Hash
}

func (e *Envelope) signed() []byte {
	b := make([]byte, 0, len(domain)+1+quant.HashSize+envelopeHead+len(e.Body))
	b = append(b, domain...)
	b = append(b, 0)
	b = append(b, e.Chain[:]...)
	b = append(b, envelopeVersion)
	b = append(b, e.From...)
	b = append(b, e.To[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time))
	b = binary.BigEndian.AppendUint64(b, e.Nonce)
	b = append(b, byte(e.Kind))
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Body)))
	return append(b, e.Body...)
}

// Sign sets From and Sig with key.
func (e *Envelope) Sign(key ed25519.PrivateKey) {
	e.From = key.Public().(ed25519.PublicKey)
	e.Sig = ed25519.Sign(key, e.signed())
}

// Encode returns the envelope's canonical encoding.
func (e *Envelope) Encode() []byte {
	b := e.signed()[len(domain)+1+quant.HashSize:]
	return append(b, e.Sig...)
}

// Errors of DecodeEnvelope and Verify.
var (
	ErrMalformed = errors.New("peer: malformed envelope")
	ErrTooLarge  = errors.New("peer: envelope too large")
	ErrSignature = errors.New("peer: envelope signature does not verify")
)

// DecodeEnvelope decodes an envelope, refusing input over MaxEnvelope
// before reading it. The body aliases b.
func DecodeEnvelope(b []byte) (*Envelope, error) { return decodeEnvelope(b, MaxEnvelope) }

// decodeEnvelope is DecodeEnvelope with another bound (MaxReply for the
// answers to this node's own requests).
func decodeEnvelope(b []byte, max int) (*Envelope, error) {
	if len(b) > max {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	if len(b) < envelopeHead+ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(b))
	}
	e, n, err := decodeHead(b, max-envelopeHead-ed25519.SignatureSize)
	if err != nil {
		return nil, err
	}
	off := envelopeHead
	if n != len(b)-off-ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: body length %d does not match", ErrMalformed, n)
	}
	e.Body = b[off : off+n]
	e.Sig = b[off+n:]
	return e, nil
}

// Verify checks the envelope's signature. It stops forged and tampered
// messages.
func (e *Envelope) Verify() error {
	if !ed25519consensus.Verify(e.From, e.signed(), e.Sig) {
		return ErrSignature
	}
	return nil
}
