package ca

import (
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"sync"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/sceau"
)

// lintSourceNames are the lint sets a profile names (CA-2). "rfc5280" is
// RFC 5280 together with the RFCs it relies on for what it leaves to them:
// algorithms and key usages of EC and RSA keys (RFC 3279, RFC 5480,
// RFC 8813) and internationalised names (RFC 5891). zlint files RFC 6818's
// updates under RFC 5280 itself. Mapping "rfc5280" to zlint's RFC 5280
// source alone let keyEncipherment on an EC key through (issue 12).
var lintSourceNames = map[string][]lint.LintSource{
	"rfc5280":    {lint.RFC5280, lint.RFC3279, lint.RFC5480, lint.RFC8813, lint.RFC5891},
	"etsi":       {lint.EtsiEsi},
	"cabf_br":    {lint.CABFBaselineRequirements},
	"cabf_ev":    {lint.CABFEVGuidelines},
	"cabf_smime": {lint.CABFSMIMEBaselineRequirements},
	"community":  {lint.Community},
}

// linter holds the lints of one filtered zlint registry per set of
// sources: filtering the global registry is costly, running a filtered one
// is cheap.
type linter struct {
	mu   sync.RWMutex
	sets map[string]*lintSet
}

// lintSet is a filtered registry ready to run: its certificate lints, in
// registry order, and its configuration.
type lintSet struct {
	lints  []*lint.CertificateLint
	config lint.Configuration
}

func (l *linter) registry(sources []string) (*lintSet, error) {
	key := strings.Join(sources, ",")
	l.mu.RLock()
	set, ok := l.sets[key]
	l.mu.RUnlock()
	if ok {
		return set, nil
	}
	var list lint.SourceList
	for _, s := range sources {
		src, ok := lintSourceNames[s]
		if !ok {
			return nil, fmt.Errorf("unknown lint source %q", s)
		}
		list = append(list, src...)
	}
	r, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: list})
	if err != nil {
		return nil, err
	}
	set = &lintSet{lints: r.CertificateLints().Lints(), config: r.GetConfiguration()}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sets == nil {
		l.sets = map[string]*lintSet{}
	}
	l.sets[key] = set
	return set, nil
}

// LintFindings are the lints that did not pass, by level.
type LintFindings struct {
	Errors   []string // error and fatal: issuance is refused
	Warnings []string
}

// lintCertificate runs the sources over a DER certificate. The certificate
// may be signed by any key: zlint does not check the signature.
func (l *linter) lintCertificate(der []byte, sources []string) (LintFindings, error) {
	var f LintFindings
	set, err := l.registry(sources)
	if err != nil {
		return f, err
	}
	zc, err := zx509.ParseCertificate(der)
	if err != nil {
		return f, fmt.Errorf("zlint cannot parse the certificate: %w", err)
	}
	// What zlint.LintCertificateEx does, without building its result map
	// and sorting every lint name of the registry on each certificate.
	for _, cl := range set.lints {
		switch r := cl.Execute(zc, set.config); r.Status {
		case lint.Error, lint.Fatal:
			f.Errors = append(f.Errors, cl.Name)
		case lint.Warn:
			f.Warnings = append(f.Warnings, cl.Name)
		}
	}
	sort.Strings(f.Errors)
	sort.Strings(f.Warnings)
	return f, nil
}

// refuse turns error-level findings into the issuance refusal (CA-2).
func (f LintFindings) refuse(op string) error {
	if len(f.Errors) == 0 {
		return nil
	}
	return sceau.Errorf(sceau.Invalid, op, "the certificate fails lints: %s", strings.Join(f.Errors, ", "))
}

// sharedLinter keeps the filtered registries of LintCertificate.
var sharedLinter linter

// LintCertificate lints a DER certificate with the given sources (rfc5280,
// etsi, cabf_br, cabf_smime, community; none: zlint's whole registry); for
// tests and `sceau check`.
func LintCertificate(der []byte, sources ...string) (LintFindings, error) {
	return sharedLinter.lintCertificate(der, sources)
}

// LintCRL lints a DER CRL with zlint's RFC 5280 lints.
func LintCRL(der []byte) (LintFindings, error) {
	var f LintFindings
	crl, err := zx509.ParseRevocationList(der)
	if err != nil {
		return f, fmt.Errorf("zlint cannot parse the CRL: %w", err)
	}
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280}})
	if err != nil {
		return f, err
	}
	res := zlint.LintRevocationListEx(crl, reg)
	for name, r := range res.Results {
		switch r.Status {
		case lint.Error, lint.Fatal:
			f.Errors = append(f.Errors, name)
		case lint.Warn:
			f.Warnings = append(f.Warnings, name)
		}
	}
	sort.Strings(f.Errors)
	sort.Strings(f.Warnings)
	return f, nil
}

// checkETSI runs the EN 319 412 clause rules over the linted copy (CA-2):
// errors refuse the certificate naming each clause, warnings join f's.
func checkETSI(op string, der []byte, p *etsi.Profile, f *LintFindings) error {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	var errs []string
	for _, fd := range etsi.Check(cert, *p) {
		if fd.Level == etsi.Error {
			errs = append(errs, fd.Clause+": "+fd.Message)
		} else {
			f.Warnings = append(f.Warnings, fd.Clause+": "+fd.Message)
		}
	}
	if len(errs) > 0 {
		return sceau.Errorf(sceau.Invalid, op, "the certificate fails EN 319 412: %s", strings.Join(errs, "; "))
	}
	return nil
}
