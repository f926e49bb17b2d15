// Package server runs Sceau's two HTTP listeners (SYS-2): the public one,
// read-only for everyone (CA certificates, CRLs, OCSP: PUB-1 in part), and
// the administration one, TLS 1.3 with client certificates, carrying the
// JSON issuance and revocation API and /metrics. Handlers authenticate and
// translate; the domain packages decide. Only this package maps error kinds
// to HTTP status codes.
package server
