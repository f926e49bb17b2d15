package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Result is what a run measured, against its target; it is what
// 'sceau bench --json' prints.
type Result struct {
	Bench      string      `json:"bench"`    // "issue", "ocsp" or "site"
	Endpoint   string      `json:"endpoint"` // the method and URL driven
	Clients    int         `json:"clients"`
	CPUs       int         `json:"cpus"` // GOMAXPROCS, shared by server and clients
	Seconds    float64     `json:"seconds"`
	Requests   int64       `json:"requests"` // successes and errors
	Errors     int64       `json:"errors"`
	FirstError string      `json:"first_error,omitempty"`
	Rate       float64     `json:"rate_per_s"` // successful requests per second
	P50ms      float64     `json:"p50_ms"`     // latencies of the successful requests
	P99ms      float64     `json:"p99_ms"`
	MaxMs      float64     `json:"max_ms"`
	VmHWMKiB   int64       `json:"vm_hwm_kib"` // peak resident memory during the run (Linux; else 0)
	VmRSSKiB   int64       `json:"vm_rss_kib"` // resident memory at its end
	Target     TargetCheck `json:"target"`
	// Remote: a running installation was driven; the memory above is then
	// the clients' alone.
	Remote bool `json:"remote,omitempty"`
	// ProcessCores is this process's CPU during the run, in cores: server
	// and clients for a throwaway installation, the clients alone for a
	// running one. MachineCPUs is this machine's count.
	ProcessCores float64 `json:"process_cores"`
	MachineCPUs  int     `json:"machine_cpus"`
	// ServerCores and ServerRSSKiB are the nodes' CPU (in cores) and
	// resident memory, from their /metrics (running installation only).
	ServerCores  float64 `json:"server_cores,omitempty"`
	ServerRSSKiB int64   `json:"server_rss_kib,omitempty"`
	ServerUnread string  `json:"server_unread,omitempty"` // why the nodes' figures are missing
	// BareRate is bare x509.CreateCertificate on every core in the same
	// run, and BareRatio the rate's share of it (issue 13's yardstick).
	BareRate  float64 `json:"bare_sign_rate_per_s,omitempty"`
	BareRatio float64 `json:"rate_to_bare,omitempty"`
	// Profile is the CPU profile file written, if any.
	Profile string `json:"-"`
}

// TargetCheck holds a Target and how the run compares with it.
type TargetCheck struct {
	Rate      float64 `json:"rate_per_s"`
	RateRatio float64 `json:"rate_ratio"` // measured / target: 1 or more passes
	RatePass  bool    `json:"rate_pass"`  // the rate is reached and no request failed
	P99ms     float64 `json:"p99_ms"`
	P99Ratio  float64 `json:"p99_ratio"` // measured / limit: under 1 passes
	P99Pass   bool    `json:"p99_pass"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// newResult computes the figures of r against t.
func newResult(name, endpoint string, o Options, r *run, t Target) *Result {
	res := &Result{Bench: name, Endpoint: endpoint, Clients: o.Clients, CPUs: runtime.GOMAXPROCS(0),
		Seconds: r.elapsed.Seconds(), Requests: r.requests, Errors: r.errors, FirstError: r.firstError,
		Profile: o.CPUProfile}
	if ok := int64(len(r.latencies)); ok > 0 {
		res.Rate = float64(ok) / r.elapsed.Seconds()
		res.P50ms = ms(r.latencies[len(r.latencies)/2])
		res.P99ms = ms(r.latencies[min(len(r.latencies)-1, len(r.latencies)*99/100)])
		res.MaxMs = ms(r.latencies[len(r.latencies)-1])
	}
	res.VmHWMKiB, res.VmRSSKiB = processMemory()
	res.Target = TargetCheck{
		Rate:      t.Rate,
		RateRatio: res.Rate / t.Rate,
		RatePass:  res.Rate >= t.Rate && r.errors == 0,
		P99ms:     ms(t.P99),
		P99Ratio:  res.P99ms / ms(t.P99),
		P99Pass:   res.P99ms < ms(t.P99) && len(r.latencies) > 0,
	}
	return res
}

// Report writes the result for a person to read: the figures, and PASS or
// BELOW for each target with the figure's ratio to it.
func (res *Result) Report(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "sceau bench %s: %s\n", res.Bench, res.Endpoint)
	fmt.Fprintf(bw, "  clients   %d on %d CPUs (clients and server share them), %.1fs\n", res.Clients, res.CPUs, res.Seconds)
	fmt.Fprintf(bw, "  requests  %d, errors %d\n", res.Requests, res.Errors)
	if res.FirstError != "" {
		fmt.Fprintf(bw, "  first error: %s\n", res.FirstError)
	}
	fmt.Fprintf(bw, "  rate      %.0f/s      target >= %.0f/s  %.2f of target  %s\n", res.Rate, res.Target.Rate,
		res.Target.RateRatio, verdict(res.Target.RatePass))
	fmt.Fprintf(bw, "  latency   p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", res.P50ms, res.P99ms, res.MaxMs)
	fmt.Fprintf(bw, "            target p99 < %.0f ms  %.2f of limit  %s\n", res.Target.P99ms, res.Target.P99Ratio,
		verdict(res.Target.P99Pass))
	who := "server and clients, one process"
	if res.Remote {
		who = "the clients alone"
	}
	fmt.Fprintf(bw, "  memory    VmHWM %.1f MiB (peak during the run), VmRSS %.1f MiB at its end (%s)\n",
		float64(res.VmHWMKiB)/1024, float64(res.VmRSSKiB)/1024, who)
	if res.MachineCPUs > 0 {
		fmt.Fprintf(bw, "  cpu       this process %.2f cores, %.0f%% of each of the %d cores (%s)\n", res.ProcessCores,
			100*res.ProcessCores/float64(res.MachineCPUs), res.MachineCPUs, who)
	}
	if res.ServerCores > 0 {
		fmt.Fprintf(bw, "            the nodes %.2f cores, %.1f MiB resident (from their /metrics)\n", res.ServerCores, float64(res.ServerRSSKiB)/1024)
	} else if res.ServerUnread != "" {
		fmt.Fprintf(bw, "            the nodes: not read (%s)\n", res.ServerUnread)
	}
	if res.BareRate > 0 {
		fmt.Fprintf(bw, "  bare      x509.CreateCertificate %.0f/s on every core in this run: the rate is %.3f of it\n", res.BareRate, res.BareRatio)
	}
	if res.Profile != "" {
		fmt.Fprintf(bw, "  profile   %s (go tool pprof -top %s)\n", res.Profile, res.Profile)
	}
	return bw.Flush()
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "BELOW"
}

// resetPeakMemory returns the free heap to the system and makes VmHWM
// start again from the resident set (Linux: 5 to /proc/self/clear_refs),
// so that the peak reported is the measured run's, not the keystore's key
// derivation at start-up. It is best effort: elsewhere the peak stays the
// process's.
func resetPeakMemory() {
	debug.FreeOSMemory()
	_ = os.WriteFile(filepath.Join("/proc", "self", "clear_refs"), []byte("5"), 0)
}

// processMemory reads the peak and current resident set of this process
// (Linux /proc/self/status, KiB); zeros elsewhere.
func processMemory() (hwm, rss int64) {
	f, err := os.Open(filepath.Join("/proc", "self", "status"))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	return hwm, rss
}
