// Package engines is the list of consensus engines a node runs: each
// engine's factory by name and, for ordered engines, the replica its
// members run. It is the one place an engine is added; the node knows
// engines only through this Set and the capabilities consensus declares.
package engines

import (
	"context"
	"crypto/ed25519"
	"encoding/json"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/consensus/poa"
	"github.com/qbc-chain/qbc/internal/consensus/pow"
	"github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/raftchain"
	"github.com/qbc-chain/qbc/internal/replica"
)

// Set is what a node needs to know of its engines.
type Set struct {
	// Consensus builds the engine factories of a node whose key is key
	// (nil: a verifier that seals nothing, as `qbc verify`).
	Consensus func(key ed25519.PrivateKey) chain.Engines
	// Replicas opens, by engine name, the replica a member of an ordered
	// chain runs. Every engine whose Engine is consensus.Ordered has one.
	Replicas map[string]replica.Open
	// Resolve, by engine name, fills in what a new chain's engine
	// parameters name by a node's API address with what keyAt fetches from
	// that node (raft: members given as {"addr"}), before the bang is
	// made. An engine without one takes its parameters as given.
	Resolve map[string]Resolve
}

// Resolve returns a new chain's engine parameters with the nodes they name
// by address named by key, fetched with keyAt (see raft.ResolveMembers).
type Resolve func(ctx context.Context, params json.RawMessage, keyAt func(ctx context.Context, addr string) (ed25519.PublicKey, error)) (json.RawMessage, error)

// Default is every engine QBC ships: pow, poa and raft.
func Default() Set {
	return Set{
		Consensus: Consensus,
		Replicas:  map[string]replica.Open{raft.Name: raftchain.OpenReplica},
		Resolve:   map[string]Resolve{raft.Name: raft.ResolveMembers},
	}
}

// Consensus is the factories of the engines QBC ships, for a node whose
// key is key: with it, the node seals poa quants where it is an authority
// and knows which raft chains list it as a member.
func Consensus(key ed25519.PrivateKey) chain.Engines {
	return chain.Engines{pow.Name: pow.New, poa.Name: poa.Factory(key), raft.Name: raft.Factory(key)}
}

// DefaultParams returns the engine parameters a new chain on engine gets
// for those its rules leave out (quant.FillRules); nil for an engine QBC
// does not ship.
func DefaultParams(engine string) json.RawMessage {
	var p any
	switch engine {
	case pow.Name:
		p = pow.NewChainParams()
	case poa.Name:
		p = poa.DefaultParams()
	case raft.Name:
		p = raft.DefaultParams()
	default:
		return nil
	}
	b, _ := json.Marshal(p)
	return b
}
