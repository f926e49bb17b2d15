package fault

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// journalHead is the sequence number of the last event of the journal,
// read offline with `sceau audit status`.
func (in *installation) journalHead() int64 {
	in.t.Helper()
	out, err := in.sceauOut("audit", "status", "--local", "--json")
	if err != nil {
		in.t.Fatal(err)
	}
	var st struct{ HeadSeq int64 }
	if err := json.Unmarshal(out, &st); err != nil {
		in.t.Fatalf("audit status: %v\n%.500s", err, out)
	}
	return st.HeadSeq
}

// event is the part of a journal event the suite reads.
type event struct {
	Seq     int64          `json:"seq"`
	Action  string         `json:"action"`
	Object  string         `json:"object"`
	Details map[string]any `json:"details"`
}

// events reads, offline, the journal events after seq whose action starts
// with prefix.
func (in *installation) events(prefix string, after int64) []event {
	in.t.Helper()
	out, err := in.sceauOut("audit", "events", "--local", "--action", prefix, "--after", fmt.Sprint(after), "--limit", "10000", "--json")
	if err != nil {
		in.t.Fatal(err)
	}
	var evs []event
	if err := json.Unmarshal(out, &evs); err != nil {
		in.t.Fatalf("audit events: %v\n%.500s", err, out)
	}
	return evs
}

// exportCursor is the part of the export's cursor.json the suite reads.
type exportCursor struct {
	Seq int64 `json:"seq"`
}

// exported is how far the export directory's cursor went (0 when none).
func (in *installation) exported() int64 {
	b, err := os.ReadFile(filepath.Join(in.export, "cursor.json"))
	if err != nil {
		return 0
	}
	var c exportCursor
	if json.Unmarshal(b, &c) != nil {
		return 0
	}
	return c.Seq
}

// waitExported waits until the export holds event seq (at most 30s).
func (in *installation) waitExported(seq int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for in.exported() < seq {
		if time.Now().After(deadline) {
			return fmt.Errorf("the export %s reached event %d within 30s, want %d", in.export, in.exported(), seq)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// sqliteFiles are the files of a SQLite database, the WAL and its index.
var sqliteFiles = []string{"sceau.db", "sceau.db-wal", "sceau.db-shm"}

// backupDB copies the database of the stopped installation, as an operator
// would back it up: the SQLite files, or a pg_dump.
func (in *installation) backupDB(tag string) string {
	in.t.Helper()
	dst := filepath.Join(in.logDir, "backup-"+tag)
	if in.engine == postgres {
		dst += ".dump"
		if err := in.cluster.dump(in.dbName, dst); err != nil {
			in.t.Fatal(err)
		}
		return dst
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		in.t.Fatal(err)
	}
	for _, f := range sqliteFiles {
		if err := copyFile(filepath.Join(in.dir, f), filepath.Join(dst, f)); err != nil && !os.IsNotExist(err) {
			in.t.Fatal(err)
		}
	}
	return dst
}

// restoreDB puts a backup in place of the database of the stopped
// installation.
func (in *installation) restoreDB(backup string) {
	in.t.Helper()
	if in.engine == postgres {
		if err := in.cluster.dropDB(in.dbName); err != nil {
			in.t.Fatal(err)
		}
		if err := in.cluster.restore(in.dbName, backup); err != nil {
			in.t.Fatal(err)
		}
		return
	}
	for _, f := range sqliteFiles {
		if err := os.Remove(filepath.Join(in.dir, f)); err != nil && !os.IsNotExist(err) {
			in.t.Fatal(err)
		}
		if err := copyFile(filepath.Join(backup, f), filepath.Join(in.dir, f)); err != nil && !os.IsNotExist(err) {
			in.t.Fatal(err)
		}
	}
}

func copyFile(src, dst string) error {
	r, err := os.Open(src)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
