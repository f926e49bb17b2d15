package node

import (
	"context"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
)

// DryRun builds the certificate that req would get from the installation
// cfg describes, with the checks and the template of a real issuance, and
// returns it with a placeholder signature for the lint gate (CA-2). It
// reserves no serial and journals no certificate event; the CA key is
// not used (opening the installation journals its keystore's activation).
func DryRun(ctx context.Context, cfg *config.Config, req ca.Request) ([]byte, *ca.Profile, error) {
	n, err := Open(ctx, cfg, nil)
	if err != nil {
		return nil, nil, err
	}
	defer n.Close()
	der, err := n.Authority.DryRun(req)
	if err != nil {
		return nil, nil, err
	}
	c, err := n.Authority.CA(req.CA)
	if err != nil {
		return nil, nil, err
	}
	p, _ := c.Profile(req.Profile)
	return der, p, nil
}
