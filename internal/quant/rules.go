package quant

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/qbc-chain/qbc/internal/encrypt/envelope"
)

// Write policies: who may write to a chain.
const (
	PolicyOpen      = "open"      // unsigned transactions allowed, as the seed did
	PolicySigned    = "signed"    // every transaction signed, by any key
	PolicyAllowlist = "allowlist" // every transaction signed by a key in Writers
)

// Rules are what a chain's bang fixes. They travel as canonical JSON: the
// exact bytes encoding/json produces from this struct (fields in this
// order, no insignificant space), so that they hash one way.
type Rules struct {
	Name    string `json:"name"`
	Created int64  `json:"created"` // Unix ms; two chains with equal rules still differ
	// Engine names the consensus engine; EngineParams are its parameters,
	// which only that engine reads.
	Engine       string          `json:"engine"`
	EngineParams json.RawMessage `json:"engine_params,omitempty"`
	// WritePolicy is PolicyOpen, PolicySigned or PolicyAllowlist; Writers
	// are hex Ed25519 public keys, for PolicyAllowlist.
	WritePolicy string   `json:"write_policy"`
	Writers     []string `json:"writers,omitempty"`
	// MaxDataBytes bounds each transaction's payload.
	MaxDataBytes int `json:"max_data_bytes"`
	// MaxQuantTxs and MaxQuantBytes bound each quant.
	MaxQuantTxs   int `json:"max_quant_txs"`
	MaxQuantBytes int `json:"max_quant_bytes"`
	// MaxTimeDriftMs bounds how far in the future a quant's time may be.
	MaxTimeDriftMs int64 `json:"max_time_drift_ms"`
	// Schema, if set, is a JSON Schema (draft 2020-12) every transaction's
	// data must match; the chain then takes JSON data only. New fields must
	// be omitempty, so that existing bangs keep their canonical form.
	Schema json.RawMessage `json:"schema,omitempty"`
	// KeyRules, if set, guard record keys by prefix: who may write keys
	// under a prefix, and whether they are write-once. The longest prefix
	// that a key starts with applies.
	KeyRules []KeyRule `json:"key_rules,omitempty"`
	// EncryptedFields, if set, are JSON pointers (RFC 6901) of fields of a
	// transaction's JSON data that must be encrypted to their readers when
	// present (package encrypt's "age:" form); the schema applies to the
	// rest of the data.
	EncryptedFields []string `json:"encrypted_fields,omitempty"`
	// Parent, if set, makes the chain a fork: it shares the parent chain's
	// history up to and including the quant Parent names, and goes its own
	// way after it, under these rules.
	Parent *ForkPoint `json:"parent,omitempty"`
	// ZK, if set, enables zero-knowledge proofs on the chain: the circuits'
	// verifying keys (so the chain id names them), and the groups whose
	// members write and read anonymously (docs/zk.md).
	ZK *ZKRules `json:"zk,omitempty"`
}

// KeyRule guards the record keys that start with Prefix.
type KeyRule struct {
	Prefix string `json:"prefix"`
	// Writers, if set, are the hex Ed25519 public keys that alone may
	// write these keys (the writer's key, not a cosigner's).
	Writers []string `json:"writers,omitempty"`
	// WriteOnce makes each of these keys take one write only.
	WriteOnce bool `json:"write_once,omitempty"`
}

// maxKeyRules bounds a rules document's key rules.
const maxKeyRules = 64

// KeyRule returns the rule for key: the one with the longest prefix that
// key starts with, or nil.
func (r *Rules) KeyRule(key string) *KeyRule {
	var best *KeyRule
	for i := range r.KeyRules {
		k := &r.KeyRules[i]
		if strings.HasPrefix(key, k.Prefix) && (best == nil || len(k.Prefix) > len(best.Prefix)) {
			best = k
		}
	}
	return best
}

// AllowsKey reports whether the key rules let tx's writer write tx's key.
// It stops writers not on a prefix's list from writing its keys.
func (r *Rules) AllowsKey(tx *Tx) error {
	if tx.Key == "" {
		return nil
	}
	if err := r.allowsZKKey(tx); err != nil {
		return err
	}
	k := r.KeyRule(tx.Key)
	if k == nil || len(k.Writers) == 0 {
		return nil
	}
	if !tx.Signed() {
		return Errorf(CodeNotAllowed, "keys under %q take only writes signed by listed keys", k.Prefix)
	}
	w := hex.EncodeToString(tx.PubKey)
	for _, l := range k.Writers {
		if l == w {
			return nil
		}
	}
	return Errorf(CodeNotAllowed, "key %s is not on the writer list of keys under %q", w, k.Prefix)
}

