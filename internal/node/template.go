package node

import (
	"bytes"
	"strings"
	"text/template"
)

// configTemplate is the commented sceau.yaml written by `sceau init` and
// `sceau demo` (RenderConfig). Every field says its unit and default.
var configTemplate = template.Must(template.New("sceau.yaml").Parse(`# Sceau configuration{{if .Demo}} — DEMO INSTALLATION, NOT FOR PRODUCTION{{end}}
# Decoded strictly: an unknown key is an error. Durations take Go forms
# (90m, 36h) or days and years (397d, 10y = 3650 days).

# Directory holding the database, keystore and admin credentials. Relative
# paths below are relative to it; a relative data_dir is relative to this file.
data_dir: .

database:
  # sqlite (one node, default) or postgres (several nodes).
  engine: sqlite
  # SQLite file (WAL, synchronous=FULL). Default: sceau.db
  path: sceau.db
  # For postgres: a file holding the connection string (never inline).
  # dsn_file: secrets/postgres.dsn

keystore:
  # Encrypted software keystore (AES-256-GCM, Argon2id). Default: keys
  dir: keys
  # File holding the keystore's activation secret, mode 0600.
  secret_file: secrets/keystore.secret

public:
  # Read-only public listener: CA certificates, CRLs, OCSP. Default: 127.0.0.1:8080
  listen: {{.PublicListen}}
  # URL the world uses to reach it; CDP, AIA and OCSP URLs in certificates
  # are built from it. Default: http://<listen>
  base_url: {{.BaseURL}}

admin:
  # Administration listener: TLS 1.3, client certificate required. Default: 127.0.0.1:8443
  listen: {{.AdminListen}}
  # Admin CA, listener certificate and operator credentials. Default: admin
  dir: admin
  # Largest accepted request body, bytes. Default: 65536
  max_body_bytes: 65536

enroll:
  # Enrollment listener, HTTPS (docs/adr/0003-enrollment-listener.md): the
  # holders' revocation form (/revoke) and one-time PKCS#12 downloads
  # (/pkcs12/<token>). A listener of its own, so the public one stays
  # read-only (SYS-2). Empty: no such listener. Default: none
  listen: "{{.EnrollListen}}"
  # URL holders use; download links are built from it. Default: https://<listen>
  # base_url: https://enroll.example.org
  # TLS chain and key (PEM). Leave both out to have the admin CA issue the
  # listener's certificate (clients then trust admin/admin-ca.pem).
  # cert_file: enroll-chain.pem
  # key_file: enroll-key.pem
  # Extra names for that certificate. Default: the listen host only
  # names: [enroll.example.org]
  # The EST server (RFC 7030) is served at /.well-known/est/<ca>/ (and
  # /.well-known/est/ for the only CA with profiles); clients enroll with a
  # credential from a Registration Officer (CA-4, docs/est.md). The listener
  # requests, and does not require, a TLS client certificate, for
  # simplereenroll.
  # The ACME server, /acme/<profile>/directory for each profile issuing DNS
  # names; accounts need an EAB key from a Registration Officer (CA-4,
  # docs/acme.md).
  acme:
    # DNS resolver for dns-01, CAA and challenge addresses. Default: the system's
    # resolver: 127.0.0.1:53
    # Issuer domain names CAA records must name (RFC 8659). Default: none (no CAA check)
    # caa_issuer_domains: [pki.example.org]
    # Reuse a challenge the account passed for the same name. Default: 0s (off)
    authorization_reuse: 0s
    # Directories that take accounts without EAB (closed networks). Default: none
    # eab_optional: [internal-server]
    # Ports the server connects to for http-01 and tls-alpn-01 (tests, port
    # forwarding). Default: 80 and 443
    # http01_port: 80
    # tlsalpn01_port: 443
    # Rate limits, counted from the database across nodes (429 rateLimited).
    # Orders an account makes per hour. Default: 300; -1: no limit
    orders_per_account_per_hour: 300
    # Certificates per DNS name per 7 days, whatever the account; renewals
    # replacing a certificate due (RFC 9773) are exempt. Default: 50; -1: no limit
    certificates_per_identifier_per_week: 50
    # Challenges of an account that may fail per hour before its new orders
    # are refused. Default: 30; -1: no limit
    failed_validations_per_account_per_hour: 30
    # Page the renewal information of revoked certificates points to
    # (RFC 9773 explanationURL). Default: none
    # renewal_explanation_url: https://pki.example.org/notices

issuance:
  # Operations committed per transaction (group commit). Default: 128
  batch_max: 128
  # How long to wait to fill a batch when idle. Default: 0s
  batch_wait: 0s
  # A serial reserved this long ago whose certificate was never stored is
  # an orphan of a crash and is revoked at start. Default: 5m
  orphan_grace: 5m
  # Issuance requests in progress on this node at most: beyond, a request
  # is refused at once with 503 and Retry-After (metrics
  # sceau_issuance_in_flight, sceau_issuance_shed_total). Default: 1024
  max_in_flight: 1024

ocsp:
  # nextUpdate - thisUpdate of OCSP responses. Default: 4d
  validity: 4d
  # Pre-signed responses are re-signed when they expire within this. Default: 2d
  refresh_before: 2d
  # Lifetime of each CA's delegated OCSP responder certificate. Default: 90d
  signer_validity: 90d

# The audit journal (docs/audit.md): signed checkpoints, export to the backup
# site, syslog collection, retention and anomaly alerts.
audit:
  # Keystore label of the checkpoint signing key (ECDSA P-256). Default: audit-signing
  signing_key: audit-signing
  # With a PKCS#11 device, keep that key in it (AUD-2): the label of a token
  # of its own, and the file holding the token's user PIN. Default: "" (keystore)
  # token: audit
  # token_pin_file: secrets/audit-token.pin
  checkpoint:
    # Sign the chain head every this many events... Default: 1000
    every: 1000
    # ...and at least this often when events were appended. Default: 5m
    interval: 5m
  export:
    # Continuous export as JSON lines with the checkpoints: point it at the
    # backup site's mount. Empty turns it off. Default: "" (off)
    dir: audit-export
    # Time between export runs. Default: 10s
    interval: 10s
    # Also to S3-compatible object storage (path-style, Signature V4; the
    # keys in files). Default: off
    # s3: {endpoint: "https://s3.example.org", bucket: journal, access_key_file: secrets/s3.access, secret_key_file: secrets/s3.secret}
  syslog:
    # RFC 5424 collector, host:port. Empty turns forwarding off. Default: ""
    address: ""
    # udp, tcp (octet counting) or tls (RFC 5425; the collector's certificate
    # is verified against ca_file, a PEM file, or the system's roots). Default: udp
    network: udp
    # RFC 5424 facility. Default: 13 (log audit)
    facility: 13
  retention:
    # Events stay in the live journal this long, then move to the archive
    # with their checkpoints. At least 31d (AUD-4). Default: 31d
    live: 31d
    # Time between archive moves. Default: 1h
    interval: 1h
  analysis:
    # Time between runs of the anomaly rules over new events. Default: 5s
    interval: 5s
    # Failed logins of one account within the window that raise an alert
    # (0 turns the rule off). Default: 5 within 5m
    failed_logins: 5
    failed_login_window: 5m
    # Revocations within the window that raise an alert. Default: 100 within 10m
    mass_revocations: 100
    mass_revocation_window: 10m
    # Events dated this much before the previous one, or ahead of the clock,
    # raise an alert. Default: 2m
    clock_jump: 2m
    # People acting outside these hours raise an alert. No days: off. Default: off
    # working_hours: {days: [mon, tue, wed, thu, fri], start: "07:00", end: "20:00", timezone: Europe/Paris}
    # A CA key activated outside a ceremony (and outside these windows)
    # raises an alert. Default: true, no windows
    ceremony_rule: true
    # ceremony_windows:
    #   - {start: 2026-06-01T08:00:00+02:00, end: 2026-06-01T18:00:00+02:00}
    # Each alert is also posted as JSON here (http or https). Default: "" (off)
    webhook:
      url: ""
      # File holding a bearer token sent with each alert (never inline).
      # token_file: secrets/webhook.token

# People and dual control (docs/roles.md).
access:
  # ROLE-3: how many distinct people, besides the requester, approve an
  # action under dual control (role grants, key backup/import/destruction,
  # CA creation and termination, mass revocation). At least 1. Default: 2
  approvals: 2
  # How long a request waits for its approvals before it expires (5m..30d).
  # Default: 24h
  approval_lifetime: 24h
  # Per-action overrides, each at least 1. Default: none
  # approvals_for: {key.destroy: 3}
  # ROLE-4: the AES-256 key that seals the TOTP secrets in the database,
  # created by init, mode 0600. Back it up with the keystore secret: without
  # it nobody can log in with a password. Default: secrets/totp.key
  totp_key_file: secrets/totp.key

# The public repository (docs/publication.md): pages in French and English,
# CA certificates, CRLs, every version of the CP/CPS and CGU, and a signed
# manifest of every file (PUB-1..PUB-3).
publication:
  # The trust service provider's name, on every page and in the manifest.
  # Default: Sceau
  name: "{{.Org}}"
  # Its presentation on the home page, plain text. Default: none
  about_fr: "{{.Org}} est un prestataire de services de confiance. Ce dépôt publie ses certificats d'autorité, ses listes de révocation et ses politiques."
  about_en: "{{.Org}} is a trust service provider. This repository publishes its CA certificates, revocation lists and policies."
  # Where relying parties write. Default: none
  # contact: pki@example.org
  # PUB-2: the CA and profile that certify the publication key, which signs
  # each manifest (detached CMS: openssl cms -verify checks it). The
  # profile carries documentSigning. Default: none (unsigned, stale)
  signer_ca: issuing
  signer_profile: publication
  # Largest document file, in bytes (1 KiB..256 MiB). Default: 20971520
  max_document_bytes: 20971520
  # PUB-3: a CRL this close to its nextUpdate with no newer one makes the
  # site stale (alert, /healthz 503); at most a tenth of its validity.
  # Default: 1h
  crl_margin: 1h
  # How often each node rereads what is published (100ms..1m). Default: 500ms
  refresh: 500ms

# ARC-1..ARC-6 (policy §5.5, docs/archive.md): the ten-year archive. CRLs
# go in when issued; CA certificates and published documents are swept in;
# 'sceau archive add' takes the rest. Each item is a leaf of a Merkle tree
# whose signed heads prove that nothing was removed or replaced.
archive:
  # ARC-3: the CA and profile that certify the archive key, which signs the
  # tree heads (detached CMS, documentSigning). Default: none (no heads)
  signer_ca: issuing
  signer_profile: publication
  # ARC-3: age public keys (age1…) to which confidential items are sealed;
  # their identities stay with the Security Officer and the Auditor, off
  # this machine (age-keygen makes a pair). Empty: confidential items are
  # refused. Default: []
{{- if .ArchiveRecipient}}
  # DEMO: a key pair made by the demo, its identity beside this file.
  recipients: [{{.ArchiveRecipient}}]
{{- else}}
  recipients: []
{{- end}}
  # ARC-2: retention per kind from the event, each at least 10y (a setting
  # may only lengthen it). Default: 10y for every kind
  # retention:
  #   subscriber-agreement: 12y
  # ARC-3: a signed tree head at least this often (1m..24h). Default: 1h
  head_interval: 1h
  # ARC-4: copies at a second site, a directory (another disk, NFS) or an
  # S3-compatible bucket (object lock in compliance mode where enabled).
  # Default: none, which ARC-4 does not allow in production
  replicas: []
  # replicas:
  #   - name: second-site
  #     dir: /mnt/second-site/sceau-archive
  #   - name: bucket
  #     s3: {endpoint: "https://s3.example.org", bucket: sceau-archive,
  #          access_key_file: secrets/s3.access, secret_key_file: secrets/s3.secret}
  # Time between replication passes (1s..1h). Default: 10s
  replication_interval: 10s
  # ARC-4, AUD-6: a replica further behind raises an alert. Default: 1h
  max_lag: 1h
  # Largest item, in bytes (1 KiB..1 GiB). Default: 67108864
  max_item_bytes: 67108864

# CONT-1 (policy §5.1.1, §5.1.8; docs/continuity.md): backups of the
# installation to the second site, one age-encrypted file each with a signed
# manifest; keys only as sealed files, secrets left out.
backup:
  # Target: a directory (the second site's mount) or s3://bucket/prefix with
  # s3 below. Empty: 'sceau backup create' needs --to. Default: ""
  to: ""
  # The second site's age public keys (age1…, age-keygen makes a pair); any
  # one of their identities restores. Required with to. Default: []
  recipients: []
  # serve makes a backup this often (1m..30d); 0 turns it off. Default: 0
  interval: 0s
  # Backups a directory target keeps; 0 keeps all. Default: 0
  keep: 0
  # With to: s3://bucket/prefix, the store's endpoint and key files:
  # s3: {endpoint: "https://s3.example.org", access_key_file: secrets/s3.access, secret_key_file: secrets/s3.secret}

# COMP-1, COMP-2 (policy §8, docs/compliance.md): the limits of the
# self-audit, 'sceau check', whose reports are archived.
compliance:
  # COMP-2: a failed clause must be put right within this (1d..365d).
  # Default: 30d
  follow_up: 30d
  # CONT-1: the last backup may be this old. Default: 26h
  backup_max_age: 26h
  # CONT-1: the last verified restore ('sceau backup verify') may be this
  # old. Default: 31d
  restore_test_max_age: 31d
# INC-1, INC-4 (docs/incident.md): the incident register. Opening an
# incident ('sceau incident open') tells the Security Officers and the
# partners at once, by mail, signed webhook and syslog, each notification
# retried until delivered. A major incident owes notifications to the
# supervisory authority and the conformity assessment body within 24 hours
# of its detection; alerts are raised before and after the due time.
incident:
  # The Security Officers' e-mail addresses: told of every incident opened
  # or closed and of every deadline alert. Default: [] (set them)
  security_officers: []
  # security_officers: [rssi@example.org, rssi-deputy@example.org]
  # Other addresses told of the same (a SOC, the hosting provider).
  # Default: []
  partners: []
  # The mail relay (submission). tls: starttls (587), tls (465), or none
  # (a relay on the loopback only). The relay's certificate is always
  # verified, against ca_file if set, else the system's roots.
  smtp:
    # relay: smtp.example.org:587
    # from: sceau@example.org
    tls: starttls
    # ca_file: secrets/smtp-ca.pem
    # username: sceau
    # password_file: secrets/smtp.password
  # A webhook receiving each notification as JSON, signed with
  # X-Sceau-Signature: sha256=<hex HMAC-SHA256 of the body> under the secret
  # in secret_file (16 bytes or more). Default: none
  # webhook:
  #   url: https://soc.example.org/hooks/sceau
  #   secret_file: secrets/incident-webhook.secret
  # A syslog collector receiving each notification (RFC 5424, severity
  # alert); network udp, tcp or tls. Default: none
  syslog:
    network: udp
    facility: 13
    # address: siem.example.org:514
  # INC-4: the alert before a notification owed to an authority is due is
  # raised when less than this is left (10m..23h). Default: 4h
  alert_margin: 4h
  # The wait after a failed delivery, doubled after each next one up to
  # max_retry_interval; notifications are retried until delivered.
  # Defaults: 30s and 1h
  retry_interval: 30s
  max_retry_interval: 1h

# SYS-4 (policy §6.7, docs/clock.md): the clock is checked against NTP
# servers at start and every interval; beyond max_drift nothing is signed
# (certificates, CRLs, OCSP responses, manifests) until it is back within,
# and an alert is raised. No answer is not "in sync": at first start
# nothing is signed until a server answers.
clock:
  # NTP servers (RFC 5905), host or host:port (port 123); the median offset
  # of those that answer counts, so list three or more of your own.
  # Empty: the clock is not checked, which only a demonstration or an
  # offline root's machine may do. Default: [] (not checked)
  servers: []
  # servers: [ntp1.example.org, ntp2.example.org, ntp3.example.org]
  # Time between checks while in range (1m..24h). Default: 10m
  interval: 10m
  # Largest offset at which Sceau signs (1ms..1m). Default: 1s (ETSI EN
  # 319 421: time-stamps within 1 s of UTC)
  max_drift: 1s
  # When no server answers, signing goes on this long after the check that
  # was due; 0 stops at once; interval + grace at most 24h. Default: 1h
  grace: 1h
  # Each server's answer, name resolution included. Default: 2s
  timeout: 2s

# ARC-5 (docs/timestamping.md): the RFC 3161 time-stamping unit. Its key is
# certified by signer_ca under profile once that CA is activated; it stamps
# every archived item and answers POST <listen_path> on the public listener.
timestamping:
  # CA and profile (timeStamping alone) of the unit's certificate.
  # Default: none (no unit)
  signer_ca: issuing
  profile: timestamping
  # TSA policy OID of every token; required with signer_ca. Default: none
  policy: 1.2.250.1.999.1.8
  # Accuracy in each token, at least clock.max_drift (..1m). Default: 1s
  accuracy: 1s
  # Or an external TSA instead (not with signer_ca), its tokens verified
  # against the roots in external_ca_file (PEM). Default: none
  # external_url: https://tsa.example.org/
  # external_ca_file: tsa-roots.pem
  # Path of the unit on the public listener. Default: /tsa
  listen_path: /tsa

# CA-4 (docs/registration.md): the registration authority.
registration:
  # Time to process a revocation request: its due time (1m..7d). Default: 24h
  revocation_deadline: 24h
  # Largest evidence scan or CGU acceptance proof, in bytes (1 KiB..64 MiB,
  # at most archive.max_item_bytes). Default: 5242880 (5 MiB)
  max_scan_bytes: 5242880
  # Wrong revocation secrets in a row before a lockout (1..100), and its
  # length (1m..24h). Defaults: 5, 15m
  secret_attempts: 5
  secret_lockout: 15m
  # Life of a PKCS#12 one-time download link (1h..30d). Default: 7d
  link_validity: 7d
  # For each certificate profile (hence its CP), the identifier of the CGU
  # its holders accept: a dossier for it is refused unless it accepted the
  # version in force of cgu/<identifier>/<version>/<lang>. A profile not
  # named takes the version in force of any CGU identifier.
  # cgu:
  #   qualified-person: sceau-qualified

# The CA hierarchy (CA-1). Parents come before their children.
cas:
  - id: root
    subject:
      common_name: {{.Org}} Root CA{{if .Demo}} (demo){{end}}
      organization: {{.Org}}
      country: FR
    key_type: ecdsa-p384
    # At most 10y (KEY-7).
    validity: 10y
    crl:
      # Default for a root: 7d; refresh: half the validity.
      validity: 7d
  - id: issuing
    parent: root
    subject:
      common_name: {{.Org}} Issuing CA{{if .Demo}} (demo){{end}}
      organization: {{.Org}}
      country: FR
    key_type: ecdsa-p256
    # Must end before the parent: 5y is well inside the root's 10y.
    validity: 5y
    path_len: 0
{{- if .Demo}}
    # KEY-2: the key has a keystore of its own whose secret is split among
    # five key share holders; three must present their shares to activate it.
    # The demo activates it with its demo shares and PINs.
    activation:
      threshold: 3
      holders: [alice, bob, carol, dave, erin]
      window: 10m
{{- else}}
    # KEY-2: for production, give the CA key m-of-n activation. init then
    # asks each holder for the PIN of their share (or reads --pins DIR), and
    # the CA signs only after 'sceau ca activate' by m of them:
    # activation:
    #   threshold: 3
    #   holders: [alice, bob, carol, dave, erin]
    #   window: 10m
{{- end}}
    # Every policy its profiles put in certificates, or anyPolicy
    # (2.5.29.32.0): a leaf policy its CA does not list fails policy
    # validation (RFC 5280 §6.1.3; openssl verify -explicit_policy -policy
    # OID: error 43). This CA issues public TLS (DV and OV) and S/MIME
    # certificates, and the CA/B Forum allows one reserved OID per
    # policy-restricted subordinate CA (TLS BR §7.1.2.10.5): as a CA of the
    # root's own operator it takes anyPolicy. A CA for one purpose lists its
    # policies instead.
    policies:
      - oid: 2.5.29.32.0
    # A CA for public TLS alone restricts its purposes in its certificate
    # (CA/B Forum TLS BR §7.1.2.10.6), and each profile's must be among
    # them: ext_key_usage: [serverAuth, clientAuth]. This CA also issues
    # S/MIME, eIDAS and time-stamping certificates, so it lists none.
    crl:
      validity: 24h
      refresh: 12h
      # Partition the CRL in this many shards (each cert names its shard in its CDP). Default: 0
      shards: 0
    profiles:
      - name: server
        key_usage: [digitalSignature]
        ext_key_usage: [serverAuth]
        # A certificate gets the DV OID when its subject names no
        # organization, the OV OID when it does (with its locality and
        # country): Sceau keeps the one that matches the request.
        policies:
          - oid: 1.2.250.1.999.1.1
            cps_uri: {{.BaseURL}}/cps
          - oid: 2.23.140.1.2.1
          - oid: 2.23.140.1.2.2
        key_types: [ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096]
        # Public TLS (lints cabf_br): at most 200 days since 2026-03-15, 100
        # days from 2027-03-15, 47 from 2029-03-15 (CA/B Forum TLS BR
        # §6.3.2); no reserved addresses, no internal names. 199d keeps
        # zlint's w_server_cert_valid_time_longer_than_199_days quiet. On
        # the day the ceiling falls, a request without a validity gets a
        # day under the new ceiling (99d), a longer one is refused, and
        # serve warns 90 days ahead: lower these two then.
        validity: 199d
        max_validity: 200d
        allow_dns_names: true
        allow_ips: true
        require_san: true
        # Subject attributes a request must carry (require) or must not
        # (forbid); refused with the attribute named. TLS BR §7.1.2.7.4:
        # no organizationalUnitName in a subscriber certificate.
        subject:
          forbid: [organizational_unit]
        lints: [rfc5280, cabf_br]
      - name: internal-server
        # TLS inside the organisation (localhost, internal names, private
        # addresses): not for the public web, so without the CA/B Forum
        # rules of the server profile.
        key_usage: [digitalSignature]
        ext_key_usage: [serverAuth]
        policies:
          - oid: 1.2.250.1.999.1.1
            cps_uri: {{.BaseURL}}/cps
        key_types: [ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096]
        validity: 397d
        max_validity: 397d
        allow_dns_names: true
        allow_ips: true
        require_san: true
        lints: [rfc5280]
      - name: person
        # keyEncipherment applies to RSA keys only: an EC key gets
        # digitalSignature alone (RFC 5480 §3, RFC 8813).
        key_usage: [digitalSignature, keyEncipherment]
        ext_key_usage: [clientAuth, emailProtection]
        # With emailProtection this is an S/MIME certificate (CA/B Forum
        # S/MIME BR): individual-validated, multipurpose (2.23.140.1.5.4.2),
        # so the request names the person with given_name and surname.
        policies:
          - oid: 1.2.250.1.999.1.2
            cps_uri: {{.BaseURL}}/cps
          - oid: 2.23.140.1.5.4.2
        # At most 825 days (S/MIME BR §6.3.2).
        validity: 825d
        max_validity: 825d
        allow_emails: true
        lints: [rfc5280, cabf_smime]
      # eIDAS profiles (EN 319 412, docs/profiles.md). QcPDS names the PKI
      # disclosure statement per language: the site serves
      # <base_url>/pds/en and /pds/fr, which lead to the PDS in force
      # (sceau publication add --kind pds). EN 319 412-5 §4.3.4 asks for
      # https: {{if .HTTPS}}they point at this installation's site.{{else}}this base URL is not https, so the URLs below are
      # placeholders: put your https site's there.{{end}}
      - name: qualified-person
        # A qualified certificate for electronic signatures of a natural
        # person (QCP-n; EN 319 412-2 and -5). The key comes in a PKCS#12,
        # not on a QSCD, so the policy is QCP-n, not QCP-n-qscd. The
        # request gives given_name, surname, country and a serial_number
        # such as IDCFR-<card number> (EN 319 412-1 §5.1.3). The document
        # signing purpose (RFC 9336) keeps it out of TLS.
        key_usage: [contentCommitment]
        ext_key_usage: [documentSigning]
        policies:
          - oid: 0.4.0.194112.1.0
          - oid: 1.2.250.1.999.1.3
            cps_uri: {{.BaseURL}}/cps
        key_types: [ecdsa-p256, ecdsa-p384, rsa-3072, rsa-4096]
        validity: 3y
        max_validity: 3y
        lints: [rfc5280, etsi]
        etsi:
          kind: natural_person
          usage: signature
          qualified: true
          policy: 0.4.0.194112.1.0
          serial_number_semantics: true
          pds:
            - {url: "{{.PDSBase}}/pds/en", language: en}
            - {url: "{{.PDSBase}}/pds/fr", language: fr}
      - name: qualified-seal
        # A qualified certificate for electronic seals of a legal person
        # (QCP-l; EN 319 412-3 and -5). The request gives organization,
        # country and organization_identifier, such as NTRFR-<SIREN> or
        # VATFR-<key><SIREN>, whose check digits are verified.
        key_usage: [contentCommitment]
        ext_key_usage: [documentSigning]
        policies:
          - oid: 0.4.0.194112.1.1
          - oid: 1.2.250.1.999.1.4
            cps_uri: {{.BaseURL}}/cps
        key_types: [ecdsa-p256, ecdsa-p384, rsa-3072, rsa-4096]
        validity: 3y
        max_validity: 3y
        lints: [rfc5280, etsi]
        etsi:
          kind: legal_person
          usage: signature
          qualified: true
          policy: 0.4.0.194112.1.1
          pds:
            - {url: "{{.PDSBase}}/pds/en", language: en}
            - {url: "{{.PDSBase}}/pds/fr", language: fr}
      - name: qualified-website
        # A qualified website authentication certificate (QWAC; EN 319 412-4
        # and -5) under QNCP-w (EN 319 411-2), on the CA/B Forum OV policy:
        # the request names the organization with its locality and country
        # (TLS BR §7.1.4.2.2) and its DNS names; the subscriber keeps the key
        # and sends a CSR. The public TLS rules above apply.
        key_usage: [digitalSignature]
        ext_key_usage: [serverAuth]
        policies:
          - oid: 0.4.0.194112.1.5
          - oid: 2.23.140.1.2.2
          - oid: 1.2.250.1.999.1.7
            cps_uri: {{.BaseURL}}/cps
        key_types: [ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096]
        validity: 199d
        max_validity: 200d
        allow_dns_names: true
        require_san: true
        subject:
          require: [organization, locality, country]
          forbid: [organizational_unit]
        lints: [rfc5280, cabf_br, etsi]
        etsi:
          kind: website
          qualified: true
          policy: 0.4.0.194112.1.5
          pds:
            - {url: "{{.PDSBase}}/pds/en", language: en}
            - {url: "{{.PDSBase}}/pds/fr", language: fr}
      - name: timestamping
        # A time-stamping unit (RFC 3161 §2.3: the only extended key usage,
        # and critical), for the archive's TSA.
        key_usage: [digitalSignature]
        ext_key_usage: [timeStamping]
        policies:
          - oid: 1.2.250.1.999.1.5
            cps_uri: {{.BaseURL}}/cps
        key_types: [ecdsa-p256, ecdsa-p384, rsa-3072, rsa-4096]
        validity: 3y
        max_validity: 5y
        lints: [rfc5280]
      - name: publication
        # The publication key (PUB-2): it signs the site's manifests.
        key_usage: [digitalSignature]
        ext_key_usage: [documentSigning]
        policies:
          - oid: 1.2.250.1.999.1.6
            cps_uri: {{.BaseURL}}/cps
        key_types: [ecdsa-p256, ecdsa-p384]
        validity: 1y
        max_validity: 1y
        lints: [rfc5280]
`))

// ConfigValues are what the configuration template takes: the rest are
// the documented defaults.
type ConfigValues struct {
	Demo         bool
	Org          string
	PublicListen string
	AdminListen  string
	EnrollListen string // empty: no enrollment listener
	BaseURL      string
	// ArchiveRecipient is an age public key for archive.recipients (the
	// demo's own); empty: none.
	ArchiveRecipient string
}

// HTTPS tells whether the public base URL is https, as QcPDS URLs must be.
func (d ConfigValues) HTTPS() bool { return strings.HasPrefix(d.BaseURL, "https://") }

// PDSBase is where the QcPDS URLs point: the site when it is https, a
// placeholder to replace otherwise (EN 319 412-5 §4.3.4).
func (d ConfigValues) PDSBase() string {
	if d.HTTPS() {
		return strings.TrimSuffix(d.BaseURL, "/")
	}
	return "https://pki.example.org"
}

// RenderConfig is the commented configuration of a new installation, every
// field with its unit and default.
func RenderConfig(d ConfigValues) []byte {
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, d); err != nil {
		panic(err)
	}
	return b.Bytes()
}
