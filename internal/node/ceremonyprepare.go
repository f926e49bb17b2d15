package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
)

// PrepareCeremony loads the script at path and the configuration it applies
// to (the script's, else configPath; configGiven says the operator named
// configPath, which must then be the script's), and describes the
// installation for ceremony.Check. It changes nothing. Close the ceremony
// when done.
func PrepareCeremony(ctx context.Context, path, configPath string, configGiven bool) (*Ceremony, error) {
	s, text, err := ceremony.LoadScript(path)
	if err != nil {
		return nil, err
	}
	cfgPath := s.Configuration
	if cfgPath == "" {
		cfgPath = configPath
	} else if configGiven {
		abs1, _ := filepath.Abs(cfgPath)
		abs2, _ := filepath.Abs(configPath)
		if abs1 != abs2 {
			return nil, sceau.Errorf(sceau.Invalid, "ceremony", "the script applies to %s, but --config names %s", cfgPath, configPath)
		}
	}
	cfgPath, _ = filepath.Abs(cfgPath)
	scriptPath, _ := filepath.Abs(path)
	cfgText, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "ceremony", "cannot read the configuration "+cfgPath, err)
	}
	d := &ceremony.Declaration{ConfigPath: cfgPath, Config: cfgText}
	// Parsed from the very bytes the transcript records, resolved as
	// config.Load does.
	cfg, err := config.Parse(cfgText)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "ceremony: configuration "+cfgPath, "", err)
	}
	if s.NewInstallation != "" {
		// The configuration is copied into the new installation, whose
		// directory its relative data_dir then names.
		dir, _ := filepath.Abs(s.NewInstallation)
		if !filepath.IsAbs(cfg.DataDir) {
			cfg.DataDir = filepath.Join(dir, cfg.DataDir)
		}
		d.New, d.Dir = true, cfg.DataDir
		if cfg.Keystore.SecretFile == "" {
			d.Problems = append(d.Problems, "keystore.secret_file: a new installation needs it")
		}
	} else {
		if !filepath.IsAbs(cfg.DataDir) {
			cfg.DataDir = filepath.Join(filepath.Dir(cfgPath), cfg.DataDir)
		}
		d.Dir = cfg.DataDir
	}
	c := &Ceremony{Script: s, ScriptPath: scriptPath, ScriptText: text, Declaration: d, Config: cfg, cfgText: cfgText,
		newDir: s.NewInstallation, Out: os.Stdout}
	missing := map[string]bool{}
	if d.New {
		for _, dc := range cfg.CAs {
			missing[dc.ID] = true
		}
	} else if secret := cfg.Path(cfg.Keystore.SecretFile); cfg.Keystore.SecretFile == "" || !fileExists(secret) {
		d.Problems = append(d.Problems, fmt.Sprintf("the installation of %s does not exist (no keystore secret %s): set new_installation to create it at the ceremony", cfgPath, secret))
	} else {
		db, err := OpenMigratedStore(ctx, cfg)
		if err != nil {
			return nil, err
		}
		ids, err := MissingCAs(ctx, cfg, db)
		db.Close()
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			missing[id] = true
		}
		d.Problems = append(d.Problems, c.leftovers(ctx, ids)...)
	}
	for _, cc := range cfg.CAs {
		dc := ceremony.DeclaredCA{ID: cc.ID, Parent: cc.Parent, Subject: Subject(cc.Subject).String(), KeyType: cc.KeyType,
			Validity: cc.Validity.String(), KeyStore: c.keyStore(cc), Exists: !missing[cc.ID]}
		if cc.Activation != nil {
			dc.Activation = &ceremony.Activation{Threshold: cc.Activation.Threshold, Holders: cc.Activation.Holders}
		}
		// KEY-4: a token wraps a key for a backup only if it generated it
		// extractable, which keystore.pkcs11.allow_backup decides.
		dc.BackupMechanism = keys.MechAESGCM
		if cc.Token != "" {
			dc.BackupMechanism = keys.MechAESKeyWrapPad
			if cfg.Keystore.PKCS11 == nil || !cfg.Keystore.PKCS11.AllowBackup {
				dc.NoBackup = fmt.Sprintf("the key of CA %q is generated in token %q not extractable, which nobody can back up: set keystore.pkcs11.allow_backup: true in %s before the ceremony, or remove the backup",
					cc.ID, cc.Token, cfgPath)
			}
		}
		d.CAs = append(d.CAs, dc)
	}
	return c, nil
}
