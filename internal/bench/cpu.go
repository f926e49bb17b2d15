package bench

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// usage is CPU time and memory at one moment: this process's, and each
// node's from its /metrics when the target is a running installation.
type usage struct {
	at          time.Time
	self        time.Duration
	nodes       float64 // sum of process_cpu_seconds_total, seconds
	nodesRSS    int64   // sum of process_resident_memory_bytes
	nodesOK     int     // nodes whose metrics were read
	nodesWanted int
	nodesErr    string // why a node's metrics could not be read
}

// processCPU is this process's user and system time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sample reads the usage now. The nodes' metrics are read only for a
// running installation: a throwaway one shares this process.
func (t *target) sample(ctx context.Context) usage {
	u := usage{at: time.Now(), self: processCPU()}
	if !t.remote {
		return u
	}
	addrs, err := t.addrs(true)
	if err != nil {
		return u
	}
	tlsCfg, err := t.adminTLS()
	if err != nil {
		return u
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer client.CloseIdleConnections()
	u.nodesWanted = len(addrs)
	for _, a := range addrs {
		cpu, rss, err := scrape(ctx, client, "https://"+a+"/metrics", t.token)
		if err != nil {
			u.nodesErr = a + ": " + err.Error()
			continue
		}
		u.nodes += cpu
		u.nodesRSS += rss
		u.nodesOK++
	}
	return u
}

// scrape reads a node's CPU seconds and resident memory from its
// Prometheus metrics (the process collector).
func scrape(ctx context.Context, c *http.Client, url, token string) (cpu float64, rss int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusForbidden, http.StatusUnauthorized:
		return 0, 0, fmt.Errorf("%s: log in (sceau login) as a System Operator or Administrator, a Security Officer or an Auditor", resp.Status)
	default:
		return 0, 0, fmt.Errorf("%s", resp.Status)
	}
	var haveCPU bool
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, found := strings.Cut(sc.Text(), " ")
		if !found {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				cpu, haveCPU = v, true
			}
		case "process_resident_memory_bytes":
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				rss = int64(v)
			}
		}
	}
	if !haveCPU {
		return 0, 0, fmt.Errorf("no process_cpu_seconds_total in its metrics")
	}
	return cpu, rss, nil
}

// addUsage puts the CPU figures of the run between before and after into
// res: this process's cores and, for a running installation, the nodes'.
func (res *Result) addUsage(before, after usage) {
	secs := after.at.Sub(before.at).Seconds()
	if secs <= 0 {
		return
	}
	res.ProcessCores = (after.self - before.self).Seconds() / secs
	res.MachineCPUs = runtime.NumCPU()
	switch {
	case after.nodesWanted > 0 && after.nodesOK == after.nodesWanted && before.nodesOK == before.nodesWanted:
		res.ServerCores = (after.nodes - before.nodes) / secs
		res.ServerRSSKiB = after.nodesRSS / 1024
	case after.nodesErr != "":
		res.ServerUnread = after.nodesErr
	case before.nodesErr != "":
		res.ServerUnread = before.nodesErr
	}
}

// bareSignRate is the rate of bare x509.CreateCertificate calls (P-256
// CA key, P-256 subject key, a server certificate like Sceau's) on every
// core for d: the ceiling issuance is measured against (issue 13).
func bareSignRate(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0
	}
	subj, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0
	}
	now := time.Now()
	parent := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Bench CA"}, NotBefore: now,
		NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	var n atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(2); ctx.Err() == nil; i++ {
				tmpl := &x509.Certificate{SerialNumber: big.NewInt(i), Subject: pkix.Name{CommonName: "bench.example.org"},
					DNSNames: []string{"bench.example.org"}, NotBefore: now, NotAfter: now.Add(time.Hour),
					KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
				if _, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &subj.PublicKey, caKey); err != nil {
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
