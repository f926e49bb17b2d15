package main

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// auditProvedBy names, for the catalogue events that
// TestAUD1_EveryCatalogueEventIsProducedByARealAction does not produce, the
// test that performs the real action and checks its event (AUD-1): "DIR.TestName",
// DIR being the package's directory in the module. TestAUD1_ProvedByNamesRealTests
// checks that each test exists and mentions the action (its string, or its
// constant) in its body.
var auditProvedBy = map[string]string{
	// CA-3: the backfill of installations made before parents answered for their CAs.
	"ca.certificate_recorded": "internal/ca.TestCA3_OlderInstallationsGetTheirCACertificatesRecordedUnderTheParent",
	// END-1: a CA's termination to its end.
	"ca.compromised":           "cmd/sceau.TestINC2_CompromiseRevokesNotifiesAndPublishesANotice",
	"ca.termination_completed": "cmd/sceau.TestEND1_TerminationRevokesPublishesTheFinalCRLAndDestroysTheKey",
	// CA-4: the registration authority (internal/registration).
	"dossier.created":                   "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"dossier.evidence_added":            "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"dossier.submitted":                 "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"dossier.validated":                 "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"dossier.issued":                    "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"dossier.delivered":                 "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"cgu.accepted":                      "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"revocation_request.received":       "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"revocation_request.processed":      "internal/registration.TestCA4_NaturalPersonFromDossierToRevocation",
	"dossier.updated":                   "internal/registration.TestCA4_DraftUpdateAndRejection",
	"dossier.rejected":                  "internal/registration.TestCA4_DraftUpdateAndRejection",
	"dossier.pkcs12_downloaded":         "internal/registration.TestCA4_PKCS12ThroughAOneTimeLink",
	"revocation_request.secret_refused": "internal/registration.TestCA4_WrongRevocationSecretIsJournaledAndRateLimited",
	// CA-4: the ACME server bound to the registration authority (internal/acme).
	"acme.eab_created":       "internal/acme.TestCA4_LegoObtainsRenewsAndRevokesWithEABAndHTTP01",
	"acme.account_created":   "internal/acme.TestCA4_LegoObtainsRenewsAndRevokesWithEABAndHTTP01",
	"acme.order_created":     "internal/acme.TestCA4_LegoObtainsRenewsAndRevokesWithEABAndHTTP01",
	"acme.challenge_checked": "internal/acme.TestCA4_LegoObtainsRenewsAndRevokesWithEABAndHTTP01",
	"acme.order_finalized":   "internal/acme.TestCA4_LegoObtainsRenewsAndRevokesWithEABAndHTTP01",
	"acme.account_updated":   "internal/acme.TestCA4_KeyRolloverDeactivationAndEABRevocation",
	"acme.eab_revoked":       "internal/acme.TestCA4_KeyRolloverDeactivationAndEABRevocation",
	"acme.rate_limited":      "internal/acme.TestCA4_RateLimitOrdersPerAccountPerHour",
	// CA-4: the EST server bound to the registration authority (internal/est).
	"est.credential_created": "internal/est.TestCA4_ESTEnrollAndReenrollWithCurl",
	"est.enrolled":           "internal/est.TestCA4_ESTEnrollAndReenrollWithCurl",
	"est.refused":            "internal/est.TestCA4_ESTRefusals",
	"est.credential_revoked": "internal/est.TestCA4_ESTRefusals",
	// ARC-1..ARC-6: the archive.
	"archive.added":                 "cmd/sceau.TestARC1_ArchiveFromTheCommandLine",
	"archive.head_issued":           "cmd/sceau.TestARC1_ArchiveFromTheCommandLine",
	"archive.signer_certified":      "cmd/sceau.TestARC1_ArchiveFromTheCommandLine",
	"archive.retrieved":             "cmd/sceau.TestARC1_ArchiveFromTheCommandLine",
	"archive.purged":                "internal/archive.TestARC2_TheDatabaseRefusesDeletionBeforeTheRetentionDate",
	"archive.replication_lagging":   "internal/node.TestARC4_ALaggingReplicaRaisesAnAlertAndCatchesUp",
	"archive.replication_caught_up": "internal/node.TestARC4_ALaggingReplicaRaisesAnAlertAndCatchesUp",
	// CONT-1: backups and restore at a second site.
	"backup.created":  "cmd/sceau.TestCONT1_RestoreAnswersOCSPAsTheOriginal",
	"backup.failed":   "cmd/sceau.TestCONT1_AFullOrMissingTargetIsReported",
	"backup.verified": "cmd/sceau.TestCONT1_RestoreAnswersOCSPAsTheOriginal",
	"backup.restored": "cmd/sceau.TestCONT1_RestoreAnswersOCSPAsTheOriginal",
	// COMP-1, COMP-2: the self-audit.
	"compliance.checked": "internal/node.TestCOMP2_ReportsAreArchivedWithVerdictsAndEvidence",
	// INC-1, INC-4: the incident register.
	"incident.opened":              "internal/incident.TestINC1_OpeningNotifiesTheSecurityOfficerByMail",
	"incident.notified":            "internal/incident.TestINC1_OpeningNotifiesTheSecurityOfficerByMail",
	"incident.notification_failed": "internal/incident.TestINC1_ARefusingRelayIsRecordedRetriedAndDelivered",
	"incident.noted":               "internal/incident.TestINC1_TimelineAndClosure",
	"incident.escalated":           "internal/incident.TestINC4_EscalatedToMajorOwesFromTheDetection",
	"incident.closed":              "internal/incident.TestINC1_TimelineAndClosure",
	"incident.obligation_done":     "internal/incident.TestINC4_AMajorIncidentOwesTwoNotificationsWithin24Hours",
	"incident.obligation_due":      "internal/incident.TestINC4_AlertBeforeTheDueTime",
	"incident.obligation_overdue":  "internal/incident.TestINC4_AlertBeforeTheDueTime",
	// PUB-1..PUB-4: the publication flow under dual control and the freshness monitor.
	"publication.file_stored": "internal/publication.TestPUB4_DocumentIsPublishedUnderDualControl",
	"publication.published":   "internal/publication.TestPUB4_DocumentIsPublishedUnderDualControl",
	"publication.withdrawn":   "internal/publication.TestPUB1_PublishedVersionIsImmutableAndWithdrawnStaysListed",
	"publication.stale":       "internal/publication.TestPUB3_CRLNearItsNextUpdateMakesTheSiteStale",
	"publication.fresh":       "internal/publication.TestPUB3_CRLNearItsNextUpdateMakesTheSiteStale",
	// ARC-5: the time-stamping unit's key, certified on first use.
	"tsa.signer_certified": "internal/node.TestARC5_NodeServesTimeStampsOnThePublicListener",
	// SYS-4: the clock guard, against real NTP servers the tests start.
	"clock.in_sync":     "internal/node.TestSYS4_ClockDriftStopsSigningAndRecoveryResumesIt",
	"clock.drifted":     "internal/node.TestSYS4_ClockDriftStopsSigningAndRecoveryResumesIt",
	"clock.unreachable": "internal/node.TestSYS4_UnreachableServersRefuseFromTheStart",
	// Dual control (ROLE-3) that fails or times out.
	"approval.failed":  "internal/access.TestROLE2_GrantBreakingSeparationOfDutiesIsRefused",
	"approval.expired": "internal/access.TestROLE3_RequestsExpireAndRejectionsEndThem",
	// AUD-4: the archive needs a month of live retention.
	"audit.archived": "internal/audit.TestAUD4_EventsMoveToTheArchiveAfterAMonthAndStillVerify",
	// KEY-8: key ceremonies.
	"ceremony.started":        "cmd/sceau.TestKEY8_CeremonyCreatesHierarchyAndSignedTranscript",
	"ceremony.key_registered": "cmd/sceau.TestKEY8_CeremonyCreatesHierarchyAndSignedTranscript",
	"ceremony.completed":      "cmd/sceau.TestKEY8_CeremonyCreatesHierarchyAndSignedTranscript",
	"ceremony.aborted":        "cmd/sceau.TestKEY8_RefusedStepAbortsWithSignedTranscript",
	// KEY-2: shares on smart cards, and activations that cannot complete.
	"key.share_refused":      "internal/quorum.TestKEY2_CardRefusals",
	"key.activation_refused": "internal/quorum.TestKEY2_ThresholdMinusOneFails",
	"key.share_unlocked":     "cmd/sceau.TestAUD1_KeyCustodyEventsOutsideTheCommandLine",
	"key.shares_revoked":     "cmd/sceau.TestAUD1_KeyCustodyEventsOutsideTheCommandLine",
	"key.activation_failed":  "cmd/sceau.TestAUD1_KeyCustodyEventsOutsideTheCommandLine",
	"key.split_discarded":    "cmd/sceau.TestAUD1_KeyCustodyEventsOutsideTheCommandLine",
	// ROLE-4: account administration and authentication data at rest.
	"account.changed":             "internal/server.TestROLE4_AccountChangeIsJournaled",
	"account.deleted":             "internal/server.TestROLE4_DeletedAccountIsDisabledAndItsHistoryKept",
	"account.suspended":           "internal/server.TestROLE4_SuspendedAccountIsRefusedOnNextRequest",
	"account.resumed":             "internal/server.TestROLE4_SuspendedAccountIsRefusedOnNextRequest",
	"account.certificate_revoked": "internal/server.TestROLE4_RevokedAdminCertificateIsRefused",
	"access.totp_sealed":          "internal/access.TestROLE4_ClearTOTPSecretsAreSealedOnOpen",
	// KEY-4: a ceremony that stops after its backup undoes it.
	"key.backup_discarded": "cmd/sceau.TestKEY4_CeremonyAbortedAfterTheBackupDiscardsIt",
	// AUD-2: the PostgreSQL service role's grants.
	"db.service_role_granted": "cmd/sceau.TestAUD2_DBGrantServiceRoleOnPostgres",
	// ROLE-3: a CA terminated under dual control.
	"ca.terminated": "internal/server.TestROLE3_CATerminationStopsIssuance",
	// The scheduler renews OCSP responders daily, weeks before they expire.
	"ca.ocsp_responder_renewed": "cmd/sceau.TestAUD1_OCSPResponderRenewalIsRecorded",
	// KEY-4, KEY-6: backups, imports and destruction of CA keys under dual control.
	"key.backup_created":   "internal/quorum.TestKEY4_BackupNeedsTwoApprovers",
	"key.imported":         "internal/quorum.TestKEY4_ImportNeedsMSharesAndRestores",
	"key.backup_destroyed": "internal/quorum.TestKEY6_DestroyMarksBackupsAndRevokesCarriers",
	"key.destroyed":        "internal/quorum.TestKEY6_DestroyMarksBackupsAndRevokesCarriers",
}

