package raft

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/hdevalence/ed25519consensus"

	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Name is the engine's name in a chain's rules.
const Name = "raft"

// Limits on the parameters.
const (
	// MaxMembers bounds the member list.
	MaxMembers = 256
	// MaxIDLen bounds a member id.
	MaxIDLen = 64
	// MaxIntervalMs bounds max_quant_interval_ms.
	MaxIntervalMs = 60_000
)

// Member is one node that may join the chain's Raft cluster and seal.
type Member struct {
	// ID is the member's Raft server id: 1 to 64 characters of
	// [A-Za-z0-9._-].
	ID string `json:"id"`
	// Key is the member node's Ed25519 public key, lower-case hex.
	Key string `json:"key"`
}

// Params are the engine parameters a bang fixes.
type Params struct {
	// Members may seal and vote, in a fixed order (the seal names a member
	// by its index here).
	Members []Member `json:"members"`
	// MaxQuantTxs bounds the transactions the leader cuts into one quant;
	// 0 means the chain's max_quant_txs.
	MaxQuantTxs int `json:"max_quant_txs,omitempty"`
	// MaxQuantBytes bounds a quant's size as the chain counts it (header
	// room plus 4 + encoded size per transaction); 0 means the chain's
	// max_quant_bytes.
	MaxQuantBytes int `json:"max_quant_bytes,omitempty"`
	// MaxQuantIntervalMs is the longest a transaction waits at the leader
	// before it is cut into a quant, when the count and size limits are not
	// reached first.
	MaxQuantIntervalMs int64 `json:"max_quant_interval_ms"`
}

// DefaultParams are what a new chain's rules get for the parameters they
// leave out: the chain's own quant limits, and a transaction waiting at
// most 5 ms at the leader while quants are in flight (docs/performance.md
// measured with it). The members have no default.
func DefaultParams() Params {
	return Params{MaxQuantIntervalMs: 5}
}

// ParseParams decodes a chain's engine parameters strictly (unknown fields
// are refused) and validates them against its rules. The error, a
// CodeBadRules RuleError, names the bad field.
func ParseParams(rules *quant.Rules) (Params, error) {
	var p Params
	dec := json.NewDecoder(bytes.NewReader(rules.EngineParams))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Params{}, quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
	}
	if dec.More() {
		return Params{}, quant.Errorf(quant.CodeBadRules, "engine_params: trailing data")
	}
	if err := p.Validate(rules); err != nil {
		return Params{}, quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
	}
	return p, nil
}

// Validate names the first bad parameter.
func (p Params) Validate(rules *quant.Rules) error {
	if len(p.Members) == 0 || len(p.Members) > MaxMembers {
		return fmt.Errorf("members: need 1 to %d", MaxMembers)
	}
	ids, keys := map[string]bool{}, map[string]bool{}
	for i, m := range p.Members {
		if !validID(m.ID) {
			return fmt.Errorf("members[%d].id: need 1 to %d characters of [A-Za-z0-9._-]", i, MaxIDLen)
		}
		if k, err := hex.DecodeString(m.Key); err != nil || len(k) != ed25519.PublicKeySize || m.Key != strings.ToLower(m.Key) {
			return fmt.Errorf("members[%d].key: not a lower-case hex Ed25519 public key", i)
		}
		if ids[m.ID] {
			return fmt.Errorf("members[%d].id: %q listed twice", i, m.ID)
		}
		if keys[m.Key] {
			return fmt.Errorf("members[%d].key: listed twice", i)
		}
		ids[m.ID], keys[m.Key] = true, true
	}
	if p.MaxQuantTxs < 0 || p.MaxQuantTxs > rules.MaxQuantTxs {
		return fmt.Errorf("max_quant_txs: must be 0 (the chain's) to the chain's %d", rules.MaxQuantTxs)
	}
	if low := minQuantBytes(rules); p.MaxQuantBytes != 0 && (p.MaxQuantBytes < low || p.MaxQuantBytes > rules.MaxQuantBytes) {
		return fmt.Errorf("max_quant_bytes: must be 0 (the chain's) or %d (one largest transaction) to the chain's %d", low, rules.MaxQuantBytes)
	}
	if p.MaxQuantIntervalMs < 1 || p.MaxQuantIntervalMs > MaxIntervalMs {
		return fmt.Errorf("max_quant_interval_ms: must be 1 to %d", MaxIntervalMs)
	}
	return nil
}

