package sqlproj

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
)

// pgCluster is a throwaway PostgreSQL cluster the tests of this package
// share: initdb and pg_ctl in a temporary directory, listening on a unix
// socket only. When the process runs as root it runs PostgreSQL as the
// postgres user (initdb refuses root).
type pgCluster struct {
	bin  string // the directory of initdb, pg_ctl, postgres
	dir  string // holds data/ and the socket
	cred *syscall.Credential
	err  error
	n    int // databases made
}

var (
	pgOnce sync.Once
	pg     *pgCluster
)

func TestMain(m *testing.M) {
	if os.Getenv(envChildStore) != "" {
		runChild()
	}
	code := m.Run()
	if pg != nil && pg.err == nil {
		pg.ctl("stop", "-m", "immediate")
		os.RemoveAll(pg.dir)
	}
	os.Exit(code)
}

// pgBin finds PostgreSQL's programs: on PATH, or in Debian's
// /usr/lib/postgresql/N/bin.
func pgBin() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

// postgresURL returns the URL of a new, empty database on the shared
// cluster, started on first use. Without PostgreSQL it skips the test, or
// fails it when QBC_REQUIRE_ALL=1 (CI).
func postgresURL(t *testing.T) string { return newDatabase(t) }

// benchPostgres is postgresURL for a benchmark.
func benchPostgres(b *testing.B) string { return newDatabase(b) }

func newDatabase(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pg = startCluster() })
	if pg.err != nil {
		if os.Getenv("QBC_REQUIRE_ALL") == "1" {
			t.Fatalf("PostgreSQL is required (QBC_REQUIRE_ALL=1): %v", pg.err)
		}
		t.Skipf("no PostgreSQL to test against: %v (install Debian's postgresql to run these)", pg.err)
	}
	pg.n++
	name := fmt.Sprintf("qbc_test_%d", pg.n)
	admin, err := sql.Open("pgx", pg.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return pg.url(name)
}

func (c *pgCluster) url(db string) string {
	return "postgres://postgres@/" + db + "?host=" + c.dir + "&sslmode=disable"
}

func startCluster() *pgCluster {
	c := &pgCluster{bin: pgBin()}
	if c.bin == "" {
		c.err = fmt.Errorf("initdb and pg_ctl are not on PATH nor in /usr/lib/postgresql/*/bin")
		return c
	}
	var uid, gid int
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			c.err = fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %v", err)
			return c
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "qbc-pg-")
	if err != nil {
		c.err = err
		return c
	}
	c.dir = dir
	if c.cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			c.err = err
			return c
		}
	}
	if out, err := c.run(filepath.Join(c.bin, "initdb"), "-D", c.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		c.err = fmt.Errorf("initdb: %v: %s", err, out)
		return c
	}
	if err := c.start(); err != nil {
		c.err = err
	}
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

func (c *pgCluster) start() error {
	opts := "-c listen_addresses='' -c unix_socket_directories=" + c.dir + " -c fsync=off -c max_connections=50"
	if out, err := c.ctl("start", "-w", "-o", opts, "-l", filepath.Join(c.dir, "log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
	}
	return nil
}

func (c *pgCluster) ctl(args ...string) ([]byte, error) {
	return c.run(filepath.Join(c.bin, "pg_ctl"), append([]string{"-D", c.data()}, args...)...)
}

func (c *pgCluster) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
		cmd.Env = append(os.Environ(), "HOME="+c.dir)
	}
	out, err := cmd.CombinedOutput()
	return []byte(strings.TrimSpace(string(out))), err
}

// backends runs f against SQLite, and PostgreSQL when it is there.
func backends(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "sqlite:"+filepath.Join(t.TempDir(), "p.sqlite")) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresURL(t)) })
}

var _ = stdlib.GetDefaultDriver // the pgx driver is registered as "pgx"

func openProjector(t *testing.T, dsn string, srcs ...Source) *Projector {
	t.Helper()
	p, err := Open(context.Background(), Config{DSN: dsn, Sources: func() []Source { return srcs }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
