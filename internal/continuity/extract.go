package continuity

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/sceau"
)

// Opened is a backup decrypted into a staging directory and checked: the
// manifest's signature verifies with the key it names, and every file is
// there with its size and digest. Whether the key is the installation's is
// checked by Trusted against a database or an export.
type Opened struct {
	Name     string
	Manifest *Manifest
	Signed   *Signed
	Stage    string // holds the entries, under their names in the stream
	Bytes    int64  // the encrypted object's size
}

// DBPath is the staged database snapshot (SQLite file or PostgreSQL dump).
func (o *Opened) DBPath() string {
	entry := DBEntrySQLite
	if o.Manifest.Engine == "postgres" {
		entry = DBEntryPostgres
	}
	return filepath.Join(o.Stage, filepath.FromSlash(entry))
}

// DataDir is the staged data directory.
func (o *Opened) DataDir() string { return filepath.Join(o.Stage, "data") }

// ParseIdentities reads age identities (AGE-SECRET-KEY-1…) from an
// identity file's contents.
func ParseIdentities(b []byte) ([]age.Identity, error) {
	ids, err := age.ParseIdentities(strings.NewReader(string(b)))
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "continuity: identity", "the identity file holds no age identity (AGE-SECRET-KEY-1…)", err)
	}
	return ids, nil
}

// Extract decrypts the backup name of t with ids into stage (an empty or
// absent directory) and checks it. Any fault is reported precisely: a
// wrong identity, a damaged or altered byte, a truncated object, a
// manifest that does not verify, a file that does not match it. On error
// stage is removed.
func Extract(ctx context.Context, t Target, name string, ids []age.Identity, stage string) (_ *Opened, err error) {
	const op = "continuity: open the backup"
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create "+stage, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(stage)
		}
	}()
	rc, err := t.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	cr := &countReader{r: rc}
	ar, err := age.Decrypt(cr, ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			if oneOfRecipients(ctx, t, name, ids) {
				return nil, sceau.E(sceau.Invalid, op, fmt.Sprintf("%s is damaged or was altered: its header does not open with an identity it is encrypted to", name), err)
			}
			return nil, sceau.Errorf(sceau.Denied, op, "%s: none of the identities given opens it (it is encrypted to the recipients its manifest lists, %s%s)",
				name, name, SidecarSuffix)
		}
		return nil, streamError(op, name, cr.n, err)
	}
	got := map[string]File{}
	var signed []byte
	tr := tar.NewReader(ar)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, streamError(op, name, cr.n, err)
		}
		if h.Typeflag != tar.TypeReg || !validEntry(h.Name) {
			return nil, sceau.Errorf(sceau.Invalid, op, "%s holds an entry %q that no backup writes: refused", name, h.Name)
		}
		if _, dup := got[h.Name]; dup || (h.Name == manifestEntry && signed != nil) {
			return nil, sceau.Errorf(sceau.Invalid, op, "%s holds %q twice: refused", name, h.Name)
		}
		if h.Name == manifestEntry {
			if signed, err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
				return nil, streamError(op, name, cr.n, err)
			}
			continue
		}
		if signed != nil {
			return nil, sceau.Errorf(sceau.Invalid, op, "%s holds %q after its manifest: refused", name, h.Name)
		}
		dst := filepath.Join(stage, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return nil, sceau.E(sceau.Unavailable, op, "cannot write "+dst, err)
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, sceau.E(sceau.Unavailable, op, "cannot write "+dst, err)
		}
		hs := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, hs), tr)
		if cerr := f.Close(); err == nil && cerr != nil {
			return nil, sceau.E(sceau.Unavailable, op, "cannot write "+dst, cerr)
		}
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, sceau.E(sceau.Unavailable, op, "cannot write "+dst, err)
			}
			return nil, streamError(op, name, cr.n, err)
		}
		got[h.Name] = File{Path: h.Name, Size: n, SHA256: hex.EncodeToString(hs.Sum(nil)), Mode: uint32(h.Mode)}
	}
	// Read to the end: the last chunk is authenticated only when it is read.
	if _, err := io.Copy(io.Discard, ar); err != nil {
		return nil, streamError(op, name, cr.n, err)
	}
	if signed == nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "%s holds no manifest: it is not a whole backup", name)
	}
	m, s, err := ParseSigned(signed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if m.Name != name {
		return nil, sceau.Errorf(sceau.Invalid, op, "%s carries the manifest of %s: refused", name, m.Name)
	}
	for _, f := range m.Files {
		g, ok := got[f.Path]
		if !ok {
			return nil, sceau.Errorf(sceau.Invalid, op, "%s lacks %s, which its manifest lists", name, f.Path)
		}
		if g.Size != f.Size || g.SHA256 != f.SHA256 {
			return nil, sceau.Errorf(sceau.Invalid, op, "%s: %s does not match its manifest (size %d, sha256 %.16s…; the manifest says %d, %.16s…)",
				name, f.Path, g.Size, g.SHA256, f.Size, f.SHA256)
		}
		delete(got, f.Path)
		_ = os.Chmod(filepath.Join(stage, filepath.FromSlash(f.Path)), os.FileMode(f.Mode)&0o700|0o600)
	}
	for p := range got {
		return nil, sceau.Errorf(sceau.Invalid, op, "%s holds %s, which its manifest does not list", name, p)
	}
	return &Opened{Name: name, Manifest: m, Signed: s, Stage: stage, Bytes: cr.n}, nil
}

// oneOfRecipients says whether the signed manifest beside the backup
// lists the recipient of one of ids: then a header that none opens was
// damaged, not encrypted to others.
func oneOfRecipients(ctx context.Context, t Target, name string, ids []age.Identity) bool {
	m, _, err := ReadSidecar(ctx, t, name)
	if err != nil {
		return false
	}
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok && slices.Contains(m.Recipients, x.Recipient().String()) {
			return true
		}
	}
	return false
}

func validEntry(name string) bool {
	if name == manifestEntry || name == DBEntrySQLite || name == DBEntryPostgres {
		return true
	}
	rest, ok := strings.CutPrefix(name, DataPrefix)
	return ok && rest != "" && path.Clean(rest) == rest && !strings.HasPrefix(rest, "../") && rest != ".." && !path.IsAbs(rest)
}

// streamError says what a failure to read the decrypted stream means.
func streamError(op, name string, at int64, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return sceau.E(sceau.Invalid, op, fmt.Sprintf("%s is truncated: it ends after %d bytes, before its end (an interrupted copy?)", name, at), err)
	}
	return sceau.E(sceau.Invalid, op, fmt.Sprintf("%s is damaged or was altered: its authentication fails near byte %d", name, at), err)
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
