package quant

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"slices"
)

// Encoding versions and hard limits. A chain's rules may set lower limits;
// nothing may exceed these, so every decoder can bound what it reads.
const (
	TxVersion = 1
	// MaxDataSize is the largest payload any chain may accept.
	MaxDataSize = 1 << 20
	// MaxTxSize is the largest encoded transaction: the largest payload,
	// a signature, and a record key's largest lock, reveal and
	// cosignatures.
	MaxTxSize = MaxDataSize + txFixedSize + ed25519.PublicKeySize + ed25519.SignatureSize + maxExtraSize
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

// Flag bits of a transaction's encoding.
const (
	flagSigned  = 0x01 // writer key and signature
	flagKey     = 0x02 // a record key
	flagLock    = 0x04 // a lock the write sets on its key
	flagReveal  = 0x08 // a hash lock's preimage
	flagCosigns = 0x10 // signatures beside the writer's
	flagZK      = 0x20 // a zero-knowledge proof and its public inputs
	flagsKnown  = flagSigned | flagKey | flagLock | flagReveal | flagCosigns | flagZK
)

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

	// Key, if set, makes the transaction a write of a record: a new
	// version of the value under Key on its chain (docs/records.md).
	Key string
	// Lock, if set, is the lock this write puts on Key (it must satisfy
	// the lock in force).
	Lock *Lock
	// Reveal is the preimage that opens a hash lock on Key, or nil.
	Reveal []byte
	// Cosigs are further owners' signatures over SigningBytes, for a
	// multisig lock; nil for none.
	Cosigs []Cosig
	// ZK, if set, is a zero-knowledge proof the write carries (docs/zk.md):
	// membership of a group, knowledge of a lock's secret, or a committed
	// value in a range. It needs a key.
	ZK *ZK
}

// Signed reports whether the transaction carries a writer key.
func (tx *Tx) Signed() bool { return tx.PubKey != nil }

// appendBody appends every field except the signatures. For the signing
// bytes (signing true) the flags leave out flagCosigns: cosignatures are
// added after the writer signs, and every signer signs the same bytes.
func (tx *Tx) appendBody(w *writer, signing bool) { tx.appendBodyTo(w, signing, true) }

// appendBodyTo is appendBody; withProof false leaves the ZK part's proof
// bytes out (BindBytes).
func (tx *Tx) appendBodyTo(w *writer, signing, withProof bool) {
	w.u8(TxVersion)
	w.raw(tx.ChainID[:])
	w.i64(tx.Time)
	w.u64(tx.Nonce)
	w.u8(uint8(tx.Kind))
	w.bytes32(tx.Data)
	flags := tx.flags()
	if signing {
		flags &^= flagCosigns
	}
	w.u8(flags)
	if tx.Signed() {
		w.raw(tx.PubKey)
	}
	if tx.Key != "" {
		w.u16(uint16(len(tx.Key)))
		w.raw([]byte(tx.Key))
	}
	if tx.Lock != nil {
		at := len(w.b)
		w.u16(0)
		tx.Lock.append(w)
		binary.BigEndian.PutUint16(w.b[at:], uint16(len(w.b)-at-2))
	}
	if tx.Reveal != nil {
		w.u8(uint8(len(tx.Reveal)))
		w.raw(tx.Reveal)
	}
	if tx.ZK != nil {
		tx.ZK.append(w, withProof)
	}
}

// flags are the flag bits of tx's encoding.
func (tx *Tx) flags() uint8 {
	var f uint8
	if tx.Signed() {
		f |= flagSigned
	}
	if tx.Key != "" {
		f |= flagKey
	}
	if tx.Lock != nil {
		f |= flagLock
	}
	if tx.Reveal != nil {
		f |= flagReveal
	}
	if tx.Cosigs != nil {
		f |= flagCosigns
	}
	if tx.ZK != nil {
		f |= flagZK
	}
	return f
}

// Encode returns the canonical encoding (docs/protocol.md, "Transaction").
func (tx *Tx) Encode() []byte {
	w := &writer{b: make([]byte, 0, tx.EncodedSize())}
	tx.appendTo(w)
	return w.b
}

// AppendEncode appends the canonical encoding to dst.
func (tx *Tx) AppendEncode(dst []byte) []byte {
	w := &writer{b: slices.Grow(dst, tx.EncodedSize())}
	tx.appendTo(w)
	return w.b
}

// appendTo appends the canonical encoding.
func (tx *Tx) appendTo(w *writer) {
	tx.appendBody(w, false)
	if tx.Signed() {
		w.raw(tx.Sig)
	}
	if tx.Cosigs != nil {
		w.u8(uint8(len(tx.Cosigs)))
		for _, c := range tx.Cosigs {
			w.raw(c.PubKey)
			w.raw(c.Sig)
		}
	}
}

