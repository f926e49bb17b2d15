package audit_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// AUD-3: only the Auditor and the Security Officer read or export the
// journal through the Guard; everyone else, and a guard without a
// decision, is refused before anything is read.
func TestAUD3_NonAuditorIsRefused(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	appendEvents(t, db, 5, 5)
	dir := filepath.Join(t.TempDir(), "export")
	ops := map[string]func(g audit.Guard, a sceau.Actor) error{
		"read": func(g audit.Guard, a sceau.Actor) error { _, err := g.Read(ctx, a, 0, 10); return err },
		"alerts": func(g audit.Guard, a sceau.Actor) error {
			_, err := g.Alerts(ctx, a, time.Now().Add(-time.Hour), 10)
			return err
		},
		"status": func(g audit.Guard, a sceau.Actor) error { _, err := g.Status(ctx, a, "", time.Now()); return err },
		"verify": func(g audit.Guard, a sceau.Actor) error {
			_, err := g.Verify(ctx, a, audit.VerifyOptions{})
			return err
		},
		"export": func(g audit.Guard, a sceau.Actor) error { _, err := g.Export(ctx, a, dir); return err },
	}
	tests := []struct {
		name    string
		decider audit.Decider
		actor   sceau.Actor
		allowed bool
	}{
		{"auditor", audit.RolesAllowed(), sceau.Actor{ID: "ada", Role: audit.RoleAuditor}, true},
		{"security officer", audit.RolesAllowed(), sceau.Actor{ID: "sam", Role: audit.RoleSecurityOfficer}, true},
		{"registration officer", audit.RolesAllowed(), sceau.Actor{ID: "rita", Role: "registration-officer"}, false},
		{"system administrator", audit.RolesAllowed(), sceau.Actor{ID: "sid", Role: "system-administrator"}, false},
		{"no role", audit.RolesAllowed(), sceau.Actor{ID: "nobody"}, false},
		{"a system component", audit.RolesAllowed(), sceau.System("scheduler"), false},
		{"no decision configured", nil, sceau.Actor{ID: "ada", Role: audit.RoleAuditor}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := audit.Guard{DB: db, Decider: tc.decider}
			for op, fn := range ops {
				err := fn(g, tc.actor)
				if tc.allowed && err != nil {
					t.Errorf("%s: %v, want it allowed", op, err)
				}
				if !tc.allowed && !errors.Is(err, sceau.ErrDenied) {
					t.Errorf("%s: %v, want denied", op, err)
				}
			}
		})
	}
	// Who may enter events is not the reading rule's to say.
	if _, err := audit.RecordManual(ctx, db, audit.NewJournal(nil), audit.RolesAllowed(), sceau.Actor{ID: "ada", Role: audit.RoleAuditor},
		"maintenance", map[string]string{"who": "x", "system": "y", "description": "z"}); !errors.Is(err, sceau.ErrDenied) {
		t.Errorf("RecordManual through RolesAllowed: %v, want denied", err)
	}
}
