package peer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestScheduler drives the sync scheduler with scripts: each line is a
// command, "=>" and what it must answer. Sources are named by a letter; a
// is the plan's maker.
//
//	join X                      offer source X
//	assign                      the next assignment: "X lo-hi", or "none"
//	report X lo-hi got=N [lacks|fail]  an answer: "blame" or "ok"
//	take                        the next run to add: "lo-hi X", or "none"
//	state                       done, stalled, commit, todo and idle
func TestScheduler(t *testing.T) {
	for _, tc := range []struct {
		name, script string
	}{
		{"one source, in order", `
			plan 40
			assign => a 0-32
			assign => none
			report a 0-32 got=32 => ok
			take => 0-32 a
			assign => a 32-40
			report a 32-40 got=8 => ok
			take => 32-40 a
			state => done commit=40 todo=[] idle=[a]
		`},
		{"answers out of order are added in plan order", `
			plan 96
			join b
			join c
			assign => a 0-32
			assign => b 32-64
			assign => c 64-96
			assign => none
			report c 64-96 got=32 => ok
			take => none
			report b 32-64 got=32 => ok
			take => none
			report a 0-32 got=32 => ok
			take => 0-32 a
			take => 32-64 b
			take => 64-96 c
			take => none
			state => done commit=96 todo=[] idle=[c b a]
		`},
		{"a source lacking part of a span: the rest goes to another", `
			plan 64
			join b
			assign => a 0-32
			assign => b 32-64
			report b 32-64 got=10 lacks => ok
			state => commit=0 todo=[42-64] idle=[]
			report a 0-32 got=32 => ok
			assign => a 42-64
			take => 0-32 a
			take => 32-42 b
			take => none
			report a 42-64 got=22 => ok
			take => 42-64 a
			state => done commit=64 todo=[] idle=[a]
		`},
		{"the maker lacking a quant of its own plan is blamed", `
			plan 32
			join b
			assign => a 0-32
			report a 0-32 got=5 lacks => blame
			assign => b 5-32
			report b 5-32 got=27 => ok
			take => 0-5 a
			take => 5-32 b
		`},
		{"a failed source loses what it sent and gets no more work", `
			plan 32
			assign => a 0-32
			report a 0-32 got=20 fail => ok
			take => none
			state => stalled commit=0 todo=[0-32] idle=[]
			join a
			assign => none
			join b
			assign => b 0-32
		`},
		{"no source left: stalled", `
			plan 64
			assign => a 0-32
			report a 0-32 got=0 lacks => blame
			state => stalled commit=0 todo=[0-32] idle=[]
		`},
		{"at most maxSyncPeers sources", `
			plan 1000
			join b
			join c
			join d
			join e
			assign => a 0-32
			assign => b 32-64
			assign => c 64-96
			assign => d 96-128
			assign => none
		`},
		{"no more than syncWindow batches ahead of the next to add", `
			plan 1000
			join b
			assign => a 0-32
			assign => b 32-64
			report b 32-64 got=32 => ok
			assign => b 64-96
			report b 64-96 got=32 => ok
			assign => b 96-128
			report b 96-128 got=32 => ok
			assign => b 128-160
			report b 128-160 got=32 => ok
			assign => b 160-192
			report b 160-192 got=32 => ok
			assign => b 192-224
			report b 192-224 got=32 => ok
			assign => b 224-256
			report b 224-256 got=32 => ok
			assign => b 256-288
			report b 256-288 got=32 => ok
			assign => b 288-320
			report b 288-320 got=32 => ok
			assign => b 320-352
			report b 320-352 got=32 => ok
			assign => b 352-384
			report b 352-384 got=32 => ok
			assign => b 384-416
			report b 384-416 got=32 => ok
			assign => b 416-448
			report b 416-448 got=32 => ok
			assign => b 448-480
			report b 448-480 got=32 => ok
			assign => b 480-512
			report b 480-512 got=32 => ok
			assign => none
			take => none
			report a 0-32 got=32 => ok
			take => 0-32 a
			assign => b 512-544
		`},
	} {
		t.Run(tc.name, func(t *testing.T) { runSchedulerScript(t, tc.script) })
	}
}

func sourceID(name string) ID { return ID{name[0]} }

func sourceName(id ID) string { return string(rune(id[0])) }

func parseSpan(t *testing.T, s string) span {
	t.Helper()
	lo, hi, ok := strings.Cut(s, "-")
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("bad span %q", s)
	}
	return span{l, h}
}

func runSchedulerScript(t *testing.T, script string) {
	var s *scheduler
	for n, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		cmd, want, _ := strings.Cut(line, "=>")
		f := strings.Fields(cmd)
		want = strings.TrimSpace(want)
		var got string
		switch f[0] {
		case "plan":
			size, _ := strconv.Atoi(f[1])
			s = newScheduler(make([]quant.Hash, size), sourceID("a"))
			continue
		case "join":
			s.join(sourceID(f[1]))
			continue
		case "assign":
			got = "none"
			if id, sp, ok := s.assign(); ok {
				got = fmt.Sprintf("%s %d-%d", sourceName(id), sp.lo, sp.hi)
			}
		case "report":
			res := fetched{from: sourceID(f[1]), span: parseSpan(t, f[2])}
			count, _ := strconv.Atoi(strings.TrimPrefix(f[3], "got="))
			res.quants = make([]*quant.Quant, count)
			for _, flag := range f[4:] {
				switch flag {
				case "lacks":
					res.lacks = true
				case "fail":
					res.err = errors.New("call failed")
				}
			}
			got = "ok"
			if s.report(res) {
				got = "blame"
			}
		case "take":
			got = "none"
			if b, ok := s.take(); ok {
				got = fmt.Sprintf("%d-%d %s", b.span.lo, b.span.hi, sourceName(b.from))
			}
		case "state":
			var parts []string
			if s.done() {
				parts = append(parts, "done")
			}
			if s.stalled() {
				parts = append(parts, "stalled")
			}
			var todo, idle []string
			for _, sp := range s.todo {
				todo = append(todo, fmt.Sprintf("%d-%d", sp.lo, sp.hi))
			}
			for _, id := range s.idle {
				idle = append(idle, sourceName(id))
			}
			parts = append(parts, fmt.Sprintf("commit=%d todo=[%s] idle=[%s]", s.commit, strings.Join(todo, " "), strings.Join(idle, " ")))
			got = strings.Join(parts, " ")
		default:
			t.Fatalf("line %d: unknown command %q", n, f[0])
		}
		if got != want {
			t.Fatalf("line %d: %s\n got: %s\nwant: %s", n, strings.TrimSpace(cmd), got, want)
		}
	}
}
