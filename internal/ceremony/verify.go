package ceremony

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// VerifyFiles verifies transcript.json at jsonPath against the signature
// file at sigPath and the trusted key fingerprints (see Verify). Then, in
// the same directory, it checks that the readable transcript (the .txt
// beside the .json) is the rendering of the signed one, and that every
// exported file listed in the transcript has the SHA-256 it records.
// Notes say what was checked beyond the signature; a file that is absent
// is noted, a file that differs is an error.
func VerifyFiles(jsonPath, sigPath string, trusted []string) (*Verified, []string, error) {
	const op = "ceremony: verify"
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, nil, sceau.E(sceau.Invalid, op, "cannot read the transcript", err)
	}
	sb, err := os.ReadFile(sigPath)
	if os.IsNotExist(err) {
		return nil, nil, sceau.E(sceau.Invalid, op, fmt.Sprintf("%s is missing", sigPath), ErrUnsigned)
	}
	if err != nil {
		return nil, nil, sceau.E(sceau.Invalid, op, "cannot read the signature", err)
	}
	sig, err := ParseSignature(sb)
	if err != nil {
		return nil, nil, sceau.E(sceau.Invalid, op, sigPath, err)
	}
	v, err := Verify(b, sig, trusted)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	dir := filepath.Dir(jsonPath)
	txt := strings.TrimSuffix(jsonPath, ".json") + ".txt"
	if tb, err := os.ReadFile(txt); err == nil {
		if n, ok := firstDifference(string(tb), v.Transcript.Text()); !ok {
			return v, notes, sceau.E(sceau.Invalid, op, fmt.Sprintf("%s differs from the signed transcript at line %d", txt, n), ErrTextMismatch)
		}
		notes = append(notes, filepath.Base(txt)+": the rendering of the signed transcript")
	} else {
		notes = append(notes, filepath.Base(txt)+": absent, not checked")
	}
	for _, f := range v.Transcript.Outputs {
		fb, err := os.ReadFile(filepath.Join(dir, f.File))
		switch {
		case os.IsNotExist(err):
			notes = append(notes, f.File+": absent, not checked")
		case err != nil:
			return v, notes, sceau.E(sceau.Invalid, op, "cannot read "+f.File, err)
		case sum(fb) != f.SHA256:
			return v, notes, sceau.E(sceau.Invalid, op, fmt.Sprintf("%s has SHA-256 %s, the transcript records %s", f.File, sum(fb), f.SHA256), ErrOutputMismatch)
		default:
			notes = append(notes, f.File+": SHA-256 as recorded")
		}
	}
	return v, notes, nil
}

// firstDifference returns the first line (from 1) where a and b differ,
// and whether they are equal.
func firstDifference(a, b string) (int, bool) {
	if a == b {
		return 0, true
	}
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1, false
		}
	}
	return min(len(la), len(lb)) + 1, false
}
