package fault

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/sceautest"
)

// record is the part of a stored certificate record the checks read.
type record struct {
	Serial string `json:"serial"`
	Status string `json:"status"`
	Reason string `json:"revocation_reason"`
}

// verifyAll runs every check after a fault and returns how many
// acknowledged operations it found lost. Each loss is also a test error.
func (in *installation) verifyAll(trial int) (lost int) {
	t := in.t
	t.Helper()
	l := in.ledger
	l.mu.Lock()
	certs := make(map[string]*ackCert, len(l.certs))
	for k, v := range l.certs {
		certs[k] = v
	}
	revoked := make(map[string]int, len(l.revoked))
	for k, v := range l.revoked {
		revoked[k] = v
	}
	bad := append([]string(nil), l.bad...)
	l.mu.Unlock()

	// No 5xx other than a 503 with a reason, no other error status.
	for _, b := range bad {
		t.Errorf("trial %d: answer breaking the rules: %s", trial, b)
	}
	if len(bad) > 0 {
		in.logInternalErrors()
	}
	in.ledger.mu.Lock()
	in.ledger.bad = nil
	in.ledger.mu.Unlock()

	// Every acknowledged certificate is stored, every acknowledged
	// revocation is stored as keyCompromise, and no serial appears twice.
	recs := in.records()
	for serial := range certs {
		r, ok := recs[serial]
		switch {
		case !ok:
			lost++
			t.Errorf("trial %d: acknowledged certificate %s is not stored", trial, serial)
		case r.Status != "issued" && r.Status != "revoked":
			lost++
			t.Errorf("trial %d: acknowledged certificate %s is stored as %q", trial, serial, r.Status)
		}
	}
	for serial := range revoked {
		if r, ok := recs[serial]; ok && (r.Status != "revoked" || r.Reason != "keyCompromise") {
			lost++
			t.Errorf("trial %d: acknowledged revocation of %s is stored as %q (%q)", trial, serial, r.Status, r.Reason)
		}
	}
	in.checkStoredDER(trial, certs)

	// Every acknowledged operation has its journal event, once.
	issuedEv, revokedEv := in.journal()
	for serial := range certs {
		if issuedEv[serial] != 1 {
			lost++
			t.Errorf("trial %d: acknowledged certificate %s has %d certificate.issued events, want 1", trial, serial, issuedEv[serial])
		}
	}
	for serial := range revoked {
		if revokedEv[serial] != 1 {
			lost++
			t.Errorf("trial %d: acknowledged revocation of %s has %d certificate.revoked events, want 1", trial, serial, revokedEv[serial])
		}
	}
	for serial, n := range issuedEv {
		if n > 1 {
			t.Errorf("trial %d: serial %s has %d certificate.issued events", trial, serial, n)
		}
	}

	// Every acknowledged revocation is on the served CRL within a minute,
	// and OCSP says revoked.
	lost += in.checkCRL(trial, revoked)
	lost += in.checkOCSP(trial, certs, revoked, recs)

	// The journal verifies, against its export too.
	if out, code := in.sceau("audit", "verify"); code != 0 || !strings.Contains(out, "OK: the journal is whole.") {
		t.Errorf("trial %d: sceau audit verify: exit %d\n%s", trial, code, out)
	}
	in.checkLogs()
	return lost
}

// records lists every stored certificate of the issuing CA through the
// admin API, page by page, and reports a serial listed twice.
func (in *installation) records() map[string]record {
	t := in.t
	t.Helper()
	recs := map[string]record{}
	after := ""
	for {
		q := url.Values{"ca": {"issuing"}, "limit": {"10000"}}
		if after != "" {
			q.Set("after", after)
		}
		code, body, err := in.call(context.Background(), http.MethodGet, "/api/v1/certificates?"+q.Encode(), nil)
		if err != nil || code != http.StatusOK {
			t.Fatalf("list certificates: %d %v %s", code, err, body)
		}
		var page []record
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("list certificates: %v", err)
		}
		for _, r := range page {
			if _, dup := recs[r.Serial]; dup {
				t.Errorf("serial %s is stored twice", r.Serial)
			}
			recs[r.Serial] = r
		}
		if len(page) < 10000 {
			return recs
		}
		after = page[len(page)-1].Serial
	}
}

