package api

import "github.com/qbc-chain/qbc/internal/quant"

// SQLQuery is the body of POST /v1/sql: one read-only statement.
type SQLQuery struct {
	Query string `json:"query"`
	// MaxRows caps the rows answered (0: the node's default); the node
	// caps it too.
	MaxRows int `json:"max_rows,omitempty"`
}

// SQLResult answers POST /v1/sql: the columns and rows, in order.
// Truncated says rows were left out by the row or size cap.
type SQLResult struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
}

// SQLCheck is one chain in GET /v1/sql/check: the projection compared
// with the chain up to the projection's position.
type SQLCheck struct {
	Chain quant.Hash `json:"chain"`
	// Height and Hash are the projection's position; Tip the chain's tip
	// height.
	Height uint64     `json:"height"`
	Hash   quant.Hash `json:"hash"`
	Tip    uint64     `json:"tip"`
	// Quants and Txs are counted on the chain from its bang up to
	// Height; SQLQuants and SQLTxs in the projection.
	Quants    uint64 `json:"quants"`
	Txs       uint64 `json:"txs"`
	SQLQuants uint64 `json:"sql_quants"`
	SQLTxs    uint64 `json:"sql_txs"`
	// Digest and SQLDigest are SHA-256 over the quants' hashes and the
	// transactions' ids in order (docs/sql.md), hex.
	Digest    string `json:"digest"`
	SQLDigest string `json:"sql_digest"`
	OK        bool   `json:"ok"`
	// Problem says what differs, when not OK.
	Problem string `json:"problem,omitempty"`
}

// SQLChecks answers GET /v1/sql/check.
type SQLChecks struct {
	Chains []SQLCheck `json:"chains"`
	OK     bool       `json:"ok"`
}

// ExportTx is one line of GET /v1/chains/{id}/export: a committed
// transaction (in the shape of Tx, with its id) and where it sits.
type ExportTx struct {
	Height uint64     `json:"height"`
	Index  int        `json:"index"`
	Quant  quant.Hash `json:"quant"`
	Tx
}
