package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// benchParallelism is goroutines per GOMAXPROCS in the parallel
// benchmarks: enough concurrent issuances that group commit batches.
const benchParallelism = 16

// cpuClock reads the CPU time of the process (all threads), so that a
// benchmark reports what one operation costs in CPU as well as its rate:
// on a machine shared with other work the rate moves with the load, the
// CPU cost much less.
type cpuClock struct{ start time.Duration }

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startCPU resets the benchmark timer and starts counting CPU time.
func startCPU(b *testing.B) *cpuClock {
	b.ResetTimer()
	return &cpuClock{start: processCPU(b)}
}

// report stops the timer and reports certs/s and CPU µs per certificate.
func (c *cpuClock) report(b *testing.B) {
	used := processCPU(b) - c.start
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
	b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/cert")
}

// benchCSRs pre-generates n distinct P-256 requests for the server profile.
func benchCSRs(b *testing.B, n int) [][]byte {
	b.Helper()
	out := make([][]byte, n)
	for i := range out {
		name := fmt.Sprintf("host-%d.example.org", i)
		out[i] = sceautest.CSR(b, sceautest.NewKey(b, keys.ECDSAP256), name, name)
	}
	return out
}

// BenchmarkIssueDurable measures the whole durable issuance path on SQLite
// with the P-256 issuing CA: CSR check, profile checks, lint of the
// throwaway copy, serial reservation with its audit event (group commit),
// the CA signature, the pre-signed OCSP response, and the stored
// certificate with its audit event. Compare it with
// BenchmarkBareCreateCertificate, measured in the same run.
// serverGC gives a benchmark the garbage collector setting `sceau serve`
// runs with (GOGC=300 unless the environment says otherwise), so that both
// sides of the ratio run as the server would.
func serverGC(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		old := debug.SetGCPercent(300)
		b.Cleanup(func() { debug.SetGCPercent(old) })
	}
}

func BenchmarkIssueDurable(b *testing.B) { benchIssueDurable(b, sceautest.OpenSQLite(b)) }

// BenchmarkIssueDurablePostgres is the same on PostgreSQL
// (SCEAU_TEST_POSTGRES_DSN): issue 13 asks one node for at least 70 % of
// the SQLite rate, measured in the same run.
func BenchmarkIssueDurablePostgres(b *testing.B) { benchIssueDurable(b, sceautest.OpenPostgres(b)) }

func benchIssueDurable(b *testing.B, db *store.DB) {
	serverGC(b)
	h := sceautest.NewHierarchy(b, db, sceautest.HierarchyOptions{})
	csrs := benchCSRs(b, 256)
	ctx := context.Background()
	actor := sceau.System("bench")
	events := func() int64 {
		var n int64
		if err := h.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	before := events()
	var next, batches, batched atomic.Int64
	h.Authority.Committer().Observe = func(size int, _ time.Duration) {
		batches.Add(1)
		batched.Add(int64(size))
	}
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	cpu := startCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			csr := csrs[int(next.Add(1))%len(csrs)]
			p, err := h.Authority.Prepare(ctx, actor, ca.Request{CA: "issuing", Profile: "server", CSR: csr})
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := h.Authority.Issue(ctx, p); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.report(b)
	if n := batches.Load(); n > 0 {
		b.ReportMetric(float64(batched.Load())/float64(n), "ops/batch")
	}
	// AUD-7 under group commit: two events per certificate, one chain.
	if n := events() - before; n != 2*int64(b.N) {
		b.Errorf("%d audit events for %d certificates, want two each", n, b.N)
	}
	if res, err := audit.Verify(ctx, h.DB); err != nil || res.BrokenAt != 0 {
		b.Errorf("the audit chain does not verify: %v %+v", err, res)
	}
}

// benchTemplate has the shape of a certificate of the server profile:
// subject, one DNS name, key usages, AIA, CDP, a policy with a CPS URI.
func benchTemplate(serial *big.Int) *x509.Certificate {
	now := time.Now().UTC().Truncate(time.Second)
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "host.example.org"},
		NotBefore:             now,
		NotAfter:              now.Add(397 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"host.example.org"},
		IssuingCertificateURL: []string{"http://127.0.0.1:8080/ca/issuing.der"},
		OCSPServer:            []string{"http://127.0.0.1:8080/ocsp"},
		CRLDistributionPoints: []string{"http://127.0.0.1:8080/crl/issuing.crl"},
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
		SubjectKeyId:          make([]byte, 20),
		ExtraExtensions:       []pkix.Extension{benchPolicies()},
	}
}

