package sqlproj

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
)

// dialect is the SQL database a projection is kept in.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// SQLiteFile is the projection's file in the data directory by default.
const SQLiteFile = "projection.sqlite"

// Off is the --sql setting that turns the projection off.
const Off = "off"

// db is an open projection database: w writes (one connection on SQLite),
// r serves queries (a read-only connection pool on SQLite; w itself on
// PostgreSQL, in READ ONLY transactions).
type db struct {
	dialect dialect
	w, r    *sql.DB
	where   string // for logs: the file, or the PostgreSQL host and database
	// superuser: the PostgreSQL role is one, so a read-only query could
	// still call functions that reach the server's files (Open warns).
	superuser bool
}

// openDB opens the database dsn names: "" for SQLiteFile in dir,
// "sqlite:PATH", or a postgres:// (postgresql://) URL.
func openDB(ctx context.Context, dsn, dir string) (*db, error) {
	switch {
	case dsn == "" || strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			path = filepath.Join(dir, SQLiteFile)
		}
		return openSQLite(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("%w: %q is not %q, sqlite:PATH or a postgres:// URL", ErrBadDSN, redact(dsn), Off)
}

// redact hides a URL's password.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}

func sqliteURI(path string, query url.Values) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: query.Encode()}
	return u.String(), nil
}

func openSQLite(ctx context.Context, path string) (_ *db, err error) {
	wq := url.Values{}
	wq.Add("_pragma", "journal_mode(WAL)")
	// NORMAL in WAL mode: a commit survives a crash of the process (kill
	// -9); a power loss may lose the last commits, rows and position
	// together, which the projector then redoes from the chain.
	wq.Add("_pragma", "synchronous(NORMAL)")
	wq.Add("_pragma", "busy_timeout(10000)")
	// A 32 MiB page cache: a batch is written once, at commit, not spilled.
	wq.Add("_pragma", "cache_size(-32768)")
	wq.Set("_txlock", "immediate")
	wdsn, err := sqliteURI(path, wq)
	if err != nil {
		return nil, fmt.Errorf("sqlproj: %w", err)
	}
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("sqlproj: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	d := &db{dialect: dialectSQLite, w: w, where: path}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if err := d.migrate(ctx); err != nil {
		return nil, err
	}
	rq := url.Values{}
	rq.Set("mode", "ro")
	rq.Add("_pragma", "busy_timeout(10000)")
	rq.Add("_pragma", "query_only(1)")
	rdsn, err := sqliteURI(path, rq)
	if err != nil {
		return nil, fmt.Errorf("sqlproj: %w", err)
	}
	drv := &sqlite.Driver{}
	drv.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		a, ok := c.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("sqlproj: the sqlite driver has no authorizer")
		}
		return a.RegisterAuthorizer(readOnly)
	})
	d.r = sql.OpenDB(connector{drv: drv, dsn: rdsn})
	d.r.SetMaxOpenConns(4)
	return d, nil
}

// readOnly is the authorizer of the query connections: reading tables and
// calling functions (not the ones that load code or read files, which this
// build does not have) is all a query may do.
func readOnly(action sqlite.AuthorizerActionCode, _, _, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthFunction, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	}
	return sqlite.AuthorizerDeny
}

// connector opens connections of one driver to one dsn, for sql.OpenDB.
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

func openPostgres(ctx context.Context, dsn string) (_ *db, err error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadDSN, redact(dsn), err)
	}
	w := stdlib.OpenDB(*cfg)
	w.SetMaxOpenConns(8)
	d := &db{dialect: dialectPostgres, w: w, r: w, where: cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + cfg.Database}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if err := d.migrate(ctx); err != nil {
		return nil, err
	}
	var super bool
	if err := w.QueryRowContext(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err == nil && super {
		d.superuser = true
	}
	return d, nil
}

