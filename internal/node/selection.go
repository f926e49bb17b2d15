package node

import (
	"context"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/revocation"
)

// SelectCertificates is the dry run of a selective revocation on the
// installation's database, read-only, beside a running serve (INC-3): it
// may read millions of certificates, with o.Progress.
func SelectCertificates(ctx context.Context, cfg *config.Config, sel revocation.Selector, o revocation.SelectOptions) (*revocation.Selection, error) {
	db, err := openReadOnlyStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return revocation.Select(ctx, db, sel, o)
}
