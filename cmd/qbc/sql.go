package main

import (
	"context"
	"fmt"
	"time"

	"github.com/qbc-chain/qbc/internal/client"
)

const sqlHelp = `Usage: qbc sql [flags] 'SELECT ...'
       qbc sql check [flags]
       qbc sql rebuild [--chain ID] [flags]

Query the node's SQL projection of its chains (POST /v1/sql): one read-only
statement (SELECT, WITH, VALUES, EXPLAIN, TABLE), answered as JSON
{"columns": [...], "rows": [[...]], "truncated": false}. The node runs it
on a read-only connection under a time limit (5 s) and caps the rows
(1,000 by default, --max-rows up to 10,000); a statement that writes is
refused (400 invalid_request). The tables (chains, quants, transactions
and a typed view per chain with a JSON Schema) are listed in docs/sql.md.

'qbc sql check' compares the projection with the chains (GET
/v1/sql/check): for each chain, the counts of quants and transactions
and a digest of each side, up to the projection's position. It fails
(exit status 1) when a chain differs.

'qbc sql rebuild' drops the projection of one chain (--chain, or
QBC_CHAIN; default the node's default chain), which the node then makes
again from the chain (POST /v1/chains/{id}/sql/rebuild); 'qbc sql check
--wait' tells when it is done.
`

const sqlExample = `qbc sql "SELECT height, id, data FROM transactions ORDER BY height DESC LIMIT 10"
qbc sql "SELECT json_extract(data, '$.user') AS user, count(*) FROM transactions GROUP BY 1"
qbc sql check --node 127.0.0.1:5000`

func runSQL(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "check" {
		return runSQLCheck(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "rebuild" {
		return runSQLRebuild(ctx, e, args[1:])
	}
	fs := newFlags(e, "sql", sqlHelp, sqlExample)
	nf := fs.addNodeFlags(time.Minute)
	maxRows := fs.Int("max-rows", 0, "answer at most `n` rows (0: the node's default, 1,000)")
	wait := fs.Bool("wait", false, "first wait until the projection holds every chain's quants up to its tip")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("sql", pos, 1, 1); err != nil {
		return err
	}
	c, err := projectedClient(ctx, nf, *wait)
	if err != nil {
		return err
	}
	res, err := c.SQL(ctx, pos[0], *maxRows)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, res)
}

func runSQLCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sql check", sqlHelp, sqlExample)
	nf := fs.addNodeFlags(10 * time.Minute)
	wait := fs.Bool("wait", false, "first wait until the projection holds every chain's quants up to its tip")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("sql check", pos, 0, 0); err != nil {
		return err
	}
	c, err := projectedClient(ctx, nf, *wait)
	if err != nil {
		return err
	}
	res, err := c.SQLCheck(ctx)
	if err != nil {
		return err
	}
	if err := writeJSON(e.stdout, res); err != nil {
		return err
	}
	if !res.OK {
		bad := 0
		for _, ch := range res.Chains {
			if !ch.OK {
				bad++
			}
		}
		return fmt.Errorf("sql check: the projection differs from %d chain(s)", bad)
	}
	return nil
}

func runSQLRebuild(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sql rebuild", sqlHelp, sqlExample)
	nf := fs.addChainFlags(time.Minute)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("sql rebuild", pos, 0, 0); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	if err := c.SQLRebuild(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "rebuilding")
	return nil
}

// projectedClient is the client of the node nf names, after waiting, if
// wait, until its projection lags no chain (waitProjected).
func projectedClient(ctx context.Context, nf nodeFlags, wait bool) (*client.Client, error) {
	c, err := nf.client()
	if err != nil {
		return nil, err
	}
	if wait {
		if err := waitProjected(ctx, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// waitProjected waits until the node's projection lags no chain (every
// chain's sql_lag_quants is 0), asking every 50 ms, until ctx ends.
func waitProjected(ctx context.Context, c *client.Client) error {
	for {
		chains, err := c.Chains(ctx)
		if err != nil {
			return err
		}
		done := true
		for _, ch := range chains {
			if ch.Stats.SQLLag == nil {
				return fmt.Errorf("sql: the node's SQL projection is off")
			}
			done = done && *ch.Stats.SQLLag == 0
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sql: waiting for the projection: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
