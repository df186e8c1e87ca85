// Package poa is QBC's proof-of-authority engine: a set of authority keys
// named in the bang seal quants in turn, on a clock.
//
// The authority in turn for height h is authorities[h mod n]; any other
// authority may seal out of turn, after an extra delay, with less weight (2
// in turn, 1 out of turn, as in Clique, EIP-225), so honest nodes prefer
// the in-turn branch. An authority that sealed one of the last floor(n/2)
// quants may not seal again (the recents rule), so a single faulty
// authority cannot run the chain alone. Quants are at least period_ms
// apart. The authority set is fixed by the bang; changing it is a fork
// (a new chain whose bang names the new set).
//
// Fault model: safe while a majority of authorities is honest; live while
// at least floor(n/2)+1 authorities seal. Finality is by depth, like pow,
// but a reorganisation needs colluding authorities.
package poa

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/hdevalence/ed25519consensus"

	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Name is the engine's name in a chain's rules.
const Name = "poa"

// SealSize is a poa seal: the signer's index (u16) and its Ed25519
// signature.
const SealSize = 2 + ed25519.SignatureSize

// Domain tags the signed header bytes.
const Domain = "qbc/poa-seal/v1"

// maxAuthorities bounds the authority set.
const maxAuthorities = 256

// Params are the engine parameters a bang fixes.
type Params struct {
	// Authorities are the hex Ed25519 public keys that may seal, in turn
	// order.
	Authorities []string `json:"authorities"`
	// PeriodMs is the least time between quants.
	PeriodMs int64 `json:"period_ms"`
	// WiggleMs is how long an out-of-turn authority waits beyond the
	// period before it seals, to let the in-turn one go first.
	WiggleMs int64 `json:"wiggle_ms"`
	// HeartbeatMs is how old the tip may get before an authority with
	// nothing in its pool seals an empty quant anyway; 0 (absent): never,
	// an authority with nothing to include waits for a transaction. It is
	// a rule for producers, not a check on quants.
	HeartbeatMs int64 `json:"heartbeat_ms,omitempty"`
}

// DefaultParams are what a new chain's rules get for the parameters they
// leave out: a quant at most every second, an authority out of turn waiting
// half a second more. The authorities have no default.
func DefaultParams() Params {
	return Params{PeriodMs: 1000, WiggleMs: 500}
}

// Validate names the first bad parameter.
func (p Params) Validate() error {
	if len(p.Authorities) == 0 || len(p.Authorities) > maxAuthorities {
		return fmt.Errorf("poa: authorities: need 1 to %d keys", maxAuthorities)
	}
	seen := map[string]bool{}
	for i, a := range p.Authorities {
		if k, err := hex.DecodeString(a); err != nil || len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("poa: authorities[%d]: not a hex Ed25519 public key", i)
		}
		if seen[a] {
			return fmt.Errorf("poa: authorities[%d]: listed twice", i)
		}
		seen[a] = true
	}
	if p.PeriodMs < 1 {
		return errors.New("poa: period_ms: must be at least 1")
	}
	if p.WiggleMs < 0 {
		return errors.New("poa: wiggle_ms: must not be negative")
	}
	if p.HeartbeatMs < 0 {
		return errors.New("poa: heartbeat_ms: must not be negative")
	}
	return nil
}

// Engine is a poa engine for one chain. With a signer it can seal;
// without, it only verifies.
type Engine struct {
	params Params
	keys   []ed25519.PublicKey
	signer ed25519.PrivateKey
	index  int // signer's index in keys, or -1
	now    func() time.Time
}

var (
	_ consensus.Engine    = (*Engine)(nil)
	_ consensus.Sealer    = (*Engine)(nil)
	_ consensus.TurnTaker = (*Engine)(nil)
	_ consensus.Heartbeat = (*Engine)(nil)
)

// Heartbeat implements consensus.Heartbeat: the rules' HeartbeatMs.
func (e *Engine) Heartbeat() time.Duration {
	return time.Duration(e.params.HeartbeatMs) * time.Millisecond
}

// Factory returns a consensus.Factory whose engines seal with signer (nil:
// verify only).
func Factory(signer ed25519.PrivateKey) consensus.Factory {
	return func(rules *quant.Rules) (consensus.Engine, error) { return New(rules, signer, time.Now) }
}

// New builds the engine for a chain's rules.
func New(rules *quant.Rules, signer ed25519.PrivateKey, now func() time.Time) (*Engine, error) {
	if rules.Engine != Name {
		return nil, quant.Errorf(quant.CodeBadRules, "engine: %q is not %q", rules.Engine, Name)
	}
	var p Params
	if err := json.Unmarshal(rules.EngineParams, &p); err != nil {
		return nil, quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
	}
	if err := p.Validate(); err != nil {
		return nil, quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
	}
	e := &Engine{params: p, index: -1, now: now}
	for _, a := range p.Authorities {
		k, _ := hex.DecodeString(a)
		e.keys = append(e.keys, ed25519.PublicKey(k))
	}
	if signer != nil {
		pub := signer.Public().(ed25519.PublicKey)
		for i, k := range e.keys {
			if k.Equal(pub) {
				e.index, e.signer = i, signer
			}
		}
	}
	return e, nil
}

