// Package bench measures how fast a Sceau installation answers the two
// requests whose volume grows with the number of certificates: issuance
// through the admin API, and OCSP on the public listener. The project holds
// itself to targets for both (IssueTarget, OCSPTarget): a rate of at least
// so many answers a second, and a 99th-percentile latency under a limit.
// 'sceau bench issue' and 'sceau bench ocsp' run Issue and OCSP and print
// the Result against those targets.
//
// The public site (pages, CA certificates, CRLs, the manifest) is held to
// a relative target instead, SiteTarget (issue 14, PUB-3): both it and
// OCSP's pre-signed path answer from memory, so the site must be at least
// as fast as OCSP measured in the same run. 'sceau bench site' runs
// SiteVsOCSP: OCSP, then Site on the same installation, and prints both
// Results and the Comparison (site/OCSP ratios of rate, p99 and VmHWM).
//
// Each run creates a throwaway installation with internal/node (Init, then
// Serve in this process, on two free ports of 127.0.0.1), drives it over
// real HTTP from concurrent clients, each with its own keep-alive
// connection, and removes the directory. The clients are kept cheap (one
// pre-built request written and one response read per call, no net/http
// client machinery) because they share the machine's cores with the
// server: on a small machine the figures are a floor.
//
// What is measured:
//   - issue: POST /api/v1/certificates over TLS 1.3 with the operator's
//     client certificate, one pre-generated P-256 CSR per request, the
//     server profile. Connections are made before the measurement.
//   - ocsp: first issues Options.Certs certificates, checks one OCSP answer
//     in full (good status, signed for the CA), then POSTs DER requests
//     (SHA-1 CertID, no nonce: the pre-signed path) to /ocsp, checking
//     only that each answer's status is "successful".
//   - site: checks each URL in full (200, its media type), waiting for the
//     CRLs and the manifest to appear, then GETs them in turn: /fr/ and
//     /en/, each CA's page in both, /crl/{id}.crl and /ca/{id}.der for
//     each CA, /manifest.json, checking only that each answer is 200.
//
// With Options.Remote the same measurements drive a running installation
// (issue, ocsp, crl), its clients spread over the nodes named; the nodes'
// CPU and memory are then read from their /metrics with the session of the
// person at the terminal, and this process's are the clients' alone. After
// an issuance run, Options.Bare measures bare x509.CreateCertificate on
// every core: the rate's share of it is the figure issue 13 targets.
//
// A Result holds the requests, the errors and the first of them, the rate
// of successful requests, p50, p99 and maximum latency of the successful
// ones, and the process's peak and current resident memory (Linux VmHWM and
// VmRSS; server and clients share the process), with each figure's ratio
// to its target.
//
// Invariants:
//   - a run never touches an operator's installation: it works only in a
//     new temporary directory, removed when the run ends;
//   - every request is counted, as a success (its latency kept) or an
//     error; a run in which every request failed is an error, not a
//     Result;
//   - progress goes only to Options.Progress (nil: silent), so scripts see
//     the Result alone.
package bench
