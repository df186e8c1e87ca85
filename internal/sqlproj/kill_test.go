package sqlproj

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/store"
)

// The child process of TestKill9 projects the chain in QBC_SQLPROJ_STORE
// into QBC_SQLPROJ_DSN, a few transactions a batch, printing its height
// after each batch, until it is killed.
const (
	envChildStore = "QBC_SQLPROJ_STORE"
	envChildDSN   = "QBC_SQLPROJ_DSN"
)

// runChild is the child's main; it never returns.
func runChild() {
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	db, err := store.Open(store.Options{Dir: os.Getenv(envChildStore)})
	if err != nil {
		fail(err)
	}
	ids, err := db.Chains()
	if err != nil || len(ids) != 1 {
		fail(fmt.Errorf("chains %v %v", ids, err))
	}
	st := db.Chain(ids[0])
	c, err := chain.Open(st, testEngines, chain.Options{Now: func() time.Time { return time.UnixMilli(t0 + 1e9) }})
	if err != nil {
		fail(err)
	}
	src := Source{Chain: c, Store: st}
	p, err := Open(context.Background(), Config{DSN: os.Getenv(envChildDSN), BatchTxs: 7, Sources: func() []Source { return []Source{src} }})
	if err != nil {
		fail(err)
	}
	for {
		if _, err := p.step(context.Background(), src); err != nil {
			fail(err)
		}
		pos, _ := p.cached(c.ID())
		fmt.Println(pos.height)
	}
}

// TestKill9: a projector killed (SIGKILL) at any point, again and again,
// resumes with no gap and no duplicate: the check passes after a last run.
func TestKill9(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		f := newFixture(t, nil)
		f.grow(120, 10)
		f.db.Close()
		for _, at := range []uint64{3, 40, 41, 90} {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envChildStore+"="+f.dir, envChildDSN+"="+dsn)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			reached := false
			for sc.Scan() {
				h, err := strconv.ParseUint(sc.Text(), 10, 64)
				if err != nil {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("child: %s", sc.Text())
				}
				if h >= at {
					reached = true
					break
				}
			}
			cmd.Process.Kill() // SIGKILL, mid-way through the next batch or not
			cmd.Wait()
			if !reached {
				t.Fatalf("the child ended before height %d", at)
			}
		}
		f.open()
		p := openProjector(t, dsn, f.source())
		mustCatchUp(t, p)
		if c := mustCheck(t, p).Chains[0]; c.Quants != 121 || c.Txs != 1200 {
			t.Fatalf("after the kills: %+v", c)
		}
	})
}
