package sqlproj

import "errors"

// Errors of this package; check them with errors.Is.
var (
	// ErrRefused: the query is not one read-only statement.
	ErrRefused = errors.New("sqlproj: refused")
	// ErrQuery: the database refused or failed the query (syntax, unknown
	// table, a write the read-only connection stopped).
	ErrQuery = errors.New("sqlproj: query failed")
	// ErrTimeout: the query ran past its time limit.
	ErrTimeout = errors.New("sqlproj: query time limit reached")
	// ErrBadDSN: the --sql setting is not off, a sqlite file or a
	// postgres URL.
	ErrBadDSN = errors.New("sqlproj: bad database setting")
)
