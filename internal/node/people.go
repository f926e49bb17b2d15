package node

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// People and sessions (ROLE-1..ROLE-6). The admin listener's client
// certificate authenticates a terminal; the person at it logs in with
// password and TOTP and the session's roles decide what they may do. A
// client certificate bound to a person's account stands in for password
// and TOTP: Init binds admin/operator.pem to the account "operator", the
// first Registration & Revocation Officer.

// OperatorAccount is the person admin/operator.pem authenticates.
const OperatorAccount = "operator"

// DefaultSecurityOfficer names the first Security Officer when Init is not told.
const DefaultSecurityOfficer = "security-officer"

// Access is the access service of the node: the access section of the
// configuration, the TOTP sealing key (created with the installation) and
// the admin CA for personal certificates (ROLE-3, ROLE-4), with the
// executors of the actions under dual control registered. TOTP secrets
// still stored in clear by an older version are sealed now.
func (n *Node) Access(ctx context.Context) (*access.Service, error) {
	o, err := AccessOptions(ctx, n.Config, n.DB)
	if err != nil {
		return nil, err
	}
	adminCA, err := access.LoadAdminCA(n.Layout.AdminDir(), n.Keys)
	switch {
	case err == nil:
		o.AdminCA = adminCA
	case sceau.KindOf(err) != sceau.NotFound:
		return nil, err
	}
	svc := access.New(n.DB, n.Journal, o)
	if _, err := svc.SealTOTPSecrets(ctx); err != nil {
		return nil, err
	}
	if err := n.registerExecutors(svc); err != nil {
		return nil, err
	}
	return svc, nil
}

// AccessOptions turns the access section of cfg into access.Options.
func AccessOptions(ctx context.Context, cfg *config.Config, db *store.DB) (access.Options, error) {
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

// People says who the first people of a new installation are.
type People struct {
	// SecurityOfficers are the accounts of the first Security Officers
	// (default one, DefaultSecurityOfficer).
	SecurityOfficers []string
	// Demo: one person per role with random demo passwords that need no
	// change, written to Layout.DemoCredentials and marked DEMO.
	Demo bool
}

// Person is a first person's credentials, shown once, with their roles.
type Person struct {
	access.Credentials
	Roles []access.Role `json:"roles"`
}

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
	// CA-4: a second officer, so that a dossier entered by one is validated
	// by the other (four eyes).
	{"registrar2", "Demo Registration & Revocation Officer 2", []access.Role{access.RegistrationOfficer}},
}

// bootstrapPeople creates the first people of a new installation, right
// after its admin PKI (ROLE-4): the Security Officers named (default one),
// one Key Share Holder per holder named in the configuration's activation
// policies, and "operator", a Registration & Revocation Officer
// authenticated by admin/operator.pem. It returns each person's initial
// credentials, to be shown once.
func (n *Node) bootstrapPeople(ctx context.Context, b People) ([]Person, error) {
	const op = "init: people"
	certPEM, err := os.ReadFile(filepath.Join(n.Layout.AdminDir(), access.OperatorCert))
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "cannot read the operator certificate", err)
	}
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		return nil, sceau.Errorf(sceau.Internal, op, "the operator certificate is not PEM")
	}
	opCert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	people := []access.Person{{Name: OperatorAccount, FullName: "Bootstrap operator (admin/operator.pem)",
		Roles: []access.Role{access.RegistrationOfficer}, CertificateOnly: true, Certificate: opCert}}
	var holders []string
	for _, c := range n.Config.CAs {
		if c.Activation != nil {
			for _, h := range c.Activation.Holders {
				if !slices.Contains(holders, h) {
					holders = append(holders, h)
				}
			}
		}
	}
	if b.Demo {
		for _, d := range demoRoles {
			pw, err := demoPassword(d.name)
			if err != nil {
				return nil, err
			}
			people = append(people, access.Person{Name: d.name, FullName: d.full, Roles: d.roles, Password: pw})
		}
	} else {
		sos := b.SecurityOfficers
		if len(sos) == 0 {
			sos = []string{DefaultSecurityOfficer}
		}
		for _, s := range sos {
			people = append(people, access.Person{Name: s, FullName: "Security Officer " + s, Roles: []access.Role{access.SecurityOfficer}})
		}
	}
	for _, h := range holders {
		p := access.Person{Name: h, FullName: "Key share holder " + h, Roles: []access.Role{access.KeyShareHolder}}
		if b.Demo {
			if p.Password, err = demoPassword(h); err != nil {
				return nil, err
			}
		}
		people = append(people, p)
	}
	svc, err := n.Access(ctx)
	if err != nil {
		return nil, err
	}
	creds, err := svc.Bootstrap(ctx, sceau.System("init"), people)
	if err != nil {
		return nil, err
	}
	roles := map[string][]access.Role{}
	for _, p := range people {
		roles[p.Name] = p.Roles
	}
	out := make([]Person, 0, len(creds))
	for _, c := range creds {
		out = append(out, Person{Credentials: c, Roles: roles[c.Account]})
	}
	if b.Demo {
		if err := writeDemoCredentials(n.Layout.DemoCredentials(), out); err != nil {
			return nil, err
		}
	}
	return out, nil
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

func writeDemoCredentials(path string, people []Person) error {
	b, err := json.MarshalIndent(people, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteNew(path, append(b, '\n'), 0o600)
}

// DemoPeople reads the demo people's credentials of a demo installation.
func DemoPeople(l Layout) ([]Person, error) {
	b, err := os.ReadFile(l.DemoCredentials())
	if err != nil {
		return nil, err
	}
	var list []Person
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, sceau.E(sceau.Invalid, "demo", l.DemoCredentials()+" is not a demo credentials file", err)
	}
	return list, nil
}

// DemoPIN is the PIN of a demo holder's share, printed by 'sceau demo'.
func DemoPIN(caID, holder string) ([]byte, error) { return []byte("demo-" + holder + "-pin"), nil }

// WriteCredentials writes a person's initial credentials as the operator
// hands them over: account and roles, password, TOTP secret and URL.
func WriteCredentials(w io.Writer, p Person) {
	titles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		titles[i] = r.Title()
	}
	fmt.Fprintf(w, "\n  account:   %s (%s)\n", p.Account, strings.Join(titles, ", "))
	if p.MustChangePassword {
		fmt.Fprintf(w, "  password:  %s   (initial: change it at first login)\n", p.Password)
	} else {
		fmt.Fprintf(w, "  password:  %s\n", p.Password)
	}
	if p.TOTP != nil {
		fmt.Fprintf(w, "  TOTP:      %s\n  otpauth:   %s\n", p.TOTP.Secret, p.TOTP.URL)
	}
}

// RecoverAccount gives a person new initial credentials at the console,
// before witnesses, without the admin API (ROLE-4): for the last Security
// Officer who lost theirs. It works on the installation's database
// directly, journaled under actor.
func RecoverAccount(ctx context.Context, cfg *config.Config, actor sceau.Actor, account string, witnesses []string) (*Person, error) {
	db, err := OpenMigratedStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	o, err := AccessOptions(ctx, cfg, db)
	if err != nil {
		return nil, err
	}
	svc := access.New(db, audit.NewJournal(nil), o)
	if _, err := svc.SealTOTPSecrets(ctx); err != nil {
		return nil, err
	}
	creds, err := svc.ResetCredentials(ctx, actor, account, witnesses)
	if err != nil {
		return nil, err
	}
	return &Person{Credentials: *creds}, nil
}