// checkKeyRules checks the key rules: at most maxKeyRules, each prefix a
// valid key and given once, writers lower-case hex public keys.
func checkKeyRules(r *Rules) error {
	if len(r.KeyRules) > maxKeyRules {
		return Errorf(CodeBadRules, "key_rules: at most %d", maxKeyRules)
	}
	seen := make(map[string]bool, len(r.KeyRules))
	for i, k := range r.KeyRules {
		if err := CheckKey(k.Prefix); err != nil {
			return Errorf(CodeBadRules, "key_rules[%d].prefix: %s", i, err.(*RuleError).Description)
		}
		if seen[k.Prefix] {
			return Errorf(CodeBadRules, "key_rules[%d].prefix: %q is given twice", i, k.Prefix)
		}
		seen[k.Prefix] = true
		if len(k.Writers) > maxWriters {
			return Errorf(CodeBadRules, "key_rules[%d].writers: at most %d", i, maxWriters)
		}
		for j, w := range k.Writers {
			if b, err := hex.DecodeString(w); err != nil || len(b) != 32 || w != strings.ToLower(w) {
				return Errorf(CodeBadRules, "key_rules[%d].writers[%d]: not a lower-case hex Ed25519 public key", i, j)
			}
		}
	}
	return nil
}

// ForkPoint names the quant of a parent chain a fork grows from.
type ForkPoint struct {
	Chain  Hash   `json:"chain"`
	Height uint64 `json:"height"`
	Hash   Hash   `json:"hash"`
}

// Limits a rules document may not exceed.
const (
	// minQuantBytes is the smallest max_quant_bytes: room for a header and
	// one signed transaction of the largest payload. (It predates record
	// keys, whose parts a chain this tight must leave out of its largest
	// payloads; a larger minimum would refuse existing chains' rules.)
	minQuantBytes = MaxHeaderSize + MaxDataSize + txFixedSize + ed25519.PublicKeySize + ed25519.SignatureSize
	maxNameLen    = 128
	maxWriters    = 1024
)

// DefaultRules returns the rules of a node's default chain, with engine
// parameters left to the caller.
func DefaultRules(name string, created int64) Rules {
	return Rules{
		Name:           name,
		Created:        created,
		WritePolicy:    PolicyOpen,
		MaxDataBytes:   64 << 10,
		MaxQuantTxs:    50_000,
		MaxQuantBytes:  32 << 20,
		MaxTimeDriftMs: 2 * 60 * 1000,
	}
}

// Encode returns the canonical JSON of r.
func (r *Rules) Encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, Errorf(CodeBadRules, "rules do not encode: %v", err)
	}
	return b, nil
}