// TestAUD1_EveryCatalogueEventIsProducedByARealAction drives a whole
// installation as its people would — demo set-up, logins good and bad, a
// lockout and its recovery, accounts, role grants and removals under dual
// control (approved, refused, rejected, withdrawn), personnel records,
// key activation with wrong and right PINs, issuance, revocation, CRL,
// deactivation, events entered by hand, a syslog collector that is down and
// comes back, reading and exporting the journal, a refused auditor's read —
// then checks that every action of the catalogue is in the journal, or is
// named in auditProvedBy with the test that produces it (AUD-1).
func TestAUD1_EveryCatalogueEventIsProducedByARealAction(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole installation")
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "demo")
	pub, adm := freeAddr(t), freeAddr(t)
	// Set-up: CAs, admin PKI, people, splits, a first activation and issuance.
	(cli{t: t}).ok("demo", "--exit", "--dir", dir, "--public", pub, "--admin", adm, "--enroll", freeAddr(t))
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	people, err := node.DemoPeople(node.LayoutOf(mustConfig(t, c.config)))
	if err != nil {
		t.Fatal(err)
	}
	who := map[string]*person{}
	for _, p := range people {
		if p.TOTP == nil {
			t.Fatalf("demo person %s has no TOTP", p.Account)
		}
		who[p.Account] = newPerson(t, c, tmp, p.Account, initCreds{p.Password, p.TOTP.Secret})
	}
	for _, name := range []string{"security-officer", "so2", "auditor", "sysadmin", "appadmin", "registrar"} {
		if who[name] == nil {
			t.Fatalf("the demo has no %s", name)
		}
	}
	so, so2, auditor, sysadmin, appadmin, registrar := who["security-officer"], who["so2"], who["auditor"], who["sysadmin"],
		who["appadmin"], who["registrar"]

	// A syslog collector that is down: audit.failure, then audit.recovered
	// once it listens. The change of the audit section is recorded at start.
	collector := freeAddr(t)
	editConfig(t, c.config, `address: ""`, `address: "`+collector+`"`, "network: udp", "network: tcp")
	stop := startServe(t, c.config, pub)
	waitEvent(t, c, audit.ActionLoggingFailed)

	// Logins: good, bad, a lockout and what follows it.
	so.login()
	bad := filepath.Join(tmp, "bad.pw")
	os.WriteFile(bad, []byte("not the password at all\n"), 0o600)
	for range 5 {
		if r := appadmin.run("login", "--account", "appadmin", "--password-file", bad, "--totp", "000000"); r.code == 0 {
			t.Fatalf("a wrong password logged in")
		}
	}
	if r := appadmin.login0(); r.code == 0 || !strings.Contains(r.stderr, "locked") {
		t.Errorf("login to a locked account: %d %s", r.code, r.stderr)
	}
	c.ok("account", "recover", "appadmin", "--witness", "so2", "--witness", "auditor", "--yes")

	// Accounts, roles under dual control, personnel records.
	r := so.ok("account", "create", "marc", "--full-name", "Marc Leroy", "--yes")
	if printedCredentials(r.stdout)["marc"].password == "" {
		t.Fatalf("account create printed no credentials:\n%s", r.stdout)
	}
	so2.login()
	auditor.login()
	request := func(args ...string) string {
		t.Helper()
		r := so.ok(append(args, "--yes")...)
		m := requestID.FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("%v made no request:\n%s", args, r.stdout)
		}
		return m[1]
	}
	so2.ok("approval", "reject", request("role", "grant", "marc", "key-share-holder"), "--reason", "not needed", "--yes")
	so.ok("approval", "reject", request("role", "grant", "marc", "key-share-holder"), "--reason", "asked by mistake", "--yes")
	id := request("role", "grant", "marc", "registration-officer")
	if r := so.run("approval", "approve", id, "--yes"); r.code == 0 {
		t.Errorf("the requester approved their own request")
	}
	so2.ok("approval", "approve", id, "--yes")
	auditor.ok("approval", "approve", id, "--yes")
	id = request("role", "remove", "marc", "registration-officer")
	so2.ok("approval", "approve", id, "--yes")
	auditor.ok("approval", "approve", id, "--yes")
	so.ok("people", "attest", "marc", "--kind", "training", "--date", "2026-01-05", "--by", "HR (J. Martin)", "--yes")

	// Key custody: a wrong PIN five times locks erin's share; three right
	// ones activate the issuing CA.
	shares := node.LayoutOf(mustConfig(t, c.config)).SharesDir("issuing")
	pinFile := func(name, pin string) string {
		p := filepath.Join(tmp, name+".pin")
		os.WriteFile(p, []byte(pin+"\n"), 0o600)
		return p
	}
	wrong := pinFile("wrong", "not the PIN")
	for range 5 {
		if r := c.run("ca", "activate", "issuing", "--share", "erin="+filepath.Join(shares, "erin.share"), "--pin-file", "erin="+wrong); r.code == 0 {
			t.Fatalf("a wrong PIN was accepted")
		}
	}
	args := []string{"ca", "activate", "issuing"}
	for _, h := range []string{"alice", "bob", "carol"} {
		pin, _ := node.DemoPIN("issuing", h)
		args = append(args, "--share", h+"="+filepath.Join(shares, h+".share"), "--pin-file", h+"="+pinFile(h, string(pin)))
	}
	c.ok(args...)

	// Issuance, revocation, CRL; a refused read of the journal; a new password.
	registrar.login()
	csr := filepath.Join(tmp, "www.csr")
	writeCSR(t, csr)
	r = registrar.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr, "--out", filepath.Join(tmp, "www.pem"))
	m := serialLine.FindStringSubmatch(r.stderr + r.stdout)
	if m == nil {
		t.Fatalf("no serial in:\n%s%s", r.stdout, r.stderr)
	}
	registrar.ok("cert", "revoke", m[1], "--reason", "superseded", "--yes")
	registrar.ok("ca", "crl", "issuing")
	if r := registrar.run("audit", "events"); r.code == 0 || !strings.Contains(r.stderr, "System Auditor") {
		t.Errorf("a Registration Officer read the journal: %d %s", r.code, r.stderr)
	}
	next := filepath.Join(tmp, "registrar.pw2")
	os.WriteFile(next, []byte("a fine passphrase for R 2026\n"), 0o600)
	registrar.ok("account", "passwd", "--password-file", registrar.pwFile, "--new-password-file", next)

	// Events outside the software, entered through the API: they name the
	// person logged in and their role (ROLE-5).
	sysadmin.login()
	for _, rec := range [][]string{
		{"physical-access", "--who", "Jean Dupont (HSM vendor)", "--where", "vault-1", "--escorted-by", "sysadmin", "--purpose", "HSM battery"},
		{"maintenance", "--who", "sysadmin", "--system", "hsm-1", "--description", "battery replaced", "--kind", "hardware"},
		{"media-destruction", "--medium", "disk-42", "--type", "disk", "--method", "shredding", "--who", "sysadmin", "--witness", "so2"},
		{"host-stop", "--host", "ca-1", "--who", "sysadmin", "--description", "battery replacement"},
		{"host-start", "--host", "ca-1", "--who", "sysadmin"},
	} {
		r := sysadmin.ok(append(append([]string{"audit", "record"}, rec...), "--yes")...)
		if !strings.Contains(r.stdout, "by sysadmin (system-administrator)") {
			t.Errorf("audit record %s does not name the person logged in:\n%s", rec[0], r.stdout)
		}
	}
	if r := sysadmin.run("audit", "record", "maintenance", "--operator", "someone-else", "--who", "x", "--system", "y", "--description", "z", "--yes"); r.code == 0 {
		t.Errorf("--operator was accepted through the API")
	}
	sysadmin.ok("ca", "deactivate", "issuing", "--yes")

	// The Auditor reads, exports and verifies through the API.
	if r := auditor.ok("audit", "events", "--action", "login.failed", "--actor", "appadmin"); strings.Count(r.stdout, "login.failed") < 5 {
		t.Errorf("the auditor does not see the failed logins:\n%s", r.stdout)
	}
	auditor.ok("audit", "show", "1")
	auditor.ok("audit", "status")
	download := filepath.Join(tmp, "journal-copy")
	auditor.ok("audit", "export", "--to", download)
	if r := auditor.ok("audit", "verify", "--export", download); !strings.Contains(r.stdout, "OK: the journal is whole.") {
		t.Errorf("the downloaded journal does not verify:\n%s", r.stdout)
	}

	// A stale session, a logout.
	stale := &person{t: t, c: c, session: filepath.Join(tmp, "stale.session")}
	os.WriteFile(stale.session, []byte(`{"token":"sceau_stale","account":"so2"}`), 0o600)
	if r := stale.run("whoami"); r.code == 0 {
		t.Errorf("a stale token was accepted")
	}
	so.ok("logout")

	// The collector comes back.
	ln, err := net.Listen("tcp", collector)
	if err != nil {
		t.Fatalf("the syslog collector cannot listen on %s: %v", collector, err)
	}
	sceautest.CollectSyslog(t, ln)
	waitEvent(t, c, audit.ActionLoggingRecovered)
	stop() // the last analysis raises the failed-login alert at the latest

	// The journal, read offline.
	var events []server.EventInfo
	r = c.ok("audit", "events", "--local", "--limit", "1000000", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &events); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range events {
		seen[e.Action]++
		if e.Action == audit.ActionPhysicalAccess && (e.Actor != "sysadmin" || e.Role != "system-administrator") {
			t.Errorf("ROLE-5: the physical access names %s (%s)", e.Actor, e.Role)
		}
	}
	var missing []string
	for _, k := range audit.Catalogue {
		if seen[k.Action] > 0 {
			continue
		}
		if _, ok := auditProvedBy[k.Action]; ok {
			continue
		}
		missing = append(missing, k.Action)
	}
	for _, a := range missing {
		k, _ := audit.Describe(a)
		t.Errorf(`AUD-1: no test produces the catalogue event %q (%s: %s; written by %s).
	Do one of:
	  - perform the real action in TestAUD1_EveryCatalogueEventIsProducedByARealAction (cmd/sceau/auditcmd_aud1_test.go), or
	  - write a test that performs the real action and checks the event (naming %q or its constant in its body),
	    and add  %q: "DIR.TestName",  to auditProvedBy in cmd/sceau/auditcmd_aud1_test.go`,
			a, k.Category, k.Description, k.Source, a, a)
	}
	for a := range auditProvedBy {
		if _, ok := audit.Describe(a); !ok {
			t.Errorf("auditProvedBy names %q, which is not in audit.Catalogue: remove it or add the event to internal/audit/catalogue.go", a)
		}
	}
	for a := range seen {
		if _, ok := audit.Describe(a); !ok {
			t.Errorf("the journal holds %q, which is not in audit.Catalogue (internal/audit/catalogue.go)", a)
		}
	}
}

