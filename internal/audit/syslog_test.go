package audit_test

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// rfc5424 matches a message as FormatSyslog writes it: PRI, version 1,
// timestamp, host, app, procid, msgid, the structured data and the
// message after a BOM.
var rfc5424 = regexp.MustCompile(`^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) (\S+) (\d+) (\S{1,32}) ` +
	`\[sceau@32473 seq="(\d+)" actor="((?:[^"\\\]]|\\["\\\]])*)" role="((?:[^"\\\]]|\\["\\\]])*)" object="((?:[^"\\\]]|\\["\\\]])*)" hash="([0-9a-f]{64})" prev_hash="([0-9a-f]{64})"\] ` +
	"\ufeff(.*)$")

// AUD-5: every event goes to a syslog collector as RFC 5424, over UDP and
// over TCP (octet counting), in order, from a cursor that survives a
// restart.
func TestAUD5_SyslogForwardsRFC5424OverUDPAndTCP(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			ctx := t.Context()
			db := sceautest.OpenSQLite(t)
			j := audit.NewJournal(nil)
			addr, msgs := syslogCollector(t, network)
			tricky := sceau.Actor{ID: `eve "the] \ tester`, Role: "system-operator"}
			appendN(t, db, j, 5, testActor, audit.ActionCertificateIssued, "certificate:1")
			appendN(t, db, j, 1, tricky, audit.ActionMaintenance, "system:hsm-1")
			o := audit.SyslogOptions{Network: network, Address: addr, Hostname: "ca-node-1"}
			fw, err := audit.NewForwarder(db, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			// expect checks the messages of the events after seq from. Each
			// forwarder has its own TCP connection and the collector reads
			// them concurrently, so a batch is checked before the next is sent.
			expect := func(from int64) {
				t.Helper()
				recs, _ := audit.Read(ctx, db, from, 100)
				for i, r := range recs {
					var m string
					select {
					case m = <-msgs:
					case <-time.After(10 * time.Second):
						t.Fatalf("message %d never arrived", i+1)
					}
					g := rfc5424.FindStringSubmatch(m)
					if g == nil {
						t.Fatalf("message %d is not RFC 5424 as expected:\n%q", i+1, m)
					}
					pri, _ := strconv.Atoi(g[1])
					wantSev := 5
					if r.Action == audit.ActionAlertRaised {
						wantSev = 1
					}
					if pri != 13*8+wantSev || g[3] != "ca-node-1" || g[4] != "sceau" || g[6] != r.Action || g[7] != fmt.Sprint(r.Seq) {
						t.Errorf("message %d header %q", i+1, g[:8])
					}
					actor := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\]`, `]`).Replace(g[8])
					if actor != r.Actor || g[10] != r.Object || g[11] != fmt.Sprintf("%x", r.Hash) {
						t.Errorf("message %d fields: actor %q object %q hash %s; want %q %q %x", i+1, actor, g[10], g[11], r.Actor, r.Object, r.Hash)
					}
					if g[13] != r.Details || !json.Valid([]byte(g[13])) {
						t.Errorf("message %d details %q, want %q", i+1, g[13], r.Details)
					}
				}
			}
			if n, err := fw.Forward(ctx); err != nil || n != 6 {
				t.Fatalf("Forward = %d, %v; want 6", n, err)
			}
			fw.Close()
			expect(0)
			// A new forwarder (a restart) sends only what is new.
			appendN(t, db, j, 2, sceau.System("analysis"), audit.ActionAlertRaised, "alert:clock_jump")
			fw2, _ := audit.NewForwarder(db, o, nil)
			defer fw2.Close()
			if n, err := fw2.Forward(ctx); err != nil || n != 2 {
				t.Fatalf("second Forward = %d, %v; want 2", n, err)
			}
			expect(6)
			cur, _ := audit.Cursors(ctx, db)
			if cur["syslog"] != 8 {
				t.Errorf("syslog cursor %d, want 8", cur["syslog"])
			}
		})
	}
}

// syslogCollector listens on 127.0.0.1 and delivers each message received.
func syslogCollector(t *testing.T, network string) (string, <-chan string) {
	t.Helper()
	msgs := make(chan string, 100)
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 65536)
			for {
				n, _, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				msgs <- string(buf[:n])
			}
		}()
		return pc.LocalAddr().String(), msgs
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), sceautest.CollectSyslog(t, ln).C()
}
