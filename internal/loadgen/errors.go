package loadgen

import "errors"

// Errors of the package.
var (
	// ErrPolicy says the chain's write policy refuses what the run would
	// send (unsigned transactions on a signed chain, or any on an
	// allowlist chain, whose keys the bench does not hold).
	ErrPolicy = errors.New("loadgen: the chain's write policy refuses these transactions")
	// ErrNoNodes says Config.Nodes is empty.
	ErrNoNodes = errors.New("loadgen: no nodes given")
	// ErrStuck says the run stopped sending early: for Config.Stuck the
	// nodes refused every request with pool_full while nothing was
	// acknowledged or committed, so their pool would not have made room
	// before the run's end (a chain that makes no quants).
	ErrStuck = errors.New("loadgen: the pool stayed full and nothing committed")
)