// checkStoredDER compares, for a sample of the certificates, the stored
// certificate with the one the client received.
func (in *installation) checkStoredDER(trial int, certs map[string]*ackCert) {
	n := 0
	for serial, c := range certs {
		if c.trial != trial {
			continue
		}
		if n++; n > 10 {
			return
		}
		code, body, err := in.call(context.Background(), http.MethodGet, "/api/v1/certificates/"+serial, nil)
		if err != nil || code != http.StatusOK {
			in.t.Errorf("trial %d: show %s: %d %v %s", trial, serial, code, err, body)
			continue
		}
		var info struct {
			PEM string `json:"pem"`
		}
		_ = json.Unmarshal(body, &info)
		blk, _ := pem.Decode([]byte(info.PEM))
		if blk == nil || !bytes.Equal(blk.Bytes, c.cert.Raw) {
			in.t.Errorf("trial %d: the stored certificate %s is not the one the client received", trial, serial)
		}
	}
}

// journal reads the certificate events of the journal offline with the
// CLI and counts, per serial, the issued and revoked events.
func (in *installation) journal() (issued, revoked map[string]int) {
	t := in.t
	t.Helper()
	issued, revoked = map[string]int{}, map[string]int{}
	after := int64(0)
	for {
		out, err := in.sceauOut("audit", "events", "--local", "--action", "certificate.", "--after", fmt.Sprint(after), "--limit", "10000", "--json")
		if err != nil {
			t.Fatalf("journal: %v", err)
		}
		var evs []struct {
			Seq    int64  `json:"seq"`
			Action string `json:"action"`
			Object string `json:"object"`
		}
		if err := json.Unmarshal(out, &evs); err != nil {
			t.Fatalf("journal: %v\n%.500s", err, out)
		}
		for _, e := range evs {
			serial := strings.TrimPrefix(e.Object, "certificate:")
			switch e.Action {
			case "certificate.issued":
				issued[serial]++
			case "certificate.revoked":
				revoked[serial]++
			}
			after = e.Seq
		}
		if len(evs) < 10000 {
			return issued, revoked
		}
	}
}

// caCerts returns the issuing and root CA certificates from the public
// listener and writes issuing.pem and chain.pem into the scratch directory.
func (in *installation) caCerts() (issuing *x509.Certificate, issuingPEM, chainPEM string) {
	t := in.t
	t.Helper()
	get := func(id string) (*x509.Certificate, []byte) {
		resp, err := in.public.Get(in.base + "/ca/" + id + ".der")
		if err != nil {
			t.Fatalf("GET /ca/%s.der: %v", id, err)
		}
		defer resp.Body.Close()
		der, _ := io.ReadAll(resp.Body)
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("/ca/%s.der: %v", id, err)
		}
		return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	iss, issPEM := get("issuing")
	_, rootPEM := get("root")
	issuingPEM = filepath.Join(in.logDir, "issuing.pem")
	chainPEM = filepath.Join(in.logDir, "chain.pem")
	writeFile(t, issuingPEM, issPEM)
	writeFile(t, chainPEM, append(append([]byte{}, issPEM...), rootPEM...))
	return iss, issuingPEM, chainPEM
}

