package main

import (
	"context"
	"time"
)

const nodeInfoHelp = `Usage: qbc node info [flags]

Print who a running node is (GET /v1/node): its node id, its public key
(what a raft chain's members list; 'qbc chain new --members' can name the
node by its address instead), its version, its API addresses, and, for each
raft chain it is a member of, its member id and its Raft transport's
address.
`

const nodeInfoExample = `qbc node info --node 127.0.0.1:5000
qbc node info --node 127.0.0.1:5001 | jq -r .key`

func runNodeInfo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "node info", nodeInfoHelp, nodeInfoExample)
	nf := fs.addNodeFlags(time.Minute)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("node info", pos, 0, 0); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	info, err := c.Node(ctx)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, info)
}
