package node

import (
	"path/filepath"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
)

// Layout names every file and directory of an installation's data
// directory, as its configuration resolves them. No other code builds
// these paths.
type Layout struct{ cfg *config.Config }

// LayoutOf is the layout of the installation cfg describes.
func LayoutOf(cfg *config.Config) Layout { return Layout{cfg: cfg} }

// ConfigFileName is the configuration's name in a data directory that Init
// creates.
const ConfigFileName = "sceau.yaml"

// Fixed names inside the data directory.
const (
	sharesDirName   = "shares"
	backupsDirName  = "backups"
	keystoreFile    = "keystore.json" // a software keystore's sealed index (keys.SoftStore)
	demoCredentials = "demo-credentials.json"
	initialCreds    = "initial-credentials.txt"
)

// DataDir is the data directory.
func (l Layout) DataDir() string { return l.cfg.DataDir }

// KeystoreDir is the service keystore: OCSP responder keys, the admin TLS
// keys, the audit key in software, and CAs without an activation policy.
func (l Layout) KeystoreDir() string { return l.cfg.Path(l.cfg.Keystore.Dir) }

// SecretFile holds the service keystore's activation secret.
func (l Layout) SecretFile() string { return l.cfg.Path(l.cfg.Keystore.SecretFile) }

// CAStoreDir is the keystore of its own of a CA with an activation policy.
func (l Layout) CAStoreDir(caID string) string {
	return filepath.Join(l.KeystoreDir(), sceau.CAKeyLabel(caID))
}

// CAStoreIndex is the file whose presence says a CA's own keystore exists.
func (l Layout) CAStoreIndex(caID string) string {
	return filepath.Join(l.CAStoreDir(caID), keystoreFile)
}

// SharesRoot holds the share files handed to key share holders.
func (l Layout) SharesRoot() string { return l.cfg.Path(sharesDirName) }

// SharesDir holds the new share files of a key: a CA's activation secret,
// or a backup's wrapping key (its ID).
func (l Layout) SharesDir(keyOwner string) string { return filepath.Join(l.SharesRoot(), keyOwner) }

// ShareFile is holder's share file of a key.
func (l Layout) ShareFile(keyOwner, holder string) string {
	return filepath.Join(l.SharesDir(keyOwner), holder+".share")
}

// BackupsDir holds the wrapped backups of CA keys (KEY-4).
func (l Layout) BackupsDir() string { return l.cfg.Path(backupsDirName) }

// AdminDir holds the admin TLS CA, the admin listener's certificate and the
// operator's client credentials.
func (l Layout) AdminDir() string { return l.cfg.Path(l.cfg.Admin.Dir) }

// ExportDir is the journal's export directory, "" when none is set (AUD-5).
func (l Layout) ExportDir() string {
	if l.cfg.Audit.Export.Dir == "" {
		return ""
	}
	return l.cfg.Path(l.cfg.Audit.Export.Dir)
}

// DatabaseFile is the SQLite database.
func (l Layout) DatabaseFile() string { return l.cfg.Path(l.cfg.Database.Path) }

// DemoCredentials holds the demo people's credentials ('sceau demo').
func (l Layout) DemoCredentials() string { return filepath.Join(l.cfg.DataDir, demoCredentials) }

// InitialCredentials is where a ceremony that creates an installation writes
// the first people's initial credentials, instead of showing them.
func InitialCredentials(dir string) string { return filepath.Join(dir, initialCreds) }
