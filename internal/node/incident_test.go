package node_test

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// INC-1, INC-4, AUD-6: on a served installation configured from the
// template, a major incident detected 21 hours ago is mailed to the
// Security Officer and copied to the syslog collector; serve's loop finds
// its notifications to the authorities due within the 4h margin, which the
// analysis turns into incident_deadline alerts, and exports the seconds
// left in sceau_incident_obligation_due_seconds.
func TestINC4_ServeRaisesTheDeadlineAlertAndExportsTheTimeLeft(t *testing.T) {
	pub, adm := freeAddr(t), freeAddr(t)
	relay := sceautest.StartSMTPRelay(t, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	collector := sceautest.CollectSyslog(t, ln)
	text := string(node.RenderConfig(node.ConfigValues{Org: "Incident Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	for _, r := range [][2]string{
		{"  security_officers: []\n", "  security_officers: [rssi@ca.example.org]\n"},
		{"    # relay: smtp.example.org:587\n    # from: sceau@example.org\n    tls: starttls\n",
			"    relay: " + relay.Addr + "\n    from: sceau@ca.example.org\n    tls: none\n"},
		{"    network: udp\n    facility: 13\n    # address: siem.example.org:514\n",
			"    network: tcp\n    facility: 13\n    address: " + ln.Addr().String() + "\n"},
		{"  retry_interval: 30s\n", "  retry_interval: 1s\n"},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("the template lacks %q", r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	inst, err := node.Init(t.Context(), filepath.Join(t.TempDir(), "inst"), []byte(text), node.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, n := serveClock(t, inst.ConfigPath)
	in, err := n.Incidents.Open(t.Context(), sceau.Actor{ID: "so1", Role: "security-officer"}, incident.New{Kind: incident.KeyLoss,
		Severity: incident.Major, Title: "Backup token not in the safe", DetectedAt: time.Now().Add(-21 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// Open makes the first attempts within one send timeout; what a loaded
	// machine leaves over, or serve's own pass claimed meanwhile, serve
	// delivers on its next pass (retry_interval 1s here).
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		pending := ""
		for _, nf := range in.Notifications {
			if !nf.Delivered() {
				pending += fmt.Sprintf(" %s to %s (%s)", nf.Channel, nf.Recipient, nf.LastError)
			}
		}
		if pending == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications not delivered:%s", pending)
		}
		if in, err = n.Incidents.Get(t.Context(), in.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := relay.Received(); len(got) != 1 || !strings.Contains(got[0].Data, "Backup token not in the safe") {
		t.Errorf("the Security Officer's mail: %+v", got)
	}
	select {
	case m := <-collector.C():
		if !strings.Contains(m, audit.ActionIncidentOpened) || !strings.Contains(m, "incident:") {
			t.Errorf("syslog message %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Error("the syslog collector received nothing")
	}
	waitAlert(t, n, audit.RuleIncidentDeadline)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		g := gaugeOr(t, n, "sceau_incident_obligation_due_seconds")
		if g > 2*3600 && g < 3*3600+60 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sceau_incident_obligation_due_seconds = %.0f, want about 3h", g)
		}
	}
	if g := gauge(t, n, "sceau_incidents_open"); g != 1 {
		t.Errorf("sceau_incidents_open = %.0f", g)
	}
}

// gaugeOr is gauge's value, or -1 while the metric has no sample.
func gaugeOr(t *testing.T, n *node.Node, name string) float64 {
	t.Helper()
	mfs, err := n.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