// ParseRules reads rules as a user writes them (JSON with the fields of
// Rules, in any layout; unknown fields refused) and puts the engine
// parameters in one form (sorted keys, no space), so that the same rules
// written twice make the same bang. It does not validate them: NewBang
// does.
func ParseRules(b []byte) (Rules, error) {
	var r Rules
	if len(b) > MaxRulesSize {
		return r, Errorf(CodeTooLarge, "rules are %d bytes, limit %d", len(b), MaxRulesSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, Errorf(CodeBadRules, "rules: %v", err)
	}
	if dec.More() {
		return r, Errorf(CodeBadRules, "rules: trailing data")
	}
	if len(r.EngineParams) > 0 {
		var v any
		if err := json.Unmarshal(r.EngineParams, &v); err != nil {
			return r, Errorf(CodeBadRules, "engine_params: %v", err)
		}
		r.EngineParams, _ = json.Marshal(v)
	}
	return r, nil
}

// DecodeRules parses canonical rules JSON strictly: unknown fields,
// trailing data and any form but the canonical one are refused, so one set
// of rules has one hash.
func DecodeRules(b []byte) (*Rules, error) {
	if len(b) > MaxRulesSize {
		return nil, Errorf(CodeTooLarge, "rules are %d bytes, limit %d", len(b), MaxRulesSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return nil, Errorf(CodeBadRules, "rules: %v", err)
	}
	if dec.More() {
		return nil, Errorf(CodeBadRules, "rules: trailing data")
	}
	canon, err := r.Encode()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, b) {
		return nil, Errorf(CodeBadRules, "rules are not in canonical form")
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks the rules' own consistency (not the engine parameters,
// which the engine checks). It names the bad field.
func (r *Rules) Validate() error {
	switch {
	case r.Name == "" || len(r.Name) > maxNameLen || !utf8.ValidString(r.Name):
		return Errorf(CodeBadRules, "name: must be 1 to %d bytes of UTF-8", maxNameLen)
	case r.Engine == "":
		return Errorf(CodeBadRules, "engine: must be set")
	case r.MaxDataBytes < 1 || r.MaxDataBytes > MaxDataSize:
		return Errorf(CodeBadRules, "max_data_bytes: must be 1 to %d", MaxDataSize)
	case r.MaxQuantTxs < 1 || r.MaxQuantTxs > MaxQuantTxs:
		return Errorf(CodeBadRules, "max_quant_txs: must be 1 to %d", MaxQuantTxs)
	case r.MaxQuantBytes < minQuantBytes || r.MaxQuantBytes > MaxQuantSize:
		return Errorf(CodeBadRules, "max_quant_bytes: must be %d to %d", minQuantBytes, MaxQuantSize)
	}
	if err := checkRulesTimes(r); err != nil {
		return err
	}
	if err := checkEncryptedFields(r); err != nil {
		return err
	}
	switch r.WritePolicy {
	case PolicyOpen, PolicySigned:
		if len(r.Writers) != 0 {
			return Errorf(CodeBadRules, "writers: only for the %q policy", PolicyAllowlist)
		}
	case PolicyAllowlist:
		if len(r.Writers) == 0 || len(r.Writers) > maxWriters {
			return Errorf(CodeBadRules, "writers: the allowlist policy needs 1 to %d keys", maxWriters)
		}
		for i, w := range r.Writers {
			if k, err := hex.DecodeString(w); err != nil || len(k) != 32 || w != strings.ToLower(w) {
				return Errorf(CodeBadRules, "writers[%d]: not a lower-case hex Ed25519 public key", i)
			}
		}
	default:
		return Errorf(CodeBadRules, "write_policy: %q is not open, signed or allowlist", r.WritePolicy)
	}
	if err := checkKeyRules(r); err != nil {
		return err
	}
	if err := checkZKRules(r.ZK); err != nil {
		return err
	}
	if p := r.Parent; p != nil && (p.Chain.IsZero() || p.Hash.IsZero() || (p.Height == 0) != (p.Hash == p.Chain)) {
		return Errorf(CodeBadRules, "parent: needs the parent chain's id, a height and the hash of its quant there")
	}
	if p := r.Parent; p != nil && p.Height > MaxForkHeight {
		return Errorf(CodeBadRules, "parent.height: must be at most %d", uint64(MaxForkHeight))
	}
	return nil
}

// Bounds on the numbers of a rules document that are later added to or
// compared with clocks and heights.
const (
	// MinCreated and MaxCreated bound a chain's creation time, Unix ms:
	// 2020-01-01 and 2200-01-01 UTC.
	MinCreated = 1_577_836_800_000
	MaxCreated = 7_258_118_400_000
	// MaxTimeDrift bounds max_time_drift_ms: one day.
	MaxTimeDrift = 24 * 60 * 60 * 1000
	// MaxForkHeight bounds a fork point's height, so that the heights
	// after it (height + 1, a span's end) cannot wrap: 2^62 quants, 146
	// million years at a thousand a second.
	MaxForkHeight = 1 << 62
)

// checkRulesTimes bounds the rules' times: created within [MinCreated,
// MaxCreated] and max_time_drift_ms within [1000, MaxTimeDrift]. It stops
// a chain that accepts rules and then becomes unusable: a drift or creation
// time near the int64 limit overflows when added to a clock (a quant time
// "not after" a wrapped bound, a median past that never passes), and a
// creation time far in the past or future is no real chain's.
func checkRulesTimes(r *Rules) error {
	switch {
	case r.Created < MinCreated || r.Created > MaxCreated:
		return Errorf(CodeBadRules, "created: must be %d to %d (Unix ms, 2020-01-01 to 2200-01-01)", MinCreated, MaxCreated)
	case r.MaxTimeDriftMs < 1000 || r.MaxTimeDriftMs > MaxTimeDrift:
		return Errorf(CodeBadRules, "max_time_drift_ms: must be 1000 to %d (a day)", MaxTimeDrift)
	}
	return nil
}

// MaxEncryptedFields bounds a chain's encrypted_fields.
const MaxEncryptedFields = 32

// checkEncryptedFields requires encrypted_fields to be at most
// MaxEncryptedFields valid JSON pointers, none the whole document, none
// inside another. It stops a chain whose privacy rule no node can apply
// the same way (a pointer that does not parse), or that costs every node
// unbounded work per transaction.
func checkEncryptedFields(r *Rules) error {
	if _, err := EncryptedPointers(r); err != nil {
		return Errorf(CodeBadRules, "encrypted_fields: %v", err)
	}
	return nil
}

// EncryptedPointers returns the parsed pointers of r's encrypted_fields.
func EncryptedPointers(r *Rules) ([]envelope.Pointer, error) {
	return envelope.ParseFieldPointers(r.EncryptedFields, MaxEncryptedFields)
}

// Allows reports whether the write policy lets tx be written. It stops
// unsigned or unlisted writers on chains that require otherwise. The
// signature itself is CheckTxSignature's.
func (r *Rules) Allows(tx *Tx) error {
	if !tx.Signed() && r.anonymousMember(tx) {
		// A group member's write: the membership proof (checked after) is
		// its authority, in place of a listed key (docs/zk.md).
		return nil
	}
	switch r.WritePolicy {
	case PolicyOpen:
		return nil
	case PolicySigned:
		if !tx.Signed() {
			return Errorf(CodeNotAllowed, "this chain accepts only signed transactions")
		}
		return nil
	default:
		if !tx.Signed() {
			return Errorf(CodeNotAllowed, "this chain accepts only transactions signed by listed keys")
		}
		k := hex.EncodeToString(tx.PubKey)
		for _, w := range r.Writers {
			if w == k {
				return nil
			}
		}
		return Errorf(CodeNotAllowed, "key %s is not on this chain's writer list", k)
	}
}

// NewBang builds the genesis quant of a chain with rules r; its hash is the
// chain's id. A fork's bang (r.Parent set) sits at its fork point's height,
// so that the fork's quants continue the parent's heights.
func NewBang(r Rules) (*Quant, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := r.Encode()
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRulesSize {
		return nil, Errorf(CodeTooLarge, "rules are %d bytes, limit %d", len(b), MaxRulesSize)
	}
	return &Quant{
		Header: Header{Height: r.BangHeight(), TxRoot: Sum(DomainRules, b), Time: r.Created},
		Rules:  b,
	}, nil
}

// BangHeight is the height of the bang of a chain with rules r: 0, or for a
// fork its fork point's height (the fork's first quant is one above it).
func (r *Rules) BangHeight() uint64 {
	if r.Parent == nil {
		return 0
	}
	return r.Parent.Height
}

// CheckBang checks that q is a well-formed bang and returns its rules. It
// stops a bang whose header does not commit to its rules (so a chain id
// could name two rule sets), and a bang at another height than its rules
// give (checkBangHeight).
func CheckBang(q *Quant) (*Rules, error) {
	h := &q.Header
	switch {
	case !h.ChainID.IsZero() || !h.Prev.IsZero():
		return nil, Errorf(CodeBadRules, "bang must have zero chain id and previous hash")
	case h.TxCount != 0 || len(q.Txs) != 0 || len(h.Seal) != 0:
		return nil, Errorf(CodeBadRules, "bang carries no transactions and no seal")
	case h.TxRoot != Sum(DomainRules, q.Rules):
		return nil, Errorf(CodeBadRules, "bang's rules hash does not match its rules")
	}
	r, err := DecodeRules(q.Rules)
	if err != nil {
		return nil, err
	}
	if h.Time != r.Created {
		return nil, Errorf(CodeBadRules, "bang time %d is not the rules' created time %d", h.Time, r.Created)
	}
	if err := checkBangHeight(h, r); err != nil {
		return nil, err
	}
	return r, nil
}

// checkBangHeight requires a bang at height 0, and a fork's bang at its
// fork point's height. It stops one rule set from naming two chains (the
// same bang at two heights) and a fork whose heights do not continue its
// parent's.
func checkBangHeight(h *Header, r *Rules) error {
	if want := r.BangHeight(); h.Height != want {
		return Errorf(CodeBadRules, "bang height is %d, its rules put it at %d", h.Height, want)
	}
	return nil
}

// String gives a short description for logs.
func (r *Rules) String() string {
	return fmt.Sprintf("%s (%s, %s)", r.Name, r.Engine, r.WritePolicy)
}
