package peer

import (
	"math/big"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Status is a node's tip.
type Status struct {
	Chain  quant.Hash
	Height uint64
	Tip    quant.Hash
	Work   *big.Int
}

// Host is what the peer layer asks of the node. Everything it hands over
// is checked by the Host as it checks what clients send.
type Host interface {
	Status() Status
	// SubmitTx validates and pools a transaction; a *quant.RuleError when
	// invalid (CodeDuplicate when already known).
	SubmitTx(tx *quant.Tx) error
	// AddQuant validates and adds a quant, maybe reorganizing; a
	// *quant.RuleError when invalid, CodeUnknownParent when its parent is
	// unknown, CodeDuplicate when already stored.
	AddQuant(q *quant.Quant) error
	HasQuant(h quant.Hash) bool
	Quant(h quant.Hash) (*quant.Quant, error)
	Locator() []quant.Hash
	// HashesAfter lists the main-chain hashes after the locator's fork
	// point, at most limit.
	HashesAfter(locator []quant.Hash, limit int) ([]quant.Hash, error)
	// Chains lists every chain the node follows, told to peers in hellos.
	Chains() []quant.Hash
	// Offered is told which chains a peer at addr follows (from its hello).
	// It is called on a goroutine owned by Service.Run.
	Offered(addr string, chains []quant.Hash)
}
