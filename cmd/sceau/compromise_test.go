package main

import (
	"context"
	"io"
	"mime/quotedprintable"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// TestINC2_CompromiseRevokesNotifiesAndPublishesANotice runs the compromise
// procedure of the issuing CA as its Security Officers would: one requests
// it, alone they cannot carry it, two others approve; then openssl's OCSP
// says revoked (cACompromise) for what the CA issued and, at the root, for
// the CA's own certificate; the CA issues nothing more; a major incident is
// in the register and the Security Officer and the partner got its mail;
// a notice in French and English is on the site, read in headless
// Chromium; a second compromise of the same CA is refused (INC-2, ROLE-3).
func TestINC2_CompromiseRevokesNotifiesAndPublishesANotice(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	chromium := sceautest.LookPath(t, "chromium", "apt-get install chromium")
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	r := (cli{t: t}).ok("init", "--dir", dir, "--public", pub, "--admin", adm,
		"--security-officer", "so1", "--security-officer", "so2", "--security-officer", "so3")
	creds := printedCredentials(r.stdout)
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	relay := sceautest.StartSMTPRelay(t, false)
	editConfig(t, c.config, "  security_officers: []\n", "  security_officers: [rssi@ca.example.org]\n",
		"  partners: []\n", "  partners: [cert@partner.example.net]\n",
		"    # relay: smtp.example.org:587\n    # from: sceau@example.org\n    tls: starttls\n",
		"    relay: "+relay.Addr+"\n    from: sceau@ca.example.org\n    tls: none\n",
		"  retry_interval: 30s\n  max_retry_interval: 1h\n", "  retry_interval: 1s\n  max_retry_interval: 2s\n")
	startServe(t, c.config, pub)
	operator := &person{t: t, c: c, session: filepath.Join(tmp, "operator.session")}
	csr := filepath.Join(tmp, "req.pem")
	writeCSR(t, csr)
	var serials []string
	for i := range 2 {
		r := operator.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr, "--out", filepath.Join(tmp, "cert"+string(rune('a'+i))+".pem"))
		serials = append(serials, serialLine.FindStringSubmatch(r.stderr)[1])
	}
	// The first certificate's holder has a dossier, as the registration
	// authority leaves it once issued (the whole CA-4 path to it is
	// TestCA4_RegistrationFromTheCommandLine): its contact is told.
	holderDossier(t, filepath.Join(dir, "sceau.db"), serials[0], "holder@example.org")
	var so []*person
	for _, name := range []string{"so1", "so2", "so3"} {
		p := newPerson(t, c, tmp, name, creds[name])
		p.firstLogin()
		so = append(so, p)
	}
	if r := operator.run("ca", "compromise", "issuing", "--reason", "HSM stolen", "--yes"); r.code == 0 {
		t.Fatal("a Registration Officer requested a compromise")
	}
	r = so[0].ok("ca", "compromise", "issuing", "--reason", "HSM stolen from the second site", "--yes")
	m := requestID.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("compromise request:\n%s", r.stdout)
	}
	if r := so[0].run("approval", "approve", m[1], "--yes"); r.code == 0 {
		t.Fatal("the requester approved their own compromise")
	}
	so[1].ok("approval", "approve", m[1], "--yes")
	if r := operator.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr); r.code != 0 {
		t.Fatalf("issuance stopped after one approval: %s", r.stderr)
	}
	so[2].ok("approval", "approve", m[1], "--yes")
	if r := operator.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr); r.code == 0 {
		t.Fatal("the compromised CA still issues")
	}
	if r := so[0].run("ca", "compromise", "issuing", "--reason", "again", "--yes"); r.code == 0 || !strings.Contains(r.stderr, "terminated") {
		t.Errorf("a second compromise: %d %s", r.code, r.stderr)
	}

	// OCSP, as openssl asks: the CA's certificates, and the CA at the root.
	get := func(path, file string) {
		t.Helper()
		resp, err := http.Get("http://" + pub + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	issuing, root := filepath.Join(tmp, "issuing.pem"), filepath.Join(tmp, "root.pem")
	get("/ca/issuing.pem", issuing)
	get("/ca/root.pem", root)
	ocsp := func(issuer, cert string) string {
		var o []byte
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			o, _ = exec.Command("openssl", "ocsp", "-issuer", issuer, "-cert", cert, "-url", "http://"+pub+"/ocsp",
				"-CAfile", root, "-verify_other", issuing).CombinedOutput()
			if strings.Contains(string(o), ": revoked") {
				break
			}
		}
		return string(o)
	}
	for _, cert := range []string{"certa.pem", "certb.pem"} {
		if o := ocsp(issuing, filepath.Join(tmp, cert)); !strings.Contains(o, ": revoked") || !strings.Contains(o, "Reason: cACompromise") {
			t.Errorf("OCSP for %s after the compromise:\n%s", cert, o)
		}
	}
	if o := ocsp(root, issuing); !strings.Contains(o, ": revoked") || !strings.Contains(o, "Reason: cACompromise") {
		t.Errorf("OCSP for the issuing CA at the root:\n%s", o)
	}

	// The register and the mail.
	if r := so[0].ok("incident", "list"); !strings.Contains(r.stdout, "Compromise of the key of CA issuing") {
		t.Errorf("the register:\n%s", r.stdout)
	}
	if r := so[0].ok("incident", "show", "1"); !strings.Contains(r.stdout, "compromise procedure: started") {
		t.Errorf("the incident's timeline:\n%s", r.stdout)
	}
	to := map[string]bool{}
	for deadline := time.Now().Add(20 * time.Second); len(to) < 2 && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		for _, mail := range relay.Received() {
			if strings.Contains(mail.Data, "Compromise of the key of CA issuing") {
				for _, r := range mail.To {
					to[r] = true
				}
			}
		}
	}
	if !to["rssi@ca.example.org"] || !to["cert@partner.example.net"] {
		t.Errorf("mail of the compromise went to %v, want the Security Officer and the partner", to)
	}
	var holderMail string
	for deadline := time.Now().Add(20 * time.Second); holderMail == "" && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		for _, mail := range relay.Received() {
			if len(mail.To) == 1 && mail.To[0] == "holder@example.org" {
				_, body, _ := strings.Cut(strings.ReplaceAll(mail.Data, "\r\n", "\n"), "\n\n")
				b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
				if err != nil {
					t.Fatal(err)
				}
				holderMail = string(b)
			}
		}
	}
	if !strings.Contains(holderMail, serials[0]) || !strings.Contains(holderMail, "Your certificate with serial number "+serials[0]) ||
		!strings.Contains(holderMail, "compromis") || !strings.Contains(holderMail, "/fr/notices") {
		t.Errorf("the holder's mail:\n%s", holderMail)
	}
	if r := so[0].ok("incident", "show", "1"); !strings.Contains(r.stdout, "holder@example.org") {
		t.Errorf("the holder's notification is not in the register:\n%s", r.stdout)
	}
	if r := so[0].ok("audit", "events", "--action", audit.ActionCACompromised); !strings.Contains(r.stdout, "ca:issuing") {
		t.Errorf("no %s event:\n%s", audit.ActionCACompromised, r.stdout)
	}

	// The notice, in a real browser, in both languages.
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true))...)
	defer cancel()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()
	for lang, title := range map[string]string{"en": "Compromise of the key of CA issuing", "fr": "Compromission de la clé de l'AC issuing"} {
		var text string
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			if err := chromedp.Do(ctx, chromedp.Navigate("http://"+pub+"/"+lang+"/notices")); err != nil {
				t.Fatalf("open /%s/notices: %v", lang, err)
			}
			var err error
			if text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`)); err != nil {
				t.Fatalf("read /%s/notices: %v", lang, err)
			}
			if strings.Contains(text, title) || time.Now().After(deadline) {
				break
			}
		}
		if !strings.Contains(text, title) {
			t.Fatalf("/%s/notices in the browser does not show %q:\n%s", lang, title, text)
		}
		href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('main a[href*="compromise-issuing"]') || {}).href || ""`))
		if err != nil || href == "" {
			t.Fatalf("/%s/notices: no link to the notice: %v", lang, err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(href)); err != nil {
			t.Fatalf("open the notice %s: %v", href, err)
		}
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatalf("read the notice %s: %v", href, err)
		}
		if !strings.Contains(body, "cACompromise") || !strings.Contains(body, "HSM stolen from the second site") {
			t.Errorf("the %s notice:\n%s", lang, body)
		}
	}
}

// holderDossier records an issued dossier for serial with contact email.
func holderDossier(t *testing.T, dbPath, serial, email string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.SQLite, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := store.FormatTime(time.Now())
	if _, err := db.ExecContext(ctx, `INSERT INTO dossiers (kind, ca_id, profile, state, subject, contact, created_at, created_by, updated_at, serial)
		VALUES ('device', 'issuing', 'server', 'issued', '{"dns_names":["www.example.org"]}', ?, ?, 'ra', ?, ?)`,
		`{"name":"Web team","email":"`+email+`"}`, now, now, serial); err != nil {
		t.Fatal(err)
	}
}
