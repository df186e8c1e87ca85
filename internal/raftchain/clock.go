package raftchain

import (
	"sync/atomic"
	"time"
)

// clock is the chain's clock on a replica: the wall clock, but never
// earlier than the newest quant the replica has applied or is applying.
//
// chain.Add refuses a quant dated more than max_time_drift_ms ahead of the
// validating node's clock. Under Raft every member must make the same
// decision about every committed entry, or the members' chains diverge; a
// member whose clock lags the leader's by more than the drift would refuse
// what the others accept. With this clock a committed quant's time is
// never in the future, so the decision depends on the log alone. The
// leader's clock still dates quants, and the other time rules (after the
// median time past; transactions no later than their quant's time plus the
// drift) are unchanged.
type clock struct {
	floor atomic.Int64 // Unix ms
}

// Now is max(wall clock, floor).
func (c *clock) Now() time.Time {
	now := time.Now()
	if f := c.floor.Load(); now.UnixMilli() < f {
		return time.UnixMilli(f)
	}
	return now
}

// raise moves the floor up to ms (never down).
func (c *clock) raise(ms int64) {
	for {
		cur := c.floor.Load()
		if ms <= cur || c.floor.CompareAndSwap(cur, ms) {
			return
		}
	}
}
