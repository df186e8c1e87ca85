package main

import (
	"context"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
)

const peersHelp = `Usage: qbc peers [flags]

List the nodes the node knows (GET /discover), or, with --add, register
another node's address with it first (POST /discover host=HOST:PORT, as the
seed's node registration).
`

const peersExample = `qbc peers --node 127.0.0.1:5000
qbc peers --node 127.0.0.1:5000 --add 127.0.0.1:3000`

func runPeers(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "peers", peersHelp, peersExample)
	nf := fs.addNodeFlags(time.Minute)
	add := fs.String("add", "", "register the node at `HOST:PORT` first")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("peers", pos, 0, 0); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	var peers []api.Peer
	if *add != "" {
		peers, err = c.Discover(ctx, *add)
	} else {
		peers, err = c.Peers(ctx)
	}
	if err != nil {
		return err
	}
	if peers == nil {
		peers = []api.Peer{}
	}
	return writeJSON(e.stdout, map[string][]api.Peer{"peers": peers})
}
