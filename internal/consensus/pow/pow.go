// Package pow is QBC's proof-of-work engine: Nakamoto consensus. A quant's
// seal is a difficulty and a nonce; the quant's hash, read as a 256-bit
// big-endian number, must not exceed 2^256/difficulty, so finding one takes
// difficulty hashes on average. The difficulty follows the rule in the
// chain's bang (fixed, or retargeted toward a target interval); a quant's
// weight is its difficulty, and the branch with the most accumulated work
// is the chain. Finality is by depth.
package pow

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Name is the engine's name in a chain's rules.
const Name = "pow"

// SealSize is the size of a pow seal: difficulty (u64) then nonce (u64),
// big-endian.
const SealSize = 16

// Params are the engine parameters a bang fixes.
type Params struct {
	// TargetMs is the interval between quants the difficulty aims for.
	TargetMs int64 `json:"target_ms"`
	// InitialDifficulty is the difficulty of the first quants (and of
	// every quant when Window is 0).
	InitialDifficulty uint64 `json:"initial_difficulty"`
	// MinDifficulty is the floor of retargeting.
	MinDifficulty uint64 `json:"min_difficulty"`
	// Window is how many recent quants the retarget averages over; 0 fixes
	// the difficulty at InitialDifficulty.
	Window int `json:"window"`
	// MaxStep bounds how far one quant's difficulty may move from its
	// parent's: 1/MaxStep of it, either way. 0 (absent, as in every chain
	// made before the parameter existed, the default chain's too) means
	// 8. With 3, a chain whose initial difficulty is 1000 times below its
	// miners' hash rate reaches its target interval in 23 quants instead
	// of 54, overshooting by at most a third.
	MaxStep uint64 `json:"max_step,omitempty"`
	// Retarget is the version of the difficulty rule. 0 or 1 (absent, as
	// in every chain made before version 2, the default chain's too): the
	// first Window quants' retarget spans back to the bang, whose time is
	// the chain's creation (often long before anyone mined), so those
	// quants look slow and the difficulty falls 1/MaxStep a quant for
	// Window quants. 2: the window never reaches the bang.
	Retarget int `json:"retarget,omitempty"`
	// HeartbeatMs is how old the tip may get before a miner with nothing
	// in its pool makes an empty quant anyway; 0 (absent): never, a miner
	// with nothing to include waits for a transaction. It is a rule for
	// producers, not a check on quants.
	HeartbeatMs int64 `json:"heartbeat_ms,omitempty"`
}

// DefaultParams are the parameters of a node's default chain: quants every
// 10 s when mined continuously, about 65,000 hashes to begin with (tens of
// milliseconds on one core), retargeting over the last 16 quants.
func DefaultParams() Params {
	return Params{TargetMs: 10_000, InitialDifficulty: 1 << 16, MinDifficulty: 1 << 10, Window: 16}
}

// NewChainParams are what a new chain's rules get for the pow parameters
// they leave out: DefaultParams with difficulty rule 2 (the first window
// leaves out the bang) and a step of a third (MaxStep 3), so that the
// difficulty climbs from its low start to the miners' hash rate in about
// 25 quants rather than 90 (TestRetargetConverges). The default chain
// keeps DefaultParams: its bang, and so its id, does not change.
func NewChainParams() Params {
	p := DefaultParams()
	p.Retarget, p.MaxStep = 2, 3
	return p
}

// defaultMaxStep bounds how far one quant's difficulty may move from its
// parent's (1/8 either way) when the rules set no MaxStep, so that a burst
// of fast or slow quants (or a lying timestamp) moves the difficulty
// gradually.
const defaultMaxStep = 8

// maxStep is the rules' MaxStep, or defaultMaxStep.
func (p Params) maxStep() uint64 {
	if p.MaxStep == 0 {
		return defaultMaxStep
	}
	return p.MaxStep
}

// Validate names the first bad parameter.
func (p Params) Validate() error {
	switch {
	case p.TargetMs < 1:
		return errors.New("pow: target_ms: must be at least 1")
	case p.InitialDifficulty < 1:
		return errors.New("pow: initial_difficulty: must be at least 1")
	case p.MinDifficulty < 1 || p.MinDifficulty > p.InitialDifficulty:
		return errors.New("pow: min_difficulty: must be 1 to initial_difficulty")
	case p.Window < 0 || p.Window > 1024:
		return errors.New("pow: window: must be 0 to 1024")
	case p.Retarget < 0 || p.Retarget > 2:
		return errors.New("pow: retarget: must be 1 or 2 (0 or absent: 1)")
	case p.MaxStep == 1 || p.MaxStep > 1024:
		return errors.New("pow: max_step: must be 2 to 1024 (0 or absent: 8)")
	case p.HeartbeatMs < 0:
		return errors.New("pow: heartbeat_ms: must not be negative")
	}
	return nil
}

