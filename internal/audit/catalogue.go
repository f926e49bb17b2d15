package audit

// The catalogue of journal events (AUD-1): every action Sceau records, with
// what it means. Domain packages use these names; a test checks that every
// action written anywhere in Sceau is listed here.

// Accounts and authentication data (AUD-1 §5.4.1 first item; ROLE-4).
const (
	ActionAccountCreated     = "account.created"
	ActionAccountChanged     = "account.changed"
	ActionAccountDeleted     = "account.deleted"
	ActionAccountLocked      = "account.locked"
	ActionAccountRecovered   = "account.recovered"
	ActionPasswordChanged    = "account.password_changed"
	ActionCertificateBound   = "account.certificate_bound"
	ActionAccountCertRevoked = "account.certificate_revoked"
	ActionAccountSuspended   = "account.suspended"
	ActionAccountResumed     = "account.resumed"
	ActionTOTPSealed         = "access.totp_sealed"
	ActionAccessDenied       = "access.denied"
	ActionApprovalRequested  = "approval.requested"
	ActionApprovalApproved   = "approval.approved"
	ActionApprovalRejected   = "approval.rejected"
	ActionApprovalRefused    = "approval.refused"
	ActionApprovalWithdrawn  = "approval.withdrawn"
	ActionApprovalExecuted   = "approval.executed"
	ActionApprovalFailed     = "approval.failed"
	ActionApprovalExpired    = "approval.expired"
	ActionSessionRefused     = "session.refused"
	ActionLoginRefused       = "login.refused"
	ActionLoginSucceeded     = "login.succeeded"
	ActionLoginFailed        = "login.failed"
	ActionLogout             = "logout"
	ActionRoleGranted        = "role.granted"
	ActionRoleRemoved        = "role.removed"
	ActionPersonAttested     = "person.attested"
	ActionCeremonyAborted    = "ceremony.aborted"
	ActionCeremonyKeyCreated = "ceremony.key_registered"
)

// Start and stop of systems and of the application (AUD-1).
const (
	ActionServiceStarted    = "service.started"
	ActionServiceStopped    = "service.stopped"
	ActionHostStarted       = "host.started"
	ActionHostStopped       = "host.stopped"
	ActionKeystoreActivated = "keystore.activated"
	ActionAdminPKICreated   = "admin.pki_created"
)

// The journal itself: logging start and stop, its configuration, its
// failures and what was done about them, its keys, archive and alerts
// (AUD-1, AUD-2, AUD-4, AUD-6).
const (
	ActionLoggingStarted       = "audit.logging_started"
	ActionLoggingStopped       = "audit.logging_stopped"
	ActionLoggingConfigChanged = "audit.config_changed"
	ActionLoggingFailed        = "audit.failure"
	ActionLoggingRecovered     = "audit.recovered"
	ActionKeyRegistered        = "audit.key_registered"
	ActionArchived             = "audit.archived"
	ActionAlertRaised          = "audit.alert_raised"
)

// Events outside the software, entered by an operator (AUD-1), and
// configuration changes (SYS-3).
const (
	ActionPhysicalAccess  = "physical_access.recorded"
	ActionMaintenance     = "maintenance.recorded"
	ActionMediaDestroyed  = "media.destroyed"
	ActionConfigChanged   = "config.changed"
	ActionDBRoleGranted   = "db.service_role_granted"
	ActionCeremonyStarted = "ceremony.started"
	ActionCeremonyEnded   = "ceremony.completed"
)

