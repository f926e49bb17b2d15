package fault

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/sceautest"
)

// cluster is a PostgreSQL cluster of the suite's own, in a temporary
// directory, on a free port of 127.0.0.1: the outage test stops it, so it
// must not be the shared server other packages test against.
type cluster struct {
	bin  string // /usr/lib/postgresql/N/bin
	dir  string // owned by the server's account; removed at the end
	data string
	port int
	log  string

	mu      sync.Mutex
	running bool
}

var pg struct {
	sync.Mutex
	c   *cluster
	err error
}

// needCluster returns the suite's cluster, created and started on first
// use. Without the PostgreSQL server binaries the test skips (fails under
// SCEAU_TEST_REQUIRE_ALL=1).
func needCluster(t *testing.T) *cluster {
	t.Helper()
	pg.Lock()
	defer pg.Unlock()
	if pg.c == nil && pg.err == nil {
		bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		if len(bins) == 0 {
			sceautest.Missing(t, "PostgreSQL server (initdb)", "apt-get install postgresql")
		}
		sort.Strings(bins)
		pg.c, pg.err = newCluster(filepath.Dir(bins[len(bins)-1]))
	}
	if pg.err != nil {
		t.Fatalf("own PostgreSQL cluster: %v", pg.err)
	}
	if !pg.c.isRunning() {
		if err := pg.c.start(); err != nil {
			t.Fatal(err)
		}
	}
	return pg.c
}

// stopClusters stops the suite's cluster and removes its directory.
func stopClusters() {
	pg.Lock()
	defer pg.Unlock()
	if pg.c == nil {
		return
	}
	if pg.c.isRunning() {
		if err := pg.c.stop("fast"); err != nil {
			fmt.Fprintln(os.Stderr, "fault:", err)
		}
	}
	os.RemoveAll(pg.c.dir)
	pg.c = nil
}

func newCluster(bin string) (*cluster, error) {
	dir, err := os.MkdirTemp("", "sceau-fault-pg-")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "postgres.log")}
	if os.Geteuid() == 0 {
		// The server refuses to run as root: the cluster belongs to postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and there is no postgres account: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if out, err := c.server("initdb", "-D", c.data, "-A", "trust", "-U", "postgres", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return c, nil
}

// server runs a server-side program (initdb, pg_ctl) as the cluster's owner.
func (c *cluster) server(prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// client runs a client program (createdb, pg_dump, psql…) against the
// cluster as its superuser.
func (c *cluster) client(prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", "postgres"}, args...)
	out, err := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (c *cluster) isRunning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

func (c *cluster) start() error {
	out, err := c.server("pg_ctl", "-D", c.data, "-l", c.log, "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on", c.port, c.dir), "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, tail(c.log, 20))
	}
	c.mu.Lock()
	c.running = true
	c.mu.Unlock()
	return nil
}

// stop stops the server; mode "immediate" is the outage (no shutdown
// checkpoint, every connection cut).
func (c *cluster) stop(mode string) error {
	out, err := c.server("pg_ctl", "-D", c.data, "-m", mode, "-w", "-t", "60", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
	c.mu.Lock()
	c.running = false
	c.mu.Unlock()
	return nil
}

func (c *cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *cluster) createDB(name string) error {
	_, err := c.client("createdb", name)
	return err
}

func (c *cluster) dropDB(name string) error {
	_, err := c.client("dropdb", "--if-exists", "--force", name)
	return err
}

func (c *cluster) renameDB(from, to string) error {
	_, err := c.client("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres",
		"-c", fmt.Sprintf(`ALTER DATABASE %q RENAME TO %q`, from, to))
	return err
}

// dump writes a custom-format pg_dump of db to file: the operator's backup.
func (c *cluster) dump(db, file string) error {
	_, err := c.client("pg_dump", "-Fc", "-f", file, "-d", db)
	return err
}

// restore creates db and loads the dump into it.
func (c *cluster) restore(db, file string) error {
	if err := c.createDB(db); err != nil {
		return err
	}
	_, err := c.client("pg_restore", "--exit-on-error", "-d", db, file)
	return err
}
