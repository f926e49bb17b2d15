package publication

import (
	"net/http"
	"strings"
)

// The site's words, in each of its languages (PUB-1: French and English).
var words = map[string]map[string]string{
	"fr": {
		"lang.name": "Français", "skip": "Aller au contenu",
		"nav.home": "Accueil", "nav.documents": "Documents", "nav.notices": "Avis", "nav.label": "Navigation principale",
		"switch.label": "Langue", "repository": "Dépôt public",
		"home.title": "Dépôt public", "home.cas": "Autorités de certification", "home.current": "Documents en vigueur",
		"home.nocurrent": "Aucun document n'est encore publié.",
		"ca":             "Autorité", "subject": "Sujet", "issuer": "Émetteur", "serial": "Numéro de série", "status": "Statut",
		"validity": "Validité", "from": "du", "to": "au", "fingerprints": "Empreintes", "certificate": "Certificat",
		"download": "Télécharger", "crl": "Liste de révocation (LCR)", "crl.number": "Numéro", "crl.this": "Émise le",
		"crl.next": "Prochaine mise à jour au plus tard le", "crl.entries": "Certificats révoqués", "crl.none": "Pas encore de LCR.",
		"ocsp": "Répondeur OCSP", "policies": "Politiques de certification appliquées", "root": "Autorité racine",
		"parent": "Autorité parente", "active": "active", "terminated": "terminée",
		"docs.title": "Documents publiés", "docs.intro": "Toutes les versions de chaque document restent publiées à leur adresse ; la version en vigueur est signalée.",
		"doc.title": "Titre", "doc.ident": "Identifiant", "doc.version": "Version", "doc.lang": "Langue", "doc.effective": "En vigueur le",
		"doc.published": "Publié le", "doc.state": "État", "doc.file": "Fichier", "doc.current": "en vigueur", "doc.superseded": "remplacée",
		"doc.upcoming": "à venir", "doc.withdrawn": "retirée", "doc.reason": "motif",
		"kind.cp": "Politiques de certification (PC)", "kind.cps": "Déclarations des pratiques de certification (DPC)",
		"kind.pds": "Déclarations d'information de l'IGC (PDS)",
		"kind.cgu": "Conditions générales d'utilisation (CGU)", "kind.form": "Formulaires", "kind.notice": "Avis", "kind.other": "Autres documents",
		"notices.title": "Avis", "notices.none": "Aucun avis n'est publié.",
		"manifest": "Manifeste signé", "manifest.intro": "Chaque modification du dépôt produit un manifeste numéroté listant chaque fichier avec son empreinte SHA-256, signé (CMS détaché) par la clé de publication certifiée dans la hiérarchie.",
		"manifest.number": "Manifeste n°", "manifest.verify": "Vérifier",
		"contact": "Contact", "machine": "Adresses pour les machines", "size": "octets",
		"colon": "\u00a0: ", // French puts a no-break space before the colon
	},
	"en": {
		"lang.name": "English", "skip": "Skip to content",
		"nav.home": "Home", "nav.documents": "Documents", "nav.notices": "Notices", "nav.label": "Main navigation",
		"switch.label": "Language", "repository": "Public repository",
		"home.title": "Public repository", "home.cas": "Certification authorities", "home.current": "Documents in force",
		"home.nocurrent": "No document is published yet.",
		"ca":             "Authority", "subject": "Subject", "issuer": "Issuer", "serial": "Serial number", "status": "Status",
		"validity": "Validity", "from": "from", "to": "to", "fingerprints": "Fingerprints", "certificate": "Certificate",
		"download": "Download", "crl": "Certificate revocation list (CRL)", "crl.number": "Number", "crl.this": "Issued",
		"crl.next": "Next update at the latest", "crl.entries": "Revoked certificates", "crl.none": "No CRL yet.",
		"ocsp": "OCSP responder", "policies": "Certificate policies applied", "root": "Root authority",
		"parent": "Parent authority", "active": "active", "terminated": "terminated",
		"docs.title": "Published documents", "docs.intro": "Every version of each document stays published at its address; the version in force is marked.",
		"doc.title": "Title", "doc.ident": "Identifier", "doc.version": "Version", "doc.lang": "Language", "doc.effective": "In force from",
		"doc.published": "Published", "doc.state": "State", "doc.file": "File", "doc.current": "in force", "doc.superseded": "superseded",
		"doc.upcoming": "upcoming", "doc.withdrawn": "withdrawn", "doc.reason": "reason",
		"kind.cp": "Certificate policies (CP)", "kind.cps": "Certification practice statements (CPS)",
		"kind.pds": "PKI disclosure statements (PDS)",
		"kind.cgu": "Terms of use (CGU)", "kind.form": "Forms", "kind.notice": "Notices", "kind.other": "Other documents",
		"notices.title": "Notices", "notices.none": "No notice is published.",
		"manifest": "Signed manifest", "manifest.intro": "Every change to the repository produces a numbered manifest listing each file with its SHA-256, signed (detached CMS) by the publication key certified in the hierarchy.",
		"manifest.number": "Manifest no.", "manifest.verify": "Verify",
		"contact": "Contact", "machine": "Addresses for machines", "size": "bytes",
		"colon": ": ",
	},
}

// word returns the word for key in lang, or the key itself (a test checks
// that every key exists in both languages).
func word(lang, key string) string {
	if w, ok := words[lang][key]; ok {
		return w
	}
	return key
}

// negotiate picks the site language from Accept-Language (RFC 9110
// §12.5.4): the first of fr and en with the highest weight; English when
// neither is asked for.
func negotiate(r *http.Request) string {
	best, bestQ := "en", -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q = parseQ(v)
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if validLang(primary) && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

func parseQ(v string) float64 {
	switch {
	case v == "1" || strings.HasPrefix(v, "1."):
		return 1
	case strings.HasPrefix(v, "0."):
		q, d := 0.0, 0.1
		for _, c := range v[2:] {
			if c < '0' || c > '9' {
				break
			}
			q += float64(c-'0') * d
			d /= 10
		}
		return q
	}
	return 0
}

// Language is the language negotiate picks for r (fr or en), for the other
// pages Sceau serves to the public in the site's languages (the
// enrollment listener's forms).
func Language(r *http.Request) string { return negotiate(r) }
