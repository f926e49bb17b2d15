package fault

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
)

// The two engines every fault class runs on.
const (
	sqlite   = "sqlite"
	postgres = "postgres"
)

// installation is one `sceau init` directory with its serve process, its
// clients and the ledger of what its clients were told succeeded.
type installation struct {
	t       *testing.T
	engine  string
	dir     string // the data directory
	config  string // dir/sceau.yaml
	base    string // http://public
	export  string // the journal export directory
	cluster *cluster
	dbName  string // postgres: the database of the installation
	logDir  string
	runs    int
	proc    *serveProc
	admin   *http.Client // mutual TLS with the operator certificate
	adminAt string       // https://admin
	public  *http.Client
	ledger  *ledger
	// recovered is when the last fault ended: serve (re)started, or the
	// fault was taken away; the CRL must list every acknowledged
	// revocation within a minute of it.
	recovered time.Time
	errShown  map[int]int // serve run -> log lines logInternalErrors went through
}

// installOptions tune newInstallation; the zero value is fine.
type installOptions struct {
	parent string // where the data directory goes (default t.TempDir())
}

var dbCounter atomic.Int64

// newInstallation initialises an installation on engine. Its serve process
// is not started; everything is stopped and removed with the test.
func newInstallation(t *testing.T, engine string, o installOptions) *installation {
	t.Helper()
	pub, adm := twoFreeAddrs(t)
	scratch := t.TempDir()
	if o.parent == "" {
		o.parent = scratch
	}
	in := &installation{t: t, engine: engine, dir: filepath.Join(o.parent, "ca"), base: "http://" + pub,
		adminAt: "https://" + adm, logDir: scratch, ledger: newLedger()}
	in.config = filepath.Join(in.dir, "sceau.yaml")
	in.export = filepath.Join(in.dir, "audit-export")
	cfg := suite.template
	cfg = strings.ReplaceAll(cfg, templatePublic, pub)
	cfg = strings.ReplaceAll(cfg, templateAdmin, adm)
	// The export runs every second and checkpoints are signed every 3s, so
	// that a trial of a few seconds exercises both.
	cfg = replaceOnce(t, cfg, "    interval: 10s\n", "    interval: 1s\n")
	cfg = replaceOnce(t, cfg, "    interval: 5m\n", "    interval: 3s\n")
	if engine == postgres {
		in.cluster = needCluster(t)
		in.dbName = fmt.Sprintf("fault_%d_%d", os.Getpid(), dbCounter.Add(1))
		if err := in.cluster.createDB(in.dbName); err != nil {
			t.Fatal(err)
		}
		dsnFile := filepath.Join(scratch, "postgres.dsn")
		if err := os.WriteFile(dsnFile, []byte(in.cluster.dsn(in.dbName)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg = replaceOnce(t, cfg, "engine: sqlite", "engine: postgres")
		cfg = replaceOnce(t, cfg, "  # dsn_file: secrets/postgres.dsn", "  dsn_file: "+dsnFile)
	}
	from := filepath.Join(scratch, "sceau.yaml")
	if err := os.WriteFile(from, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(suite.bin, "init", "--dir", in.dir, "--from", from).CombinedOutput(); err != nil {
		t.Fatalf("sceau init (%s): %v\n%s", engine, err, out)
	}
	tlsCfg, err := access.ClientTLS(filepath.Join(in.dir, "admin"), access.OperatorCert, access.OperatorKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	in.admin = &http.Client{Timeout: 20 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 16}}
	in.public = &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(in.close)
	return in
}

// close kills a serve process still running and drops the database.
func (in *installation) close() {
	if in.proc != nil && in.proc.running() {
		in.proc.kill()
	}
	if in.cluster != nil && in.cluster.isRunning() {
		if err := in.cluster.dropDB(in.dbName); err != nil {
			in.t.Logf("drop database %s: %v", in.dbName, err)
		}
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("the template configuration holds %q %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// twoFreeAddrs returns two distinct 127.0.0.1 addresses nobody listens on.
func twoFreeAddrs(t *testing.T) (string, string) {
	t.Helper()
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs[0], addrs[1]
}

// serveProc is one run of `sceau serve`.
type serveProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // the exit, once done is closed
}

func (p *serveProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *serveProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// spawn starts `sceau serve` with its output in a log file of its own.
func (in *installation) spawn() (*serveProc, error) {
	in.runs++
	log := filepath.Join(in.logDir, fmt.Sprintf("serve-%d.log", in.runs))
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(suite.bin, "serve", "--config", in.config)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start sceau serve: %w", err)
	}
	p := &serveProc{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	in.proc = p
	return p, nil
}

// start runs serve and waits until the public listener says healthy and
// the admin listener answers.
func (in *installation) start() error {
	p, err := in.spawn()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if !p.running() {
			return fmt.Errorf("sceau serve exited before answering (%v):\n%s", p.err, tail(p.log, 30))
		}
		if in.healthy() {
			if code, _, err := in.call(context.Background(), http.MethodGet, "/api/v1/cas", nil); err == nil && code == http.StatusOK {
				in.recovered = time.Now()
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
	return fmt.Errorf("sceau serve did not answer within 45s:\n%s", tail(p.log, 30))
}

func (in *installation) mustStart() {
	in.t.Helper()
	if err := in.start(); err != nil {
		in.t.Fatal(err)
	}
}

// startRefused runs serve and expects it to exit on its own: it returns the
// exit code and what it wrote. A serve that comes up healthy is an error.
func (in *installation) startRefused() (int, string, error) {
	p, err := in.spawn()
	if err != nil {
		return 0, "", err
	}
	select {
	case <-p.done:
	case <-time.After(45 * time.Second):
		up := in.healthy()
		p.kill()
		return 0, readFile(p.log), fmt.Errorf("sceau serve neither exited nor refused within 45s (healthy: %v)", up)
	}
	code := 0
	if p.err != nil {
		ee, ok := p.err.(*exec.ExitError)
		if !ok {
			return 0, readFile(p.log), p.err
		}
		code = ee.ExitCode()
	}
	return code, readFile(p.log), nil
}

// healthy says whether /healthz answers 200 now.
func (in *installation) healthy() bool {
	resp, err := in.public.Get(in.base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// kill9 kills the serve process with SIGKILL.
func (in *installation) kill9() {
	in.t.Helper()
	if in.proc == nil || !in.proc.running() {
		in.t.Fatalf("kill -9: sceau serve is not running (%v):\n%s", in.proc.err, tail(in.proc.log, 30))
	}
	in.proc.kill()
}

// stop stops serve with SIGTERM, as an operator would, and fails the test
// if it does not exit in time or exits with an error.
func (in *installation) stop() {
	in.t.Helper()
	p := in.proc
	if p == nil || !p.running() {
		in.t.Fatalf("stop: sceau serve is not running (%v):\n%s", p.err, tail(p.log, 30))
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
		in.t.Fatalf("sceau serve did not stop within 30s of SIGTERM:\n%s", tail(p.log, 30))
	}
	if p.err != nil {
		in.t.Errorf("sceau serve exited with %v after SIGTERM:\n%s", p.err, tail(p.log, 30))
	}
}

// panicLine matches what the Go runtime writes when the process panics or
// dies of a fatal error.
var panicLine = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[running\]:|WARNING: DATA RACE)`)

// checkLogs fails the test for a panic or fatal runtime error in any serve
// log of the installation.
func (in *installation) checkLogs() {
	in.t.Helper()
	for i := 1; i <= in.runs; i++ {
		log := filepath.Join(in.logDir, fmt.Sprintf("serve-%d.log", i))
		b := readFile(log)
		if loc := panicLine.FindStringIndex(b); loc != nil {
			end := min(len(b), loc[0]+2000)
			in.t.Errorf("serve run %d panicked:\n%s", i, b[loc[0]:end])
		}
	}
}

// sceau runs the CLI on the installation and returns its combined output
// and exit code.
func (in *installation) sceau(args ...string) (string, int) {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.bin, append([]string{"--config", in.config}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			in.t.Fatalf("sceau %s: %v", strings.Join(args, " "), err)
		}
		return string(out), ee.ExitCode()
	}
	return string(out), 0
}

// sceauOut runs the CLI and returns its standard output only.
func (in *installation) sceauOut(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.bin, append([]string{"--config", in.config}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("sceau %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	lines := strings.Split(strings.TrimRight(readFile(path), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
