package access

import (
	"context"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
)

// JournalDecider answers the journal's access questions (AUD-3) with
// Decide, for the principal that the admin listener put in the request's
// context: reading and exporting the journal are the Auditor's and the
// Security Officer's. Without a principal it refuses.
var JournalDecider audit.Decider = audit.DeciderFunc(func(ctx context.Context, _ sceau.Actor, op string) error {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return sceau.Errorf(sceau.Denied, "access", "%s needs an authenticated person", op)
	}
	return Decide(p, Action(op), Resource{Kind: "journal"}).Err()
})