// minQuantBytes is the room a quant needs for the largest transaction the
// chain accepts, as the chain counts a quant's size.
func minQuantBytes(rules *quant.Rules) int {
	return quant.MaxHeaderSize + 4 + quant.MaxTxSize - quant.MaxDataSize + rules.MaxDataBytes
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// Batch are the limits the leader cuts quants by, resolved against the
// chain's rules: a quant is cut when MaxTxs or MaxBytes is reached or the
// oldest waiting transaction has waited MaxInterval, whichever comes first
// (a leader with no quant in flight cuts at once).
type Batch struct {
	MaxTxs      int
	MaxBytes    int // as the chain counts: quant.MaxHeaderSize + Σ (4 + encoded size)
	MaxInterval time.Duration
}

// Engine is the raft engine of one chain. With a member's key it can seal;
// without, it only verifies.
type Engine struct {
	params Params
	batch  Batch
	keys   []ed25519.PublicKey
	signer ed25519.PrivateKey
	member int // the signer's index in keys, or -1
}

var (
	_ consensus.Engine  = (*Engine)(nil)
	_ consensus.Ordered = (*Engine)(nil)
)

// Factory returns a consensus.Factory whose engines seal with signer (nil:
// verify only). A signer that is not a member's key verifies only.
func Factory(signer ed25519.PrivateKey) consensus.Factory {
	return func(rules *quant.Rules) (consensus.Engine, error) { return New(rules, signer) }
}

// New builds the engine for a chain's rules.
func New(rules *quant.Rules, signer ed25519.PrivateKey) (*Engine, error) {
	if rules.Engine != Name {
		return nil, quant.Errorf(quant.CodeBadRules, "engine: %q is not %q", rules.Engine, Name)
	}
	p, err := ParseParams(rules)
	if err != nil {
		return nil, err
	}
	e := &Engine{params: p, member: -1}
	e.batch = Batch{MaxTxs: rules.MaxQuantTxs, MaxBytes: rules.MaxQuantBytes, MaxInterval: time.Duration(p.MaxQuantIntervalMs) * time.Millisecond}
	if p.MaxQuantTxs > 0 {
		e.batch.MaxTxs = p.MaxQuantTxs
	}
	if p.MaxQuantBytes > 0 {
		e.batch.MaxBytes = p.MaxQuantBytes
	}
	for _, m := range p.Members {
		k, _ := hex.DecodeString(m.Key)
		e.keys = append(e.keys, ed25519.PublicKey(k))
	}
	if signer != nil {
		pub := signer.Public().(ed25519.PublicKey)
		for i, k := range e.keys {
			if k.Equal(pub) {
				e.member, e.signer = i, signer
			}
		}
	}
	return e, nil
}

// Name implements consensus.Engine.
func (e *Engine) Name() string { return Name }

// Finality is "final": a committed quant never leaves the chain.
func (e *Engine) Finality() consensus.Finality { return consensus.FinalityFinal }

// Member reports whether this node's key is one of the chain's members.
func (e *Engine) Member() bool {
	_, ok := e.Self()
	return ok
}

// Batch returns the limits the leader cuts quants by.
func (e *Engine) Batch() Batch { return e.batch }

// Members returns a copy of the member list.
func (e *Engine) Members() []Member { return append([]Member(nil), e.params.Members...) }

// MemberIndex returns the index of the member with Raft server id id.
func (e *Engine) MemberIndex(id string) (int, bool) {
	for i, m := range e.params.Members {
		if m.ID == id {
			return i, true
		}
	}
	return 0, false
}

// Self returns this engine's member (the one whose key it seals with) and
// whether it has one.
func (e *Engine) Self() (Member, bool) {
	if e.member < 0 {
		return Member{}, false
	}
	return e.params.Members[e.member], true
}

// errNotMember is the refusal to seal without a member's key.
func errNotMember() error {
	return quant.Errorf(quant.CodeBadSeal, "this node's key is not a member of the chain")
}

// Prepare gives h an unsigned seal: this node's member index and a
// provisional position after the parent's (term at least 1, index the
// parent's plus one). The Raft leader sets the real position with
// SetPosition before it calls Seal.
func (e *Engine) Prepare(_ consensus.ChainReader, parent, h *quant.Header) error {
	if e.member < 0 {
		return errNotMember()
	}
	var term, index uint64 = 1, 1
	if !parent.IsBang() {
		ps, err := DecodeSeal(parent.Seal)
		if err != nil {
			return err
		}
		term, index = max(ps.Term, 1), ps.Index+1
	}
	h.Seal = Seal{Term: term, Index: index, Member: uint16(e.member)}.Encode()
	return nil
}

// Seal signs h, whose seal holds its position (from Prepare and
// SetPosition). It does not wait; it returns ctx's error if ctx has ended.
func (e *Engine) Seal(ctx context.Context, h *quant.Header) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.member < 0 {
		return errNotMember()
	}
	s, err := DecodeSeal(h.Seal)
	if err != nil {
		return err
	}
	if int(s.Member) != e.member {
		return quant.Errorf(quant.CodeBadSeal, "seal names member %d, this node is member %d", s.Member, e.member)
	}
	s.Sig = nil
	h.Seal = s.Encode()
	hash := SigningHash(h)
	s.Sig = ed25519.Sign(e.signer, hash[:])
	h.Seal = s.Encode()
	return nil
}

