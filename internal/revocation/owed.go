package revocation

import (
	"context"
	"database/sql"

	"github.com/sceau/sceau/internal/store"
)

// owesCRL says whether CA caID has a revocation that its current CRL may
// lack (CA-3): its newest revocation is not older than the CRL's
// thisUpdate. The revocation's time commits in the same transaction as the
// revocation itself, so this owed CRL is durable work: a crash between the
// acknowledgement of a revocation and the CRL it triggers (whose kick lives
// in memory only) is made good by the next scheduler pass, at start and
// then every minute, instead of waiting for crl.refresh. Both times are
// whole seconds: a revocation in the CRL's own second counts as owed, which
// costs at most one extra CRL.
func (s *Service) owesCRL(ctx context.Context, caID string, c *CRL) (bool, error) {
	var newest sql.NullString
	if err := s.db.QueryRowContext(ctx, qNewestRevocation, caID).
		Scan(&newest); err != nil {
		return false, store.Classify("revocation: owed crl", err)
	}
	if !newest.Valid {
		return false, nil
	}
	t, err := store.ParseTime(newest.String)
	if err != nil {
		return false, err
	}
	return !t.Before(c.ThisUpdate), nil
}
