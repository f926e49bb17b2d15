package fault

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// trials is how many faults of each class each engine receives. The default
// keeps the CI run short while covering every class on both engines; the
// long run is -trials 200 -timeout 0.
var trials = flag.Int("trials", 1, "faults injected per fault class and engine (long run: -trials 200 -timeout 0)")

// keepGoing runs the remaining trials of a class after one failed, to
// measure how often it fails.
var keepGoing = flag.Bool("keep-going", false, "run every trial even after one failed")

// stopEarly says whether a fault class stops after a failed trial.
func stopEarly(t *testing.T) bool { return t.Failed() && !*keepGoing }

// The placeholders the template configuration is written with; each
// installation replaces them with addresses of its own.
const (
	templatePublic = "127.0.0.1:59991"
	templateAdmin  = "127.0.0.1:59992"
)

// suite is what every test shares: the binary, built once, and the
// configuration `sceau init` writes, used as a template.
var suite struct {
	bin      string // the sceau binary
	tmp      string // scratch directory of the run
	template string // sceau.yaml written by init with the placeholder addresses
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "sceau-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	suite.tmp = tmp
	if err := buildSceau(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "fault:", err)
		return 1
	}
	code := m.Run()
	stopClusters()
	printFigures(os.Stdout)
	return code
}

// buildSceau builds ./cmd/sceau into tmp and has it write the template
// configuration.
func buildSceau(tmp string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return fmt.Errorf("not inside a module")
	}
	suite.bin = filepath.Join(tmp, "sceau")
	build := exec.Command("go", "build", "-o", suite.bin, "./cmd/sceau")
	build.Dir = filepath.Dir(mod)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/sceau: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "template")
	if out, err := exec.Command(suite.bin, "init", "--dir", dir, "--public", templatePublic, "--admin", templateAdmin).CombinedOutput(); err != nil {
		return fmt.Errorf("sceau init (template): %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sceau.yaml"))
	if err != nil {
		return err
	}
	suite.template = string(b)
	return nil
}
