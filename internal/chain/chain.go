package chain

import (
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/schema"
)

// Engines maps engine names, as rules write them, to their factories.
type Engines map[string]consensus.Factory

// Options configure a Chain.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Verified, when set, reports whether this node already checked a
	// transaction's static rules (chain id, payload, write policy) and
	// signature, at admission to its pool. Those cannot change, so a quant
	// made here re-checks only what can (time, not yet committed) and does
	// not verify each signature twice.
	Verified func(id quant.Hash) bool
}

// Tip is a chain's newest quant on its main chain: its hash, header and meta.
type Tip struct {
	Hash   quant.Hash
	Header quant.Header
	Meta   Meta
}

// Chain is one chain. It is safe for concurrent use: reads take a read
// lock; Add is serialized.
type Chain struct {
	id     quant.Hash
	rules  *quant.Rules
	bang   *quant.Quant
	engine consensus.Engine
	schema *schema.Schema // nil: any data
	zk     *zkKeys        // nil: no zk rules
	st     Reader
	w      Writer // nil in VerifyStored, which never writes
	opts   Options

	addMu   sync.Mutex              // serializes Add: validation runs outside mu
	invalid map[quant.Hash]struct{} // quants found invalid, and their descendants; guarded by addMu

	checkedForks sync.Map // quant.ForkPoint on this chain whose history was walked back to the bang

	// checked is the ids of transactions CheckTx or CheckTxs saw pass
	// lately, whose rules need no second look (checkedGen).
	checked recent[struct{}]
	// ancestors is the headers the median time past read from the store
	// lately (ancestor).
	ancestors recent[*quant.Header]

	// built is what Template checked of the last quant it made on the
	// tip, so that Add of that quant need not check its body again
	// (template.go); nil when there is none.
	built atomic.Pointer[builtQuant]

	mu struct {
		sync.RWMutex
		tip Tip
		gen uint64 // counts tip changes: equal gens, no change in between
	}
}

// Init stores bang as the first quant of an empty store after checking it.
// A fork's bang is stored at its fork point's height.
func Init(w Writer, bang *quant.Quant, engines Engines) error {
	rules, err := quant.CheckBang(bang)
	if err != nil {
		return err
	}
	if _, err := newEngine(rules, engines); err != nil {
		return err
	}
	if _, err := loadZK(rules); err != nil {
		return err
	}
	if _, err := compileSchema(rules); err != nil {
		return err
	}
	return w.Connect(Entry{Quant: bang, Meta: Meta{Height: bang.Header.Height, Work: new(big.Int)}})
}

// compileSchema compiles the rules' data schema, if any.
func compileSchema(rules *quant.Rules) (*schema.Schema, error) {
	if len(rules.Schema) == 0 {
		return nil, nil
	}
	s, err := schema.Compile(rules.Schema)
	if err != nil {
		// err says "schema: ..." already.
		return nil, quant.Errorf(quant.CodeBadRules, "%v", err)
	}
	return s, nil
}

func newEngine(rules *quant.Rules, engines Engines) (consensus.Engine, error) {
	f, ok := engines[rules.Engine]
	if !ok {
		return nil, quant.Errorf(quant.CodeBadRules, "engine: unknown engine %q", rules.Engine)
	}
	return f(rules)
}

// Open loads a chain from a store that holds its bang.
func Open(st Store, engines Engines, opts Options) (*Chain, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	bang, err := st.Bang()
	if err != nil {
		return nil, fmt.Errorf("chain: load bang: %w", err)
	}
	rules, err := quant.CheckBang(bang)
	if err != nil {
		return nil, fmt.Errorf("chain: stored bang: %w", err)
	}
	engine, err := newEngine(rules, engines)
	if err != nil {
		return nil, err
	}
	sch, err := compileSchema(rules)
	if err != nil {
		return nil, err
	}
	zkk, err := loadZK(rules)
	if err != nil {
		return nil, err
	}
	tipHash, meta, err := st.Tip()
	if err != nil {
		return nil, fmt.Errorf("chain: load tip: %w", err)
	}
	tip, err := st.Header(tipHash)
	if err != nil {
		return nil, fmt.Errorf("chain: load tip header: %w", err)
	}
	c := &Chain{id: bang.Hash(), rules: rules, bang: bang, engine: engine, schema: sch, zk: zkk, st: st, w: st, opts: opts, invalid: map[quant.Hash]struct{}{},
		checked: newRecent[struct{}](checkedGen), ancestors: newRecent[*quant.Header](headerCacheGen)}
	c.mu.tip = Tip{Hash: tipHash, Header: *tip, Meta: meta}
	return c, nil
}

// ID is the chain's id (its bang's hash).
func (c *Chain) ID() quant.Hash { return c.id }

// Rules are the chain's rules. The caller must not change them.
func (c *Chain) Rules() *quant.Rules { return c.rules }

// Bang is the chain's genesis quant. The caller must not change it.
func (c *Chain) Bang() *quant.Quant { return c.bang }

// Base is the height of the chain's bang: 0, or a fork's fork point
// height. The chain's own quants are above it; a fork's heights up to it
// are its parent's.
func (c *Chain) Base() uint64 { return c.bang.Header.Height }

// Engine is the chain's consensus engine.
func (c *Chain) Engine() consensus.Engine { return c.engine }

// Tip returns the chain's tip.
func (c *Chain) Tip() Tip {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.tip
}

// tipGen returns the tip and how many times it has changed: a state read
// between two calls that return the same gen is the tip's.
func (c *Chain) tipGen() (Tip, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.tip, c.mu.gen
}

// reader adapts the store for engines.
func (c *Chain) reader() consensus.ChainReader { return c.st }

func (c *Chain) setTip(h Tip) {
	c.mu.Lock()
	c.mu.tip = h
	c.mu.gen++
	c.mu.Unlock()
	c.opts.Logger.Debug("new tip", "chain", c.id.String(), "height", h.Header.Height, "hash", h.Hash.String())
}

// QuantsPerMinute is the rate of the last (up to) 20 quants, by their
// times; 0 for a chain of fewer than two quants after the bang.
func (c *Chain) QuantsPerMinute() float64 {
	head := c.Tip()
	h := &head.Header
	first := c.Base() + 1
	n := 0
	for n < 20 && h.Height > first {
		p, err := c.st.Header(h.Prev)
		if err != nil {
			break
		}
		h = p
		n++
	}
	dt := head.Header.Time - h.Time
	if n == 0 || dt <= 0 {
		return 0
	}
	return float64(n) * 60_000 / float64(dt)
}

// CanSeal reports whether this node can seal quants of this chain at all:
// false for an engine that names its sealers (poa) when this node is not
// one of them.
func (c *Chain) CanSeal() bool {
	if s, ok := c.engine.(consensus.Sealer); ok {
		return s.CanSeal()
	}
	return true
}

// MaySeal reports whether this node may seal a child of the tip now: false
// while an engine's turn rules (poa's recents rule) hold it back.
func (c *Chain) MaySeal() bool {
	s, ok := c.engine.(consensus.TurnTaker)
	if !ok {
		return c.CanSeal()
	}
	head := c.Tip()
	return s.MaySeal(c.reader(), &head.Header)
}

// Finality says when a quant of this chain is final: "final" once
// committed, for ordered engines (raft), or "depth" (the deeper, the
// surer) for Nakamoto-style ones (pow, poa), which may reorganize.
func (c *Chain) Finality() consensus.Finality {
	if f, ok := c.engine.(consensus.Finalizer); ok {
		return f.Finality()
	}
	return consensus.FinalityDepth
}
