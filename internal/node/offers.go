package node

import (
	"sync"
	"time"
)

// Offers from peers: how many chains one peer can make this node follow.
const (
	// offersPerPeer is how many chains one peer's offers may make this
	// node follow (or try to: each costs a fetch of the chain's rules and
	// a sync) in any offerWindow.
	offersPerPeer = 4
	offerWindow   = time.Minute
	// maxOfferPeers bounds the peers offerLimit keeps times for; past it,
	// a peer not yet kept is refused until older times expire.
	maxOfferPeers = 1024
)

// offerLimit bounds the chains one peer's offers make this node follow:
// at most offersPerPeer in any offerWindow, per peer address. Without it
// a stranger that makes chains as fast as it can, or names hundreds in a
// hello, has this node fetch, follow and sync them all at once, up to
// max_chains; with it, what is over the limit is logged and left for a
// later offer. Its clock is injected (now; time.Now when nil).
type offerLimit struct {
	now func() time.Time

	mu struct {
		sync.Mutex
		times map[string][]time.Time // per peer, its follows within the window, oldest first
	}
}

// take reports whether the peer at addr may make this node follow one
// more chain now, and if so counts it.
func (o *offerLimit) take(addr string) bool {
	now := time.Now()
	if o.now != nil {
		now = o.now()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.times == nil {
		o.mu.times = make(map[string][]time.Time)
	}
	ts, kept := o.mu.times[addr]
	if !kept && len(o.mu.times) >= maxOfferPeers {
		o.expireLocked(now)
		if len(o.mu.times) >= maxOfferPeers {
			return false
		}
	}
	ts = recent(ts, now)
	if len(ts) >= offersPerPeer {
		o.mu.times[addr] = ts
		return false
	}
	o.mu.times[addr] = append(ts, now)
	return true
}

// expireLocked forgets the peers with no follow within the window.
func (o *offerLimit) expireLocked(now time.Time) {
	for addr, ts := range o.mu.times {
		if len(recent(ts, now)) == 0 {
			delete(o.mu.times, addr)
		}
	}
}

// recent drops the times of ts (oldest first) that are out of the window
// ending at now.
func recent(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= offerWindow {
		i++
	}
	return ts[i:]
}
