package revocation

import (
	"context"

	"github.com/sceau/sceau/internal/sceau"
)

// SchedulerPass runs one pass of the CRL scheduler, for tests.
func (s *Service) SchedulerPass(ctx context.Context, logf func(msg string, args ...any)) {
	s.schedulerPass(ctx, sceau.System("scheduler"), logf)
}

// AfterCRLRead sets a function run between the reading of a CRL's entries
// and the taking of its number, for tests of several nodes.
func (s *Service) AfterCRLRead(f func()) { s.afterCRLRead = f }

// CreateCRL is the CRL encoder (crlencode.go), for tests.
var CreateCRL = createCRL
