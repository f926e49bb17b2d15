package demo

import (
	"context"
	"os"
	"path/filepath"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/sceau"
)

// sampleReport is the demo's audit report, archived once.
const sampleReport = `Rapport d'audit interne (DÉMONSTRATION) — Internal audit report (DEMO)

Périmètre / Scope: the demo installation's CAs, journal and archive.
Conclusion: conforme / compliant. Nothing here is a real audit.
`

// ArchiveSample archives, once, a sample audit report through the admin
// API as the operator, signs a tree head over the archive, and returns the
// report's item number and the report's file in dir (ARC-1, ARC-3).
func ArchiveSample(ctx context.Context, c *adminapi.Client, dir string) (int64, string, error) {
	path := filepath.Join(dir, "audit-report.txt")
	have, err := c.ArchiveList(ctx, archive.KindAuditReport, 0, 10)
	if err != nil {
		return 0, "", err
	}
	for _, it := range have {
		if it.Source == "demo:audit-report" {
			return it.Leaf, path, nil
		}
	}
	if err := os.WriteFile(path, []byte(sampleReport), 0o644); err != nil {
		return 0, "", sceau.E(sceau.Unavailable, op, "cannot write "+path, err)
	}
	it, err := c.ArchiveAdd(ctx, archive.New{Kind: archive.KindAuditReport, Source: "demo:audit-report", MediaType: "text/plain",
		Class: archive.Internal, Content: []byte(sampleReport)})
	if err != nil {
		return 0, "", err
	}
	if _, err := c.ArchiveHead(ctx); err != nil {
		return 0, "", err
	}
	return it.Leaf, path, nil
}
