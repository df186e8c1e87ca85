package peer

import "time"

// Scoring: what each fault costs a peer, and where a ban starts and how
// long it lasts.
const (
	costInvalidTx    = 5  // a gossiped transaction broke a rule
	costFalseClaim   = 10 // claimed work it could not show, or lacks a quant of its own plan
	costBadMessage   = 20 // a message broke the protocol or a rule
	costInvalidQuant = 50 // a quant or a sync answer broke a rule
	banScore         = -100
	banTime          = 10 * time.Minute
)

// scoreboard keeps the scores of the live peers and the bans. A peer
// starts at 0 and loses points for each fault; at banScore it is banned
// for banTime, and its score is forgotten. It does no I/O and reads no
// clock: the caller passes the time. It is not safe for concurrent use
// (the Service guards it with its mu).
type scoreboard struct {
	scores map[ID]int
	banned map[ID]time.Time // until when
}

func newScoreboard() *scoreboard {
	return &scoreboard{scores: make(map[ID]int), banned: make(map[ID]time.Time)}
}

// score is id's score.
func (b *scoreboard) score(id ID) int { return b.scores[id] }

// penalize takes cost points from id and returns its new score, and
// whether that banned it.
func (b *scoreboard) penalize(id ID, cost int, now time.Time) (score int, banned bool) {
	score = b.scores[id] - cost
	if score <= banScore {
		delete(b.scores, id)
		b.banned[id] = now.Add(banTime)
		return score, true
	}
	b.scores[id] = score
	return score, false
}

// forget drops id's score (a peer gone down starts again at 0). A ban
// stays.
func (b *scoreboard) forget(id ID) { delete(b.scores, id) }

// isBanned reports whether id is banned at now; a ban past its time is
// lifted.
func (b *scoreboard) isBanned(id ID, now time.Time) bool {
	until, ok := b.banned[id]
	if ok && now.After(until) {
		delete(b.banned, id)
		return false
	}
	return ok
}
