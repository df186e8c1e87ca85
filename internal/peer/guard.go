package peer

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
)

// Refusals of an inbound envelope, beyond decoding and the signature.
var (
	ErrNotForMe  = errors.New("peer: envelope is addressed to another node")
	ErrStale     = errors.New("peer: envelope time is outside the accepted window")
	ErrReplay    = errors.New("peer: envelope was seen before (replay)")
	ErrNotMember = errors.New("peer: sender is not a member of this closed network")
	ErrBanned    = errors.New("peer: sender is banned for sending invalid data")
)

// guard checks inbound envelopes. It is safe for concurrent use.
type guard struct {
	self   ID
	skewMs int64
	allow  map[ID]bool // nil: an open network

	mu   sync.Mutex
	seen map[replayKey]int64 // envelope -> its time, kept while inside the window
}

type replayKey struct {
	from  ID
	nonce uint64
	time  int64
}

func newGuard(self ID, skewMs int64, allow []ed25519.PublicKey) *guard {
	g := &guard{self: self, skewMs: skewMs, seen: make(map[replayKey]int64)}
	if len(allow) > 0 {
		g.allow = make(map[ID]bool, len(allow))
		for _, k := range allow {
			g.allow[IDOf(k)] = true
		}
	}
	return g
}

// check runs every check on a decoded envelope, cheapest first; now is Unix
// ms.
func (g *guard) check(e *Envelope, now int64) error {
	if err := g.checkHead(e, now); err != nil {
		return err
	}
	if err := e.Verify(); err != nil {
		return err
	}
	return g.checkReplay(e, now)
}

// checkHead runs the checks that need only an envelope's head, before its
// body is read: addressee, time window, membership.
func (g *guard) checkHead(e *Envelope, now int64) error {
	if err := g.checkAddressee(e); err != nil {
		return err
	}
	if err := g.checkTime(e, now); err != nil {
		return err
	}
	return g.checkMember(e)
}

// checkAddressee requires the envelope to name this node (a hello, which
// changes nothing, may name no one: its sender does not know us yet). It
// stops a message meant for one node from being replayed to another.
func (g *guard) checkAddressee(e *Envelope) error {
	if e.To == g.self || (e.To == ID{} && e.Kind == KindHello) {
		return nil
	}
	return ErrNotForMe
}

// checkTime requires the envelope's time to be within skew of ours. It
// bounds how long a captured message could be replayed, and so how long
// the replay cache must remember it.
func (g *guard) checkTime(e *Envelope, now int64) error {
	if d := e.Time - now; d > g.skewMs || -d > g.skewMs {
		return fmt.Errorf("%w: %d ms off", ErrStale, d)
	}
	return nil
}

// checkMember refuses senders outside a closed network's member list. It
// stops unknown nodes from joining or feeding data to a closed network.
func (g *guard) checkMember(e *Envelope) error {
	if g.allow != nil && !g.allow[IDOf(e.From)] {
		return fmt.Errorf("%w: %s", ErrNotMember, IDOf(e.From))
	}
	return nil
}

// maxSeen bounds the replay cache; past it, envelopes are refused until old
// entries leave the window (a flood cannot make us forget).
const maxSeen = 1 << 20

// checkReplay refuses an envelope seen within the time window. It stops a
// captured message from being delivered twice.
func (g *guard) checkReplay(e *Envelope, now int64) error {
	k := replayKey{from: IDOf(e.From), nonce: e.Nonce, time: e.Time}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.seen[k]; dup {
		return ErrReplay
	}
	if len(g.seen) >= maxSeen/2 {
		for old, t := range g.seen {
			if now-t > g.skewMs {
				delete(g.seen, old)
			}
		}
	}
	if len(g.seen) >= maxSeen {
		return fmt.Errorf("%w: replay cache full", ErrStale)
	}
	g.seen[k] = e.Time
	return nil
}
