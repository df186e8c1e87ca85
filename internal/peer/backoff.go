package peer

import (
	"slices"
	"time"
)

// Retrying addresses: the first wait after a failure, and how many
// failures in a row make an address that is not a bootstrap address
// forgotten (about ten minutes at the longest wait).
const (
	minBackoff = time.Second
	maxFails   = 20
)

// backoff is when to try an address next. Each failure doubles the wait,
// from minBackoff up to a maximum. It does no I/O and reads no clock.
type backoff struct {
	next  time.Time
	wait  time.Duration
	fails int
}

// downBackoff is the backoff of the address of a peer just gone down: it
// is tried again after minBackoff.
func downBackoff(now time.Time) *backoff {
	return &backoff{next: now.Add(minBackoff), wait: minBackoff}
}

// due reports whether the address may be tried at now.
func (b *backoff) due(now time.Time) bool { return !now.Before(b.next) }

// failed records a failed attempt at now, waiting at most maxWait before
// the next.
func (b *backoff) failed(now time.Time, maxWait time.Duration) {
	b.fails++
	b.wait = min(max(2*b.wait, minBackoff), maxWait)
	b.next = now.Add(b.wait)
}

// givenUp reports whether the address of this backoff is to be forgotten:
// maxFails failures in a row, unless it is a bootstrap address.
func (b *backoff) givenUp(addr string, bootstrap []string) bool {
	return b.fails >= maxFails && !slices.Contains(bootstrap, addr)
}
