package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/server"
)

// Issue 13, item 5: the benches drive a running installation by its
// configuration, spread over its nodes, and report the nodes' CPU and
// memory from their /metrics beside this process's, and the bare signing
// ceiling measured in the same run.
func TestRunningInstallationIsMeasuredWithItsNodesCPUAndTheBareCeiling(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real installation")
	}
	ctx := context.Background()
	inst, err := startWith(ctx, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	n := Node{Admin: inst.cfg.Admin.Listen, Public: inst.cfg.Public.Listen}
	// The operator's certificate alone may not read /metrics (ROLE-2): the
	// report says why the nodes' figures are missing.
	refused, err := CRL(ctx, Options{Clients: 1, Count: 5, Remote: &Remote{Config: inst.cfg}})
	if err != nil {
		t.Fatal(err)
	}
	if refused.ServerCores != 0 || !strings.Contains(refused.ServerUnread, "log in (sceau login) as a System Operator") {
		t.Errorf("metrics without a session: %.3f cores, unread %q", refused.ServerCores, refused.ServerUnread)
	}
	// The same node twice: the clients alternate between the two entries;
	// the demo System Administrator's session reads the metrics.
	remote := &Remote{Config: inst.cfg, Nodes: []Node{n, n}, Token: sysadminToken(t, inst)}
	o := Options{Clients: 2, Count: 40, Certs: 4, Remote: remote, Bare: 200 * time.Millisecond}
	issued, err := Issue(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if issued.Errors != 0 || !issued.Remote || !strings.Contains(issued.Endpoint, "and 1 more nodes (running installation)") {
		t.Fatalf("issue on the running installation: %+v", issued)
	}
	if issued.ServerCores <= 0 || issued.ServerRSSKiB <= 0 || issued.ProcessCores <= 0 || issued.MachineCPUs < 1 {
		t.Errorf("CPU and memory: nodes %.3f cores %d KiB, process %.3f cores on %d CPUs; want all measured",
			issued.ServerCores, issued.ServerRSSKiB, issued.ProcessCores, issued.MachineCPUs)
	}
	if issued.BareRate <= 0 || issued.BareRatio <= 0 || issued.BareRatio > 1 {
		t.Errorf("bare ceiling %.0f/s, ratio %.3f; want a positive ceiling above the rate", issued.BareRate, issued.BareRatio)
	}
	// OCSP asks about the certificates the installation has: those just issued.
	asked, err := OCSP(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if asked.Errors != 0 || asked.Requests != 40 || !strings.Contains(asked.Endpoint, "(4 certificates)") {
		t.Fatalf("ocsp on the running installation: %+v", asked)
	}
	crl, err := CRL(ctx, Options{Clients: 2, Count: 40, Remote: remote})
	if err != nil {
		t.Fatal(err)
	}
	if crl.Errors != 0 || !strings.Contains(crl.Endpoint, "(2 CAs)") {
		t.Fatalf("crl on the running installation: %+v", crl)
	}
	var w bytes.Buffer
	if err := issued.Report(&w); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the clients alone", "the nodes ", "bare      x509.CreateCertificate"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, w.String())
		}
	}
	// A node list without any admin listener cannot issue.
	if _, err := Issue(ctx, Options{Clients: 1, Count: 1, Remote: &Remote{Config: inst.cfg, Nodes: []Node{{Public: n.Public}}}}); err == nil ||
		!strings.Contains(err.Error(), "no node has an admin listener") {
		t.Errorf("issue with public-only nodes: %v", err)
	}
}

func mustAPI(t *testing.T, inst *installation) *adminapi.Client {
	t.Helper()
	c, err := adminapi.New(inst.cfg, adminapi.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sysadminToken logs the demo System Administrator in and returns the
// session token.
func sysadminToken(t *testing.T, inst *installation) string {
	t.Helper()
	people, err := node.DemoPeople(node.LayoutOf(inst.cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		if p.Account != "sysadmin" {
			continue
		}
		code, err := access.TOTPCode(p.TOTP.Secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		s, err := mustAPI(t, inst).Login(context.Background(), server.LoginRequest{Account: p.Account, Password: p.Password, TOTP: code})
		if err != nil {
			t.Fatal(err)
		}
		return s.Token
	}
	t.Fatal("no demo sysadmin")
	return ""
}
