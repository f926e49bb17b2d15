package est_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/store"
)

var (
	ra1 = access.Principal{Account: "ra1", Roles: []access.Role{access.RegistrationOfficer}}
	ra2 = access.Principal{Account: "ra2", Roles: []access.Role{access.RegistrationOfficer}}
)

var dossierNames = []string{"app.sceau-test.fr", "www.sceau-test.fr"}

type fixture struct {
	t       *testing.T
	db      *store.DB
	h       *sceautest.Hierarchy
	ra      *ratest.Registration
	svc     *est.Service
	srv     *httptest.Server
	dossier *registration.Dossier
	dir     string
	clock   *sceautest.Clock
	caFile  string // the TLS server's certificate, for curl --cacert
	// observed are the enrollments counted for the metrics
	// (operation/outcome).
	observedMu sync.Mutex
	observed   []string
}

// newFixture is the EST server over a hierarchy and a registration
// authority holding a validated website dossier, on a TLS listener that
// requests (and does not require) a client certificate, as the
// enrollment listener does.
func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	clock := sceautest.NewClock(time.Now().UTC().Truncate(time.Second))
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Clock: clock})
	ra := ratest.NewRegistration(t, h, clock, registration.Options{})
	f := &fixture{t: t, db: db, h: h, ra: ra, dir: t.TempDir(), clock: clock}
	f.dossier = f.validatedDossier(dossierNames...)
	f.svc = est.New(db, h.Journal, h.Authority, ra.Service, est.Options{Clock: clock, MaxBody: 16 << 10,
		Observe: func(op, outcome string) {
			f.observedMu.Lock()
			f.observed = append(f.observed, op+"/"+outcome)
			f.observedMu.Unlock()
		}})
	f.srv = httptest.NewUnstartedServer(f.svc)
	f.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.caFile = filepath.Join(f.dir, "server.pem")
	if err := os.WriteFile(f.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// validatedDossier is a website dossier for names, entered by ra1 and
// validated by ra2 (CA-4).
func (f *fixture) validatedDossier(names ...string) *registration.Dossier {
	f.t.Helper()
	return f.ra.ValidatedDevice(f.t, ra1, ra2, names...)
}

// submitted is a website dossier submitted and not yet validated.
func (f *fixture) submitted(names ...string) *registration.Dossier {
	f.t.Helper()
	return f.ra.SubmittedDevice(f.t, ra1, names...)
}

func (f *fixture) url(op string) string { return f.srv.URL + est.Prefix + op }

// events returns the journal's events of action.
func (f *fixture) events(action string) []audit.Record {
	f.t.Helper()
	recs, err := audit.Read(context.Background(), f.db, 0, 1000000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// det is a record's details.
func det(r audit.Record) map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(r.Details), &m)
	return m
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// run runs a real tool in the fixture's directory and returns its output.
func (f *fixture) run(name string, args ...string) string {
	f.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = f.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		f.t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// curl posts or gets with the real curl and returns the HTTP status and
// the body written to outFile.
func (f *fixture) curl(outFile string, args ...string) (string, string) {
	f.t.Helper()
	args = append([]string{"-sS", "--cacert", f.caFile, "-o", outFile, "-w", "%{http_code}"}, args...)
	status := f.run("curl", args...)
	body, _ := os.ReadFile(filepath.Join(f.dir, outFile))
	return status, string(body)
}

// newCSR makes a key and a base64 DER PKCS#10 request with openssl req.
func (f *fixture) newCSR(name, subject string, sans ...string) {
	f.t.Helper()
	args := []string{"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", name + ".key", "-subj", subject, "-outform", "DER", "-out", name + ".der"}
	if len(sans) > 0 {
		args = append(args, "-addext", "subjectAltName="+strings.Join(sans, ","))
	}
	f.run("openssl", args...)
	f.run("openssl", "base64", "-in", name+".der", "-out", name+".b64")
}
