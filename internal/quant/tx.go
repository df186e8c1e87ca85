package quant

import (
	"bytes"
	"crypto/ed25519"
)

// Encoding versions and hard limits. A chain's rules may set lower limits;
// nothing may exceed these, so every decoder can bound what it reads.
const (
	TxVersion = 1
	// MaxDataSize is the largest payload any chain may accept.
	MaxDataSize = 1 << 20
	// MaxTxSize is the largest encoded transaction.
	MaxTxSize = MaxDataSize + txFixedSize + ed25519.PublicKeySize + ed25519.SignatureSize
	// txFixedSize: version, chain id, time, nonce, kind, data length, flags.
	txFixedSize = 1 + HashSize + 8 + 8 + 1 + 4 + 1
)

// DataKind says how a transaction's payload is to be read.
type DataKind uint8

// Payload kinds.
const (
	DataJSON  DataKind = 1 // UTF-8 JSON, stored compacted
	DataBytes DataKind = 2 // opaque bytes
)

const flagSigned = 0x01

// Tx is one record given to a chain.
//
// A Tx's byte slices may alias the buffer it was decoded from; callers that
// keep a Tx beyond that buffer's life must use Clone.
type Tx struct {
	ChainID Hash     // the chain this record is for (replay protection)
	Time    int64    // writer's clock, Unix milliseconds
	Nonce   uint64   // makes otherwise equal records distinct
	Kind    DataKind // how Data is read
	Data    []byte   // the payload
	PubKey  []byte   // writer's Ed25519 public key, or nil if unsigned
	Sig     []byte   // Ed25519 signature over SigningBytes, or nil
}

// Signed reports whether the transaction carries a writer key.
func (tx *Tx) Signed() bool { return tx.PubKey != nil }

// appendBody appends every field except the signature.
func (tx *Tx) appendBody(w *writer) {
	w.u8(TxVersion)
	w.raw(tx.ChainID[:])
	w.i64(tx.Time)
	w.u64(tx.Nonce)
	w.u8(uint8(tx.Kind))
	w.bytes32(tx.Data)
	if tx.Signed() {
		w.u8(flagSigned)
		w.raw(tx.PubKey)
	} else {
		w.u8(0)
	}
}

// Encode returns the canonical encoding (docs/protocol.md, "Transaction").
func (tx *Tx) Encode() []byte {
	w := &writer{b: make([]byte, 0, tx.EncodedSize())}
	tx.appendBody(w)
	if tx.Signed() {
		w.raw(tx.Sig)
	}
	return w.b
}

// EncodedSize is len(tx.Encode()) without encoding.
func (tx *Tx) EncodedSize() int {
	n := txFixedSize + len(tx.Data)
	if tx.Signed() {
		n += ed25519.PublicKeySize + ed25519.SignatureSize
	}
	return n
}

// SigningBytes is what the writer signs: a domain tag and every field but
// the signature. The chain id inside it keeps a signature for one chain from
// being valid on another.
func (tx *Tx) SigningBytes() []byte {
	w := &writer{b: make([]byte, 0, len(DomainTxSig)+1+tx.EncodedSize())}
	w.raw([]byte(DomainTxSig))
	w.u8(0)
	tx.appendBody(w)
	return w.b
}

// ID is the transaction's id: the domain-separated hash of its encoding.
func (tx *Tx) ID() Hash { return Sum(DomainTx, tx.Encode()) }

// Sign sets PubKey and Sig with key.
func (tx *Tx) Sign(key ed25519.PrivateKey) {
	tx.PubKey = append([]byte(nil), key.Public().(ed25519.PublicKey)...)
	tx.Sig = nil
	tx.Sig = ed25519.Sign(key, tx.SigningBytes())
}

// Clone returns a deep copy that shares no memory with tx.
func (tx *Tx) Clone() *Tx {
	c := *tx
	c.Data = bytes.Clone(tx.Data)
	c.PubKey = bytes.Clone(tx.PubKey)
	c.Sig = bytes.Clone(tx.Sig)
	return &c
}

