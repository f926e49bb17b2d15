package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// People and sessions wiring (ROLE-1..ROLE-6). The admin listener's
// client certificate authenticates a terminal; the person at it logs in
// with password and TOTP ('sceau login') and the session's roles decide
// what they may do. A client certificate bound to a person's account
// stands in for password and TOTP: init binds admin/operator.pem to the
// account "operator", the first Registration & Revocation Officer.

// operatorAccount is the person admin/operator.pem authenticates.
const operatorAccount = "operator"

// defaultSecurityOfficer names the first Security Officer when init is not told.
const defaultSecurityOfficer = "security-officer"

// newAccess is the access service of a node: the access section of the
// configuration, the TOTP sealing key (created with the installation) and
// the admin CA for personal certificates (ROLE-3, ROLE-4). TOTP secrets
// still stored in clear by an older version are sealed now.
func newAccess(ctx context.Context, n *node) (*access.Service, error) {
	o, err := accessOptions(ctx, n.cfg, n.db)
	if err != nil {
		return nil, err
	}
	adminCA, err := access.LoadAdminCA(n.cfg.Path(n.cfg.Admin.Dir), n.keys)
	switch {
	case err == nil:
		o.AdminCA = adminCA
	case sceau.KindOf(err) != sceau.NotFound:
		return nil, err
	}
	svc := access.New(n.db, n.journal, o)
	if _, err := svc.SealTOTPSecrets(ctx); err != nil {
		return nil, err
	}
	if err := registerExecutors(svc, n); err != nil {
		return nil, err
	}
	return svc, nil
}

// accessOptions turns the access section of cfg into access.Options.
func accessOptions(ctx context.Context, cfg *config.Config, db *store.DB) (access.Options, error) {
	const op = "config: access"
	o := access.Options{Approvals: cfg.Access.Approvals, RequestTTL: cfg.Access.ApprovalLifetime.Duration,
		ApprovalsFor: map[access.Action]int{}}
	for name, k := range cfg.Access.ApprovalsFor {
		// ROLE-3: only an action under dual control takes approvals.
		if rule, ok := access.RuleOf(access.Action(name)); !ok || len(rule.Approvers) == 0 {
			return o, sceau.Errorf(sceau.Invalid, op, "access.approvals_for: %s is not an action under dual control", name)
		}
		o.ApprovalsFor[access.Action(name)] = k
	}
	key, err := access.OpenTOTPKey(ctx, db, cfg.Path(cfg.Access.TOTPKeyFile))
	if err != nil {
		return o, err
	}
	o.TOTPKey = key
	return o, nil
}

// accessBootstrap says who the first people of a new installation are.
type accessBootstrap struct {
	securityOfficers []string
	// demo: one person per role with fixed passwords that need no change,
	// written to DIR/demo-credentials.json and printed marked DEMO.
	demo    bool
	demoDir string
}

// demoCredentialsFile holds the demo people's credentials, in the demo directory.
const demoCredentialsFile = "demo-credentials.json"

// demoRoles are the demo people besides the key share holders of the configuration.
var demoRoles = []struct {
	name  string
	full  string
	roles []access.Role
}{
	{"security-officer", "Demo Security Officer", []access.Role{access.SecurityOfficer}},
	{"so2", "Demo Security Officer 2", []access.Role{access.SecurityOfficer}},
	{"auditor", "Demo System Auditor", []access.Role{access.SystemAuditor}},
	{"sysadmin", "Demo System Administrator and Operator", []access.Role{access.SystemAdministrator, access.SystemOperator}},
	{"appadmin", "Demo Application Administrator", []access.Role{access.ApplicationAdministrator}},
	{"registrar", "Demo Registration & Revocation Officer", []access.Role{access.RegistrationOfficer}},
}