// VerifySeal checks checkSigner and checkOrder.
func (e *Engine) VerifySeal(_ consensus.ChainReader, parent, h *quant.Header) error {
	s, err := e.checkSigner(h)
	if err != nil {
		return err
	}
	return checkOrder(parent, s)
}

// checkSigner requires a complete seal signed by a listed member. It stops
// anyone but a member (a non-member node, a client, a forger) from adding
// quants, and any change to a sealed header.
func (e *Engine) checkSigner(h *quant.Header) (Seal, error) {
	s, err := DecodeSeal(h.Seal)
	if err != nil {
		return Seal{}, err
	}
	if s.Sig == nil {
		return Seal{}, quant.Errorf(quant.CodeBadSeal, "raft seal is not signed")
	}
	if int(s.Member) >= len(e.keys) {
		return Seal{}, quant.Errorf(quant.CodeBadSeal, "signer %d is not a member (%d members)", s.Member, len(e.keys))
	}
	hash := SigningHash(h)
	if !ed25519consensus.Verify(e.keys[s.Member], hash[:], s.Sig) {
		return Seal{}, quant.Errorf(quant.CodeBadSeal, "seal signature of member %d does not verify", s.Member)
	}
	return s, nil
}

// checkOrder requires a position in the Raft log after the parent's: a term
// no lower and an index higher (the bang has no position). It stops a quant
// from claiming an earlier place in the log than the quant it follows.
func checkOrder(parent *quant.Header, s Seal) error {
	if s.Term == 0 || s.Index == 0 {
		return quant.Errorf(quant.CodeBadSeal, "seal position (term %d, index %d): both must be at least 1", s.Term, s.Index)
	}
	if parent.IsBang() {
		return nil
	}
	ps, err := DecodeSeal(parent.Seal)
	if err != nil {
		return quant.Errorf(quant.CodeBadSeal, "parent's seal: %v", err)
	}
	if s.Term < ps.Term || s.Index <= ps.Index {
		return quant.Errorf(quant.CodeBadSeal, "seal position (term %d, index %d) is not after the parent's (%d, %d)", s.Term, s.Index, ps.Term, ps.Index)
	}
	return nil
}

// Weight is 1 for every quant: an ordered chain has no forks to choose
// between.
func (e *Engine) Weight(*quant.Header) *big.Int { return big.NewInt(1) }
