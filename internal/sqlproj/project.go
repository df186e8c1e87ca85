package sqlproj

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Source is one chain as the projector reads it: the chain (id, rules,
// tip) and its store (main-chain hashes by height, quants). A fork's
// store holds its own quants, from its bang up; the history it shares
// with its parent is projected as the parent's.
type Source struct {
	Chain *chain.Chain
	Store chain.Reader
}

// Config configures a Projector.
type Config struct {
	// DSN is where the projection is kept: "" for SQLiteFile in Dir,
	// "sqlite:PATH", or a postgres:// URL.
	DSN string
	Dir string
	// Sources lists the chains to project; it is called on every pass, so
	// chains followed later are projected too.
	Sources func() []Source
	// Events, if set, wakes the projector when a quant is committed.
	Events *events.Bus
	// Poll is how often the tips are looked at without an event; default
	// 1 s. It is also the wait after an error of the database.
	Poll time.Duration
	// BatchTxs bounds the transactions written in one SQL transaction
	// (a quant is never split); default 10,000.
	BatchTxs int
	// QueryTimeout bounds a query; default 5 s. MaxRows caps a query's
	// rows (default 1,000; a query asks for at most 10 times it);
	// MaxAnswerBytes its answer's size, roughly (default 4 MiB).
	QueryTimeout   time.Duration
	MaxRows        int
	MaxAnswerBytes int
	Logger         *slog.Logger
	// BusyShare is the most of its time Run spends projecting while the
	// node is busy committing (a quant in the last second): it yields the
	// rest, so that under sustained load the projection lags (a metric)
	// rather than taking the commit path's CPU. When the node is quiet it
	// catches up at full speed. Default 0.25; 1 never yields.
	BusyShare float64
}

func (c *Config) ensureDefaults() {
	if c.Poll == 0 {
		c.Poll = time.Second
	}
	if c.BatchTxs == 0 {
		c.BatchTxs = 10_000
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = 5 * time.Second
	}
	if c.MaxRows == 0 {
		c.MaxRows = 1000
	}
	if c.MaxAnswerBytes == 0 {
		c.MaxAnswerBytes = 4 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BusyShare <= 0 || c.BusyShare > 1 {
		c.BusyShare = 0.25
	}
	if c.Sources == nil {
		c.Sources = func() []Source { return nil }
	}
}

// maxBatchQuants bounds the quants written in one SQL transaction.
const maxBatchQuants = 512

// position is how far a chain is projected: the last quant written. set
// is false before the bang is.
type position struct {
	set    bool
	height uint64
	hash   quant.Hash
}

// Projector keeps the projection of a node's chains. Run does the work;
// Query, Check and Lag may be called from any goroutine.
type Projector struct {
	cfg  Config
	db   *db
	log  *slog.Logger
	wake *events.Subscription // quant events, from Open to Close; nil without Events
	// lastQuant is when Run last heard of a committed quant (Unix ns).
	lastQuant atomic.Int64

	// work is held by each step and by Rebuild, so that a rebuild never
	// meets a batch under way.
	work sync.Mutex

	mu struct {
		sync.Mutex
		pos map[quant.Hash]position // as last written; dropped after an error
	}
}

// Open opens (or makes) the projection's database. Run projects.
func Open(ctx context.Context, cfg Config) (*Projector, error) {
	cfg.ensureDefaults()
	d, err := openDB(ctx, cfg.DSN, cfg.Dir)
	if err != nil {
		return nil, err
	}
	p := &Projector{cfg: cfg, db: d, log: cfg.Logger.With("sql", d.where)}
	p.mu.pos = make(map[quant.Hash]position)
	if d.superuser {
		p.log.Warn("sql projection: the PostgreSQL role is a superuser; a read-only query can still call functions such as pg_read_file or lo_export: connect as a role that only owns the projection's database")
	}
	if cfg.Events != nil {
		p.wake = cfg.Events.SubscribeTo(16, events.Filter{Kinds: []events.Kind{events.KindQuant}})
	}
	return p, nil
}

// Close ends the subscription to events and closes the database; call it
// after Run returned.
func (p *Projector) Close() error {
	if p.wake != nil {
		p.wake.Close()
	}
	return p.db.close()
}

// Where names the database, for logs: a file, or a PostgreSQL host and
// database.
func (p *Projector) Where() string { return p.db.where }

// Run projects every source until ctx ends, woken by quant events and the
// poll. An error of the database is logged and retried after the poll
// interval, so a PostgreSQL restart costs lag, not the node. It returns
// nil when ctx ends.
func (p *Projector) Run(ctx context.Context) error {
	var wake <-chan events.Event
	if p.wake != nil {
		wake = p.wake.C
	}
	t := time.NewTicker(p.cfg.Poll)
	defer t.Stop()
	failing := false
	for {
		err := p.catchUp(ctx, true)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			p.log.Warn("sql projection: will retry", "err", err)
			failing = true
		case err == nil && failing:
			p.log.Info("sql projection: going again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			p.lastQuant.Store(time.Now().UnixNano())
		case <-t.C:
		}
	}
}

// CatchUp projects every source up to its tip as it is now.
func (p *Projector) CatchUp(ctx context.Context) error { return p.catchUp(ctx, false) }

// busy reports whether the node is committing: a quant event waiting or
// heard within the last second.
func (p *Projector) busy() bool {
	if p.wake != nil && len(p.wake.C) > 0 {
		return true
	}
	return time.Since(time.Unix(0, p.lastQuant.Load())) < time.Second
}

// yield waits, after a step that took d, so that the projector works at
// most BusyShare of the time while the node is busy (at most a second).
func (p *Projector) yield(ctx context.Context, d time.Duration) {
	if !p.busy() || p.cfg.BusyShare >= 1 {
		return
	}
	wait := min(time.Duration(float64(d)*(1/p.cfg.BusyShare-1)), time.Second)
	select {
	case <-ctx.Done():
	case <-time.After(wait):
	}
}

// catchUp is CatchUp; paced, it yields while the node is busy (Run).
func (p *Projector) catchUp(ctx context.Context, paced bool) error {
	var errs []error
	for _, src := range p.cfg.Sources() {
		for ctx.Err() == nil {
			start := time.Now()
			p.work.Lock()
			more, err := p.step(ctx, src)
			p.work.Unlock()
			if paced {
				p.yield(ctx, time.Since(start))
			}
			if err != nil {
				p.forget(src.Chain.ID())
				errs = append(errs, fmt.Errorf("chain %s: %w", src.Chain.ID(), err))
				break
			}
			if !more {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// forget drops a chain's cached position, so that it is read again from
// the database (after an error, a commit may or may not have happened).
func (p *Projector) forget(id quant.Hash) {
	p.mu.Lock()
	delete(p.mu.pos, id)
	p.mu.Unlock()
}

func (p *Projector) cached(id quant.Hash) (position, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pos, ok := p.mu.pos[id]
	return pos, ok
}

func (p *Projector) setPos(id quant.Hash, pos position) {
	p.mu.Lock()
	p.mu.pos[id] = pos
	p.mu.Unlock()
}

// position returns a chain's position, from the cache or the database;
// a chain seen for the first time gets its chains row and view.
func (p *Projector) position(ctx context.Context, c *chain.Chain) (position, error) {
	if pos, ok := p.cached(c.ID()); ok {
		return pos, nil
	}
	pos, found, err := p.loadPosition(ctx, c.ID())
	if err != nil {
		return pos, err
	}
	if !found {
		if err := p.addChain(ctx, c); err != nil {
			return pos, err
		}
	}
	p.setPos(c.ID(), pos)
	return pos, nil
}

// loadPosition reads a chain's position from its chains row; found is
// false without one.
func (p *Projector) loadPosition(ctx context.Context, id quant.Hash) (pos position, found bool, err error) {
	var (
		height sql.NullInt64
		hash   sql.NullString
	)
	err = p.db.w.QueryRowContext(ctx, p.db.bind(`SELECT height, hash FROM chains WHERE id = ?`), id.String()).Scan(&height, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return pos, false, nil
	}
	if err != nil {
		return pos, false, fmt.Errorf("read position: %w", err)
	}
	if height.Valid && hash.Valid {
		h, err := quant.ParseHash(hash.String)
		if err != nil {
			return pos, true, fmt.Errorf("stored position: %w", err)
		}
		pos = position{set: true, height: uint64(height.Int64), hash: h}
	}
	return pos, true, nil
}

// addChain writes a chain's row (with no position yet) and makes its
// typed view, in one transaction.
func (p *Projector) addChain(ctx context.Context, c *chain.Chain) error {
	r := c.Rules()
	cols, err := Columns(r.Schema)
	if err != nil {
		p.log.Warn("sql projection: no typed view; the chain's schema did not read", "chain", c.ID().String(), "err", err)
	}
	var view any
	var viewStmt string
	if len(r.Schema) > 0 && err == nil {
		name := ViewName(r.Name, c.ID())
		view, viewStmt = name, p.db.viewSQL(name, c.ID().String(), cols)
	}
	var parent any
	if r.Parent != nil {
		parent = r.Parent.Chain.String()
	}
	tx, err := p.db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, p.db.bind(`INSERT INTO chains (id, name, engine, base, parent, rules, view) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
		c.ID().String(), r.Name, r.Engine, int64(c.Base()), parent, string(c.Bang().Rules), view)
	if err != nil {
		return fmt.Errorf("add chain: %w", err)
	}
	if viewStmt != "" {
		if _, err := tx.ExecContext(ctx, viewStmt); err != nil {
			return fmt.Errorf("make view %s: %w", view, err)
		}
	}
	return tx.Commit()
}

// step projects the next batch of a chain's quants, after undoing what a
// reorganisation took off its main chain. more reports whether it wrote
// anything (and so there may be more to do).
func (p *Projector) step(ctx context.Context, src Source) (more bool, err error) {
	c, st := src.Chain, src.Store
	pos, err := p.position(ctx, c)
	if err != nil {
		return false, err
	}
	if pos.set && c.Tip().Hash == pos.hash {
		return false, nil // at the tip: nothing to read (an idle node's poll)
	}
	if pos.set {
		h, err := st.HashAt(pos.height)
		if err != nil && !errors.Is(err, chain.ErrNotFound) {
			return false, err
		}
		if err != nil || h != pos.hash {
			return true, p.rewind(ctx, src, pos)
		}
	}
	next := c.Base()
	if pos.set {
		next = pos.height + 1
	}
	var (
		qs   []*quant.Quant
		hs   []quant.Hash
		txs  int
		prev = pos.hash
	)
	for len(qs) < maxBatchQuants && txs < p.cfg.BatchTxs {
		h, err := st.HashAt(next)
		if errors.Is(err, chain.ErrNotFound) {
			break
		}
		if err != nil {
			return false, err
		}
		q, err := st.Quant(h)
		if err != nil {
			if errors.Is(err, chain.ErrNotFound) {
				break // taken off by a reorganisation since HashAt
			}
			return false, err
		}
		if (pos.set || len(qs) > 0) && q.Header.Prev != prev {
			break // a reorganisation under the read: the next step sees it
		}
		qs, hs = append(qs, q), append(hs, h)
		txs += len(q.Txs)
		prev = h
		next++
	}
	if len(qs) == 0 {
		return false, nil
	}
	if err := p.apply(ctx, c.ID(), qs, hs); err != nil {
		return false, err
	}
	last := qs[len(qs)-1]
	p.setPos(c.ID(), position{set: true, height: last.Header.Height, hash: hs[len(hs)-1]})
	return true, nil
}

// rowsPerInsert bounds the rows of one INSERT statement (and so its
// placeholders: 8 a row, under SQLite's and PostgreSQL's limits).
const rowsPerInsert = 500

// apply writes qs (hashes hs), which follow the chain's position, and
// moves the position to the last, in one SQL transaction.
func (p *Projector) apply(ctx context.Context, id quant.Hash, qs []*quant.Quant, hs []quant.Hash) error {
	if p.db.dialect == dialectPostgres {
		return p.applyCopy(ctx, id, qs, hs)
	}
	tx, err := p.db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cid := id.String()
	ins := inserter{db: p.db, tx: tx, table: "quants", cols: []string{"chain", "height", "hash", "prev", "time", "tx_count"}}
	for i, q := range qs {
		if err := ins.add(ctx, cid, int64(q.Header.Height), hs[i].String(), q.Header.Prev.String(), q.Header.Time, len(q.Txs)); err != nil {
			return err
		}
	}
	if err := ins.flush(ctx); err != nil {
		return err
	}
	ins = inserter{db: p.db, tx: tx, table: "transactions", cols: []string{"chain", "height", "position", "id", "time", "signer", "kind", "data", "key"}}
	for _, q := range qs {
		for i, t := range q.Txs {
			var signer any
			if t.Signed() {
				signer = hex.EncodeToString(t.PubKey)
			}
			kind, data := dataOf(t)
			if err := ins.add(ctx, cid, int64(q.Header.Height), i, t.ID().String(), t.Time, signer, kind, data, keyOf(t)); err != nil {
				return err
			}
		}
	}
	if err := ins.flush(ctx); err != nil {
		return err
	}
	last := qs[len(qs)-1]
	if _, err := tx.ExecContext(ctx, p.db.bind(`UPDATE chains SET height = ?, hash = ? WHERE id = ?`),
		int64(last.Header.Height), hs[len(hs)-1].String(), cid); err != nil {
		return fmt.Errorf("move position: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// keyOf is a transaction's record key as a column holds it: NULL for
// none.
func keyOf(t *quant.Tx) any {
	if t.Key == "" {
		return nil
	}
	return t.Key
}

// dataOf is a transaction's kind and data as the projection keeps them:
// JSON data as it is (stored compacted), bytes as a JSON string of their
// base64, as the API shows them.
func dataOf(t *quant.Tx) (kind string, data string) {
	if t.Kind == quant.DataJSON {
		return "json", string(t.Data)
	}
	b, _ := json.Marshal(base64.StdEncoding.EncodeToString(t.Data))
	return "bytes", string(b)
}

// inserter writes rows of one table in multi-row INSERTs.
type inserter struct {
	db    *db
	tx    *sql.Tx
	table string
	cols  []string
	args  []any
	rows  int
}

func (in *inserter) add(ctx context.Context, vals ...any) error {
	in.args = append(in.args, vals...)
	in.rows++
	if in.rows == rowsPerInsert {
		return in.flush(ctx)
	}
	return nil
}

func (in *inserter) flush(ctx context.Context) error {
	if in.rows == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + in.table + " (" + strings.Join(in.cols, ", ") + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(in.cols)), ", ") + ")"
	for i := range in.rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if _, err := in.tx.ExecContext(ctx, in.db.bind(b.String()), in.args...); err != nil {
		return fmt.Errorf("insert %s: %w", in.table, err)
	}
	in.args, in.rows = in.args[:0], 0
	return nil
}

// rewind undoes the projection of the quants a reorganisation took off
// the chain's main chain: it walks back from pos to the highest projected
// quant still on the main chain and deletes every row above it, moving
// the position there, in one SQL transaction.
func (p *Projector) rewind(ctx context.Context, src Source, pos position) error {
	id := src.Chain.ID()
	cid := id.String()
	h, keep := pos.height, quant.Hash{}
	for {
		if h <= src.Chain.Base() {
			return fmt.Errorf("the projected bang %d is not the chain's", h)
		}
		h--
		var s string
		err := p.db.w.QueryRowContext(ctx, p.db.bind(`SELECT hash FROM quants WHERE chain = ? AND height = ?`), cid, int64(h)).Scan(&s)
		if err != nil {
			return fmt.Errorf("rewind: quant %d: %w", h, err)
		}
		sh, err := quant.ParseHash(s)
		if err != nil {
			return fmt.Errorf("rewind: quant %d: %w", h, err)
		}
		mh, err := src.Store.HashAt(h)
		if err != nil && !errors.Is(err, chain.ErrNotFound) {
			return err
		}
		if err == nil && mh == sh {
			keep = sh
			break
		}
	}
	tx, err := p.db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, table := range []string{"transactions", "quants"} {
		if _, err := tx.ExecContext(ctx, p.db.bind(`DELETE FROM `+table+` WHERE chain = ? AND height > ?`), cid, int64(h)); err != nil {
			return fmt.Errorf("rewind: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, p.db.bind(`UPDATE chains SET height = ?, hash = ? WHERE id = ?`), int64(h), keep.String(), cid); err != nil {
		return fmt.Errorf("rewind: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rewind: commit: %w", err)
	}
	p.log.Info("sql projection: reorganisation undone", "chain", cid, "from", pos.height, "to", h)
	p.setPos(id, position{set: true, height: h, hash: keep})
	return nil
}

// Lag is how many quants of chain id's main chain are not projected yet;
// ok is false for a chain the projector does not know.
func (p *Projector) Lag(id quant.Hash) (lag uint64, ok bool) {
	for _, src := range p.cfg.Sources() {
		if src.Chain.ID() == id {
			return p.lagOf(src), true
		}
	}
	return 0, false
}

func (p *Projector) lagOf(src Source) uint64 {
	tip := src.Chain.Tip().Header.Height
	pos, ok := p.cached(src.Chain.ID())
	switch {
	case !ok || !pos.set:
		return tip - src.Chain.Base() + 1
	case pos.height >= tip:
		return 0
	}
	return tip - pos.height
}

// Rebuild deletes the projection of chain id (its quants and
// transactions, and its position) in one SQL transaction; the next pass
// projects it again from its bang. The chain's row and view stay.
func (p *Projector) Rebuild(ctx context.Context, id quant.Hash) error {
	p.work.Lock()
	defer p.work.Unlock()
	defer p.forget(id)
	tx, err := p.db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cid := id.String()
	for _, table := range []string{"transactions", "quants"} {
		if _, err := tx.ExecContext(ctx, p.db.bind(`DELETE FROM `+table+` WHERE chain = ?`), cid); err != nil {
			return fmt.Errorf("sqlproj: rebuild: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, p.db.bind(`UPDATE chains SET height = NULL, hash = NULL WHERE id = ?`), cid); err != nil {
		return fmt.Errorf("sqlproj: rebuild: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlproj: rebuild: %w", err)
	}
	p.log.Info("sql projection: rebuilding", "chain", cid)
	return nil
}
