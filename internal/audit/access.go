package audit

import (
	"context"
	"slices"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Operations on the journal that AUD-3 restricts.
const (
	OpRead   = "audit.read"   // read events, alerts and status
	OpExport = "audit.export" // export or verify the whole journal
	OpRecord = "audit.record" // enter an event that happened outside the software
)

// Decider decides whether actor may perform op on the journal (AUD-3): nil
// allows, an error of kind sceau.Denied says why not. The access package's
// decision function answers it once accounts and roles exist; until then
// RolesAllowed does.
type Decider interface {
	Decide(ctx context.Context, actor sceau.Actor, op string) error
}

// DeciderFunc adapts a function to Decider.
type DeciderFunc func(ctx context.Context, actor sceau.Actor, op string) error

// Decide implements Decider.
func (f DeciderFunc) Decide(ctx context.Context, actor sceau.Actor, op string) error {
	return f(ctx, actor, op)
}

// The roles of REQUIREMENTS.md ROLE-1 that AUD-3 names.
const (
	RoleAuditor         = "system-auditor"
	RoleSecurityOfficer = "security-officer"
)

// RolesAllowed lets actors acting under one of roles read and export the
// journal, and nobody else (AUD-3, default deny). With no roles it allows
// the Auditor and the Security Officer. It does not decide OpRecord, which
// it refuses: who may enter events is the access package's to say.
func RolesAllowed(roles ...string) Decider {
	if len(roles) == 0 {
		roles = []string{RoleAuditor, RoleSecurityOfficer}
	}
	return DeciderFunc(func(_ context.Context, actor sceau.Actor, op string) error {
		if (op == OpRead || op == OpExport) && actor.ID != "" && slices.Contains(roles, actor.Role) {
			return nil
		}
		// AUD-3: only authorised roles read the journal.
		return sceau.Errorf(sceau.Denied, "audit: access", "%s may not perform %s: it needs one of the roles %v", actor, op, roles)
	})
}

// FileAccess is the decision of the offline commands, which open the data
// directory themselves: whoever can read its files (mode 0700, the
// service's account) can read the journal anyway, so the file system is
// the control. It allows everything and must never serve a network request.
var FileAccess Decider = DeciderFunc(func(context.Context, sceau.Actor, string) error { return nil })

// Guard gives access to the journal through a Decider (AUD-3). Every
// method asks the Decider first; a nil Decider refuses everything.
type Guard struct {
	DB      store.Querier
	Decider Decider
}

func (g Guard) check(ctx context.Context, actor sceau.Actor, op string) error {
	if g.Decider == nil {
		return sceau.Errorf(sceau.Denied, "audit: access", "no access decision is configured for %s", op)
	}
	return g.Decider.Decide(ctx, actor, op)
}

// Read returns up to limit events after after.
func (g Guard) Read(ctx context.Context, actor sceau.Actor, after int64, limit int) ([]Record, error) {
	if err := g.check(ctx, actor, OpRead); err != nil {
		return nil, err
	}
	return Read(ctx, g.DB, after, limit)
}

// Alerts lists the alerts raised since since.
func (g Guard) Alerts(ctx context.Context, actor sceau.Actor, since time.Time, limit int) ([]Alert, error) {
	if err := g.check(ctx, actor, OpRead); err != nil {
		return nil, err
	}
	return Alerts(ctx, g.DB, since, limit)
}

// Status reports the journal's state and its export's lag.
func (g Guard) Status(ctx context.Context, actor sceau.Actor, exportDir string, now time.Time) (Status, error) {
	if err := g.check(ctx, actor, OpRead); err != nil {
		return Status{}, err
	}
	return ReadStatus(ctx, g.DB, exportDir, now)
}

// Verify verifies the whole journal.
func (g Guard) Verify(ctx context.Context, actor sceau.Actor, opts VerifyOptions) (VerifyResult, error) {
	if err := g.check(ctx, actor, OpExport); err != nil {
		return VerifyResult{}, err
	}
	return VerifyWith(ctx, g.DB, opts)
}

// Export exports the journal to dir.
func (g Guard) Export(ctx context.Context, actor sceau.Actor, dir string) (int64, error) {
	if err := g.check(ctx, actor, OpExport); err != nil {
		return 0, err
	}
	return NewExporter(g.DB, dir, nil).Export(ctx)
}
