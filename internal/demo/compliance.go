package demo

import (
	"context"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/compliance"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
)

// SelfAudit runs the compliance self-audit as the demo Auditor, logged in
// as a person would be (COMP-1); the server archives the report (COMP-2).
// A demo fails some clauses by design (its root key has no m-of-n
// activation, its clock is not checked, there is no backup or replica):
// the report says which, and why.
func SelfAudit(ctx context.Context, cfg *config.Config, c *adminapi.Client) (*compliance.Report, error) {
	people, err := node.DemoPeople(node.LayoutOf(cfg))
	if err != nil {
		return nil, sceau.E(sceau.NotFound, op, "the demo people", err)
	}
	auditors, err := loginAs(ctx, cfg, c, people, access.SystemAuditor)
	if err != nil {
		return nil, err
	}
	return auditors[0].SelfAudit(ctx)
}
