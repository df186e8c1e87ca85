package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

const zkRulesHelp = `Usage: qbc zk rules --keys DIR [--group NAME --prefix P --admins K1,K2 [--window N] [--read-gated]]

Print a rules document holding only a zk section for the keys in DIR (each
CIRCUIT.vk in full, CIRCUIT.pk's SHA-256) and, with --group, one group:
record keys under --prefix are written by its members with a membership
proof (and, with --read-gated, served only to a member's proof); its
member list, the record zk/group/NAME, is changed only by a signature of
one of --admins (hex keys or key files); a replaced root still proves for
--window quants. Give the output to 'qbc chain new FILE --name NAME' (or
merge it into a genesis file): the chain id then names the keys.
`

const zkRulesExample = `qbc zk rules --keys keys --group club --prefix club/ --admins admin.key --window 10 > zk.json
qbc chain new zk.json --name club`

func runZKRules(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "zk rules", zkRulesHelp, zkRulesExample)
	dir := fs.String("keys", "", "key `directory`")
	group := fs.String("group", "", "a group's `name`")
	prefix := fs.String("prefix", "", "the group's record key `prefix`")
	admins := fs.String("admins", "", "the group's admins: hex public `keys` or key files, comma-separated")
	window := fs.Uint64("window", 10, "quants a replaced root still proves")
	gated := fs.Bool("read-gated", false, "serve the group's records only to a member's proof")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("zk rules", pos, 0, 0); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("zk rules: give --keys DIR")
	}
	z := &quant.ZKRules{}
	for _, c := range zk.Circuits {
		vk, err := os.ReadFile(filepath.Join(*dir, c.String()+".vk"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		pk, err := os.ReadFile(filepath.Join(*dir, c.String()+".pk"))
		if err != nil {
			return err
		}
		h := zk.KeyHash(pk)
		z.Circuits = append(z.Circuits, quant.ZKCircuit{Circuit: c.String(), Depth: keyDepth(*dir, c),
			VK: hex.EncodeToString(vk), PKSHA256: hex.EncodeToString(h[:])})
	}
	if len(z.Circuits) == 0 {
		return fmt.Errorf("zk rules: no keys in %s ('qbc zk setup --out %s')", *dir, *dir)
	}
	if *group != "" {
		g := quant.ZKGroup{Name: *group, Prefix: *prefix, RootWindow: *window, ReadGated: *gated}
		keys, err := publicKeys("--admins", *admins)
		if err != nil {
			return err
		}
		for _, k := range keys {
			g.Admins = append(g.Admins, hex.EncodeToString(k))
		}
		z.Groups = []quant.ZKGroup{g}
	}
	return writeJSON(e.stdout, map[string]any{"zk": z})
}
