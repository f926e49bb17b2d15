package continuity

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Options are what a backup reads and how it is sealed.
type Options struct {
	Node        string        // the node's name, for the manifest
	DB          *store.DB     // the installation's database
	PostgresDSN string        // with a PostgreSQL DB: the DSN pg_dump connects with
	DataDir     string        // the data directory, walked for files
	Skip        []Excluded    // absolute paths (files or directories) left out, and why
	Recipients  []string      // age X25519 public keys of the second site
	Signer      crypto.Signer // the audit signing key (AUD-2)
	Clock       sceau.Clock   // nil: the real clock
}

// Result is a backup written.
type Result struct {
	Name     string // the encrypted object; Name+SidecarSuffix is its signed manifest
	Manifest *Manifest
	Bytes    int64 // the encrypted object's size
}

// SidecarSuffix names the clear signed manifest beside a backup.
const SidecarSuffix = ".manifest.json"

// ObjectSuffix ends the name of a backup's encrypted object.
const ObjectSuffix = ".age"

// NameAt is the name of a backup made at t.
func NameAt(t time.Time) string {
	return "sceau-backup-" + t.UTC().Format("20060102T150405Z") + ObjectSuffix
}

// Create writes a backup of the installation to t (CONT-1).
func Create(ctx context.Context, t Target, o Options) (*Result, error) {
	const op = "continuity: backup"
	if len(o.Recipients) == 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "no recipients: a backup is always encrypted to the second site (backup.recipients)")
	}
	var rcpts []age.Recipient
	for _, r := range o.Recipients {
		x, err := age.ParseX25519Recipient(r)
		if err != nil {
			return nil, sceau.Errorf(sceau.Invalid, op, "backup.recipients: %q is not an age X25519 public key", r)
		}
		rcpts = append(rcpts, x)
	}
	if o.Signer == nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "the audit signing key is not available to sign the manifest")
	}
	files, excluded, err := collect(o.DataDir, o.Skip)
	if err != nil {
		return nil, err
	}
	now := sceau.ClockOr(o.Clock).Now().UTC()
	snap, err := takeSnapshot(ctx, o.DB, o.PostgresDSN, os.TempDir())
	if err != nil {
		return nil, err
	}
	defer snap.close()
	m := &Manifest{Format: Format, Name: NameAt(now), Node: o.Node, CreatedAt: now.Truncate(time.Second), Engine: string(o.DB.Engine()),
		SchemaVersion: snap.schema, JournalSeq: snap.journalSeq, JournalHash: snap.journalHash, Recipients: o.Recipients, Excluded: excluded}
	var signed []byte
	var written int64
	err = t.Put(ctx, m.Name, func(w io.Writer) error {
		cw := &countWriter{w: w}
		aw, err := age.Encrypt(cw, rcpts...)
		if err != nil {
			return sceau.E(sceau.Internal, op, "", err)
		}
		pw := newAsyncWriter(aw)
		defer pw.Close() // on an early return: stop the writer
		tw := tar.NewWriter(pw)
		add := func(name string, size int64, mode fs.FileMode, mtime time.Time, body func(io.Writer) error) error {
			if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: int64(mode.Perm()), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
				return err
			}
			h := newAsyncHash()
			defer h.Sum()
			if err := body(io.MultiWriter(tw, h)); err != nil {
				return err
			}
			m.Files = append(m.Files, File{Path: name, Size: size, SHA256: hex.EncodeToString(h.Sum()), Mode: uint32(mode.Perm())})
			return nil
		}
		if err := add(snap.entry, snap.size, 0o600, now, snap.write); err != nil {
			return err
		}
		for _, f := range files {
			if err := add(DataPrefix+f.rel, f.size, f.mode, f.mtime, f.copyTo); err != nil {
				return err
			}
		}
		if signed, err = signManifest(m, o.Signer); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: manifestEntry, Size: int64(len(signed)), Mode: 0o600, ModTime: now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(signed); err != nil {
			return err
		}
		if err := tw.Close(); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
		if err := aw.Close(); err != nil {
			return err
		}
		written = cw.n
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := t.Put(ctx, m.Name+SidecarSuffix, func(w io.Writer) error { _, err := w.Write(signed); return err }); err != nil {
		_ = t.Remove(ctx, m.Name) // whole or nothing
		return nil, err
	}
	return &Result{Name: m.Name, Manifest: m, Bytes: written}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// dataFile is a file of the data directory going into a backup.
type dataFile struct {
	rel   string // slash-separated, relative to the data directory
	path  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	body  []byte // read at collection, to check it holds no key in clear
}

func (f *dataFile) copyTo(w io.Writer) error {
	_, err := w.Write(f.body)
	return err
}

// ReasonClearKey is why a file holding a private key in clear is left out.
const ReasonClearKey = "holds a private key in clear"

// maxDataFile bounds a file of the data directory a backup reads whole.
const maxDataFile = 256 << 20

// collect lists the files of dir that go into a backup, and those left
// out: skip's paths, symbolic links and special files, and any file holding
// a private key in clear (CONT-1).
func collect(dir string, skip []Excluded) ([]*dataFile, []Excluded, error) {
	const op = "continuity: backup"
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, sceau.E(sceau.Invalid, op, "", err)
	}
	skipped := map[string]string{}
	for _, s := range skip {
		if p, err := filepath.Abs(s.Path); err == nil {
			skipped[p] = s.Reason
		}
	}
	var (
		files    []*dataFile
		excluded []Excluded
	)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot read "+path, err)
		}
		if path == root {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if reason, ok := skipped[path]; ok {
			if d.IsDir() {
				excluded = append(excluded, listDir(root, path, reason)...)
				return filepath.SkipDir
			}
			excluded = append(excluded, Excluded{Path: rel, Reason: reason})
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			excluded = append(excluded, Excluded{Path: rel, Reason: "not a regular file"})
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot read "+path, err)
		}
		if info.Size() > maxDataFile {
			return sceau.Errorf(sceau.Invalid, op, "%s is %d bytes: a data-directory file above %d bytes is not backed up whole; move it out or skip it", path, info.Size(), maxDataFile)
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot read "+path, err)
		}
		if ClearPrivateKey(body) {
			clear(body)
			excluded = append(excluded, Excluded{Path: rel, Reason: ReasonClearKey})
			return nil
		}
		files = append(files, &dataFile{rel: rel, path: path, size: int64(len(body)), mode: info.Mode(), mtime: info.ModTime(), body: body})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(files, func(a, b *dataFile) int { return strings.Compare(a.rel, b.rel) })
	return files, excluded, nil
}

