package sceautest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// PostgresCluster is a PostgreSQL server of the test's own, in a temporary
// directory on a free port: a test may stop it, as an outage would, without
// touching the server the other tests share.
type PostgresCluster struct {
	t    testing.TB
	bin  string // the directory of initdb and pg_ctl
	dir  string
	port int
	as   []string // the command prefix that runs as the postgres user
}

// NewPostgresCluster initialises and starts a cluster; it is stopped and
// removed when the test ends. It needs the PostgreSQL server binaries
// (/usr/lib/postgresql/*/bin), and, when the test runs as root, the postgres
// user, since PostgreSQL refuses to run as root. Without them the test is
// skipped, or fails under SCEAU_TEST_REQUIRE_ALL=1.
func NewPostgresCluster(t testing.TB) *PostgresCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		Missing(t, "the PostgreSQL server", "no /usr/lib/postgresql/*/bin/initdb (Debian package postgresql)")
	}
	c := &PostgresCluster{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "sceau-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		c.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Missing(t, "the postgres user", "tests run as root need it to run a PostgreSQL server")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.as = []string{"runuser", "-u", "postgres", "--"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	data := filepath.Join(dir, "data")
	if out, err := c.command(filepath.Join(c.bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("sceautest: initdb: %v\n%s", err, out)
	}
	c.Start()
	return c
}

// DSN is the connection string of the cluster's postgres database.
func (c *PostgresCluster) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Start starts the server and waits until it accepts connections.
func (c *PostgresCluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir)
	if out, err := c.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(c.dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		c.t.Fatalf("sceautest: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server at once, as a crash or a lost host would: clients
// see their connections drop, and new ones are refused.
func (c *PostgresCluster) Stop() {
	c.t.Helper()
	if out, err := c.pgctl("stop", "-w", "-m", "immediate"); err != nil {
		c.t.Fatalf("sceautest: pg_ctl stop: %v\n%s", err, out)
	}
}

func (c *PostgresCluster) pgctl(args ...string) (string, error) {
	args = append([]string{"-D", filepath.Join(c.dir, "data")}, args...)
	out, err := c.command(filepath.Join(c.bin, "pg_ctl"), args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (c *PostgresCluster) command(name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, c.as...), name), args...)
	return exec.Command(argv[0], argv[1:]...)
}

// NewStandby makes a streaming hot standby of c (pg_basebackup -R, as
// docs/scaling.md describes) on a free port of its own and starts it; it
// is stopped and removed when the test ends, before c.
func (c *PostgresCluster) NewStandby() *PostgresCluster {
	c.t.Helper()
	s := &PostgresCluster{t: c.t, bin: c.bin, as: c.as}
	dir, err := os.MkdirTemp("", "sceau-pg-standby-")
	if err != nil {
		c.t.Fatal(err)
	}
	s.dir = dir
	c.t.Cleanup(func() {
		s.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if len(c.as) > 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			c.t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			c.t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// -R writes standby.signal and primary_conninfo: the copy starts as a
	// hot standby streaming from c.
	out, err := s.command(filepath.Join(c.bin, "pg_basebackup"), "-D", filepath.Join(dir, "data"), "-R", "-X", "stream",
		"-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", "postgres", "--no-sync").CombinedOutput()
	if err != nil {
		c.t.Fatalf("sceautest: pg_basebackup: %v\n%s", err, out)
	}
	s.Start()
	return s
}