// login0 logs in and returns the result whatever it is.
func (p *person) login0() result {
	p.t.Helper()
	code, err := access.TOTPCode(p.secret, time.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	return p.run("login", "--account", p.name, "--password-file", p.pwFile, "--totp", code)
}

// waitEvent waits until the journal of the installation holds action.
func waitEvent(t *testing.T, c cli, action string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := c.run("audit", "events", "--local", "--action", action, "--limit", "1")
		if r.code == 0 && strings.Contains(r.stdout, " "+action+" ") {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no %s event within 30s", action)
}

func mustConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAUD1_ProvedByNamesRealTests: every test that auditProvedBy names
// exists, in the package named, and mentions the action it proves in its
// body: as a string ("key.share_unlocked", or inside a longer one), as
// audit.ActionX, or as a constant of its own package with that value.
func TestAUD1_ProvedByNamesRealTests(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	auditConsts := constValues(t, filepath.Join(root, "internal/audit"))
	for action, ref := range auditProvedBy {
		i := strings.LastIndex(ref, ".")
		if i < 0 {
			t.Errorf("auditProvedBy[%q] = %q: want DIR.TestName", action, ref)
			continue
		}
		pkgDir, name := ref[:i], ref[i+1:]
		fn, fset := findTestFunc(t, filepath.Join(root, pkgDir), name)
		if fn == nil {
			t.Errorf("auditProvedBy[%q]: no func %s in the tests of %s: fix the name, or prove %q another way", action, name, pkgDir, action)
			continue
		}
		own := constValues(t, filepath.Join(root, pkgDir))
		word := regexp.MustCompile(`(^|[^a-z_.])` + regexp.QuoteMeta(action) + `($|[^a-z_])`)
		found := false
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BasicLit:
				if x.Kind == token.STRING {
					if s, err := strconv.Unquote(x.Value); err == nil && word.MatchString(s) {
						found = true
					}
				}
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "audit" && auditConsts[x.Sel.Name] == action {
					found = true
				}
			case *ast.Ident:
				if own[x.Name] == action {
					found = true
				}
			}
			return !found
		})
		if !found {
			t.Errorf("auditProvedBy[%q]: %s (%s) does not mention %q: it must perform the action and check its event",
				action, name, fset.Position(fn.Pos()), action)
		}
	}
}

