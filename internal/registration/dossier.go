package registration

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/sceau"
)

// Kind is who a dossier is for.
type Kind string

// The kinds of dossier (CA-4).
const (
	Natural        Kind = "natural"          // a natural person
	Legal          Kind = "legal"            // a legal person (a seal)
	NaturalOfLegal Kind = "natural_of_legal" // a natural person attached to a legal person
	Device         Kind = "device"           // a device or a website
)

// Kinds lists the kinds.
var Kinds = []Kind{Natural, Legal, NaturalOfLegal, Device}

// State is where a dossier is in its workflow.
type State string

// The states, in order.
const (
	Draft     State = "draft"
	Submitted State = "submitted"
	Validated State = "validated"
	Rejected  State = "rejected"
	Issued    State = "issued"
	Delivered State = "delivered"
)

// Subject is what the certificate will carry, as the dossier states it.
type Subject struct {
	CommonName         string `json:"common_name,omitempty"`
	GivenName          string `json:"given_name,omitempty"`
	Surname            string `json:"surname,omitempty"`
	Pseudonym          string `json:"pseudonym,omitempty"`
	SerialNumber       string `json:"serial_number,omitempty"` // EN 319 412-1 §5.1.3, e.g. IDCFR-…
	Organization       string `json:"organization,omitempty"`
	OrganizationalUnit string `json:"organizational_unit,omitempty"`
	// OrganizationIdentifier: EN 319 412-1 §5.1.4, e.g. NTRFR-<SIREN>, VATFR-…, PSDFR-…
	OrganizationIdentifier string   `json:"organization_identifier,omitempty"`
	Locality               string   `json:"locality,omitempty"`
	Province               string   `json:"province,omitempty"`
	Country                string   `json:"country,omitempty"`
	Emails                 []string `json:"emails,omitempty"`
	DNSNames               []string `json:"dns_names,omitempty"`
	IPs                    []string `json:"ip_addresses,omitempty"`
}

// Name is the distinguished name of s.
func (s Subject) Name() pkix.Name {
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	n := pkix.Name{CommonName: s.CommonName, SerialNumber: s.SerialNumber, Organization: one(s.Organization),
		OrganizationalUnit: one(s.OrganizationalUnit), Locality: one(s.Locality), Province: one(s.Province), Country: one(s.Country)}
	for _, a := range []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{{etsi.OIDGivenName, s.GivenName}, {etsi.OIDSurname, s.Surname}, {etsi.OIDPseudonym, s.Pseudonym},
		{etsi.OIDOrganizationIdentifier, s.OrganizationIdentifier}} {
		if a.v != "" {
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: a.oid, Value: a.v})
		}
	}
	return n
}

func (s Subject) ips() ([]net.IP, error) {
	var out []net.IP
	for _, v := range s.IPs {
		ip := net.ParseIP(v)
		if ip == nil {
			return nil, sceau.Errorf(sceau.Invalid, "registration: subject", "ip_addresses: %q is not an IP address", v)
		}
		out = append(out, ip)
	}
	return out, nil
}

// field returns the value of a named field ("" or nil when absent).
func (s Subject) field(name string) string {
	switch name {
	case "common_name":
		return s.CommonName
	case "given_name":
		return s.GivenName
	case "surname":
		return s.Surname
	case "pseudonym":
		return s.Pseudonym
	case "serial_number":
		return s.SerialNumber
	case "organization":
		return s.Organization
	case "organizational_unit":
		return s.OrganizationalUnit
	case "organization_identifier":
		return s.OrganizationIdentifier
	case "locality":
		return s.Locality
	case "province":
		return s.Province
	case "country":
		return s.Country
	case "emails":
		return strings.Join(s.Emails, ",")
	case "dns_names":
		return strings.Join(s.DNSNames, ",")
	case "ip_addresses":
		return strings.Join(s.IPs, ",")
	}
	return ""
}

// Contact is how the applicant is reached; the second channel carries a
// PKCS#12 password when the first carries its download link.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
}