// listDir names the files of a directory left out, one by one so that a
// restore can be given them back (RestoreOptions.Secrets); a directory of
// more than 100 files is named alone.
func listDir(root, dir, reason string) []Excluded {
	var out []Excluded
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			out = append(out, Excluded{Path: filepath.ToSlash(rel), Reason: reason})
		}
		if len(out) > 100 {
			return fs.SkipAll
		}
		return nil
	})
	if len(out) == 0 || len(out) > 100 {
		rel, _ := filepath.Rel(root, dir)
		return []Excluded{{Path: filepath.ToSlash(rel) + "/", Reason: reason}}
	}
	return out
}

// ClearPrivateKey reports whether b holds a private key in clear: a PEM
// block of a private key that is not encrypted, or a DER PKCS#8, PKCS#1 or
// SEC 1 private key.
func ClearPrivateKey(b []byte) bool {
	begin := []byte("-----BEGIN ")
	for rest := b; ; {
		i := bytes.Index(rest, begin)
		if i < 0 {
			break
		}
		blk, after := pem.Decode(rest[i:])
		if blk == nil {
			// A header that does not decode: a key in it is not trusted
			// to be sealed.
			line, _, _ := bytes.Cut(rest[i:], []byte("\n"))
			if bytes.Contains(line, []byte("PRIVATE KEY-----")) && !bytes.Contains(line, []byte("ENCRYPTED")) {
				return true
			}
			rest = rest[i+len(begin):]
			continue
		}
		if strings.Contains(blk.Type, "PRIVATE KEY") && blk.Type != "ENCRYPTED PRIVATE KEY" && blk.Headers["Proc-Type"] == "" {
			return true
		}
		rest = after
	}
	if _, err := x509.ParsePKCS8PrivateKey(b); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PrivateKey(b); err == nil {
		return true
	}
	if _, err := x509.ParseECPrivateKey(b); err == nil {
		return true
	}
	return false
}