// findTestFunc finds func name in the _test.go files of dir.
func findTestFunc(t *testing.T, dir, name string) (*ast.FuncDecl, *token.FileSet) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, d := range af.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == name {
				return fn, fset
			}
		}
	}
	return nil, fset
}

// constValues maps the string constants declared in the Go files of dir
// (tests included) to their values.
func constValues(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, d := range af.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if v, err := strconv.Unquote(lit.Value); err == nil {
								out[n.Name] = v
							}
						}
					}
				}
			}
		}
	}
	return out
}

// TestAUD1_KeyCustodyEventsOutsideTheCommandLine performs the custody
// actions that no command drives yet, on a real journal, and checks their
// events: a locked share unlocked by a Security Officer, an activation
// whose shares do not open the key, and the revocation of every share.
func TestAUD1_KeyCustodyEventsOutsideTheCommandLine(t *testing.T) {
	ctx := context.Background()
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	reg := quorum.NewRegistry(db, j, nil)
	so := sceau.Actor{ID: "sophie", Role: "security-officer"}
	secret := []byte("activation secret of the test key 0123456789")
	shares, err := quorum.Split(secret, 2, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	holders := []string{"alice", "bob", "carol"}
	files := map[string]*quorum.ShareFile{}
	for i, h := range holders {
		if files[h], err = quorum.Seal(shares[i], "test-key", h, []byte("PIN of "+h)); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Register(ctx, so, "test-key", shares, holders, "file"); err != nil {
		t.Fatal(err)
	}
	// Five wrong PINs lock alice's share; a Security Officer unlocks it.
	for range 5 {
		a, err := reg.Begin(ctx, so, "test-key", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Present(ctx, "alice", files["alice"], []byte("wrong")); err == nil {
			t.Fatal("a wrong PIN opened a share")
		}
	}
	if err := reg.Unlock(ctx, so, "test-key", "alice"); err != nil {
		t.Fatal(err)
	}
	// Two good shares whose secret does not open the key.
	a, err := reg.Begin(ctx, so, "test-key", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"alice", "bob"} {
		if err := a.Present(ctx, h, files[h], []byte("PIN of "+h)); err != nil {
			t.Fatal(err)
		}
	}
	err = a.Complete(ctx, func([]byte) error {
		return sceau.Errorf(sceau.Denied, "test", "the keystore refuses this secret")
	}, func() {})
	if err == nil {
		t.Fatal("an activation whose secret does not open the key completed")
	}
	// The split of a key never put to use is discarded (an aborted init).
	if err := reg.Register(ctx, so, "unused-key", shares, holders, "file"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Discard(ctx, so, "unused-key", "the ceremony stopped before the CA was created"); err != nil {
		t.Fatal(err)
	}
	// Key destruction revokes every share (KEY-6).
	if err := db.InTx(ctx, func(tx *store.Tx) error { return reg.RevokeAll(ctx, tx, so, "test-key") }); err != nil {
		t.Fatal(err)
	}
	recs, err := audit.Read(ctx, db, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Action)
	}
	for _, want := range []string{"key.share_locked", "key.share_unlocked", "key.activation_failed", "key.split_discarded", "key.shares_revoked"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %s event in %v", want, got)
		}
	}
}

// TestAUD1_OCSPResponderRenewalIsRecorded: the daily renewal of delegated
// OCSP responders writes ca.ocsp_responder_renewed for each CA whose
// responder certificate is in the last third of its life.
func TestAUD1_OCSPResponderRenewalIsRecorded(t *testing.T) {
	ctx := context.Background()
	db := sceautest.OpenSQLite(t)
	clock := sceautest.NewClock(time.Now().UTC())
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Clock: clock})
	clock.Advance(70 * 24 * time.Hour)
	if err := h.Authority.RenewOCSPResponders(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := audit.Read(ctx, db, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Action == "ca.ocsp_responder_renewed" {
			n++
		}
	}
	if n != len(h.Authority.CAs()) {
		t.Errorf("%d ca.ocsp_responder_renewed events for %d CAs", n, len(h.Authority.CAs()))
	}
}
