package registration

import (
	"strings"

	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
)

// cguOfProfile refuses a CGU acceptance that is not of the terms of use
// the dossier's certificate policy requires (CA-4, ARC-1): Options.CGU
// names, for a profile, the identifier of its CGU (registration.cgu in
// the configuration); the version must then be that identifier's version
// in force (cguStanding). A profile not named there takes any CGU
// identifier's version in force.
func (s *Service) cguOfProfile(profile, document string) error {
	want, ok := s.opts.CGU[profile]
	if !ok {
		return nil
	}
	if got := cguIdent(document); got != want {
		return sceau.Errorf(sceau.Invalid, "registration: cgu",
			"CGU %s are not the terms of use of profile %s: its policy requires the version in force of %s/%s/<version>/<lang> (registration.cgu)",
			document, profile, publication.CGU, want)
	}
	return nil
}

// cguIdent is the identifier of a CGU version id cgu/<ident>/<version>/<lang>.
func cguIdent(id string) string {
	parts := strings.Split(id, "/")
	if len(parts) != 4 || parts[0] != string(publication.CGU) {
		return ""
	}
	return parts[1]
}
