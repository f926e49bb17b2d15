package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/publication"
)

// RelativeTarget is a goal set against another measurement of the same
// run, on the same installation and machine: absolute figures move with
// the load of a shared machine, their ratios much less.
type RelativeTarget struct {
	Rate float64 `json:"rate_ratio"` // measured rate / reference rate, at least
	P99  float64 `json:"p99_ratio"`  // measured p99 / reference p99, at most
}

// SiteTarget (issue 14, PUB-1, PUB-3): the site's pages and CRL downloads,
// served from memory, are at least as fast as OCSP's pre-signed path, also
// served from memory, measured in the same run: a rate at least OCSP's
// and a p99 no higher.
var SiteTarget = RelativeTarget{Rate: 1, P99: 1}

// sitePath is one URL Site requests, with the media type its answer has.
type sitePath struct {
	path, mediaType string
}

// sitePaths lists the public URLs the site measurement cycles over: the
// home page and each CA's page in every language, each CA's full CRL and
// certificate, and the manifest.
func sitePaths(inst *installation) []sitePath {
	var out []sitePath
	cas := inst.node.Authority.CAs()
	for _, lang := range publication.Languages {
		out = append(out, sitePath{"/" + lang + "/", "text/html"})
		for _, c := range cas {
			out = append(out, sitePath{"/" + lang + "/ca/" + c.Spec.ID, "text/html"})
		}
	}
	for _, c := range cas {
		out = append(out, sitePath{"/crl/" + c.Spec.ID + ".crl", "application/pkix-crl"},
			sitePath{"/ca/" + c.Spec.ID + ".der", "application/pkix-cert"})
	}
	return append(out, sitePath{"/manifest.json", "application/json"})
}

// Site measures GETs of the public site (sitePaths, in turn) on a new
// temporary installation. Alone, it is held to OCSPTarget; SiteVsOCSP
// holds it to SiteTarget.
func Site(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(false); err != nil {
		return nil, err
	}
	inst, err := start(ctx, o.Progress)
	if err != nil {
		return nil, err
	}
	defer inst.Close()
	return measureSite(ctx, inst, o)
}

// siteReady is how long the site may take, after the server starts, to
// serve every measured URL: the CRLs and the first manifest are signed
// in the background and appear at the next refresh of the site.
const siteReady = time.Minute

func measureSite(ctx context.Context, inst *installation, o Options) (*Result, error) {
	addr := inst.cfg.Public.Listen
	paths := sitePaths(inst)
	reqs := make([][]byte, len(paths))
	for i, p := range paths {
		reqs[i] = getRequest(addr, p.path)
	}
	clients := newClients(o.Clients, publicDialer(addr))
	defer closeClients(clients)
	// Check each URL in full before measuring (status and media type),
	// waiting for the site to hold the CRLs and the manifest. The measured
	// requests only check the status.
	progress(o.Progress, "waiting for the site to serve %d URLs …", len(paths))
	deadline := time.Now().Add(siteReady)
	for i, p := range paths {
		for {
			err := siteCheck(clients[0], reqs[i], p.mediaType)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("bench: GET %s: %w", p.path, err)
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	r, err := runClients(ctx, o.Progress, "site", clients, o.Duration, o.Count, o.CPUProfile, func(c *rawClient, i int) error {
		return siteOnce(c, reqs[i%len(reqs)])
	})
	if err != nil {
		return nil, err
	}
	list := make([]string, len(paths))
	for i, p := range paths {
		list[i] = p.path
	}
	return newResult("site", fmt.Sprintf("GET http://%s {%s}", addr, strings.Join(list, ", ")), o, r, OCSPTarget), nil
}

// siteOnce gets one URL and requires 200 and a body.
func siteOnce(c *rawClient, req []byte) error {
	status, b, err := c.do(req)
	if err != nil {
		return err
	}
	if status != http.StatusOK || len(b) == 0 {
		return fmt.Errorf("%d %s (%d bytes)", status, http.StatusText(status), len(b))
	}
	return nil
}

// siteCheck is siteOnce that also checks the media type.
func siteCheck(c *rawClient, req []byte, mediaType string) error {
	resp, b, err := c.roundTrip(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || len(b) == 0 {
		return fmt.Errorf("%d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode), bytes.TrimSpace(b))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, mediaType) {
		return fmt.Errorf("Content-Type %q, want %s", ct, mediaType)
	}
	return nil
}

// Comparison is the site measured against OCSP in the same run; it is
// what 'sceau bench site --json' prints.
type Comparison struct {
	OCSP *Result `json:"ocsp"`
	Site *Result `json:"site"`
	// The site's figures over OCSP's.
	RateRatio  float64        `json:"rate_ratio"`
	P99Ratio   float64        `json:"p99_ratio"`
	VmHWMRatio float64        `json:"vm_hwm_ratio"` // peak resident memory during each run
	Target     RelativeTarget `json:"target"`
	RatePass   bool           `json:"rate_pass"` // the ratio is reached and no site request failed
	P99Pass    bool           `json:"p99_pass"`
}

// SiteVsOCSP measures, on one new temporary installation and in this
// process, OCSP (as OCSP does, o.Certs certificates) and then the site (as
// Site does), and compares them with SiteTarget. A CPU profile, if asked
// for, is of the site's run.
func SiteVsOCSP(ctx context.Context, o Options) (*Comparison, error) {
	if err := o.validate(true); err != nil {
		return nil, err
	}
	inst, err := start(ctx, o.Progress)
	if err != nil {
		return nil, err
	}
	defer inst.Close()
	oo := o
	oo.CPUProfile = ""
	ref, err := measureOCSP(ctx, inst, oo)
	if err != nil {
		return nil, err
	}
	res, err := measureSite(ctx, inst, o)
	if err != nil {
		return nil, err
	}
	return compare(ref, res, SiteTarget), nil
}

// compare holds res to t relative to ref.
func compare(ref, res *Result, t RelativeTarget) *Comparison {
	c := &Comparison{OCSP: ref, Site: res, Target: t}
	if ref.Rate > 0 {
		c.RateRatio = res.Rate / ref.Rate
	}
	if ref.P99ms > 0 {
		c.P99Ratio = res.P99ms / ref.P99ms
	}
	if ref.VmHWMKiB > 0 {
		c.VmHWMRatio = float64(res.VmHWMKiB) / float64(ref.VmHWMKiB)
	}
	c.RatePass = ref.Rate > 0 && c.RateRatio >= t.Rate && res.Errors == 0
	c.P99Pass = ref.P99ms > 0 && res.Rate > 0 && c.P99Ratio <= t.P99
	return c
}

// Report writes both results and the site's ratios to OCSP's, with PASS
// or BELOW against SiteTarget.
func (c *Comparison) Report(w io.Writer) error {
	if err := c.OCSP.Report(w); err != nil {
		return err
	}
	if err := c.Site.Report(w); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "site / ocsp (same run, same installation)\n")
	fmt.Fprintf(bw, "  rate      %.2f   target >= %.2f  %s\n", c.RateRatio, c.Target.Rate, verdict(c.RatePass))
	fmt.Fprintf(bw, "  p99       %.2f   target <= %.2f  %s\n", c.P99Ratio, c.Target.P99, verdict(c.P99Pass))
	fmt.Fprintf(bw, "  VmHWM     %.2f   (%.1f MiB / %.1f MiB)\n", c.VmHWMRatio,
		float64(c.Site.VmHWMKiB)/1024, float64(c.OCSP.VmHWMKiB)/1024)
	return bw.Flush()
}
