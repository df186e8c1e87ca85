package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"strings"

	"github.com/qbc-chain/qbc/internal/quant"
)

const chainNewHelp = `Usage: qbc chain new [RULES.json] [flags]

Create a chain on a node (POST /v1/chains) from rules: a rules file (the
same JSON as a genesis file), flags, or both, flags winning. Only the name
is needed: the node fills in every field left out from its default chain's
rules (engine, write_policy, size limits), the engine's parameters key by
key from the engine's defaults, and "created" from its clock, so the same
short file run twice makes two chains (give "created" to make one).

The fields: name, created (Unix ms), engine (pow, poa, raft) and
engine_params, write_policy (open, signed, allowlist), writers (hex keys,
for allowlist), max_data_bytes, max_quant_txs, max_quant_bytes,
max_time_drift_ms, schema, a JSON Schema every transaction's data must
match, and encrypted_fields, JSON pointers of fields every transaction must
carry encrypted to its readers ('qbc inject --encrypt-fields'; the schema
then checks the rest). examples/ holds a rules file for each kind of chain. A raft chain's
--members may name running nodes by address (HOST:PORT) instead of key: the
node fetches each one's key from its GET /v1/node ('qbc node info') and the
chain's rules list the key.

The node follows the new chain and offers it to its peers. Prints the chain
(id, rules, stats) as JSON. A node with an admin token (admin_token) needs
it: --admin-token or QBC_ADMIN_TOKEN.
`

const chainNewExample = `qbc chain new examples/temps.json
qbc chain new --name temps --schema examples/temps.schema.json
qbc chain new --name orders --write-policy signed
qbc chain new --name ward --encrypted-fields /patient/name,/notes
qbc chain new --name ledger --engine raft --members m0=KEY0,m1=KEY1,m2=KEY2
qbc chain new --name ledger --engine raft --members :5000,:5001,:5002
qbc chain new --name shared --engine poa --authorities KEY0,KEY1,KEY2`

func runChainNew(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "chain new", chainNewHelp, chainNewExample)
	nf := fs.addNodeFlags(0)
	fs.addAdminToken(&nf)
	var (
		name        = fs.String("name", "", "the chain's `name`")
		engine      = fs.String("engine", "", "the consensus `engine`: pow, poa or raft (default: the node's default chain's)")
		members     = fs.String("members", "", "raft members, comma-separated `[ID=]KEY|ADDR,...`: hex public keys ('qbc keys public'), or running nodes' HOST:PORT, whose keys the node fetches; ids default to m0, m1, ...")
		authorities = fs.String("authorities", "", "poa authorities, comma-separated hex public `KEY,...`")
		schemaFile  = fs.String("schema", "", "JSON Schema `file` every transaction's data must match")
		policy      = fs.String("write-policy", "", "who may write: open, signed or `allowlist`")
		writers     = fs.String("writers", "", "the allowlist's hex public `KEY,...`")
		created     = fs.Int64("created", 0, "creation time, Unix `ms` (default: now, so each run makes a new chain)")
		encrypted   = fs.String("encrypted-fields", "", "JSON `pointers`, comma-separated (/patient/name,/notes), of fields transactions must carry encrypted")
	)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("chain new", pos, 0, 1); err != nil {
		return err
	}
	rules := map[string]json.RawMessage{}
	if len(pos) == 1 {
		b, err := os.ReadFile(pos[0])
		if err != nil {
			return usagef("chain new: %v", err)
		}
		if err := json.Unmarshal(b, &rules); err != nil || rules == nil {
			return usagef("chain new: %s: not a JSON object of rules", pos[0])
		}
	}
	set := func(field string, v any) {
		b, _ := json.Marshal(v)
		rules[field] = b
	}
	params := map[string]json.RawMessage{}
	if raw, ok := rules["engine_params"]; ok {
		if err := json.Unmarshal(raw, &params); err != nil || params == nil {
			return usagef("chain new: engine_params: not a JSON object")
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			set("name", *name)
		case "engine":
			set("engine", *engine)
		case "write-policy":
			set("write_policy", *policy)
		case "writers":
			set("writers", splitList(*writers))
		case "created":
			set("created", *created)
		case "encrypted-fields":
			set("encrypted_fields", splitList(*encrypted))
		case "authorities":
			b, _ := json.Marshal(splitList(*authorities))
			params["authorities"] = b
		case "members":
			b, _ := json.Marshal(parseMembers(*members))
			params["members"] = b
		}
	})
	if *schemaFile != "" {
		b, err := os.ReadFile(*schemaFile)
		if err != nil {
			return usagef("chain new: --schema: %v", err)
		}
		if !json.Valid(b) {
			return usagef("chain new: --schema: %s is not JSON", *schemaFile)
		}
		rules["schema"] = b
	}
	if len(params) > 0 {
		set("engine_params", params)
	}
	if _, ok := rules["name"]; !ok {
		return usagef("chain new: a chain needs a name: give --name or a rules file with \"name\"\nRun 'qbc chain new --help' for usage.")
	}
	body, err := json.Marshal(rules)
	if err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	out, err := c.CreateChain(ctx, body)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, out)
}

// memberFlag is one --members entry as the rules send it: a key, or a
// node's address whose key the node creating the chain fetches.
type memberFlag struct {
	ID   string `json:"id,omitempty"`
	Key  string `json:"key,omitempty"`
	Addr string `json:"addr,omitempty"`
}

// parseMembers reads --members: [ID=]KEY or [ID=]HOST:PORT entries (an
// entry with a colon is an address); the node gives ids left out m0, m1,
// ... by position.
func parseMembers(s string) []memberFlag {
	var out []memberFlag
	for _, m := range splitList(s) {
		id, v, ok := strings.Cut(m, "=")
		if !ok {
			id, v = "", m
		}
		f := memberFlag{ID: strings.TrimSpace(id)}
		if v = strings.TrimSpace(v); strings.Contains(v, ":") {
			f.Addr = v
		} else {
			f.Key = strings.ToLower(v)
		}
		out = append(out, f)
	}
	return out
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
after it. The fork continues the chain's heights: its bang sits at H and its
first quant is at H+1; its reads (quants, quant) show the shared history
below unless asked with ?shared=false. The node follows the fork and offers
it to its peers. Prints the fork (id, rules naming the parent, stats) as JSON. --chain picks the chain
to fork (default: QBC_CHAIN, else the node's default chain); a fork of a
fork works. A node with an admin token (admin_token) needs it:
--admin-token or QBC_ADMIN_TOKEN.
`

const chainForkExample = `qbc chain fork --height 120 signed-only.json
qbc chain fork --chain "$(jq -r .id fork.json)" --height 3 strict.json`

func runChainFork(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "chain fork", chainForkHelp, chainForkExample)
	nf := fs.addChainFlags(0)
	fs.addAdminToken(&nf)
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