func benchPolicies() pkix.Extension {
	type qualifier struct {
		ID  asn1.ObjectIdentifier
		CPS string `asn1:"ia5"`
	}
	type info struct {
		ID         asn1.ObjectIdentifier
		Qualifiers []qualifier
	}
	der, err := asn1.Marshal([]info{{ID: sceautest.TestPolicyOID,
		Qualifiers: []qualifier{{ID: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 1}, CPS: "http://127.0.0.1:8080/cps"}}}})
	if err != nil {
		panic(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 32}, Value: der}
}

// BenchmarkBareCreateCertificate is the floor: x509.CreateCertificate alone
// with a P-256 issuer key and a template of the same shape, in parallel.
func BenchmarkBareCreateCertificate(b *testing.B) {
	serverGC(b)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Bench Issuing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: make([]byte, 20)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		b.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		b.Fatal(err)
	}
	subjects := make([]*ecdsa.PrivateKey, 16)
	for i := range subjects {
		subjects[i] = sceautest.NewKey(b, keys.ECDSAP256).(*ecdsa.PrivateKey)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	cpu := startCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			tmpl := benchTemplate(new(big.Int).Lsh(big.NewInt(n), 64))
			if _, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, subjects[n%int64(len(subjects))].Public(), caKey); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.report(b)
}

// BenchmarkLintPerCertificate measures the lint gate alone on one
// certificate, per profile with the sets it names (issue 12: at most
// 0.5 ms on one core), beside zlint's whole registry and the bare signature
// of the same certificate; run it with -cpu 1.
func BenchmarkLintPerCertificate(b *testing.B) {
	h := qualifiedPersonHierarchy(b)
	ctx := context.Background()
	csr := benchCSRs(b, 1)[0]
	iss, err := h.Authority.IssueCSR(ctx, sceau.System("bench"), ca.Request{CA: "issuing", Profile: "server", CSR: csr})
	if err != nil {
		b.Fatal(err)
	}
	q := h.Specs[1].Profiles[2].ETSI
	qp, err := h.Authority.IssueWithKey(ctx, sceau.System("bench"), ca.Request{CA: "issuing", Profile: "qualified-person", GenerateKey: keys.ECDSAP256,
		Subject: pkix.Name{CommonName: "Marie Curie", Country: []string{"FR"}, SerialNumber: "IDCFR-12AB34567",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: etsi.OIDGivenName, Value: "Marie"}, {Type: etsi.OIDSurname, Value: "Curie"}}}}, "bench password")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		der     []byte
		sources []string
		etsi    bool
	}{
		{"server/rfc5280+etsi", iss.DER, []string{"rfc5280", "etsi"}, false},
		{"public-tls/rfc5280+cabf_br", iss.DER, []string{"rfc5280", "cabf_br"}, false},
		{"smime/rfc5280+cabf_smime", iss.DER, []string{"rfc5280", "cabf_smime"}, false},
		{"qualified-person/rfc5280+etsi+EN319412", qp.Issued.DER, []string{"rfc5280", "etsi"}, true},
		{"full", iss.DER, nil, false}, // no sources: zlint's whole registry
	} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := ca.LintCertificate(bc.der, bc.sources...); err != nil { // warm the registry
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := ca.LintCertificate(bc.der, bc.sources...); err != nil {
					b.Fatal(err)
				}
				if bc.etsi {
					cert, err := x509.ParseCertificate(bc.der)
					if err != nil {
						b.Fatal(err)
					}
					if f := etsi.Check(cert, *q); etsi.HasErrors(f) {
						b.Fatal(f)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/cert")
		})
	}
	b.Run("bare-sign", func(b *testing.B) {
		caKey := sceautest.NewKey(b, keys.ECDSAP256)
		caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Bench Issuing CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: make([]byte, 20)}
		caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
		if err != nil {
			b.Fatal(err)
		}
		caCert, err := x509.ParseCertificate(caDER)
		if err != nil {
			b.Fatal(err)
		}
		sub := sceautest.NewKey(b, keys.ECDSAP256)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			tmpl := benchTemplate(new(big.Int).Lsh(big.NewInt(int64(i+1)), 64))
			if _, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, sub.Public(), caKey); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/cert")
	})
}
