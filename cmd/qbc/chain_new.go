package main

import (
	"context"
	"os"

	"github.com/qbc-chain/qbc/internal/quant"
)

const chainNewHelp = `Usage: qbc chain new RULES.json [flags]

Create a chain on a node (POST /v1/chains) from a rules file, the same JSON
as a genesis file: name, created, engine and engine_params, write_policy,
writers, size limits and an optional JSON Schema ("schema") that every
transaction's data must match. The node follows the new chain and offers it
to its peers. Prints the chain (id, rules, stats) as JSON.
`

const chainNewExample = `qbc chain new temps.json
qbc chain new --node 127.0.0.1:5001 orders.json`

func runChainNew(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "chain new", chainNewHelp, chainNewExample)
	nf := fs.addNodeFlags(0)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("chain new", pos, 1, 1); err != nil {
		return err
	}
	rules, err := os.ReadFile(pos[0])
	if err != nil {
		return usagef("chain new: %v", err)
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	out, err := c.CreateChain(ctx, rules)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, out)
}

const chainListHelp = `Usage: qbc chain list [flags]

List the chains a node follows (GET /v1/chains), the default first, with
their rules and stats, as JSON.
`

const chainListExample = `qbc chain list --node 127.0.0.1:5000`

func runChainList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "chain list", chainListHelp, chainListExample)
	nf := fs.addNodeFlags(0)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("chain list", pos, 0, 0); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	out, err := c.Chains(ctx)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, out)
}

const chainForkHelp = `Usage: qbc chain fork --height H RULES.json [flags]

Fork a chain (POST /v1/chains/{id}/fork): create a chain that shares the
chain's history up to its main-chain quant at height H, without copying it,
and follows the rules in RULES.json (another engine, schema or write policy)
after it. The node follows the fork and offers it to its peers. Prints the
fork (id, rules naming the parent, stats) as JSON. --chain picks the chain
to fork (default: QBC_CHAIN, else the node's default chain); a fork of a
fork works.
`

const chainForkExample = `qbc chain fork --height 120 signed-only.json
qbc chain fork --chain "$(jq -r .id fork.json)" --height 3 strict.json`

func runChainFork(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "chain fork", chainForkHelp, chainForkExample)
	nf := fs.addChainFlags(0)
	height := fs.Int64("height", -1, "`height` of the quant the fork grows from")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("chain fork", pos, 1, 1); err != nil {
		return err
	}
	if *height < 0 {
		return usagef("chain fork: --height is required")
	}
	rules, err := os.ReadFile(pos[0])
	if err != nil {
		return usagef("chain fork: %v", err)
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	out, err := c.Fork(ctx, quant.Hash{}, uint64(*height), rules)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, out)
}