// Mandate is a legal person's representative and the act that empowers
// them (CA-4: for a legal person, the representative's mandate).
type Mandate struct {
	Representative string `json:"representative"`
	Capacity       string `json:"capacity"` // "président", "gérant", "delegated by …"
	Reference      string `json:"reference,omitempty"`
	SignedOn       string `json:"signed_on,omitempty"` // YYYY-MM-DD
}

// Dossier is a request file.
type Dossier struct {
	ID        int64     `json:"id"`
	Kind      Kind      `json:"kind"`
	CA        string    `json:"ca"`
	Profile   string    `json:"profile"`
	State     State     `json:"state"`
	Subject   Subject   `json:"subject"`
	Contact   Contact   `json:"contact"`
	Mandate   *Mandate  `json:"mandate,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
	// Set as the dossier moves on.
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	Reason      string     `json:"rejection_reason,omitempty"`
	Serial      string     `json:"serial,omitempty"`
	IssuedAt    *time.Time `json:"issued_at,omitempty"`
	IssuedBy    string     `json:"issued_by,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	Delivery    string     `json:"delivery,omitempty"` // pkcs10, pkcs12, pkcs12-link
	Evidence    []Evidence `json:"evidence,omitempty"`
	CGU         *CGU       `json:"cgu,omitempty"`
}

// Method is how an identity was verified.
type Method string

// The verification methods (CA-4).
const (
	FaceToFace          Method = "face_to_face"
	RemoteVideo         Method = "remote_video"
	QualifiedSignature  Method = "qualified_signature"
	ExistingCertificate Method = "existing_certificate"
)

// Methods lists the verification methods.
var Methods = []Method{FaceToFace, RemoteVideo, QualifiedSignature, ExistingCertificate}

// The identity documents Sceau knows. A person proves their identity with
// the first three; a legal person its existence with a registry extract; a
// representative their power with a mandate.
const (
	DocPassport        = "passport"
	DocIDCard          = "id_card"
	DocResidencePermit = "residence_permit"
	DocRegistryExtract = "registry_extract" // Kbis, or the registry's equivalent
	DocMandate         = "mandate"
	DocDomainControl   = "domain_control" // a record of the domain validation
)

var docTypes = []string{DocPassport, DocIDCard, DocResidencePermit, DocRegistryExtract, DocMandate, DocDomainControl}

var personDocs = []string{DocPassport, DocIDCard, DocResidencePermit}

// Evidence is one piece of identity evidence with its scan.
type Evidence struct {
	ID             int64     `json:"id"`
	DocType        string    `json:"document_type"`
	Number         string    `json:"document_number"`
	IssuingCountry string    `json:"issuing_country"`
	Expires        string    `json:"expires"` // YYYY-MM-DD
	Method         Method    `json:"method"`
	AddedAt        time.Time `json:"added_at"`
	AddedBy        string    `json:"added_by"`
	// The scan, sealed in the archive (ARC-3): its leaf, digest, type.
	ScanLeaf   int64  `json:"scan_leaf"`
	ScanSHA256 string `json:"scan_sha256"`
	ScanType   string `json:"scan_media_type"`
	ScanSize   int64  `json:"scan_size"`
}

// CGU is the applicant's acceptance of one version of the terms of use.
type CGU struct {
	Document   string    `json:"document"` // publication id: cgu/<ident>/<version>/<lang>
	SHA256     string    `json:"sha256"`
	URL        string    `json:"url"`
	How        string    `json:"how"` // signed, handwritten, click
	AcceptedAt time.Time `json:"accepted_at"`
	RecordedBy string    `json:"recorded_by"`
	ProofLeaf  int64     `json:"proof_leaf"`
}

// The ways an acceptance is given (ARC-1).
const (
	AcceptSigned      = "signed"      // signed with a key the applicant holds
	AcceptHandwritten = "handwritten" // a scan of a handwritten signature
	AcceptClick       = "click"       // a click on a page reached by a one-time link
)
