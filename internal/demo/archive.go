package demo

import (
	"context"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/node"
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

// ArchiveKey is a DEMO age key pair for archive.recipients, so that the
// demo can archive confidential items (identity evidence, CGU
// acceptances: ARC-3). A real installation's identities stay with the
// Security Officer and the Auditor, off the machine.
func ArchiveKey() (identity, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", err
	}
	return "# DEMO archive identity (age), not for production: it opens the demo's confidential archive items\n" + id.String() + "\n",
		id.Recipient().String(), nil
}

// ArchiveIdentityFile is where the demo keeps its archive identity.
func ArchiveIdentityFile(l node.Layout) string {
	return filepath.Join(l.AdminDir(), "demo-archive-identity.txt")
}

// KeepArchiveIdentity writes the identity of ArchiveKey (mode 0600).
func KeepArchiveIdentity(l node.Layout, identity string) error {
	if err := os.WriteFile(ArchiveIdentityFile(l), []byte(identity), 0o600); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot keep the demo archive identity", err)
	}
	return nil
}