// Name implements consensus.Engine.
func (e *Engine) Name() string { return Name }

// CanSeal reports whether this engine's signer is an authority.
func (e *Engine) CanSeal() bool { return e.index >= 0 }

// inTurn is the index of the authority in turn at height.
func (e *Engine) inTurn(height uint64) int { return int(height % uint64(len(e.keys))) }

// signingBytes are what an authority signs: the header with its seal
// holding only the signer index.
func signingBytes(h *quant.Header, index int) []byte {
	c := *h
	c.Seal = binary.BigEndian.AppendUint16(nil, uint16(index))
	return append([]byte(Domain+"\x00"), c.Encode()...)
}

// Prepare sets h's seal to this node's signer index (the signature comes in
// Seal) and moves h's time to the earliest the period allows.
func (e *Engine) Prepare(_ consensus.ChainReader, parent, h *quant.Header) error {
	if !e.CanSeal() {
		return quant.Errorf(quant.CodeBadSeal, "this node is not an authority of the chain")
	}
	h.Time = max(h.Time, parent.Time+e.params.PeriodMs)
	h.Seal = binary.BigEndian.AppendUint16(nil, uint16(e.index))
	return nil
}

// Seal waits until the quant's time (plus the wiggle when out of turn),
// then signs. It returns ctx's error if ctx ends first.
func (e *Engine) Seal(ctx context.Context, h *quant.Header) error {
	if !e.CanSeal() {
		return quant.Errorf(quant.CodeBadSeal, "this node is not an authority of the chain")
	}
	at := time.UnixMilli(h.Time)
	if e.inTurn(h.Height) != e.index {
		at = at.Add(time.Duration(e.params.WiggleMs) * time.Millisecond)
	}
	if d := at.Sub(e.now()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	sig := ed25519.Sign(e.signer, signingBytes(h, e.index))
	h.Seal = append(binary.BigEndian.AppendUint16(nil, uint16(e.index)), sig...)
	return nil
}

// VerifySeal checks checkSigner, checkPeriod and checkRecents.
func (e *Engine) VerifySeal(chain consensus.ChainReader, parent, h *quant.Header) error {
	index, err := e.checkSigner(h)
	if err != nil {
		return err
	}
	if err := e.checkPeriod(parent, h); err != nil {
		return err
	}
	return e.checkRecents(chain, parent, index)
}

// checkSigner requires a seal signed by an authority of the chain. It stops
// anyone else from adding quants.
func (e *Engine) checkSigner(h *quant.Header) (int, error) {
	if len(h.Seal) != SealSize {
		return 0, quant.Errorf(quant.CodeBadSeal, "poa seal is %d bytes, want %d", len(h.Seal), SealSize)
	}
	index := int(binary.BigEndian.Uint16(h.Seal))
	if index >= len(e.keys) {
		return 0, quant.Errorf(quant.CodeBadSeal, "signer %d is not an authority (%d authorities)", index, len(e.keys))
	}
	if !ed25519consensus.Verify(e.keys[index], signingBytes(h, index), h.Seal[2:]) {
		return 0, quant.Errorf(quant.CodeBadSeal, "seal signature of authority %d does not verify", index)
	}
	return index, nil
}

// checkPeriod requires at least period_ms since the parent. It stops an
// authority from flooding the chain with quants.
func (e *Engine) checkPeriod(parent, h *quant.Header) error {
	if !parent.IsBang() && h.Time < parent.Time+e.params.PeriodMs {
		return quant.Errorf(quant.CodeBadSeal, "quant %d ms after its parent, the period is %d ms", h.Time-parent.Time, e.params.PeriodMs)
	}
	return nil
}

// checkRecents refuses a signer that sealed one of the last floor(n/2)
// quants. It stops one authority (or a minority) from sealing a branch on
// its own.
func (e *Engine) checkRecents(chain consensus.ChainReader, parent *quant.Header, index int) error {
	limit := len(e.keys) / 2
	cur := parent
	for i := 0; i < limit && !cur.IsBang(); i++ {
		if len(cur.Seal) == SealSize && int(binary.BigEndian.Uint16(cur.Seal)) == index {
			return quant.Errorf(quant.CodeBadSeal, "authority %d sealed quant %d, one of the last %d", index, cur.Height, limit)
		}
		p, err := chain.Header(cur.Prev)
		if err != nil {
			return fmt.Errorf("poa: recents: %w", err)
		}
		cur = p
	}
	return nil
}

// MaySeal reports whether this node's authority may seal a child of parent
// now (it is an authority and not among the recent signers).
func (e *Engine) MaySeal(chain consensus.ChainReader, parent *quant.Header) bool {
	return e.CanSeal() && e.checkRecents(chain, parent, e.index) == nil
}

// Weight is 2 for a quant sealed in turn, 1 out of turn.
func (e *Engine) Weight(h *quant.Header) *big.Int {
	if len(h.Seal) == SealSize && int(binary.BigEndian.Uint16(h.Seal)) == e.inTurn(h.Height) {
		return big.NewInt(2)
	}
	return big.NewInt(1)
}