func (d *db) close() error {
	err := d.w.Close()
	if d.r != nil && d.r != d.w {
		if e := d.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

// types of the dialect: big integer, JSON.
func (d *db) types() (bigint, json string) {
	if d.dialect == dialectPostgres {
		return "BIGINT", "JSONB"
	}
	// TEXT, not JSON: a column declared JSON has numeric affinity in
	// SQLite, which would turn the JSON text 12 into the integer 12.
	return "INTEGER", "TEXT"
}

// migrate makes the tables if they are missing.
func (d *db) migrate(ctx context.Context) error {
	bigint, js := d.types()
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS chains (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			engine TEXT NOT NULL,
			base ` + bigint + ` NOT NULL,
			parent TEXT,
			rules ` + js + ` NOT NULL,
			view TEXT,
			height ` + bigint + `,
			hash TEXT
		)`,
		`CREATE TABLE IF NOT EXISTS quants (
			chain TEXT NOT NULL,
			height ` + bigint + ` NOT NULL,
			hash TEXT NOT NULL,
			prev TEXT NOT NULL,
			time ` + bigint + ` NOT NULL,
			tx_count INTEGER NOT NULL,
			PRIMARY KEY (chain, height)
		)`,
		`CREATE TABLE IF NOT EXISTS transactions (
			chain TEXT NOT NULL,
			height ` + bigint + ` NOT NULL,
			position INTEGER NOT NULL,
			id TEXT NOT NULL,
			time ` + bigint + ` NOT NULL,
			signer TEXT,
			kind TEXT NOT NULL,
			data ` + js + `,
			key TEXT,
			PRIMARY KEY (chain, height, position)
		)`,
		`CREATE INDEX IF NOT EXISTS transactions_id ON transactions (id)`,
		`CREATE INDEX IF NOT EXISTS transactions_signer ON transactions (signer)`,
		// Records: a keyed transaction is a version of its key's record
		// (docs/records.md). Their rows are the transactions' own, so they
		// share the position's exactly-once guarantee and are removed with
		// an abandoned quant's; two views read them.
		`CREATE INDEX IF NOT EXISTS transactions_key ON transactions (chain, key, height, position) WHERE key IS NOT NULL`,
		d.createView("record_history", `SELECT chain, key, height, position, id, time, signer, kind, data
			FROM transactions WHERE key IS NOT NULL`),
		d.createView("records", `SELECT chain, key, height, position, id, time, signer, kind, data FROM (
			SELECT chain, key, height, position, id, time, signer, kind, data,
				row_number() OVER (PARTITION BY chain, key ORDER BY height DESC, position DESC) AS newest
			FROM transactions WHERE key IS NOT NULL) AS versions WHERE newest = 1`),
	}
	for _, s := range stmts {
		if _, err := d.w.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sqlproj: %s: make tables: %w", d.where, err)
		}
	}
	return nil
}

// createView is the statement that makes (or keeps) a view.
func (d *db) createView(name, query string) string {
	if d.dialect == dialectPostgres {
		return "CREATE OR REPLACE VIEW " + quoteIdent(name) + " AS " + query
	}
	return "CREATE VIEW IF NOT EXISTS " + quoteIdent(name) + " AS " + query
}

// bind rewrites the ? placeholders of q as the dialect writes them.
func (d *db) bind(q string) string {
	if d.dialect != dialectPostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		} else {
			b.WriteByte(q[i])
		}
	}
	return b.String()
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// viewSQL is the statement that makes a chain's typed view.
func (d *db) viewSQL(view string, id string, cols []Column) string {
	var b strings.Builder
	if d.dialect == dialectPostgres {
		b.WriteString("CREATE OR REPLACE VIEW ")
	} else {
		b.WriteString("CREATE VIEW IF NOT EXISTS ")
	}
	b.WriteString(quoteIdent(view))
	b.WriteString(" AS SELECT height, position, id, time, signer")
	for _, c := range cols {
		b.WriteString(", ")
		b.WriteString(d.columnExpr(c))
		b.WriteString(" AS ")
		b.WriteString(quoteIdent(c.Name))
	}
	// id is hex, so it is safe to write into the statement.
	b.WriteString(", data FROM transactions WHERE chain = '" + id + "' AND kind = 'json'")
	return b.String()
}

// columnExpr reads a typed column from the data. c.Property is a plain
// identifier (Columns checks it), so it is safe in a JSON path.
func (d *db) columnExpr(c Column) string {
	if d.dialect == dialectPostgres {
		text := "(data->>'" + c.Property + "')"
		switch c.Type {
		case TypeText:
			return text
		case TypeInteger:
			return text + "::numeric"
		case TypeReal:
			return text + "::double precision"
		case TypeBool:
			return text + "::boolean"
		}
		return "(data->'" + c.Property + "')"
	}
	return "json_extract(data, '$." + c.Property + "')"
}