// bootstrapAccess creates the first people of a new installation, right
// after its admin PKI (ROLE-4): the Security Officers named (default one,
// "security-officer"), one Key Share Holder per holder named in the
// configuration's activation policies, and "operator", a Registration &
// Revocation Officer authenticated by admin/operator.pem. It prints each
// person's initial password and TOTP enrolment once.
func bootstrapAccess(ctx context.Context, n *node, cfg *config.Config, out io.Writer, b *accessBootstrap) error {
	const op = "init: people"
	if b == nil {
		b = &accessBootstrap{}
	}
	certPEM, err := os.ReadFile(filepath.Join(cfg.Path(cfg.Admin.Dir), access.OperatorCert))
	if err != nil {
		return sceau.E(sceau.Internal, op, "cannot read the operator certificate", err)
	}
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		return sceau.Errorf(sceau.Internal, op, "the operator certificate is not PEM")
	}
	opCert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	people := []access.Person{{Name: operatorAccount, FullName: "Bootstrap operator (admin/operator.pem)",
		Roles: []access.Role{access.RegistrationOfficer}, CertificateOnly: true, Certificate: opCert}}
	var holders []string
	for _, c := range cfg.CAs {
		if c.Activation != nil {
			for _, h := range c.Activation.Holders {
				if !slices.Contains(holders, h) {
					holders = append(holders, h)
				}
			}
		}
	}
	if b.demo {
		for _, d := range demoRoles {
			pw, err := demoPassword(d.name)
			if err != nil {
				return err
			}
			people = append(people, access.Person{Name: d.name, FullName: d.full, Roles: d.roles, Password: pw})
		}
	} else {
		sos := b.securityOfficers
		if len(sos) == 0 {
			sos = []string{defaultSecurityOfficer}
		}
		for _, s := range sos {
			people = append(people, access.Person{Name: s, FullName: "Security Officer " + s, Roles: []access.Role{access.SecurityOfficer}})
		}
	}
	for _, h := range holders {
		p := access.Person{Name: h, FullName: "Key share holder " + h, Roles: []access.Role{access.KeyShareHolder}}
		if b.demo {
			if p.Password, err = demoPassword(h); err != nil {
				return err
			}
		}
		people = append(people, p)
	}
	svc, err := newAccess(ctx, n)
	if err != nil {
		return err
	}
	creds, err := svc.Bootstrap(ctx, sceau.System("init"), people)
	if err != nil {
		return err
	}
	roles := map[string][]access.Role{}
	for _, p := range people {
		roles[p.Name] = p.Roles
	}
	if b.demo {
		if err := writeDemoCredentials(b.demoDir, creds, roles); err != nil {
			return err
		}
		return nil
	}
	fmt.Fprintf(out, "Admin client certificate: %s (account %q, Registration & Revocation Officer)\n",
		filepath.Join(cfg.Path(cfg.Admin.Dir), access.OperatorCert), operatorAccount)
	fmt.Fprintln(out, "\nTrusted people (ROLE-4). Shown once: hand each person their own, in person.")
	fmt.Fprintln(out, "Each enrols the TOTP secret in an authenticator app, logs in with 'sceau login'")
	fmt.Fprintln(out, "and changes the initial password with 'sceau account passwd'.")
	for _, c := range creds {
		printCredentials(out, c, roles[c.Account])
	}
	if n := len(b.securityOfficers); n < 3 {
		fmt.Fprintf(out, "\nNote: a role grant needs its requesting Security Officer and two approvers among the other\n"+
			"Security Officers and Auditors. With %d Security Officer(s) and no Auditor, none can be granted:\n"+
			"name three with --security-officer (see docs/roles.md).\n", max(n, 1))
	}
	return nil
}

func printCredentials(out io.Writer, c access.Credentials, roles []access.Role) {
	titles := make([]string, len(roles))
	for i, r := range roles {
		titles[i] = r.Title()
	}
	fmt.Fprintf(out, "\n  account:   %s (%s)\n", c.Account, strings.Join(titles, ", "))
	if c.MustChangePassword {
		fmt.Fprintf(out, "  password:  %s   (initial: change it at first login)\n", c.Password)
	} else {
		fmt.Fprintf(out, "  password:  %s\n", c.Password)
	}
	if c.TOTP != nil {
		fmt.Fprintf(out, "  TOTP:      %s\n  otpauth:   %s\n", c.TOTP.Secret, c.TOTP.URL)
	}
}