// DecodeTx decodes one canonical transaction. It refuses input over
// MaxTxSize before reading it, trailing bytes and unknown flags. The result
// aliases b.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxSize {
		return nil, Errorf(CodeTooLarge, "transaction is %d bytes, limit %d", len(b), MaxTxSize)
	}
	r := newReader(b, "transaction")
	tx, err := decodeTx(r)
	if err != nil {
		return nil, err
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return tx, nil
}

func decodeTx(r *reader) (*Tx, error) {
	if v := r.u8(); r.err == nil && v != TxVersion {
		return nil, Errorf(CodeBadVersion, "transaction version %d, want %d", v, TxVersion)
	}
	tx := &Tx{}
	tx.ChainID = r.hash()
	tx.Time = r.i64()
	tx.Nonce = r.u64()
	tx.Kind = DataKind(r.u8())
	tx.Data = r.bytes32(MaxDataSize, "data")
	flags := r.u8()
	if r.err != nil {
		return nil, r.err
	}
	if tx.Kind != DataJSON && tx.Kind != DataBytes {
		return nil, Errorf(CodeMalformed, "transaction: unknown data kind %d", tx.Kind)
	}
	switch flags {
	case 0:
	case flagSigned:
		tx.PubKey = r.take(ed25519.PublicKeySize)
		tx.Sig = r.take(ed25519.SignatureSize)
	default:
		return nil, Errorf(CodeMalformed, "transaction: unknown flags %#x", flags)
	}
	if r.err != nil {
		return nil, r.err
	}
	return tx, nil
}

// CheckTxSanity checks what can be known of a transaction alone: its
// payload is within maxData bytes and, for JSON, is valid compact JSON; a
// signed transaction's signature verifies. It stops oversized payloads from
// filling pools and blocks, and forged or tampered records from being
// accepted under someone's key. It does not check the chain id, the write
// policy or duplicates: the chain does.
func CheckTxSanity(tx *Tx, maxData int) error {
	if len(tx.Data) > maxData {
		return Errorf(CodeTooLarge, "payload is %d bytes, limit %d", len(tx.Data), maxData)
	}
	if err := CheckPayload(tx); err != nil {
		return err
	}
	return CheckTxSignature(tx)
}

// CheckPayload requires a known data kind and, for JSON, valid UTF-8 JSON
// in canonical form (see CompactJSON), so that one JSON value sent in one
// form has one encoding and one id.
func CheckPayload(tx *Tx) error {
	switch tx.Kind {
	case DataJSON:
		c, err := canonicalJSON(tx.Data)
		if err != nil {
			return err
		}
		if !bytes.Equal(c, tx.Data) {
			return Errorf(CodeBadData, "JSON payload is not in canonical (compact) form")
		}
	case DataBytes:
	default:
		return Errorf(CodeMalformed, "unknown data kind %d", tx.Kind)
	}
	return nil
}

// CheckTxSignature verifies a signed transaction's Ed25519 signature; an
// unsigned transaction passes (the write policy decides whether it may be
// written). It stops tampered records and forged writers; CheckSigEncoding,
// run first, stops keys and signatures that verify without a signer.
func CheckTxSignature(tx *Tx) error {
	if !tx.Signed() {
		if tx.Sig != nil {
			return Errorf(CodeBadSignature, "signature without a public key")
		}
		return nil
	}
	if err := CheckSigEncoding(tx.PubKey, tx.Sig); err != nil {
		return err
	}
	if !verify(tx.PubKey, tx.SigningBytes(), tx.Sig) {
		return Errorf(CodeBadSignature, "signature does not verify")
	}
	return nil
}

// CompactJSON returns the canonical form of a JSON payload: compact, with
// the HTML-safety escapes \u003c \u003e \u0026 \u2028 \u2029 written as
// the characters. It returns a CodeBadData error if b is not UTF-8 JSON.
func CompactJSON(b []byte) ([]byte, error) { return canonicalJSON(b) }
