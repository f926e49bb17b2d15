package bench

import (
	"context"
	"fmt"
	"time"
)

// CRLTarget is the goal for CRL downloads: served from memory like OCSP's
// pre-signed answers, they are held to the same rate and p99.
var CRLTarget = Target{Rate: 10000, P99: 5 * time.Millisecond}

// CRL measures downloads of every CA's current full CRL (GET
// /crl/{id}.crl) on the public listener, in turn: of a new temporary
// installation or of a running one.
func CRL(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(false); err != nil {
		return nil, err
	}
	return withTarget(ctx, o, func(t *target) (*Result, error) { return measureCRL(ctx, t, o) })
}

func measureCRL(ctx context.Context, t *target, o Options) (*Result, error) {
	api, err := t.api()
	if err != nil {
		return nil, err
	}
	cas, err := api.CAs(ctx)
	if err != nil {
		return nil, err
	}
	dial, host, err := t.dialer(false)
	if err != nil {
		return nil, err
	}
	var reqs [][]byte
	for _, c := range cas {
		reqs = append(reqs, getRequest(host, "/crl/"+c.ID+".crl"))
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("bench: the installation has no CA")
	}
	clients := newClients(o.Clients, dial)
	defer closeClients(clients)
	// Each CRL once in full first: 200 and application/pkix-crl.
	for i, r := range reqs {
		if err := siteCheck(clients[0], r, "application/pkix-crl"); err != nil {
			return nil, fmt.Errorf("bench: the CRL of %s: %w", cas[i].ID, err)
		}
	}
	return t.measure(ctx, o, "crl", t.endpoint("GET", "http", "/crl/{id}.crl", false)+fmt.Sprintf(" (%d CAs)", len(reqs)), CRLTarget,
		clients, func(c *rawClient, i int) error { return siteOnce(c, reqs[i%len(reqs)]) })
}
