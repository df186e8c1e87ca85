package quant

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// Limits of a keyed transaction's parts (docs/records.md).
const (
	// MaxKeyLen bounds a record key, in bytes of UTF-8.
	MaxKeyLen = 256
	// MaxOwners bounds a lock's owner keys.
	MaxOwners = 16
	// MaxCosigs bounds the signatures a transaction carries beside its
	// writer's.
	MaxCosigs = 15
	// MaxRevealLen bounds a hash lock's revealed preimage.
	MaxRevealLen = 64

	lockVersion  = 1
	maxLockSize  = 4 + MaxOwners*ed25519.PublicKeySize + 2*HashSize + 16
	cosigSize    = ed25519.PublicKeySize + ed25519.SignatureSize
	maxExtraSize = 2 + MaxKeyLen + 2 + maxLockSize + 1 + MaxRevealLen + 1 + MaxCosigs*cosigSize + maxZKSize
)

// Lock guards a record key: what the next write to the key must satisfy.
// It is set by the write that creates the key (or changes it, by a write
// that satisfies the lock in force); chain checks it on every node.
type Lock struct {
	// Owners are Ed25519 public keys; a write needs valid signatures of
	// Threshold distinct owners (the writer's and its cosigners').
	Owners    [][]byte
	Threshold uint8
	// Hash, if set, is a SHA-256 digest: the next write must reveal a
	// preimage of it. A hash lock opens once (the preimage is public
	// after), so it is cleared by the write that opens it.
	Hash *Hash
	// Commitment, if set, is a secret lock: MiMC(secret) as a BN254 field
	// element (package zk). A write must carry a preimage proof of it
	// (tx.ZK), which shows knowledge of the secret without revealing it;
	// unlike the hash lock it can be opened again and again.
	Commitment *Hash
	// NotBeforeHeight and NotBeforeTime (Unix ms): no write in a quant
	// below that height or before that time.
	NotBeforeHeight uint64
	NotBeforeTime   int64
	// WriteOnce: no later write at all. AppendOnly: later versions are
	// allowed, but no write may drop AppendOnly from the lock.
	WriteOnce  bool
	AppendOnly bool
}

// Lock flag bits in the encoding.
const (
	lockWriteOnce  = 0x01
	lockAppendOnly = 0x02
	lockHash       = 0x04
	lockCommitment = 0x08
	lockKnown      = lockWriteOnce | lockAppendOnly | lockHash | lockCommitment
)

// Cosig is a further signature over a transaction's SigningBytes: a second
// owner of a multisig-locked record signing the same write.
type Cosig struct {
	PubKey []byte
	Sig    []byte
}

// Encode returns the lock's canonical encoding (docs/protocol.md, "Lock").
func (l *Lock) Encode() []byte {
	w := &writer{b: make([]byte, 0, maxLockSize)}
	l.append(w)
	return w.b
}

func (l *Lock) append(w *writer) {
	var flags uint8
	if l.WriteOnce {
		flags |= lockWriteOnce
	}
	if l.AppendOnly {
		flags |= lockAppendOnly
	}
	if l.Hash != nil {
		flags |= lockHash
	}
	if l.Commitment != nil {
		flags |= lockCommitment
	}
	w.u8(lockVersion)
	w.u8(flags)
	w.u8(l.Threshold)
	w.u8(uint8(len(l.Owners)))
	for _, o := range l.Owners {
		w.raw(o)
	}
	if l.Hash != nil {
		w.raw(l.Hash[:])
	}
	if l.Commitment != nil {
		w.raw(l.Commitment[:])
	}
	w.u64(l.NotBeforeHeight)
	w.i64(l.NotBeforeTime)
}

// DecodeLock decodes one canonical lock and checks it (Check). The result
// does not alias b.
func DecodeLock(b []byte) (*Lock, error) {
	if len(b) > maxLockSize {
		return nil, Errorf(CodeTooLarge, "lock is %d bytes, limit %d", len(b), maxLockSize)
	}
	r := newReader(b, "lock")
	l := decodeLock(r)
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := l.Check(); err != nil {
		return nil, err
	}
	return l.clone(), nil
}

func decodeLock(r *reader) *Lock {
	if v := r.u8(); r.err == nil && v != lockVersion {
		r.fail("version %d, want %d", v, lockVersion)
	}
	flags := r.u8()
	l := &Lock{Threshold: r.u8()}
	n := int(r.u8())
	if r.err != nil {
		return l
	}
	if flags&^lockKnown != 0 {
		r.fail("unknown flags %#x", flags)
		return l
	}
	if n > MaxOwners {
		r.fail("%d owners, limit %d", n, MaxOwners)
		return l
	}
	for range n {
		l.Owners = append(l.Owners, r.take(ed25519.PublicKeySize))
	}
	if flags&lockHash != 0 {
		h := r.hash()
		l.Hash = &h
	}
	if flags&lockCommitment != 0 {
		h := r.hash()
		l.Commitment = &h
	}
	l.NotBeforeHeight = r.u64()
	l.NotBeforeTime = r.i64()
	l.WriteOnce = flags&lockWriteOnce != 0
	l.AppendOnly = flags&lockAppendOnly != 0
	return l
}

