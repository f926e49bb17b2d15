package node

import (
	"context"
	"os"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// JournalTarget is the journal a command works on: the installation's
// database and export directory, or the files named by flags.
type JournalTarget struct {
	DB        *store.DB      // nil when the command needs none and there is no configuration
	DBName    string         // the file, or the engine, for messages
	ExportDir string         // the configured export, "" if none
	Cfg       *config.Config // nil when a file was named and no configuration loads
}

func (t *JournalTarget) Close() {
	if t.DB != nil {
		t.DB.Close()
	}
}

// OpenJournal opens the journal: the SQLite file dbPath if given
// (never created nor migrated), else the installation of configPath. migrate
// applies pending migrations to the installation's database, as serve
// would; commands that only read leave it as it is.
func OpenJournal(ctx context.Context, configPath, dbPath string, needDB, migrate bool) (*JournalTarget, error) {
	t := &JournalTarget{}
	if dbPath != "" {
		if _, err := os.Stat(dbPath); err != nil {
			return nil, sceau.E(sceau.Invalid, "audit", "cannot read the database file "+dbPath, err)
		}
		db, err := store.Open(ctx, store.SQLite, dbPath)
		if err != nil {
			return nil, err
		}
		t.DB, t.DBName = db, dbPath
		// A copy is checked against the configured export too, when
		// there is a configuration (AUD-5): a rolled-back or truncated
		// copy must not pass for want of a witness.
		if cfg, err := config.Load(configPath); err == nil {
			t.Cfg = cfg
			t.ExportDir = configuredExport(cfg)
		}
		return t, nil
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		if !needDB {
			return t, nil
		}
		return nil, err
	}
	t.Cfg = cfg
	t.ExportDir = configuredExport(cfg)
	if !needDB {
		return t, nil
	}
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	t.DB = db
	t.DBName = cfg.Database.Engine + " database"
	if cfg.Database.Engine == "sqlite" {
		t.DBName = cfg.Path(cfg.Database.Path)
	}
	return t, nil
}

func configuredExport(cfg *config.Config) string {
	if cfg.Audit.Export.Dir == "" {
		return ""
	}
	return cfg.Path(cfg.Audit.Export.Dir)
}