// demoPassword makes a password for a demo person: random, within the policy.
func demoPassword(account string) (string, error) {
	for {
		b := make([]byte, 9)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		if pw := "demo-" + hex.EncodeToString(b); access.CheckPassword(account, pw) == nil {
			return pw, nil
		}
	}
}

type demoPerson struct {
	access.Credentials
	Roles []access.Role `json:"roles"`
}

func writeDemoCredentials(dir string, creds []access.Credentials, roles map[string][]access.Role) error {
	var list []demoPerson
	for _, c := range creds {
		list = append(list, demoPerson{Credentials: c, Roles: roles[c.Account]})
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, demoCredentialsFile), append(b, '\n'), 0o600)
}

// printDemoPeople prints the demo people and how to log in as one of them.
func printDemoPeople(out io.Writer, dir string) {
	b, err := os.ReadFile(filepath.Join(dir, demoCredentialsFile))
	if err != nil {
		return
	}
	var list []demoPerson
	if json.Unmarshal(b, &list) != nil {
		return
	}
	fmt.Fprintf(out, "\nDEMO PEOPLE, ONE PER TRUSTED ROLE — DEMO CREDENTIALS, NOT FOR PRODUCTION (also in %s):\n",
		filepath.Join(dir, demoCredentialsFile))
	for _, p := range list {
		printCredentials(out, p.Credentials, p.Roles)
	}
	fmt.Fprintf(out, "\nThe admin client certificate %s is the account %q (Registration & Revocation Officer).\n",
		filepath.Join(dir, "admin", access.OperatorCert), operatorAccount)
	fmt.Fprintln(out, "Log in as another person with their TOTP code (e.g. from 'oathtool --totp -b SECRET'):")
	fmt.Fprintf(out, "  go run ./cmd/sceau --config %s login --account auditor\n", filepath.Join(dir, "sceau.yaml"))
}

// sessionFile is where the CLI keeps the session token of the person
// logged in at this terminal: $SCEAU_SESSION_FILE, or a file per
// installation under $XDG_RUNTIME_DIR/sceau (memory, cleared at the end of
// the user's login), or the admin directory. Mode 0600.
func sessionFile(cfg *config.Config) string {
	if p := os.Getenv("SCEAU_SESSION_FILE"); p != "" {
		return p
	}
	adminDir := cfg.Path(cfg.Admin.Dir)
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		abs, err := filepath.Abs(adminDir)
		if err == nil {
			h := sha256.Sum256([]byte(abs))
			return filepath.Join(d, "sceau", "session-"+hex.EncodeToString(h[:8]))
		}
	}
	return filepath.Join(adminDir, "session")
}

// storedSession is the session file's content.
type storedSession struct {
	Token     string    `json:"token"`
	Account   string    `json:"account"`
	ExpiresAt time.Time `json:"expires_at"`
}

func readSession(cfg *config.Config) (*storedSession, error) {
	b, err := os.ReadFile(sessionFile(cfg))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "session", "cannot read "+sessionFile(cfg), err)
	}
	var s storedSession
	if err := json.Unmarshal(b, &s); err != nil || s.Token == "" {
		return nil, sceau.Errorf(sceau.Invalid, "session", "%s is not a session file: remove it or run 'sceau logout'", sessionFile(cfg))
	}
	return &s, nil
}

func writeSession(cfg *config.Config, s storedSession) error {
	path := sessionFile(cfg)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return sceau.E(sceau.Unavailable, "session", "cannot create "+filepath.Dir(path), err)
	}
	b, _ := json.Marshal(s)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return sceau.E(sceau.Unavailable, "session", "cannot write "+tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return sceau.E(sceau.Unavailable, "session", "cannot write "+path, err)
	}
	return nil
}

func removeSession(cfg *config.Config) error {
	err := os.Remove(sessionFile(cfg))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return sceau.E(sceau.Unavailable, "session", "cannot remove "+sessionFile(cfg), err)
	}
	return nil
}
