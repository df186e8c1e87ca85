package sqlproj

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/qbc-chain/qbc/internal/api"
)

// Query runs q, one read-only statement, and answers its rows: at most
// maxRows (0: the configured default; never over ten times it), and about
// MaxAnswerBytes, after which the answer is marked truncated. A query that
// is not one read (ErrRefused), that the database refuses (ErrQuery) or
// that runs past the time limit (ErrTimeout) is an error.
func (p *Projector) Query(ctx context.Context, q string, maxRows int) (*api.SQLResult, error) {
	stmt, err := oneStatement(q)
	if err != nil {
		return nil, err
	}
	if maxRows <= 0 {
		maxRows = p.cfg.MaxRows
	}
	maxRows = min(maxRows, 10*p.cfg.MaxRows)
	ctx, cancel := context.WithTimeout(ctx, p.cfg.QueryTimeout)
	defer cancel()
	var rows *sql.Rows
	if p.db.dialect == dialectPostgres {
		tx, err := p.db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, p.queryErr(ctx, err)
		}
		defer tx.Rollback()
		ms := p.cfg.QueryTimeout.Milliseconds()
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", max(ms, 1))); err != nil {
			return nil, p.queryErr(ctx, err)
		}
		rows, err = tx.QueryContext(ctx, stmt)
		if err != nil {
			return nil, p.queryErr(ctx, err)
		}
	} else {
		conn, err := p.db.r.Conn(ctx)
		if err != nil {
			return nil, p.queryErr(ctx, err)
		}
		defer conn.Close()
		// No string or blob over the answer's size: a query cannot make
		// the node hold a gigabyte (randomblob, zeroblob, printf).
		if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, p.cfg.MaxAnswerBytes); err != nil {
			return nil, fmt.Errorf("sqlproj: %w", err)
		}
		rows, err = conn.QueryContext(ctx, stmt)
		if err != nil {
			return nil, p.queryErr(ctx, err)
		}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, p.queryErr(ctx, err)
	}
	res := &api.SQLResult{Columns: cols, Rows: [][]any{}}
	size := 0
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if len(res.Rows) == maxRows || size > p.cfg.MaxAnswerBytes {
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, p.queryErr(ctx, err)
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i], size = jsonValue(v, size)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, p.queryErr(ctx, err)
	}
	return res, nil
}

// queryErr classifies an error of a query.
func (p *Projector) queryErr(ctx context.Context, err error) error {
	var pe *pgconn.PgError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.As(err, &pe) && pe.Code == "57014": // query_canceled: statement_timeout
		return fmt.Errorf("%w (%s)", ErrTimeout, p.cfg.QueryTimeout)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%w: %v", ErrQuery, err)
}

// jsonValue is v as the answer carries it, and size grown by about its
// length: text as text, bytes as text when they are UTF-8 and base64
// otherwise, times in RFC 3339.
func jsonValue(v any, size int) (any, int) {
	switch x := v.(type) {
	case nil:
		return nil, size + 4
	case []byte:
		if utf8.Valid(x) {
			return string(x), size + len(x)
		}
		s := base64.StdEncoding.EncodeToString(x)
		return s, size + len(s)
	case string:
		return x, size + len(x)
	case time.Time:
		return x.Format(time.RFC3339Nano), size + 32
	case *big.Int:
		return x.String(), size + 24
	}
	return v, size + 16
}
