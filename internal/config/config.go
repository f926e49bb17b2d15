package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sceau/sceau/internal/sceau"
)

// Config is the whole of sceau.yaml.
type Config struct {
	// DataDir holds the database, keystore, published files and admin
	// credentials. Relative paths elsewhere in the file are relative to it.
	// A relative DataDir is relative to the configuration file's directory.
	DataDir  string   `yaml:"data_dir"`
	Database Database `yaml:"database"`
	Keystore Keystore `yaml:"keystore"`
	Public   Public   `yaml:"public"`
	Admin    Admin    `yaml:"admin"`
	Issuance Issuance `yaml:"issuance"`
	OCSP     OCSP     `yaml:"ocsp"`
	// Audit configures the journal's checkpoints, export, retention and
	// analysis (audit.go).
	Audit Audit `yaml:"audit"`
	// Access configures dual control and TOTP sealing (access.go).
	Access Access `yaml:"access"`
	// Publication describes the public repository (publication.go).
	Publication Publication `yaml:"publication"`
	// Clock configures the clock guard (clock.go, SYS-4).
	Clock Clock `yaml:"clock"`
	// Archive configures the ten-year archive (archive.go, ARC-*).
	Archive Archive `yaml:"archive"`
	// Timestamping configures the RFC 3161 time-stamping unit
	// (timestamping.go, ARC-5).
	Timestamping Timestamping `yaml:"timestamping"`
	// Backup configures the installation's backups (backup.go, CONT-1).
	Backup Backup `yaml:"backup"`
	// Compliance sets the self-audit's limits (compliance.go, COMP-1).
	Compliance Compliance `yaml:"compliance"`
	// Incident configures the incident register (incident.go, INC-1, INC-4).
	Incident Incident `yaml:"incident"`
	CAs      []CA     `yaml:"cas"`
	// Registration configures the registration authority (registration.go, CA-4).
	Registration Registration `yaml:"registration"`
	// Enroll is the enrollment listener (enroll.go): holders' revocation
	// form, one-time downloads, ACME and EST. Off unless enroll.listen is set.
	Enroll Enroll `yaml:"enroll"`
}

// Database selects the store.
type Database struct {
	// Engine is sqlite (default, one file) or postgres (several nodes).
	Engine string `yaml:"engine"`
	// Path of the SQLite file. Default: sceau.db.
	Path string `yaml:"path,omitempty"`
	// DSNFile names a file holding the PostgreSQL connection string (it may
	// hold a password, so it is never written inline).
	DSNFile string `yaml:"dsn_file,omitempty"`
}

// Keystore is the encrypted software keystore (KEY-1 without a device).
type Keystore struct {
	// Dir holds the sealed key files. Default: keys.
	Dir string `yaml:"dir"`
	// SecretFile holds the activation secret. Without it, the CA keys must
	// be activated by hand after each start. Default: none.
	SecretFile string `yaml:"secret_file,omitempty"`
	// PKCS11 names the device that holds the keys of CAs with a `token`.
	PKCS11 *PKCS11 `yaml:"pkcs11,omitempty"`
}

// PKCS11 is a PKCS#11 device (KEY-1).
type PKCS11 struct {
	// Module is the vendor library, e.g. /usr/lib/softhsm/libsofthsm2.so.
	Module string `yaml:"module"`
	// AllowBackup makes the CA keys generated in the device extractable,
	// still sensitive: the device then wraps them for a backup under two
	// approvals (KEY-4, docs/key-custody.md), and never gives them out in
	// clear (KEY-3). Set it before the keys are generated; a key made
	// without it can never be backed up. Default: false.
	AllowBackup bool `yaml:"allow_backup,omitempty"`
}

// Public is the read-only public listener (PUB-1, SYS-2).
type Public struct {
	// Listen is host:port. Default: 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// BaseURL is how the world reaches the listener; CRL distribution
	// points, AIA and OCSP URLs in certificates are built from it.
	// Default: http://<listen>.
	BaseURL string `yaml:"base_url"`
}