// CA operations (AUD-1: "every CA operation").
const (
	ActionCACreated              = "ca.created"
	ActionCATerminated           = "ca.terminated"
	ActionCATerminationCompleted = "ca.termination_completed"
	// ActionCACompromised: the compromise procedure of a CA key ran (INC-2).
	ActionCACompromised        = "ca.compromised"
	ActionCACertRecorded       = "ca.certificate_recorded"
	ActionOCSPResponderRenewed = "ca.ocsp_responder_renewed"
	ActionCertificatePrepared  = "certificate.prepared"
	ActionCertificateIssued    = "certificate.issued"
	ActionCertificateRevoked   = "certificate.revoked"
	ActionCRLPrepared          = "crl.prepared"
	ActionCRLIssued            = "crl.issued"
	ActionKeySplitRegistered   = "key.split_registered"
	ActionKeyShareUnlocked     = "key.share_unlocked"
	ActionKeySharesRevoked     = "key.shares_revoked"
	ActionKeyShareWrongPIN     = "key.share_wrong_pin"
	ActionKeyShareLocked       = "key.share_locked"
	ActionKeySharePresented    = "key.share_presented"
	ActionKeyShareRefused      = "key.share_refused"
	ActionKeyActivationStarted = "key.activation_started"
	ActionKeyActivationRefused = "key.activation_refused"
	ActionKeyActivationFailed  = "key.activation_failed"
	ActionKeyActivated         = "key.activated"
	ActionKeyDeactivated       = "key.deactivated"
	ActionKeySplitDiscarded    = "key.split_discarded"

	// KEY-4, KEY-6: backups, imports and destruction of CA keys.
	ActionKeyBackupCreated   = "key.backup_created"
	ActionKeyBackupDestroyed = "key.backup_destroyed"
	ActionKeyBackupDiscarded = "key.backup_discarded"
	ActionKeyImported        = "key.imported"
	ActionKeyDestroyed       = "key.destroyed"
)

// The publication site (PUB-1..PUB-4).
const (
	ActionPublicationFileStored = "publication.file_stored"
	ActionPublicationPublished  = "publication.published"
	ActionPublicationWithdrawn  = "publication.withdrawn"
	ActionManifestSigned        = "publication.manifest_signed"
	ActionPublicationSignerCert = "publication.signer_certified"
	ActionPublicationStale      = "publication.stale"
	ActionPublicationFresh      = "publication.fresh"
)

// The archive (ARC-1..ARC-6).
const (
	ActionArchiveAdded      = "archive.added"
	ActionArchiveHead       = "archive.head_issued"
	ActionArchiveRetrieved  = "archive.retrieved"
	ActionArchivePurged     = "archive.purged"
	ActionArchiveSignerCert = "archive.signer_certified"
	ActionArchiveLagging    = "archive.replication_lagging"
	ActionArchiveCaughtUp   = "archive.replication_caught_up"
)

// Backups and restore at a second site (CONT-1). `sceau check` reads the
// last backup.created and backup.verified: their details hold the backup's
// name, target and created_at.
const (
	ActionBackupCreated  = "backup.created"
	ActionBackupFailed   = "backup.failed"
	ActionBackupVerified = "backup.verified"
	ActionBackupRestored = "backup.restored"
)

// The compliance self-audit (COMP-1, COMP-2).
const ActionComplianceChecked = "compliance.checked"

// The incident register (INC-1, INC-4).
const (
	ActionIncidentOpened             = "incident.opened"
	ActionIncidentNoted              = "incident.noted"
	ActionIncidentEscalated          = "incident.escalated"
	ActionIncidentClosed             = "incident.closed"
	ActionIncidentNotified           = "incident.notified"
	ActionIncidentNotificationFailed = "incident.notification_failed"
	ActionIncidentObligationDue      = "incident.obligation_due"
	ActionIncidentObligationOverdue  = "incident.obligation_overdue"
	ActionIncidentObligationDone     = "incident.obligation_done"
	// The registration authority (CA-4, ARC-1).
	ActionDossierCreated             = "dossier.created"
	ActionDossierUpdated             = "dossier.updated"
	ActionDossierEvidence            = "dossier.evidence_added"
	ActionDossierSubmitted           = "dossier.submitted"
	ActionDossierValidated           = "dossier.validated"
	ActionDossierRejected            = "dossier.rejected"
	ActionDossierIssued              = "dossier.issued"
	ActionDossierDelivered           = "dossier.delivered"
	ActionCGUAccepted                = "cgu.accepted"
	ActionPKCS12Downloaded           = "dossier.pkcs12_downloaded"
	ActionRevocationRequestReceived  = "revocation_request.received"
	ActionRevocationRequestProcessed = "revocation_request.processed"
	ActionRevocationSecretRefused    = "revocation_request.secret_refused"
	// The ACME server bound to the registration authority (CA-4, RFC 8555).
	ActionACMEEABCreated       = "acme.eab_created"
	ActionACMEEABRevoked       = "acme.eab_revoked"
	ActionACMEAccountCreated   = "acme.account_created"
	ActionACMEAccountUpdated   = "acme.account_updated"
	ActionACMEOrderCreated     = "acme.order_created"
	ActionACMEChallengeChecked = "acme.challenge_checked"
	ActionACMEOrderFinalized   = "acme.order_finalized"
	ActionACMERateLimited      = "acme.rate_limited"
	// The EST server bound to the registration authority (CA-4, RFC 7030).
	ActionESTCredentialCreated = "est.credential_created"
	ActionESTCredentialRevoked = "est.credential_revoked"
	ActionESTEnrolled          = "est.enrolled"
	ActionESTRefused           = "est.refused"
)

