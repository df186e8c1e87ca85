package peer

import (
	"testing"
	"time"
)

func TestScoreboard(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := ID{1}, ID{2}
	type step struct {
		at         time.Duration // since t0
		id         ID
		cost       int // 0: only check
		wantScore  int
		wantBanned bool // penalize's answer, or isBanned's when cost is 0
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"faults add up", []step{
			{0, a, costInvalidTx, -5, false},
			{0, a, costBadMessage, -25, false},
			{0, b, costInvalidQuant, -50, false},
			{0, a, 0, -25, false},
		}},
		{"a ban at banScore", []step{
			{0, a, costInvalidQuant, -50, false},
			{0, a, costInvalidQuant, -100, true},
			{time.Minute, a, 0, 0, true},
			{time.Minute, b, 0, 0, false},
		}},
		{"a ban lasts banTime, then the peer starts again at 0", []step{
			{0, a, 60, -60, false},
			{time.Second, a, 60, -120, true},
			{time.Second + banTime, a, 0, 0, true},
			{time.Second + banTime + 1, a, 0, 0, false},
			{time.Second + banTime + 2, a, costInvalidTx, -5, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newScoreboard()
			for i, st := range tc.steps {
				now := t0.Add(st.at)
				var score int
				var banned bool
				if st.cost > 0 {
					score, banned = sb.penalize(st.id, st.cost, now)
					if banned {
						score = sb.score(st.id)
					}
				} else {
					score, banned = sb.score(st.id), sb.isBanned(st.id, now)
				}
				if banned != st.wantBanned || (!banned && score != st.wantScore) {
					t.Fatalf("step %d: score %d banned %v, want %d %v", i, score, banned, st.wantScore, st.wantBanned)
				}
			}
		})
	}
}

func TestScoreboardForget(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sb := newScoreboard()
	a := ID{1}
	sb.penalize(a, 40, now)
	sb.forget(a)
	if s := sb.score(a); s != 0 {
		t.Fatalf("score after forget = %d, want 0", s)
	}
	sb.penalize(a, 200, now)
	sb.forget(a)
	if !sb.isBanned(a, now) {
		t.Fatal("forget lifted a ban")
	}
}
