package chain

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"runtime"
	"slices"
	"sync"
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

// Head is the tip of a chain.
type Head struct {
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
	st     Reader
	w      Writer // nil in VerifyStored, which never writes
	opts   Options

	addMu   sync.Mutex              // serializes Add: validation runs outside mu
	invalid map[quant.Hash]struct{} // quants found invalid, and their descendants; guarded by addMu

	mu struct {
		sync.RWMutex
		head Head
	}
}

// Init stores bang as the first quant of an empty store after checking it.
func Init(w Writer, bang *quant.Quant, engines Engines) error {
	rules, err := quant.CheckBang(bang)
	if err != nil {
		return err
	}
	if _, err := newEngine(rules, engines); err != nil {
		return err
	}
	if _, err := compileSchema(rules); err != nil {
		return err
	}
	return w.Connect(Entry{Quant: bang, Meta: Meta{Height: 0, Work: new(big.Int)}})
}

// compileSchema compiles the rules' data schema, if any.
func compileSchema(rules *quant.Rules) (*schema.Schema, error) {
	if len(rules.Schema) == 0 {
		return nil, nil
	}
	s, err := schema.Compile(rules.Schema)
	if err != nil {
		return nil, quant.Errorf(quant.CodeBadRules, "schema: %v", err)
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
	tipHash, meta, err := st.Tip()
	if err != nil {
		return nil, fmt.Errorf("chain: load tip: %w", err)
	}
	tip, err := st.Header(tipHash)
	if err != nil {
		return nil, fmt.Errorf("chain: load tip header: %w", err)
	}
	c := &Chain{id: bang.Hash(), rules: rules, bang: bang, engine: engine, schema: sch, st: st, w: st, opts: opts, invalid: map[quant.Hash]struct{}{}}
	c.mu.head = Head{Hash: tipHash, Header: *tip, Meta: meta}
	return c, nil
}

// ID is the chain's id (its bang's hash).
func (c *Chain) ID() quant.Hash { return c.id }

// Rules are the chain's rules. The caller must not change them.
func (c *Chain) Rules() *quant.Rules { return c.rules }

// Bang is the chain's genesis quant. The caller must not change it.
func (c *Chain) Bang() *quant.Quant { return c.bang }

// Engine is the chain's consensus engine.
func (c *Chain) Engine() consensus.Engine { return c.engine }

// Head returns the current tip.
func (c *Chain) Head() Head {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.head
}

// reader adapts the store for engines.
func (c *Chain) reader() consensus.ChainReader { return c.st }

// CheckTx checks a transaction for admission to this chain's pool: its
// chain id, payload, signature, the write policy, its time, and that it is
// not already in the chain.
func (c *Chain) CheckTx(tx *quant.Tx, id quant.Hash) error {
	if err := c.checkTxRules(tx, c.opts.Now().UnixMilli()); err != nil {
		return err
	}
	if err := quant.CheckTxSignature(tx); err != nil {
		return err
	}
	return c.checkNotCommitted(id)
}

// CheckTxs is CheckTx for a run of transactions (ids are their ids),
// verifying signatures as a batch; it returns one error (or nil) per
// transaction. It does not keep txs.
func (c *Chain) CheckTxs(txs []*quant.Tx, ids []quant.Hash) []error {
	errs := make([]error, len(txs))
	now := c.opts.Now().UnixMilli()
	for i, tx := range txs {
		errs[i] = c.checkTxRules(tx, now)
	}
	for skipFrom := 0; skipFrom < len(txs); {
		i, err := quant.CheckTxSignatures(txs[skipFrom:], func(j int) bool { return errs[skipFrom+j] != nil })
		if err == nil {
			break
		}
		errs[skipFrom+i] = err
		skipFrom += i + 1
	}
	for i := range txs {
		if errs[i] == nil {
			errs[i] = c.checkNotCommitted(ids[i])
		}
	}
	return errs
}

// checkTxRules checks everything about one transaction but its signature
// and duplicates.
func (c *Chain) checkTxRules(tx *quant.Tx, now int64) error {
	if err := checkTxChain(tx, c.id); err != nil {
		return err
	}
	if err := checkTxTime(tx, now, c.rules.MaxTimeDriftMs); err != nil {
		return err
	}
	if len(tx.Data) > c.rules.MaxDataBytes {
		return quant.Errorf(quant.CodeTooLarge, "payload is %d bytes, this chain's limit is %d", len(tx.Data), c.rules.MaxDataBytes)
	}
	if err := quant.CheckPayload(tx); err != nil {
		return err
	}
	if err := c.checkSchema(tx); err != nil {
		return err
	}
	return c.rules.Allows(tx)
}

// checkSchema requires a transaction's data to match the chain's schema, if
// it has one. It keeps data meant for another purpose off the chain.
func (c *Chain) checkSchema(tx *quant.Tx) error {
	if c.schema == nil {
		return nil
	}
	if tx.Kind != quant.DataJSON {
		return quant.Errorf(quant.CodeBadData, "this chain takes JSON data matching its schema, not bytes")
	}
	if err := c.schema.Validate(tx.Data); err != nil {
		return quant.Errorf(quant.CodeBadData, "%v", err)
	}
	return nil
}

// checkTxNow checks what may have changed since a transaction was
// admitted (its time against now) for one this node verified, and
// everything for one it did not.
func (c *Chain) checkTxNow(tx *quant.Tx, verified bool, now int64) error {
	if verified {
		return checkTxTime(tx, now, c.rules.MaxTimeDriftMs)
	}
	return c.checkTxRules(tx, now)
}

func (c *Chain) verified(id quant.Hash) bool { return c.opts.Verified != nil && c.opts.Verified(id) }

// checkTxChain requires the transaction to name this chain. It stops a
// record signed for one chain from being replayed on another.
func checkTxChain(tx *quant.Tx, id quant.Hash) error {
	if tx.ChainID != id {
		return quant.Errorf(quant.CodeWrongChain, "transaction is for chain %s, not %s", tx.ChainID, id)
	}
	return nil
}

// checkTxTime refuses a transaction dated further in the future than the
// chain's drift allows. It stops writers from post-dating records.
func checkTxTime(tx *quant.Tx, now, drift int64) error {
	if tx.Time > now+drift {
		return quant.Errorf(quant.CodeBadTime, "transaction time %d is more than %d ms ahead of %d", tx.Time, drift, now)
	}
	if tx.Time < 0 {
		return quant.Errorf(quant.CodeBadTime, "transaction time %d is negative", tx.Time)
	}
	return nil
}

// checkNotCommitted refuses a transaction the chain already holds. It stops
// replays of committed records.
func (c *Chain) checkNotCommitted(id quant.Hash) error {
	has, err := c.st.HasTx(id)
	if err != nil {
		return err
	}
	if has {
		return quant.Errorf(quant.CodeDuplicate, "transaction %s is already committed", id)
	}
	return nil
}

// Template builds an unsealed quant on the current tip from txs (pool
// order), with the seal fields the engine fixes. ids, if of txs' length,
// are the transactions' ids (the pool holds them), else Template computes
// them.
// Transactions that no longer pass the chain's rules (already committed,
// say) are left out and their ids returned as dropped; those past the
// chain's block limits are left out for a later quant. The caller seals the
// quant (engine.Seal) and gives it to Add. Template keeps txs, not ids.
func (c *Chain) Template(txs []*quant.Tx, ids []quant.Hash) (q *quant.Quant, dropped []quant.Hash, err error) {
	head := c.Head()
	return c.TemplateOn(head.Hash, []*quant.Header{&head.Header}, txs, ids)
}

// TemplateOn is Template on the quant parent instead of the tip. parents
// are its header, then (optionally) those of its nearest ancestors, each
// the parent of the one before: those that are not stored yet (quants in
// flight, as a Raft leader pipelines them) must be given, the rest are
// read from the store. Nothing checks that parent will join the chain:
// Add does, when the quant comes back sealed.
func (c *Chain) TemplateOn(parent quant.Hash, parents []*quant.Header, txs []*quant.Tx, ids []quant.Hash) (q *quant.Quant, dropped []quant.Hash, err error) {
	if len(ids) != len(txs) {
		ids = quant.TxIDs(txs)
	}
	head := Head{Hash: parent, Header: *parents[0]}
	mtp, err := c.medianTimePastOf(parents)
	if err != nil {
		return nil, nil, err
	}
	now := max(c.opts.Now().UnixMilli(), mtp+1)
	var (
		keep    []*quant.Tx
		keepIDs []quant.Hash
		seen    = make(map[quant.Hash]struct{}, len(txs))
		size    = quant.MaxHeaderSize
	)
	for i, tx := range txs {
		if len(keep) == c.rules.MaxQuantTxs || size+4+tx.EncodedSize() > c.rules.MaxQuantBytes {
			break
		}
		id := ids[i]
		if _, dup := seen[id]; dup {
			continue
		}
		if c.checkTxNow(tx, c.verified(id), now) != nil || c.checkNotCommitted(id) != nil {
			dropped = append(dropped, id)
			continue
		}
		seen[id] = struct{}{}
		keep = append(keep, tx)
		keepIDs = append(keepIDs, id)
		size += 4 + tx.EncodedSize()
	}
	q = &quant.Quant{
		Header: quant.Header{
			ChainID: c.id,
			Height:  head.Header.Height + 1,
			Prev:    head.Hash,
			TxRoot:  quant.RootOfIDs(keepIDs),
			Time:    now,
			TxCount: uint32(len(keep)),
		},
		Txs: keep,
	}
	if err := c.engine.Prepare(c.reader(), &head.Header, &q.Header); err != nil {
		return nil, nil, err
	}
	return q, dropped, nil
}

// medianTimePastSpan is how many quants the median time past looks at.
const medianTimePastSpan = 11

// medianTimePast is the median time of the last 11 quants ending at h.
func (c *Chain) medianTimePast(h *quant.Header) (int64, error) {
	return c.medianTimePastOf([]*quant.Header{h})
}

// medianTimePastOf is the median time of the last 11 quants ending at
// hs[0], where hs are headers of that quant and its nearest ancestors
// (each the parent of the one before); older ones are read from the store.
func (c *Chain) medianTimePastOf(hs []*quant.Header) (int64, error) {
	times := make([]int64, 0, medianTimePastSpan)
	cur := hs[0]
	for i := 1; ; i++ {
		times = append(times, cur.Time)
		if cur.Height == 0 || len(times) == medianTimePastSpan {
			break
		}
		if i < len(hs) {
			cur = hs[i]
			continue
		}
		p, err := c.st.Header(cur.Prev)
		if err != nil {
			return 0, fmt.Errorf("chain: median time past: %w", err)
		}
		cur = p
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// Result says what an Add did to the main chain.
type Result struct {
	// Connected are the quants that joined the main chain, oldest first:
	// the added quant, or a whole branch after a reorganisation. Empty when
	// the quant was stored on a side branch that is not (yet) heavier.
	Connected []*quant.Quant
	// ConnectedIDs are the transaction ids of each of Connected, in
	// order.
	ConnectedIDs [][]quant.Hash
	// Disconnected are the quants a reorganisation took off the main
	// chain, tip first. Their transactions that are not in Connected are
	// pending again.
	Disconnected []*quant.Quant
}

// Extended reports whether the added quant joined the main chain.
func (r Result) Extended() bool { return len(r.Connected) > 0 }

// Add checks q and stores it. A quant on the tip is checked in full and
// becomes the tip. A quant on another known quant is checked against its
// parent and kept on a side branch; if its branch then has more
// accumulated weight than the main chain, the chain reorganizes to it
// (fork choice by weight, not length), checking the branch's transactions
// against the history they would join. Everything is committed durably
// before Add returns. Add keeps q.
func (c *Chain) Add(q *quant.Quant) (Result, error) {
	c.addMu.Lock()
	defer c.addMu.Unlock()
	hash := q.Hash()
	if q.IsBang() {
		return Result{}, quant.Errorf(quant.CodeBadLink, "a second bang cannot join a chain")
	}
	if has, err := c.st.Has(hash); err != nil {
		return Result{}, err
	} else if has {
		return Result{}, quant.Errorf(quant.CodeDuplicate, "quant %d %s is already stored", q.Header.Height, hash)
	}
	if _, bad := c.invalid[q.Header.Prev]; bad {
		c.markInvalid(hash)
		return Result{}, quant.Errorf(quant.CodeBadLink, "quant %s descends from an invalid quant", hash)
	}
	head := c.Head()
	if q.Header.Prev == head.Hash {
		ids, err := c.validate(q, &head, c.notCommitted)
		if err != nil {
			return Result{}, err
		}
		meta := c.childMeta(&head.Meta, q)
		if err := c.w.Connect(Entry{Quant: q, Meta: meta, IDs: ids}); err != nil {
			return Result{}, fmt.Errorf("chain: commit quant %d: %w", q.Header.Height, err)
		}
		c.setHead(Head{Hash: hash, Header: q.Header, Meta: meta})
		return Result{Connected: []*quant.Quant{q}, ConnectedIDs: [][]quant.Hash{ids}}, nil
	}
	return c.addSide(q, hash, head)
}

// addSide stores q on a side branch and reorganizes if that branch is now
// the heaviest.
func (c *Chain) addSide(q *quant.Quant, hash quant.Hash, head Head) (Result, error) {
	parentHdr, err := c.st.Header(q.Header.Prev)
	if errors.Is(err, ErrNotFound) {
		return Result{}, quant.Errorf(quant.CodeUnknownParent, "parent %s of quant %d is not known", q.Header.Prev, q.Header.Height)
	}
	if err != nil {
		return Result{}, err
	}
	parentMeta, err := c.st.Meta(q.Header.Prev)
	if err != nil {
		return Result{}, err
	}
	parent := Head{Hash: q.Header.Prev, Header: *parentHdr, Meta: parentMeta}
	// Everything but "not already on the branch" can be checked now; that
	// needs the branch's history and is checked if the branch wins.
	if _, err := c.validate(q, &parent, func(quant.Hash, int) error { return nil }); err != nil {
		return Result{}, err
	}
	meta := c.childMeta(&parentMeta, q)
	if err := c.w.Save(Entry{Quant: q, Meta: meta}); err != nil {
		return Result{}, fmt.Errorf("chain: save side quant %d: %w", q.Header.Height, err)
	}
	if meta.Work.Cmp(head.Meta.Work) <= 0 {
		// Not heavier: the first-seen branch keeps a tie.
		return Result{}, nil
	}
	return c.reorg(hash, head)
}

// reorg makes the branch ending at tip the main chain: it finds where the
// branch leaves the main chain, checks that no transaction of the branch is
// already in the history it joins or twice in the branch (a replay across
// branches), and swaps the branches in one durable commit. If a branch quant
// fails, it and its descendants are marked invalid and the chain keeps the
// valid part only if that part is still heavier.
func (c *Chain) reorg(tip quant.Hash, head Head) (Result, error) {
	var branch []Entry // newest first, then reversed
	for h := tip; ; {
		hdr, err := c.st.Header(h)
		if err != nil {
			return Result{}, err
		}
		if at, err := c.st.HashAt(hdr.Height); err == nil && at == h {
			break // h is on the main chain: the fork point
		}
		q, err := c.st.Quant(h)
		if err != nil {
			return Result{}, err
		}
		meta, err := c.st.Meta(h)
		if err != nil {
			return Result{}, err
		}
		branch = append(branch, Entry{Quant: q, Meta: meta})
		h = hdr.Prev
	}
	slices.Reverse(branch)
	forkHeight := branch[0].Quant.Header.Height - 1

	var refusal error
	seen := make(map[quant.Hash]struct{})
	for k := range branch {
		e := &branch[k]
		e.IDs = quant.TxIDs(e.Quant.Txs)
		if err := c.checkBranchTxs(e.Quant, e.IDs, forkHeight, seen); err != nil {
			refusal = err
			for _, bad := range branch[k:] {
				c.markInvalid(bad.Quant.Hash())
			}
			branch = branch[:k]
			break
		}
	}
	if len(branch) == 0 || branch[len(branch)-1].Meta.Work.Cmp(head.Meta.Work) <= 0 {
		return Result{}, refusal
	}

	var (
		disconnect []quant.Hash
		old        []*quant.Quant
	)
	for h := head.Header.Height; h > forkHeight; h-- {
		hash, err := c.st.HashAt(h)
		if err != nil {
			return Result{}, err
		}
		q, err := c.st.Quant(hash)
		if err != nil {
			return Result{}, err
		}
		disconnect = append(disconnect, hash)
		old = append(old, q)
	}
	if err := c.w.Reorg(disconnect, branch); err != nil {
		return Result{}, fmt.Errorf("chain: reorganize at %d: %w", forkHeight, err)
	}
	last := branch[len(branch)-1]
	c.setHead(Head{Hash: last.Quant.Hash(), Header: last.Quant.Header, Meta: last.Meta})
	res := Result{Disconnected: old}
	for _, e := range branch {
		res.Connected = append(res.Connected, e.Quant)
		res.ConnectedIDs = append(res.ConnectedIDs, e.IDs)
	}
	c.opts.Logger.Info("chain reorganized", "chain", c.rules.Name, "fork_height", forkHeight,
		"disconnected", len(old), "connected", len(branch), "height", last.Meta.Height)
	return res, refusal
}

// checkBranchTxs refuses a branch quant holding a transaction that is
// already in the history below the fork point or earlier in the branch. It
// stops a replay of a committed record from riding in on a reorganisation.
func (c *Chain) checkBranchTxs(q *quant.Quant, ids []quant.Hash, forkHeight uint64, seen map[quant.Hash]struct{}) error {
	for i := range q.Txs {
		id := ids[i]
		if _, dup := seen[id]; dup {
			return txErr(i, quant.Errorf(quant.CodeDuplicate, "transaction %s is twice on the branch", id))
		}
		seen[id] = struct{}{}
		loc, err := c.st.TxLocation(id)
		if err == nil && loc.Height <= forkHeight {
			return txErr(i, quant.Errorf(quant.CodeDuplicate, "transaction %s is already committed at %d", id, loc.Height))
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// maxInvalid bounds the memory of invalid quants.
const maxInvalid = 10_000

func (c *Chain) markInvalid(h quant.Hash) {
	if len(c.invalid) >= maxInvalid {
		clear(c.invalid)
	}
	c.invalid[h] = struct{}{}
}

func (c *Chain) setHead(h Head) {
	c.mu.Lock()
	c.mu.head = h
	c.mu.Unlock()
	c.opts.Logger.Debug("new tip", "chain", c.rules.Name, "height", h.Header.Height, "hash", h.Hash.String())
}

// childMeta is the store meta of q, a child of the quant with meta parent:
// accumulated weight and transaction count.
func (c *Chain) childMeta(parent *Meta, q *quant.Quant) Meta {
	return Meta{
		Height: q.Header.Height,
		Work:   new(big.Int).Add(parent.Work, c.engine.Weight(&q.Header)),
		Txs:    parent.Txs + uint64(len(q.Txs)),
	}
}

// QuantsPerMinute is the rate of the last (up to) 20 quants, by their
// times; 0 for a chain of fewer than two quants after the bang.
func (c *Chain) QuantsPerMinute() float64 {
	head := c.Head()
	h := &head.Header
	n := 0
	for n < 20 && h.Height > 1 {
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

// Validate checks q as a child of parent: every rule a quant must pass,
// the same for quants made here and received.
func (c *Chain) Validate(q *quant.Quant, parent *Head) error {
	_, err := c.validate(q, parent, c.notCommitted)
	return err
}

// notCommitted is checkNotCommitted in the form validate takes.
func (c *Chain) notCommitted(id quant.Hash, _ int) error { return c.checkNotCommitted(id) }

// validate is Validate with the check that a transaction is new to the
// chain given as notCommitted (verification of a stored chain checks
// instead that the index points at the transaction's own place). It
// returns the ids of q's transactions.
func (c *Chain) validate(q *quant.Quant, parent *Head, notCommitted func(id quant.Hash, i int) error) ([]quant.Hash, error) {
	h := &q.Header
	if err := checkQuantShape(q, c.rules); err != nil {
		return nil, err
	}
	if h.ChainID != c.id {
		return nil, quant.Errorf(quant.CodeWrongChain, "quant is for chain %s, not %s", h.ChainID, c.id)
	}
	if err := checkLink(h, parent); err != nil {
		return nil, err
	}
	mtp, err := c.medianTimePast(&parent.Header)
	if err != nil {
		return nil, err
	}
	if err := checkQuantTime(h, mtp, c.opts.Now().UnixMilli(), c.rules.MaxTimeDriftMs); err != nil {
		return nil, err
	}
	if err := c.engine.VerifySeal(c.reader(), &parent.Header, h); err != nil {
		return nil, err
	}
	ids := quant.TxIDs(q.Txs)
	if err := checkMerkleRoot(h, ids); err != nil {
		return nil, err
	}
	if err := c.checkTxs(q, ids, notCommitted); err != nil {
		return nil, err
	}
	return ids, nil
}

// checkQuantShape checks the body against the header and the chain's block
// limits. It stops oversized quants and headers that lie about their body.
func checkQuantShape(q *quant.Quant, r *quant.Rules) error {
	h := &q.Header
	if q.IsBang() {
		return quant.Errorf(quant.CodeBadLink, "a second bang cannot join a chain")
	}
	if int(h.TxCount) != len(q.Txs) {
		return quant.Errorf(quant.CodeMalformed, "header declares %d transactions, body holds %d", h.TxCount, len(q.Txs))
	}
	if len(q.Txs) > r.MaxQuantTxs {
		return quant.Errorf(quant.CodeLimitExceeded, "%d transactions, this chain's limit is %d", len(q.Txs), r.MaxQuantTxs)
	}
	size := quant.MaxHeaderSize
	for _, tx := range q.Txs {
		size += 4 + tx.EncodedSize()
	}
	if size > r.MaxQuantBytes {
		return quant.Errorf(quant.CodeLimitExceeded, "quant is about %d bytes, this chain's limit is %d", size, r.MaxQuantBytes)
	}
	return nil
}

// checkLink requires the quant to follow its parent: the parent's hash and
// the next height. It stops quants spliced in from elsewhere.
func checkLink(h *quant.Header, parent *Head) error {
	if h.Prev != parent.Hash {
		return quant.Errorf(quant.CodeBadLink, "previous hash %s is not the parent %s", h.Prev, parent.Hash)
	}
	if h.Height != parent.Header.Height+1 {
		return quant.Errorf(quant.CodeBadLink, "height %d does not follow the parent's %d", h.Height, parent.Header.Height)
	}
	return nil
}

// checkQuantTime requires the quant's time to be after the median of the
// last 11 quants and not beyond now plus the chain's drift. It stops a miner
// from dating quants far in the past or future to bend the difficulty.
func checkQuantTime(h *quant.Header, mtp, now, drift int64) error {
	if h.Time <= mtp {
		return quant.Errorf(quant.CodeBadTime, "time %d is not after the median time past %d", h.Time, mtp)
	}
	if h.Time > now+drift {
		return quant.Errorf(quant.CodeBadTime, "time %d is more than %d ms ahead of now (%d)", h.Time, drift, now)
	}
	return nil
}

// checkMerkleRoot requires the header's transaction root to match the
// body. It stops transactions from being added, dropped or changed in a
// quant whose header (and work) is kept.
func checkMerkleRoot(h *quant.Header, ids []quant.Hash) error {
	if got := quant.RootOfIDs(ids); got != h.TxRoot {
		return quant.Errorf(quant.CodeBadMerkleRoot, "transaction root %s, body gives %s", h.TxRoot, got)
	}
	return nil
}

// checkTxs checks the transactions of q: their signatures (as a batch),
// then each one's rules and its time against the quant's, and that it
// appears once in the quant and never before in the chain. For transactions
// this node verified at admission, only the time and the duplicates are
// checked again.
func (c *Chain) checkTxs(q *quant.Quant, ids []quant.Hash, notCommitted func(id quant.Hash, i int) error) error {
	seen := make(map[quant.Hash]struct{}, len(ids))
	verified := make([]bool, len(ids))
	for i, id := range ids {
		verified[i] = c.verified(id)
	}
	skip := func(i int) bool { return verified[i] }
	if i, err := quant.CheckTxSignaturesParallel(q.Txs, skip, runtime.GOMAXPROCS(0)); err != nil {
		return txErr(i, err)
	}
	for i, tx := range q.Txs {
		id := ids[i]
		if err := c.checkTxNow(tx, verified[i], q.Header.Time); err != nil {
			return txErr(i, err)
		}
		if _, dup := seen[id]; dup {
			return txErr(i, quant.Errorf(quant.CodeDuplicate, "transaction %s appears twice in the quant", id))
		}
		seen[id] = struct{}{}
		if err := notCommitted(id, i); err != nil {
			return txErr(i, err)
		}
	}
	return nil
}

func txErr(i int, err error) error {
	if code := quant.CodeOf(err); code != "" {
		return quant.Errorf(code, "transaction %d: %v", i, err)
	}
	return fmt.Errorf("transaction %d: %w", i, err)
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
	head := c.Head()
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