// Admin is the administration listener: TLS 1.3 with client certificates (SYS-2).
type Admin struct {
	// Listen is host:port. Default: 127.0.0.1:8443.
	Listen string `yaml:"listen"`
	// Dir holds the admin TLS CA, server and operator credentials. Default: admin.
	Dir string `yaml:"dir"`
	// MaxBodyBytes caps request bodies. Default: 65536.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Issuance tunes the durable issuance path.
type Issuance struct {
	// BatchMax is the most operations committed in one transaction (group
	// commit). Default: 128.
	BatchMax int `yaml:"batch_max"`
	// BatchWait is how long the committer waits to fill a batch when there
	// is no other work. Default: 0s (commit as soon as the previous commit ends).
	BatchWait Duration `yaml:"batch_wait"`
	// OrphanGrace: a serial reserved this long ago but never stored is an
	// orphan of a crash and is revoked by the recovery sweep. Default: 5m.
	OrphanGrace Duration `yaml:"orphan_grace"`
	// MaxInFlight bounds the issuance requests in progress on a node:
	// beyond it a request is refused at once with 503 and Retry-After,
	// never queued to time out. Default: 1024.
	MaxInFlight int `yaml:"max_in_flight"`
}

// OCSP tunes pre-signed OCSP responses (CA-3).
type OCSP struct {
	// Validity is nextUpdate - thisUpdate of every response. Default: 4d.
	Validity Duration `yaml:"validity"`
	// RefreshBefore: responses whose nextUpdate is nearer than this are
	// signed again by the scheduler. Default: 2d.
	RefreshBefore Duration `yaml:"refresh_before"`
	// SignerValidity is the lifetime of each CA's delegated OCSP signing
	// certificate. Default: 90d.
	SignerValidity Duration `yaml:"signer_validity"`
}

// CA declares one certification authority of the hierarchy (CA-1).
type CA struct {
	// ID names the CA in URLs, commands and the database: [a-z0-9-].
	ID string `yaml:"id"`
	// Parent is the ID of the issuing CA; empty for a self-signed root.
	Parent  string  `yaml:"parent,omitempty"`
	Subject Subject `yaml:"subject"`
	// KeyType: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096.
	KeyType string `yaml:"key_type"`
	// Validity of the CA certificate; at most 10y (KEY-7).
	Validity Duration `yaml:"validity"`
	// PathLen limits the CAs below this one; -1 means no limit. Default: 0
	// for a CA with a parent, -1 for a root.
	PathLen *int `yaml:"path_len,omitempty"`
	// Policies are the certificate policy OIDs of the CA certificate
	// itself (a subordinate's CP OIDs, or anyPolicy 2.5.29.32.0).
	Policies []Policy `yaml:"policies,omitempty"`
	// ExtKeyUsage restricts what the CA's certificates may be used for
	// (same names as a profile's): a CA for public TLS alone lists
	// [serverAuth] or [serverAuth, clientAuth] (CA/B Forum TLS BR
	// §7.1.2.10.6). Each profile's purposes must be among them. Default:
	// none, a multi-purpose CA.
	ExtKeyUsage []string `yaml:"ext_key_usage,omitempty"`
	CRL         CRL      `yaml:"crl"`
	// Activation, when set, gives the CA key a store of its own whose
	// secret is split among key share holders: the CA signs only after m of
	// them have presented their shares (KEY-2). Without it the key is in
	// the service keystore, activated from keystore.secret_file: for
	// demonstrations and tests, not for production.
	Activation *Activation `yaml:"activation,omitempty"`
	// Token is the label of the PKCS#11 token (keystore.pkcs11) that holds
	// this CA's key, generated inside it and never extractable (KEY-1).
	// Its user PIN is the activation secret split among the holders, so a
	// CA with a token needs an activation policy. Default: none (software).
	Token string `yaml:"token,omitempty"`
	// Profiles are the kinds of certificates this CA issues.
	Profiles []Profile `yaml:"profiles,omitempty"`
}

// Activation is a CA key's m-of-n activation policy (KEY-2).
type Activation struct {
	// Threshold is m: how many holders must present their shares.
	Threshold int `yaml:"threshold"`
	// Holders are the n key share holders' account names, distinct.
	Holders []string `yaml:"holders"`
	// Window is how long an activation waits for its m shares. Default: 10m.
	Window Duration `yaml:"window"`
}

// Subject is a distinguished name.
type Subject struct {
	CommonName         string `yaml:"common_name"`
	Organization       string `yaml:"organization,omitempty"`
	OrganizationalUnit string `yaml:"organizational_unit,omitempty"`
	// OrganizationIdentifier (2.5.4.97), e.g. NTRFR-123456789 (ETSI EN 319 412-1).
	OrganizationIdentifier string `yaml:"organization_identifier,omitempty"`
	Country                string `yaml:"country,omitempty"`
}

// Policy is a certificate policy with an optional CPS URI qualifier.
type Policy struct {
	OID    string `yaml:"oid"`
	CPSURI string `yaml:"cps_uri,omitempty"`
}

// CRL sets a CA's CRL schedule.
type CRL struct {
	// Validity is nextUpdate - thisUpdate. Default: 7d for a root, 24h otherwise.
	Validity Duration `yaml:"validity"`
	// Refresh: a new CRL is issued when the current one is this old, and at
	// every revocation. Default: half of Validity.
	Refresh Duration `yaml:"refresh"`
	// Shards: when above 0, each certificate names one of this many partitioned
	// CRLs in its CDP, and each partition is published with an issuing distribution point beside the full CRL. Default: 0.
	Shards int `yaml:"shards"`
}

// Profile is one kind of end-entity certificate a CA issues.
type Profile struct {
	Name string `yaml:"name"`
	// KeyUsage: digitalSignature, contentCommitment, keyEncipherment,
	// dataEncipherment, keyAgreement.
	KeyUsage []string `yaml:"key_usage"`
	// ExtKeyUsage: serverAuth, clientAuth, emailProtection, codeSigning,
	// timeStamping, ocspSigning, documentSigning (RFC 9336).
	ExtKeyUsage []string `yaml:"ext_key_usage,omitempty"`
	// Policies: the CP OID of the CA's policy, with its CPS URI.
	Policies []Policy `yaml:"policies"`
	// KeyTypes the subject key may have. Default: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096.
	KeyTypes []string `yaml:"key_types,omitempty"`
	// Validity is the default lifetime; MaxValidity the most a request may ask.
	Validity    Duration `yaml:"validity"`
	MaxValidity Duration `yaml:"max_validity,omitempty"`
	// Subject rules: which SAN types a request may carry.
	AllowDNSNames bool `yaml:"allow_dns_names,omitempty"`
	AllowEmails   bool `yaml:"allow_emails,omitempty"`
	AllowIPs      bool `yaml:"allow_ips,omitempty"`
	// RequireSAN refuses requests without a subject alternative name.
	RequireSAN bool `yaml:"require_san,omitempty"`
	// Subject: the subject attributes a request must carry (require) and
	// must not (forbid): common_name, serial_number, country, locality,
	// province, organization, organizational_unit, title, surname,
	// given_name, pseudonym, organization_identifier. Default: none.
	Subject SubjectRules `yaml:"subject,omitempty"`
	// Lints: the lint sets run before signing: rfc5280 (with RFC 3279,
	// 5480, 8813, 5891), etsi, cabf_br, cabf_ev, cabf_smime, community.
	// Default: rfc5280, etsi.
	Lints []string `yaml:"lints,omitempty"`
	// ETSI makes this an eIDAS profile (EN 319 412): its certificates
	// carry the QCStatements it asks for and pass Sceau's clause rules
	// (internal/etsi) before the real signature. Default: none.
	ETSI *ETSIProfile `yaml:"etsi,omitempty"`
}

// SubjectRules are a profile's rules on subject attributes.
type SubjectRules struct {
	Require []string `yaml:"require,omitempty"`
	Forbid  []string `yaml:"forbid,omitempty"`
}

// ETSIProfile is what an eIDAS profile's certificates must be.
type ETSIProfile struct {
	// Kind: natural_person (EN 319 412-2), legal_person (EN 319 412-3,
	// seals) or website (EN 319 412-4).
	Kind string `yaml:"kind"`
	// Usage (persons): signature (the key commits to signed content:
	// contentCommitment) or authentication.
	Usage string `yaml:"usage,omitempty"`
	// Qualified: an EU qualified certificate (EN 319 411-2 policy,
	// EN 319 412-5 QCStatements).
	Qualified bool `yaml:"qualified,omitempty"`
	// QSCD: the subject's key is on a qualified signature or seal creation
	// device (QcSSCD; policy QCP-n-qscd or QCP-l-qscd).
	QSCD bool `yaml:"qscd,omitempty"`
	// Policy: the ETSI policy OID (QCP-n 0.4.0.194112.1.0, NCP+
	// 0.4.0.2042.1.2, …); it must also be among the profile's policies.
	Policy string `yaml:"policy"`
	// PDS: the PKI disclosure statements (https), one in English at least;
	// required when qualified.
	PDS []PDSLocation `yaml:"pds,omitempty"`
	// RetentionYears: QcRetentionPeriod, the years registration data is
	// kept after expiry. Default: none.
	RetentionYears int `yaml:"retention_years,omitempty"`
	// SerialNumberSemantics (natural persons): the subject serialNumber is
	// an EN 319 412-1 identifier such as IDCFR-….
	SerialNumberSemantics bool `yaml:"serial_number_semantics,omitempty"`
}

// PDSLocation is one PKI disclosure statement.
type PDSLocation struct {
	URL      string `yaml:"url"`
	Language string `yaml:"language"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// MinCertValidity is the shortest end-entity lifetime a profile may give;
// it equals ca.MinValidity (config does not import ca), which says why.
const MinCertValidity = time.Hour

// MaxCAValidity is the policy's ceiling on CA key and certificate life (KEY-7).
const MaxCAValidity = 10 * 365 * 24 * time.Hour

// Load reads, decodes strictly and validates the file at path, and resolves
// relative paths against the data directory.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "config", "cannot read "+path, err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "config "+path, "", err)
	}
	if !filepath.IsAbs(c.DataDir) {
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), c.DataDir))
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		c.DataDir = abs
	}
	return c, nil
}

// Parse decodes b strictly over DefaultConfig's values and validates it.
func Parse(b []byte) (*Config, error) {
	c := DefaultConfig()
	c.CAs = nil
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, err
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultConfig is the configuration of a one-node installation on SQLite.
func DefaultConfig() *Config {
	return &Config{
		DataDir:  ".",
		Database: Database{Engine: "sqlite", Path: "sceau.db"},
		Keystore: Keystore{Dir: "keys"},
		Public:   Public{Listen: "127.0.0.1:8080"},
		Admin:    Admin{Listen: "127.0.0.1:8443", Dir: "admin", MaxBodyBytes: 64 << 10},
		Issuance: Issuance{BatchMax: 128, OrphanGrace: Duration{5 * time.Minute}, MaxInFlight: 1024},
		OCSP: OCSP{Validity: Duration{4 * 24 * time.Hour}, RefreshBefore: Duration{2 * 24 * time.Hour},
			SignerValidity: Duration{90 * 24 * time.Hour}},
		Audit:        DefaultAudit(),
		Access:       DefaultAccess(),
		Publication:  DefaultPublication(),
		Clock:        DefaultClock(),
		Archive:      DefaultArchive(),
		Timestamping: DefaultTimestamping(),
		Backup:       DefaultBackup(),
		Compliance:   DefaultCompliance(),
		Incident:     DefaultIncident(),
		Registration: DefaultRegistration(),
	}
}

func (c *Config) applyDefaults() {
	if c.Public.BaseURL == "" {
		c.Public.BaseURL = "http://" + c.Public.Listen
	}
	c.Public.BaseURL = strings.TrimRight(c.Public.BaseURL, "/")
	c.enrollDefaults()
	c.acmeDefaults()
	for i := range c.CAs {
		ca := &c.CAs[i]
		if ca.CRL.Validity.Duration == 0 {
			ca.CRL.Validity.Duration = 24 * time.Hour
			if ca.Parent == "" {
				ca.CRL.Validity.Duration = 7 * 24 * time.Hour
			}
		}
		if ca.CRL.Refresh.Duration == 0 {
			ca.CRL.Refresh.Duration = ca.CRL.Validity.Duration / 2
		}
		if ca.Activation != nil && ca.Activation.Window.Duration == 0 {
			ca.Activation.Window.Duration = 10 * time.Minute
		}
		if ca.PathLen == nil {
			v := 0
			if ca.Parent == "" {
				v = -1
			}
			ca.PathLen = &v
		}
		for j := range ca.Profiles {
			p := &ca.Profiles[j]
			if len(p.KeyTypes) == 0 {
				p.KeyTypes = []string{"ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"}
			}
			if p.MaxValidity.Duration == 0 {
				p.MaxValidity = p.Validity
			}
			if len(p.Lints) == 0 {
				p.Lints = []string{"rfc5280", "etsi"}
			}
		}
	}
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Database.Engine {
	case "sqlite":
		if c.Database.Path == "" {
			bad("database.path: required for sqlite")
		}
	case "postgres":
		if c.Database.DSNFile == "" {
			bad("database.dsn_file: required for postgres (a file holding the connection string)")
		}
	default:
		bad("database.engine: %q is neither sqlite nor postgres", c.Database.Engine)
	}
	for name, addr := range map[string]string{"public.listen": c.Public.Listen, "admin.listen": c.Admin.Listen} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad("%s: %q is not host:port", name, addr)
		}
	}
	if c.Public.Listen == c.Admin.Listen {
		bad("admin.listen: must differ from public.listen (SYS-2)")
	}
	if u, err := url.Parse(c.Public.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("public.base_url: %q is not an http(s) URL", c.Public.BaseURL)
	}
	if c.Admin.MaxBodyBytes < 1024 {
		bad("admin.max_body_bytes: %d is below 1024", c.Admin.MaxBodyBytes)
	}
	if c.Issuance.MaxInFlight < 1 || c.Issuance.MaxInFlight > 1<<20 {
		bad("issuance.max_in_flight: %d is not within 1..1048576", c.Issuance.MaxInFlight)
	}
	if c.Issuance.BatchMax < 1 || c.Issuance.BatchMax > 4096 {
		bad("issuance.batch_max: %d is not within 1..4096", c.Issuance.BatchMax)
	}
	if c.OCSP.Validity.Duration <= c.OCSP.RefreshBefore.Duration || c.OCSP.RefreshBefore.Duration <= 0 {
		bad("ocsp: refresh_before (%s) must be positive and shorter than validity (%s)", c.OCSP.RefreshBefore, c.OCSP.Validity)
	}
	if len(c.CAs) == 0 {
		bad("cas: at least one CA must be declared")
	}
	seen := map[string]*CA{}
	for i := range c.CAs {
		ca := &c.CAs[i]
		where := fmt.Sprintf("cas[%d] (%s)", i, ca.ID)
		if !idPattern.MatchString(ca.ID) {
			bad("%s: id must be 1-40 of [a-z0-9-]", where)
		}
		if seen[ca.ID] != nil {
			bad("%s: id is declared twice", where)
		}
		if ca.Parent != "" {
			p := seen[ca.Parent]
			if p == nil {
				bad("%s: parent %q must be declared before it", where, ca.Parent)
			} else if ca.Validity.Duration > p.Validity.Duration {
				// KEY-7: no certificate outlives its issuer.
				bad("%s: validity %s is longer than its parent's %s (KEY-7)", where, ca.Validity, p.Validity)
			}
		}
		seen[ca.ID] = ca
		if ca.Subject.CommonName == "" {
			bad("%s: subject.common_name is required", where)
		}
		if ca.Subject.Country != "" && len(ca.Subject.Country) != 2 {
			bad("%s: subject.country must be a two-letter code", where)
		}
		if err := checkKeyType(ca.KeyType); err != nil {
			bad("%s: key_type: %v", where, err)
		}
		if ca.Validity.Duration <= 0 {
			bad("%s: validity is required", where)
		}
		// KEY-7: no CA key pair or certificate lives more than 10 years.
		if ca.Validity.Duration > MaxCAValidity {
			bad("%s: validity %s exceeds the 10-year limit of the policy (KEY-7)", where, ca.Validity)
		}
		for _, p := range ca.Policies {
			if !oidPattern.MatchString(p.OID) {
				bad("%s: policy OID %q is malformed", where, p.OID)
			}
		}
		if ca.Token != "" && (ca.Activation == nil || c.Keystore.PKCS11 == nil || c.Keystore.PKCS11.Module == "") {
			bad("%s: token needs an activation policy and keystore.pkcs11.module (KEY-1, KEY-2)", where)
		}
		if a := ca.Activation; a != nil {
			seenHolder := map[string]bool{}
			for _, h := range a.Holders {
				if !idPattern.MatchString(h) || seenHolder[h] {
					bad("%s: activation.holders must be distinct account names of [a-z0-9-]", where)
					break
				}
				seenHolder[h] = true
			}
			// KEY-2: 2 <= m <= n <= 16.
			if a.Threshold < 2 || a.Threshold > len(a.Holders) || len(a.Holders) > 16 {
				bad("%s: activation needs 2 <= threshold <= holders <= 16 (KEY-2), got %d of %d", where, a.Threshold, len(a.Holders))
			}
		}
		if ca.CRL.Shards < 0 || ca.CRL.Shards > 1024 {
			bad("%s: crl.shards must be within 0..1024", where)
		}
		for _, eku := range ca.ExtKeyUsage {
			if _, ok := ExtKeyUsages[eku]; !ok {
				bad("%s: unknown extended key usage %q", where, eku)
			}
		}
		names := map[string]bool{}
		for j, p := range ca.Profiles {
			pw := fmt.Sprintf("%s.profiles[%d] (%s)", where, j, p.Name)
			if !idPattern.MatchString(p.Name) || names[p.Name] {
				bad("%s: name must be unique, 1-40 of [a-z0-9-]", pw)
			}
			names[p.Name] = true
			for _, ku := range p.KeyUsage {
				if _, ok := KeyUsages[ku]; !ok {
					bad("%s: unknown key usage %q", pw, ku)
				}
			}
			if len(p.KeyUsage) == 0 {
				bad("%s: key_usage is required", pw)
			}
			for _, eku := range p.ExtKeyUsage {
				if _, ok := ExtKeyUsages[eku]; !ok {
					bad("%s: unknown extended key usage %q", pw, eku)
				}
			}
			for _, kt := range p.KeyTypes {
				if err := checkKeyType(kt); err != nil {
					bad("%s: key_types: %v", pw, err)
				}
			}
			if p.Validity.Duration <= 0 || p.MaxValidity.Duration < p.Validity.Duration {
				bad("%s: validity must be positive and not above max_validity", pw)
			} else if p.Validity.Duration < MinCertValidity {
				// CA-2: the CA refuses a certificate shorter than this
				// (ca.MinValidity), so such a profile could issue nothing.
				bad("%s: validity %s is shorter than the minimum %s", pw, p.Validity, MinCertValidity)
			}
			if len(p.Policies) == 0 {
				bad("%s: at least one certificate policy is required (the CP OID)", pw)
			}
			for _, pol := range p.Policies {
				if !oidPattern.MatchString(pol.OID) {
					bad("%s: policy OID %q is malformed", pw, pol.OID)
				}
			}
			for _, l := range p.Lints {
				if !lintSources[l] {
					bad("%s: unknown lint source %q (rfc5280, etsi, cabf_br, cabf_ev, cabf_smime, community)", pw, l)
				}
			}
		}
	}
	c.Audit.validate(bad)
	if c.Audit.Token != "" && (c.Keystore.PKCS11 == nil || c.Keystore.PKCS11.Module == "") {
		bad("audit.token: the audit signing key's token needs keystore.pkcs11.module")
	}
	c.Access.validate(bad)
	c.Publication.validate(c, bad)
	c.Clock.validate(bad)
	c.Archive.validate(c, bad)
	c.Timestamping.validate(c, bad)
	c.Backup.validate(c, bad)
	c.Compliance.validate(bad)
	c.Incident.validate(bad)
	c.Registration.validate(bad)
	c.validateEnroll(bad)
	c.validateACME(bad)
	return errors.Join(errs...)
}

var oidPattern = regexp.MustCompile(`^[0-2](\.(0|[1-9][0-9]*))+$`)

var lintSources = map[string]bool{"rfc5280": true, "etsi": true, "cabf_br": true, "cabf_ev": true, "cabf_smime": true, "community": true}

// KeyUsages are the key usage names a profile may list.
var KeyUsages = map[string]struct{}{"digitalSignature": {}, "contentCommitment": {}, "keyEncipherment": {},
	"dataEncipherment": {}, "keyAgreement": {}}

// ExtKeyUsages are the extended key usage names a profile may list.
var ExtKeyUsages = map[string]struct{}{"serverAuth": {}, "clientAuth": {}, "emailProtection": {},
	"codeSigning": {}, "timeStamping": {}, "ocspSigning": {}, "documentSigning": {}}

func checkKeyType(s string) error {
	switch s {
	case "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096":
		return nil
	}
	return fmt.Errorf("%q is not one of ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096", s)
}

// Path resolves p against the data directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.DataDir, p)
}