// EncodedSize is len(tx.Encode()) without encoding.
func (tx *Tx) EncodedSize() int {
	n := txFixedSize + len(tx.Data)
	if tx.Signed() {
		n += ed25519.PublicKeySize + ed25519.SignatureSize
	}
	if tx.Key != "" {
		n += 2 + len(tx.Key)
	}
	if tx.Lock != nil {
		n += 2 + 4 + len(tx.Lock.Owners)*ed25519.PublicKeySize + 16
		if tx.Lock.Hash != nil {
			n += HashSize
		}
		if tx.Lock.Commitment != nil {
			n += HashSize
		}
	}
	if tx.ZK != nil {
		n += tx.ZK.encodedSize()
	}
	if tx.Reveal != nil {
		n += 1 + len(tx.Reveal)
	}
	if tx.Cosigs != nil {
		n += 1 + len(tx.Cosigs)*cosigSize
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
	tx.appendBody(w, true)
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
	c.Reveal = bytes.Clone(tx.Reveal)
	if tx.ZK != nil {
		c.ZK = tx.ZK.clone()
	}
	if tx.Lock != nil {
		c.Lock = tx.Lock.clone()
	}
	if tx.Cosigs != nil {
		c.Cosigs = make([]Cosig, len(tx.Cosigs))
		for i, s := range tx.Cosigs {
			c.Cosigs[i] = Cosig{PubKey: bytes.Clone(s.PubKey), Sig: bytes.Clone(s.Sig)}
		}
	}
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
	if flags&^flagsKnown != 0 {
		return nil, Errorf(CodeMalformed, "transaction: unknown flags %#x", flags)
	}
	if flags&flagSigned != 0 {
		tx.PubKey = r.take(ed25519.PublicKeySize)
	}
	if flags&flagKey != 0 {
		n := int(r.u16())
		if r.err == nil && (n == 0 || n > MaxKeyLen) {
			return nil, Errorf(CodeMalformed, "transaction: key is %d bytes, must be 1 to %d", n, MaxKeyLen)
		}
		tx.Key = string(r.take(n))
	}
	if flags&flagLock != 0 {
		n := int(r.u16())
		if r.err == nil && n > maxLockSize {
			return nil, Errorf(CodeTooLarge, "transaction: lock is %d bytes, limit %d", n, maxLockSize)
		}
		lr := newReader(r.take(n), "transaction: lock")
		tx.Lock = decodeLock(lr)
		if r.err == nil {
			if err := lr.done(); err != nil {
				return nil, err
			}
		}
	}
	if flags&flagReveal != 0 {
		n := int(r.u8())
		if r.err == nil && (n == 0 || n > MaxRevealLen) {
			return nil, Errorf(CodeMalformed, "transaction: reveal is %d bytes, must be 1 to %d", n, MaxRevealLen)
		}
		tx.Reveal = r.take(n)
	}
	if flags&flagZK != 0 {
		tx.ZK = decodeZK(r)
	}
	if flags&flagSigned != 0 {
		tx.Sig = r.take(ed25519.SignatureSize)
	}
	if flags&flagCosigns != 0 {
		n := int(r.u8())
		if r.err == nil && (n == 0 || n > MaxCosigs) {
			return nil, Errorf(CodeMalformed, "transaction: %d cosignatures, must be 1 to %d", n, MaxCosigs)
		}
		tx.Cosigs = make([]Cosig, 0, n)
		for range n {
			tx.Cosigs = append(tx.Cosigs, Cosig{PubKey: r.take(ed25519.PublicKeySize), Sig: r.take(ed25519.SignatureSize)})
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := tx.checkExtras(); err != nil {
		return nil, err
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
		if isCanonical(tx.Data) {
			return nil
		}
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
	if err := tx.checkExtras(); err != nil {
		return err
	}
	msg := tx.SigningBytes()
	if !verify(tx.PubKey, msg, tx.Sig) {
		return Errorf(CodeBadSignature, "signature does not verify")
	}
	for i, c := range tx.Cosigs {
		if err := CheckSigEncoding(c.PubKey, c.Sig); err != nil {
			return Errorf(CodeBadSignature, "cosignature %d: %s", i, err.(*RuleError).Description)
		}
		if !verify(c.PubKey, msg, c.Sig) {
			return Errorf(CodeBadSignature, "cosignature %d (key %s) does not verify", i, ShortKey(c.PubKey))
		}
	}
	return nil
}

// CompactJSON returns the canonical form of a JSON payload: compact, with
// the HTML-safety escapes \u003c \u003e \u0026 \u2028 \u2029 written as
// the characters. It returns a CodeBadData error if b is not UTF-8 JSON.
func CompactJSON(b []byte) ([]byte, error) { return canonicalJSON(b) }
