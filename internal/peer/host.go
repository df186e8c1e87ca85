package peer

import (
	"context"
	"math/big"
	"strconv"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Status is a node's tip.
type Status struct {
	Chain  quant.Hash
	Height uint64
	Tip    quant.Hash
	Work   *big.Int
}

// Verdict is what the host made of something a peer sent; the peer layer
// scores and relays by it.
type Verdict uint8

// The verdicts.
const (
	Accepted Verdict = iota // new and valid: relay it
	Known                   // already had it: nothing to do, no fault
	Orphan                  // a quant whose parent is unknown here: sync
	Declined                // not taken this way (e.g. a member of an ordered chain takes quants only from its log; pool full): no fault, no relay
	Invalid                 // breaks a rule of the chain: the sender is scored down
)

var verdictNames = [...]string{
	Accepted: "accepted",
	Known:    "known",
	Orphan:   "orphan",
	Declined: "declined",
	Invalid:  "invalid",
}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Host is what the peer layer asks of the node. Everything it hands over
// is checked by the Host as it checks what clients send; the Host answers
// with a Verdict, which alone decides scoring and relaying (the error that
// comes with it is for logs only).
type Host interface {
	Status() Status
	// SubmitTx validates and pools a transaction a peer gossiped.
	SubmitTx(ctx context.Context, tx *quant.Tx) (Verdict, error)
	// AddQuant validates and adds a quant a peer sent, maybe
	// reorganizing.
	AddQuant(ctx context.Context, q *quant.Quant) (Verdict, error)
	HasQuant(h quant.Hash) bool
	Quant(h quant.Hash) (*quant.Quant, error)
	Locator() []quant.Hash
	// HashesAfter lists the main-chain hashes after the locator's fork
	// point, at most limit.
	HashesAfter(locator []quant.Hash, limit int) ([]quant.Hash, error)
	// Chains lists every chain the node follows, told to peers in hellos.
	Chains() []quant.Hash
	// Offered is told which chains a peer at addr follows (from its
	// hello). It is called on a goroutine owned by Service.Run; ctx ends
	// with Run.
	Offered(ctx context.Context, addr string, chains []quant.Hash)
	// Pending lists pooled transactions, oldest first, at most max of them
	// and at most maxBytes encoded: what a newly live peer is sent, so that
	// a transaction taken while the peer was not live still reaches it.
	Pending(max int, maxBytes int64) []*quant.Tx
}