// The time-stamping unit (ARC-5).
const ActionTSASignerCert = "tsa.signer_certified"

// The clock guard (SYS-4): each change of its verdict, once.
const (
	ActionClockInSync      = "clock.in_sync"
	ActionClockDrifted     = "clock.drifted"
	ActionClockUnreachable = "clock.unreachable"
)

// Kind describes one action of the catalogue.
type Kind struct {
	Action   string
	Category string // account, session, personnel, system, logging, physical, maintenance, configuration, media, ceremony, ca, key, publication, archive, backup, incident
	// Description says what happened when the event is written.
	Description string
	// Source names who writes it: a package, a command, or the issue that
	// will (for what is not built yet).
	Source string
}

// Catalogue lists every event Sceau records (AUD-1).
var Catalogue = []Kind{
	{ActionAccountCreated, "account", "an account was created for a person", "access"},
	{ActionAccountChanged, "account", "an account's attributes changed", "access"},
	{ActionAccountDeleted, "account", "an account was deleted or disabled for good", "access"},
	{ActionAccountSuspended, "account", "an account was suspended at once by a Security Officer (ROLE-4)", "access"},
	{ActionAccountResumed, "account", "a suspended account was reactivated by a Security Officer", "access"},
	{ActionAccountCertRevoked, "account", "authentication data changed: a personal admin client certificate was revoked", "access"},
	{ActionTOTPSealed, "account", "TOTP secrets stored in clear were sealed with AES-256-GCM", "access"},
	{ActionAccountLocked, "account", "an account locked after repeated failed logins", "access"},
	{ActionAccountRecovered, "account", "a locked or lost account was recovered (authentication data reset)", "access"},
	{ActionPasswordChanged, "account", "authentication data changed: the password (never the password itself)", "access"},
	{ActionCertificateBound, "account", "authentication data changed: a client certificate was bound to the account", "access"},
	{ActionAccessDenied, "account", "an authenticated person was refused an operation, with the rule that refused it", "access"},
	{ActionApprovalRequested, "account", "an operation under dual control was requested (ROLE-3)", "access"},
	{ActionApprovalApproved, "account", "a person approved an operation under dual control", "access"},
	{ActionApprovalRejected, "account", "a person rejected an operation under dual control", "access"},
	{ActionApprovalRefused, "account", "an approval was refused (the requester, or a role that may not approve)", "access"},
	{ActionApprovalWithdrawn, "account", "the requester withdrew an operation under dual control", "access"},
	{ActionApprovalExecuted, "account", "an approved operation was carried out", "access"},
	{ActionApprovalFailed, "account", "an approved operation failed when carried out", "access"},
	{ActionApprovalExpired, "account", "an operation under dual control expired unapproved", "access"},
	{ActionLoginSucceeded, "session", "a person holding a trusted role logged in", "access"},
	{ActionLogout, "session", "a trusted-role session ended", "access"},
	{ActionLoginFailed, "session", "an authentication attempt failed (wrong password, second factor or certificate), or a TLS handshake on the admin listener was refused (on peer:ADDRESS, with the reason and the certificate presented)", "access"},
	{ActionLoginRefused, "session", "a login was refused (locked or disabled account, no role)", "access"},
	{ActionSessionRefused, "session", "a request was refused for its session (expired, logged out, rights removed)", "access"},
	{ActionRoleGranted, "personnel", "a trusted role was granted to a person", "access"},
	{ActionRoleRemoved, "personnel", "a trusted role was removed from a person", "access"},
	{ActionPersonAttested, "personnel", "a personnel record was entered: background check, training or attestation, with its date (ROLE-6)", "access"},

	{ActionServiceStarted, "system", "the Sceau service started (pid, data directory, listeners)", "sceau serve"},
	{ActionServiceStopped, "system", "the Sceau service stopped", "sceau serve"},
	{ActionHostStarted, "system", "an operator recorded the start of a host (machine) of the installation", "sceau audit record host-start"},
	{ActionHostStopped, "system", "an operator recorded the stop of a host (machine) of the installation", "sceau audit record host-stop"},
	{ActionKeystoreActivated, "system", "the keystore was opened with its activation secret", "sceau (node start)"},
	{ActionClockInSync, "system", "the clock was found within clock.max_drift of the NTP servers: at the first check after a start, and after a drift or an outage (SYS-4)", "node (clock guard)"},
	{ActionClockDrifted, "system", "the clock was found beyond clock.max_drift of the NTP servers: nothing is signed until it is back within; an alert is raised (SYS-4)", "node (clock guard)"},
	{ActionClockUnreachable, "system", "no NTP server answered: signing goes on for the grace after the last check in range, or stops; recorded again when it stops; an alert is raised (SYS-4)", "node (clock guard)"},
	{ActionAdminPKICreated, "system", "the administration PKI (admin CA, listener and operator certificates) was created", "sceau init"},

	{ActionLoggingStarted, "logging", "the journal's workers started: checkpoints, export, syslog, retention, analysis (with their settings)", "audit"},
	{ActionLoggingStopped, "logging", "the journal's workers stopped; a final checkpoint follows", "audit"},
	{ActionLoggingConfigChanged, "logging", "the audit: section of the configuration changed (old and new values)", "audit (SYS-3)"},
	{ActionLoggingFailed, "logging", "a part of the journal failed (checkpoint, export, syslog, retention, analysis), with the error and the action taken", "audit"},
	{ActionLoggingRecovered, "logging", "a failed part of the journal works again, with how long it failed", "audit"},
	{ActionKeyRegistered, "logging", "a checkpoint signing key was registered (its public key and ID)", "audit"},
	{ActionArchived, "logging", "events older than the live retention were moved to the archive under an archive checkpoint", "audit (AUD-4)"},
	{ActionAlertRaised, "logging", "the analysis raised an alert (rule, message, the events concerned)", "audit (AUD-6)"},

	{ActionPhysicalAccess, "physical", "an operator recorded a physical access: who, where, when, escorted by whom, why", "sceau audit record physical-access"},
	{ActionMaintenance, "maintenance", "an operator recorded a maintenance action on a system", "sceau audit record maintenance"},
	{ActionMediaDestroyed, "media", "an operator recorded the destruction of a medium: which, how, witnessed by whom", "sceau audit record media-destruction"},
	{ActionConfigChanged, "configuration", "the configuration changed: its new version, each old and new value, secrets redacted", "audit (SYS-3), at each start"},
	{ActionDBRoleGranted, "configuration", "the PostgreSQL service role was given exactly what the service needs (tables and privileges)", "sceau db grant-service-role (AUD-2, SYS-3)"},
	{ActionCeremonyStarted, "ceremony", "a key ceremony started, with its script: CA key activations are expected until it ends", "ceremony"},
	{ActionCeremonyEnded, "ceremony", "a key ceremony completed; its transcript was archived", "ceremony"},
	{ActionCeremonyAborted, "ceremony", "a key ceremony stopped on a refusal or failure; its transcript was archived", "ceremony"},
	{ActionCeremonyKeyCreated, "ceremony", "a ceremony transcript signing key was created and recorded", "ceremony"},

	{ActionPublicationFileStored, "publication", "a file was stored for publication under its SHA-256 (not yet published)", "publication"},
	{ActionPublicationPublished, "publication", "a document version was published under dual control (PUB-4): its path, SHA-256, approval", "publication"},
	{ActionPublicationWithdrawn, "publication", "a document version was withdrawn under dual control; it stays listed and downloadable", "publication"},
	{ActionManifestSigned, "publication", "a new numbered manifest of the published files was signed (PUB-2)", "publication"},
	{ActionPublicationSignerCert, "publication", "the publication key got a certificate from the hierarchy (PUB-2)", "node"},
	{ActionPublicationStale, "publication", "the freshness monitor found a CRL near its nextUpdate without a newer one, or the manifest behind the site (PUB-3); an alert is raised", "publication"},
	{ActionPublicationFresh, "publication", "the publication site is fresh again after a stale episode", "publication"},
	{ActionTSASignerCert, "ca", "the time-stamping unit's key got a certificate from the hierarchy (ARC-5)", "node"},

	{ActionArchiveAdded, "archive", "items were archived: their leaves, kinds, sources and digests (ARC-1)", "archive"},
	{ActionArchiveHead, "archive", "a signed head of the archive's Merkle tree was issued, consistent with the previous one (ARC-3)", "archive"},
	{ActionArchiveRetrieved, "archive", "a confidential archived item was retrieved by a person (ARC-3)", "archive"},
	{ActionArchivePurged, "archive", "items past their retention date were purged by an explicit command (ARC-2)", "archive"},
	{ActionArchiveSignerCert, "archive", "the archive key got a certificate from the hierarchy (ARC-3)", "node"},
	{ActionArchiveLagging, "archive", "an archive replica fell behind by more than archive.max_lag; an alert is raised (ARC-4, AUD-6)", "node"},
	{ActionArchiveCaughtUp, "archive", "an archive replica caught up after a lagging episode (ARC-4)", "node"},
	{ActionBackupCreated, "backup", "a backup of the installation was written, encrypted and signed: name, target, created_at, size, journal head (CONT-1)", "node"},
	{ActionBackupFailed, "backup", "a backup could not be written: target and error; nothing partial is left (CONT-1)", "node"},
	{ActionBackupVerified, "backup", "a backup was verified in full: decrypted, manifest signature, every digest, trial restore (CONT-1)", "sceau backup verify"},
	{ActionBackupRestored, "backup", "the installation was restored from a backup, reconciled with the journal's export: events replayed, certificates recovered (CONT-1)", "sceau backup restore"},
	{ActionComplianceChecked, "compliance", "a self-audit ran: verdict, counts, the failed clauses and their follow-up dates; the report is archived (COMP-1, COMP-2)", "node"},

	{ActionIncidentOpened, "incident", "a security incident was opened: kind, severity, detection time; a major one owes notifications within 24 hours and starts the compromise procedure (INC-1, INC-4)", "incident"},
	{ActionIncidentNoted, "incident", "a note or an action taken was added to an incident's timeline (INC-1)", "incident"},
	{ActionIncidentEscalated, "incident", "an open incident's severity was raised, with the reason; raised to major, it owes notifications within 24 hours of detection and starts the compromise procedure (INC-1, INC-4)", "incident"},
	{ActionIncidentClosed, "incident", "an incident was closed with what was found and done (INC-1)", "incident"},
	{ActionIncidentNotified, "incident", "a notification of an incident was delivered: channel, recipient, attempt (INC-1)", "incident"},
	{ActionIncidentNotificationFailed, "incident", "an attempt to deliver a notification of an incident failed: the error and the next try; it is retried until delivered; an alert is raised (INC-1, AUD-6)", "incident"},
	{ActionIncidentObligationDue, "incident", "a notification owed to the supervisory authority or the conformity assessment body is due within incident.alert_margin; an alert is raised (INC-4, AUD-6)", "incident"},
	{ActionIncidentObligationOverdue, "incident", "a notification owed to the supervisory authority or the conformity assessment body is past its due time (24 hours after detection); an alert is raised (INC-4, AUD-6)", "incident"},
	{ActionIncidentObligationDone, "incident", "a notification owed to an authority was recorded done, with its reference (INC-4)", "incident"},

	{ActionDossierCreated, "registration", "a registration dossier was opened as a draft: kind, CA, profile, subject (CA-4)", "registration"},
	{ActionDossierUpdated, "registration", "a draft dossier's subject, contact or mandate changed", "registration"},
	{ActionDossierEvidence, "registration", "identity evidence was added to a dossier: document type, country, expiry, verification method, the archived scan's leaf (ARC-3)", "registration"},
	{ActionDossierSubmitted, "registration", "a complete dossier was submitted for validation", "registration"},
	{ActionDossierValidated, "registration", "a Registration Officer other than the one who entered it validated a dossier (four eyes, CA-4)", "registration"},
	{ActionDossierRejected, "registration", "a Registration Officer rejected a dossier, with the reason", "registration"},
	{ActionDossierIssued, "registration", "a validated dossier's certificate serial was reserved, in the reservation's transaction (CA-4)", "registration"},
	{ActionDossierDelivered, "registration", "a dossier's certificate was delivered to the holder (PKCS#10 answer, PKCS#12, or its one-time link)", "registration"},
	{ActionPKCS12Downloaded, "registration", "a PKCS#12 was fetched through its one-time link, which no longer works", "registration"},
	{ActionCGUAccepted, "registration", "an applicant accepted one version of the CGU: its SHA-256, URL, how and when; the proof is archived (ARC-1)", "registration"},
	{ActionRevocationRequestReceived, "registration", "a revocation request was received from the holder, their organisation or an officer, with its due time", "registration"},
	{ActionRevocationRequestProcessed, "registration", "a Revocation Officer processed a revocation request: revoked with its reason, or refused", "registration"},
	{ActionRevocationSecretRefused, "registration", "a holder's revocation request was refused for a wrong revocation secret (rate-limited)", "registration"},

	{ActionACMEEABCreated, "registration", "a Registration Officer made an ACME external account binding key for a validated dossier: its kid, CA, profile and the DNS names it allows (the HMAC key is never journaled) (CA-4)", "acme"},
	{ActionACMEEABRevoked, "registration", "an ACME external account binding key was revoked; its account can order nothing more (CA-4)", "acme"},
	{ActionACMEAccountCreated, "registration", "an ACME account was created, bound to an EAB key and so to a validated dossier: its key thumbprint and contacts (CA-4)", "acme"},
	{ActionACMEAccountUpdated, "registration", "an ACME account's contacts changed, its key was rolled over or it was deactivated", "acme"},
	{ActionACMEOrderCreated, "ca", "an ACME account ordered a certificate for identifiers its EAB key allows", "acme"},
	{ActionACMEChallengeChecked, "ca", "the ACME server checked a challenge (http-01, dns-01, tls-alpn-01): the identifier, the address reached and the result", "acme"},
	{ActionACMEOrderFinalized, "ca", "an ACME order was finalized with its CSR: the serial reserved for it, in the reservation's transaction (record before sign, CA-2)", "acme"},
	{ActionACMERateLimited, "ca", "an ACME account was refused a new order or a finalization by a rate limit: the limit, the count, the maximum, the identifier if any and when to retry", "acme"},
	{ActionESTCredentialCreated, "registration", "a Registration Officer made an EST credential (a user name and a password shown once) for a validated dossier: its CA, profile and subject (the password is never journaled) (CA-4)", "est"},
	{ActionESTCredentialRevoked, "registration", "an EST credential was revoked: it enrolls and re-enrolls nothing more (CA-4)", "est"},
	{ActionESTEnrolled, "ca", "an EST simpleenroll or simplereenroll was accepted: the serial reserved for it, the credential, the dossier and the certificate renewed, in the reservation's transaction (record before sign, CA-2)", "est"},
	{ActionESTRefused, "ca", "an EST request was refused and nothing issued: the operation, the user name or client certificate presented and the reason (never the password) (CA-4)", "est"},

	{ActionCACreated, "ca", "a CA was created: subject, parent, key, validity, certificate fingerprint", "ca"},
	{ActionCACertRecorded, "ca", "a subordinate CA's certificate, made before parents answered for their CAs, was recorded under its parent so that its CRL and OCSP cover it", "ca"},
	{ActionCATerminated, "ca", "a CA was terminated under dual control: it issues no certificate any more, and every unexpired certificate it issued is revoked (cessationOfOperation)", "ca"},
	{ActionCACompromised, "ca", "the compromise procedure of a CA key ran under dual control: the CA terminated, what it issued and its own certificate revoked (cACompromise), a major incident opened and a notice published (INC-2)", "node"},
	{ActionCATerminationCompleted, "ca", "a terminated CA's last steps are done: its final CRL (nextUpdate 99991231235959Z) is published and its key, backups and share carriers destroyed (END-1)", "ca"},
	{ActionOCSPResponderRenewed, "ca", "a CA's delegated OCSP responder certificate was renewed", "ca"},
	{ActionCertificatePrepared, "ca", "a serial was reserved and the linted to-be-signed certificate recorded (before signing)", "ca"},
	{ActionCertificateIssued, "ca", "a certificate was signed and stored", "ca"},
	{ActionCertificateRevoked, "ca", "a certificate was revoked, with its reason", "revocation"},
	{ActionCRLPrepared, "ca", "a CRL number was reserved", "revocation"},
	{ActionCRLIssued, "ca", "a CRL (and its shards) was signed and stored", "revocation"},
	{ActionKeySplitRegistered, "key", "a key's activation secret was split m-of-n and the holders registered", "quorum"},
	{ActionKeyShareUnlocked, "key", "a locked key share was unlocked", "quorum"},
	{ActionKeySharesRevoked, "key", "every share carrier of a key was revoked", "quorum"},
	{ActionKeyShareWrongPIN, "key", "a share holder entered a wrong PIN", "quorum"},
	{ActionKeyShareLocked, "key", "a key share locked after repeated wrong PINs", "quorum"},
	{ActionKeySharePresented, "key", "a share holder presented a share during an activation", "quorum"},
	{ActionKeyShareRefused, "key", "a presented share was refused", "quorum"},
	{ActionKeyActivationStarted, "key", "a CA key activation session started (threshold, window)", "quorum"},
	{ActionKeyActivationRefused, "key", "a CA key activation was refused (too few shares, window passed)", "quorum"},
	{ActionKeyActivationFailed, "key", "a CA key activation failed (the shares did not open the key)", "quorum"},
	{ActionKeyActivated, "key", "a CA key was activated by m of n share holders", "quorum"},
	{ActionKeyDeactivated, "key", "a CA key was deactivated: its handles dropped, its secret wiped", "quorum"},
	{ActionKeyBackupCreated, "key", "a CA key was backed up wrapped under a split wrapping key: location, SHA-256, approvers, holders (KEY-4)", "quorum"},
	{ActionKeyBackupDestroyed, "key", "a registered backup copy of a CA key was marked destroyed, its file removed where still present (KEY-6)", "quorum"},
	{ActionKeyBackupDiscarded, "key", "a backup made at a key ceremony that then stopped was undone: its registration deleted, its files removed (KEY-4, KEY-8)", "quorum"},
	{ActionKeyImported, "key", "a registered backup was imported into a CA's key store with m of its wrapping key's shares (KEY-4)", "quorum"},
	{ActionKeyDestroyed, "key", "a CA key was destroyed in its store after two approvals (KEY-6)", "quorum"},
	{ActionKeySplitDiscarded, "key", "the registered split of a key never put to use was discarded (an aborted ceremony or init)", "quorum"},
}

var byAction = func() map[string]Kind {
	m := make(map[string]Kind, len(Catalogue))
	for _, k := range Catalogue {
		m[k.Action] = k
	}
	return m
}()

// Describe returns the catalogue entry of action.
func Describe(action string) (Kind, bool) {
	k, ok := byAction[action]
	return k, ok
}