// Engine is a pow engine for one chain.
type Engine struct {
	params  Params
	workers int
}

var (
	_ consensus.Engine    = (*Engine)(nil)
	_ consensus.Nonces    = (*Engine)(nil)
	_ consensus.Heartbeat = (*Engine)(nil)
)

// New builds the engine for a chain's rules.
func New(rules *quant.Rules) (consensus.Engine, error) {
	if rules.Engine != Name {
		return nil, quant.Errorf(quant.CodeBadRules, "engine: %q is not %q", rules.Engine, Name)
	}
	var p Params
	if len(rules.EngineParams) > 0 {
		if err := json.Unmarshal(rules.EngineParams, &p); err != nil {
			return nil, quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
	}
	return NewWithParams(p), nil
}

// NewWithParams builds an engine from parameters already validated.
func NewWithParams(p Params) *Engine {
	return &Engine{params: p, workers: runtime.GOMAXPROCS(0)}
}

// Name implements consensus.Engine.
func (e *Engine) Name() string { return Name }

// Params returns the engine's parameters.
func (e *Engine) Params() Params { return e.params }

// Heartbeat implements consensus.Heartbeat: the rules' HeartbeatMs.
func (e *Engine) Heartbeat() time.Duration {
	return time.Duration(e.params.HeartbeatMs) * time.Millisecond
}

// EncodeSeal encodes a pow seal.
func EncodeSeal(difficulty, nonce uint64) []byte {
	b := make([]byte, SealSize)
	binary.BigEndian.PutUint64(b, difficulty)
	binary.BigEndian.PutUint64(b[8:], nonce)
	return b
}

// DecodeSeal decodes a pow seal, refusing any length but SealSize and a
// zero difficulty.
func DecodeSeal(b []byte) (difficulty, nonce uint64, err error) {
	if len(b) != SealSize {
		return 0, 0, quant.Errorf(quant.CodeBadSeal, "pow seal is %d bytes, want %d", len(b), SealSize)
	}
	difficulty = binary.BigEndian.Uint64(b)
	if difficulty == 0 {
		return 0, 0, quant.Errorf(quant.CodeBadSeal, "pow seal has difficulty 0")
	}
	return difficulty, binary.BigEndian.Uint64(b[8:]), nil
}

// Prepare sets h's seal to the difficulty the rule gives for a child of
// parent, with nonce 0.
func (e *Engine) Prepare(chain consensus.ChainReader, parent, h *quant.Header) error {
	d, err := e.NextDifficulty(chain, parent)
	if err != nil {
		return err
	}
	h.Seal = EncodeSeal(d, 0)
	return nil
}

// NextDifficulty is the difficulty rule: with Window 0 the initial
// difficulty; otherwise the average difficulty of the last Window quants
// scaled by how much faster or slower than TargetMs they came, moved at
// most 1/MaxStep (default 8) from the parent's, and never under
// MinDifficulty. With Retarget 2 the window leaves the bang out (quant 2
// gets InitialDifficulty too). It stops a miner from choosing an easy
// difficulty for its own quants.
func (e *Engine) NextDifficulty(chain consensus.ChainReader, parent *quant.Header) (uint64, error) {
	p := e.params
	if p.Window == 0 || parent.IsBang() {
		return p.InitialDifficulty, nil
	}
	parentD, _, err := DecodeSeal(parent.Seal)
	if err != nil {
		return 0, err
	}
	// The window ends at the bang: at height 0, or at a fork's fork point;
	// with Retarget 2 it leaves out the quant after the bang too, so the
	// bang's time (the chain's creation) is never in the span.
	n := uint64(p.Window)
	sum := new(big.Int)
	first := parent
	for i := uint64(0); i < n; i++ {
		if first.IsBang() {
			n = i
			break
		}
		prev, err := chain.Header(first.Prev)
		if err != nil {
			return 0, fmt.Errorf("pow: retarget: quant %d: %w", first.Height-1, err)
		}
		if p.Retarget >= 2 && prev.IsBang() {
			n = i
			break
		}
		d, _, err := DecodeSeal(first.Seal)
		if err != nil {
			return 0, err
		}
		sum.Add(sum, new(big.Int).SetUint64(d))
		first = prev
	}
	if n == 0 {
		return p.InitialDifficulty, nil
	}
	// first is now the quant before the window: the window spans
	// parent.Time - first.Time.
	actual := max(parent.Time-first.Time, 1)
	expected := int64(n) * p.TargetMs
	next := new(big.Int).Mul(sum, big.NewInt(expected))
	next.Div(next, big.NewInt(actual))
	next.Div(next, new(big.Int).SetUint64(n))

	step := p.maxStep()
	lo := parentD - parentD/step
	hi := parentD + parentD/step
	if hi < parentD { // overflow
		hi = ^uint64(0)
	}
	var d uint64
	switch {
	case !next.IsUint64() || next.Uint64() > hi:
		d = hi
	case next.Uint64() < lo:
		d = lo
	default:
		d = next.Uint64()
	}
	return max(d, p.MinDifficulty), nil
}

// target returns floor((2^256-1) / difficulty).
func target(difficulty uint64) *big.Int {
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	return max256.Div(max256, new(big.Int).SetUint64(difficulty))
}

// meets reports whether hash, as a big-endian number, is at most t.
func meets(hash quant.Hash, t *big.Int) bool {
	return new(big.Int).SetBytes(hash[:]).Cmp(t) <= 0
}

// VerifySeal checks the work: checkDifficulty then checkProofOfWork.
func (e *Engine) VerifySeal(chain consensus.ChainReader, parent, h *quant.Header) error {
	d, _, err := DecodeSeal(h.Seal)
	if err != nil {
		return err
	}
	if err := e.checkDifficulty(chain, parent, d); err != nil {
		return err
	}
	return checkProofOfWork(h, d)
}

// checkDifficulty requires the difficulty the rule gives. It stops a miner
// from sealing quants with less work than the chain requires.
func (e *Engine) checkDifficulty(chain consensus.ChainReader, parent *quant.Header, d uint64) error {
	want, err := e.NextDifficulty(chain, parent)
	if err != nil {
		return err
	}
	if d != want {
		return quant.Errorf(quant.CodeBadSeal, "difficulty %d, the rule requires %d", d, want)
	}
	return nil
}

// checkProofOfWork requires the header's hash to meet its difficulty's
// target. It stops quants made without the work they claim.
func checkProofOfWork(h *quant.Header, d uint64) error {
	if !meets(h.Hash(), target(d)) {
		return quant.Errorf(quant.CodeBadSeal, "hash %s does not meet difficulty %d", h.Hash(), d)
	}
	return nil
}

// Weight is the quant's difficulty: the expected number of hashes its work
// took.
func (e *Engine) Weight(h *quant.Header) *big.Int {
	d, _, err := DecodeSeal(h.Seal)
	if err != nil {
		return new(big.Int)
	}
	return new(big.Int).SetUint64(d)
}

// Nonce is the nonce of h's seal (0 if it has none): the seed's "proof".
func (e *Engine) Nonce(h *quant.Header) uint64 {
	_, n, _ := DecodeSeal(h.Seal)
	return n
}

// Seal searches for a nonce that meets the difficulty Prepare set, on as
// many goroutines as GOMAXPROCS, each taking every workers-th nonce. It
// returns as soon as one is found or ctx ends.
func (e *Engine) Seal(ctx context.Context, h *quant.Header) error {
	d, _, err := DecodeSeal(h.Seal)
	if err != nil {
		return err
	}
	t := target(d)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		once  sync.Once
		found []byte
		wg    sync.WaitGroup
	)
	for w := 0; w < e.workers; w++ {
		wg.Add(1)
		go func(start uint64) {
			defer wg.Done()
			c := *h
			c.Seal = EncodeSeal(d, start)
			buf := c.Encode()
			nonceAt := len(buf) - 8
			for nonce := start; ; nonce += uint64(e.workers) {
				if (nonce/uint64(e.workers))%4096 == 0 && ctx.Err() != nil {
					return
				}
				binary.BigEndian.PutUint64(buf[nonceAt:], nonce)
				if meets(quant.Sum(quant.DomainHeader, buf), t) {
					once.Do(func() {
						found = EncodeSeal(d, nonce)
						cancel()
					})
					return
				}
			}
		}(uint64(w))
	}
	wg.Wait()
	if found == nil {
		return ctx.Err()
	}
	h.Seal = found
	return nil
}