// Check checks a lock's own consistency: owners are distinct, well-formed
// public keys, 1 <= Threshold <= len(Owners) when there are owners (0
// otherwise), and NotBeforeTime is not negative. It stops a lock no write
// can ever satisfy by mistake (a threshold above the owners) and keys that
// verify without a signer.
func (l *Lock) Check() error {
	if len(l.Owners) > MaxOwners {
		return Errorf(CodeMalformed, "lock: %d owners, limit %d", len(l.Owners), MaxOwners)
	}
	if len(l.Owners) == 0 && l.Threshold != 0 {
		return Errorf(CodeMalformed, "lock: a threshold needs owners")
	}
	if len(l.Owners) > 0 && (l.Threshold < 1 || int(l.Threshold) > len(l.Owners)) {
		return Errorf(CodeMalformed, "lock: threshold %d of %d owners; must be 1 to %d", l.Threshold, len(l.Owners), len(l.Owners))
	}
	for i, o := range l.Owners {
		if len(o) != ed25519.PublicKeySize {
			return Errorf(CodeMalformed, "lock: owner %d is not a 32-byte public key", i)
		}
		if why := checkPoint(o); why != "" {
			return Errorf(CodeMalformed, "lock: owner %d %s", i, why)
		}
		for _, p := range l.Owners[:i] {
			if bytes.Equal(p, o) {
				return Errorf(CodeMalformed, "lock: owner %d is listed twice", i)
			}
		}
	}
	if l.NotBeforeTime < 0 {
		return Errorf(CodeMalformed, "lock: not_before_time is negative")
	}
	return nil
}

// IsOwner reports whether pub is one of the lock's owners.
func (l *Lock) IsOwner(pub []byte) bool {
	for _, o := range l.Owners {
		if bytes.Equal(o, pub) {
			return true
		}
	}
	return false
}

// Equal reports whether two locks (either may be nil) are the same.
func (l *Lock) Equal(o *Lock) bool {
	if l == nil || o == nil {
		return l == o
	}
	return bytes.Equal(l.Encode(), o.Encode())
}

func (l *Lock) clone() *Lock {
	c := *l
	c.Owners = make([][]byte, len(l.Owners))
	for i, o := range l.Owners {
		c.Owners[i] = bytes.Clone(o)
	}
	if l.Hash != nil {
		h := *l.Hash
		c.Hash = &h
	}
	if l.Commitment != nil {
		h := *l.Commitment
		c.Commitment = &h
	}
	return &c
}

// HashLock returns the digest a hash lock for preimage names.
func HashLock(preimage []byte) Hash { return sha256.Sum256(preimage) }

// CheckKey refuses a record key that is empty, longer than MaxKeyLen, not
// UTF-8, or holds a control character. Keys sort and print as text, and
// the store ends a key with a NUL byte in its history index.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return Errorf(CodeMalformed, "key: must be 1 to %d bytes", MaxKeyLen)
	}
	if !utf8.ValidString(key) {
		return Errorf(CodeMalformed, "key: not UTF-8")
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return Errorf(CodeMalformed, "key: holds control character %#x", c)
		}
	}
	return nil
}

// checkExtras checks the keyed parts of a decoded or built transaction:
// a lock, a reveal and cosignatures only on a keyed transaction, cosigners
// only beside a writer, and none of them twice.
func (tx *Tx) checkExtras() error {
	if tx.Key == "" {
		if tx.Lock != nil || tx.Reveal != nil || tx.Cosigs != nil || tx.ZK != nil {
			return Errorf(CodeMalformed, "transaction: a lock, a reveal, cosignatures or a zk proof need a key")
		}
		return nil
	}
	if err := CheckKey(tx.Key); err != nil {
		return err
	}
	if tx.Lock != nil {
		if err := tx.Lock.Check(); err != nil {
			return err
		}
	}
	if tx.ZK != nil {
		if err := tx.ZK.check(); err != nil {
			return err
		}
	}
	if tx.Reveal != nil && (len(tx.Reveal) == 0 || len(tx.Reveal) > MaxRevealLen) {
		return Errorf(CodeMalformed, "reveal: must be 1 to %d bytes", MaxRevealLen)
	}
	if tx.Cosigs != nil {
		if !tx.Signed() {
			return Errorf(CodeMalformed, "cosignatures need a signed transaction")
		}
		if len(tx.Cosigs) == 0 || len(tx.Cosigs) > MaxCosigs {
			return Errorf(CodeMalformed, "cosignatures: must be 1 to %d", MaxCosigs)
		}
		for i, c := range tx.Cosigs {
			if len(c.PubKey) != ed25519.PublicKeySize || len(c.Sig) != ed25519.SignatureSize {
				return Errorf(CodeMalformed, "cosignature %d: wrong size", i)
			}
			if bytes.Equal(c.PubKey, tx.PubKey) {
				return Errorf(CodeMalformed, "cosignature %d: the writer's own key", i)
			}
			for _, p := range tx.Cosigs[:i] {
				if bytes.Equal(p.PubKey, c.PubKey) {
					return Errorf(CodeMalformed, "cosignature %d: key signs twice", i)
				}
			}
		}
	}
	return nil
}

// Cosign adds key's signature over tx's SigningBytes. The writer signs
// first (Sign); cosigners sign the same bytes, in any order.
func (tx *Tx) Cosign(key ed25519.PrivateKey) {
	tx.Cosigs = append(tx.Cosigs, Cosig{
		PubKey: bytes.Clone(key.Public().(ed25519.PublicKey)),
		Sig:    ed25519.Sign(key, tx.SigningBytes()),
	})
}

// Signers returns the public keys whose signatures a transaction carries:
// the writer's, then each cosigner's. They are verified by
// CheckTxSignature, not here.
func (tx *Tx) Signers() [][]byte {
	if !tx.Signed() {
		return nil
	}
	out := make([][]byte, 0, 1+len(tx.Cosigs))
	out = append(out, tx.PubKey)
	for _, c := range tx.Cosigs {
		out = append(out, c.PubKey)
	}
	return out
}

// ShortKey is a public key as logs and errors show it: the first 8 bytes
// in hex.
func ShortKey(pub []byte) string {
	if len(pub) > 8 {
		pub = pub[:8]
	}
	return hex.EncodeToString(pub)
}
