// Package sqlproj keeps a live projection of the chains a node follows in
// SQL: SQLite (modernc.org/sqlite, pure Go) in a file of the node's data
// directory by default, or PostgreSQL (pgx) when given a postgres:// URL.
// It is the only package that imports the SQL drivers.
//
// # Tables
//
// chains (one row per chain: id, name, engine, base, parent, rules, view,
// and the projection's position height and hash), quants (chain, height,
// hash, prev, time, tx_count) and transactions (chain, height, position,
// id, time, signer, kind, data as JSON, jsonb on PostgreSQL). A chain whose
// rules carry a JSON Schema also gets a view named tx_<name>_<id8> whose
// columns are the schema's top-level properties, typed (Columns).
// docs/sql.md lists the mapping.
//
// # Exactly once, in order
//
// Each chain's position (height and quant hash) is in its chains row and is
// updated in the same SQL transaction as the rows of the quants it covers,
// so a crash at any point leaves rows and position agreeing: on restart the
// projector continues after the position, with no gap and no duplicate.
// Before it goes on, it compares the position's hash with the chain's
// main-chain hash at that height; when they differ (a proof-of-work
// reorganisation took the quant off the main chain) it walks back to the
// highest projected quant still on the main chain and deletes everything
// above it, in one transaction, then applies the new branch. Each quant it
// reads must link to the previous one, so a reorganisation racing with the
// read is caught the same way.
//
// # Behind the commit path
//
// The Projector runs on its own goroutine (Run), woken by the node's quant
// events and by a poll of the tips, and reads committed quants from the
// chain's store; the commit path never waits for it. How far it is behind
// is the gauge qbc_sql_lag_quants{chain} (Lag).
//
// # Queries
//
// Query runs one read-only statement: on SQLite on a separate read-only
// connection (mode=ro) with an authorizer that allows reads only; on
// PostgreSQL in a READ ONLY transaction with a statement_timeout; both under
// a time limit, with a row and byte cap on the answer.
package sqlproj