// checkCRL polls the served CRL until it lists every acknowledged
// revocation (at most a minute after the fault ended), checks its
// signature, and has openssl read it too.
func (in *installation) checkCRL(trial int, revoked map[string]int) (lost int) {
	t := in.t
	t.Helper()
	issuer, _, chain := in.caCerts()
	deadline := in.recovered.Add(time.Minute)
	var missing []string
	var der []byte
	for {
		missing = missing[:0]
		resp, err := in.public.Get(in.base + "/crl/issuing.crl")
		if err == nil {
			der, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("%s", resp.Status)
			}
		}
		var crl *x509.RevocationList
		if err == nil {
			crl, err = x509.ParseRevocationList(der)
		}
		if err == nil {
			err = crl.CheckSignatureFrom(issuer)
		}
		if err == nil {
			listed := map[string]int{}
			for _, e := range crl.RevokedCertificateEntries {
				listed[e.SerialNumber.Text(16)] = e.ReasonCode
			}
			for serial := range revoked {
				if reason, ok := listed[serial]; !ok || reason != 1 {
					missing = append(missing, serial)
				}
			}
			if len(missing) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Errorf("trial %d: the CRL: %v", trial, err)
			}
			sort.Strings(missing)
			t.Errorf("trial %d: %d acknowledged revocations are not on the CRL (keyCompromise) a minute after the fault ended: %v", trial, len(missing), missing)
			return len(missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// openssl, as the independent reader: the signature and the serials.
	sceautest.NeedOpenSSL(t)
	path := filepath.Join(in.logDir, "issuing.crl")
	writeFile(t, path, der)
	out, err := openssl("crl", "-inform", "DER", "-in", path, "-noout", "-text", "-CAfile", chain)
	if err != nil || !strings.Contains(out, "verify OK") {
		t.Errorf("trial %d: openssl crl: %v\n%s", trial, err, out)
	}
	seen := map[string]bool{}
	for _, m := range opensslSerial.FindAllStringSubmatch(out, -1) {
		n, ok := new(big.Int).SetString(m[1], 16)
		if ok {
			seen[n.Text(16)] = true
		}
	}
	for serial := range revoked {
		if !seen[serial] {
			t.Errorf("trial %d: openssl does not find %s on the CRL", trial, serial)
		}
	}
	return 0
}

var opensslSerial = regexp.MustCompile(`Serial Number: ([0-9A-Fa-f]+)`)

// checkOCSP asks the OCSP responder about every revocation of this trial
// and 20 of the earlier ones, and about 10 certificates of the trial that
// no acknowledged request revoked; openssl asks about one revocation.
func (in *installation) checkOCSP(trial int, certs map[string]*ackCert, revoked map[string]int, recs map[string]record) (lost int) {
	t := in.t
	t.Helper()
	issuer, issuingPEM, chain := in.caCerts()
	var sample string
	n := 0
	for serial, tr := range revoked {
		c := certs[serial]
		if c == nil {
			t.Errorf("trial %d: revoked %s was never acknowledged as issued", trial, serial)
			continue
		}
		if tr != trial {
			if n++; n > 20 {
				continue
			}
		}
		st, reason, err := in.ocspStatus(c.cert, issuer)
		if err != nil {
			t.Errorf("trial %d: OCSP for %s: %v", trial, serial, err)
			lost++
			continue
		}
		if st != ocsp.Revoked || reason != ocsp.KeyCompromise {
			t.Errorf("trial %d: OCSP says %d (reason %d) for the acknowledged revocation of %s", trial, st, reason, serial)
			lost++
		}
		if tr == trial {
			sample = serial
		}
	}
	// Certificates not revoked by an acknowledged request: OCSP agrees with
	// the store (a revocation may have been made but not acknowledged).
	m := 0
	for serial, c := range certs {
		if _, ok := revoked[serial]; ok || c.trial != trial {
			continue
		}
		if m++; m > 10 {
			break
		}
		want := ocsp.Good
		if recs[serial].Status == "revoked" {
			want = ocsp.Revoked
		}
		st, _, err := in.ocspStatus(c.cert, issuer)
		if err != nil || st != want {
			t.Errorf("trial %d: OCSP for %s: %d %v, the store says %q", trial, serial, st, err, recs[serial].Status)
		}
	}
	if sample == "" {
		return lost
	}
	sceautest.NeedOpenSSL(t)
	certPEM := filepath.Join(in.logDir, "revoked.pem")
	writeFile(t, certPEM, certs[sample].pem)
	out, err := openssl("ocsp", "-issuer", issuingPEM, "-cert", certPEM, "-url", in.base+"/ocsp", "-CAfile", chain)
	if err != nil || !strings.Contains(out, certPEM+": revoked") || !strings.Contains(out, "Response verify OK") {
		t.Errorf("trial %d: openssl ocsp for %s: %v\n%s", trial, sample, err, out)
	}
	return lost
}

// ocspStatus asks the responder (POST) and checks the signature.
func (in *installation) ocspStatus(cert, issuer *x509.Certificate) (int, int, error) {
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := in.public.Post(in.base+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: %q", resp.Status, body)
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return 0, 0, err
	}
	return r.Status, r.RevocationReason, nil
}

// openssl runs openssl and returns its combined output.
func openssl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "openssl", args...).CombinedOutput()
	return string(out), err
}

func writeFile(t interface{ Fatal(...any) }, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// logInternalErrors shows the internal errors the serve logs hold that
// it has not shown yet: the causes of the 500s.
func (in *installation) logInternalErrors() {
	if in.errShown == nil {
		in.errShown = map[int]int{}
	}
	n := 0
	for i := 1; i <= in.runs; i++ {
		lines := strings.Split(readFile(filepath.Join(in.logDir, fmt.Sprintf("serve-%d.log", i))), "\n")
		for _, line := range lines[min(in.errShown[i], len(lines)):] {
			if strings.Contains(line, "internal error") {
				if n++; n <= 10 {
					in.t.Logf("serve run %d: %.600s", i, line)
				}
			}
		}
		in.errShown[i] = len(lines)
	}
}
