package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Redacted stands for a secret value in a recorded configuration.
const Redacted = "[redacted]"

var secretWords = []string{"password", "passphrase", "secret", "token", "private", "credential", "pin", "apikey", "api_key"}

// isSecretKey reports whether a setting holds a secret. Settings that name
// a file (…_file, …_dir, …_path) hold a path, which is not.
func isSecretKey(key string) bool {
	last := strings.ToLower(key[strings.LastIndexByte(key, '.')+1:])
	for _, suffix := range []string{"_file", "_dir", "_path"} {
		if strings.HasSuffix(last, suffix) {
			return false
		}
	}
	for _, w := range secretWords {
		if strings.Contains(last, w) {
			return true
		}
	}
	return false
}

// redactURL hides the password and the query values of a URL.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return v
	}
	changed := false
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
		changed = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"redacted"}
		}
		u.RawQuery = q.Encode()
		changed = true
	}
	if !changed {
		return v
	}
	return u.String()
}

// RedactConfig returns a copy of a configuration snapshot (dotted keys to
// values) fit for the journal (SYS-3: secrets redacted): secret settings
// become Redacted, URLs lose their passwords and query values.
func RedactConfig(snapshot map[string]string) map[string]string {
	out := make(map[string]string, len(snapshot))
	for k, v := range snapshot {
		switch {
		case isSecretKey(k) && v != "":
			out[k] = Redacted
		default:
			out[k] = redactURL(v)
		}
	}
	return out
}

// ConfigChange is one setting that changed; a nil Old or New means the
// setting was absent.
type ConfigChange struct {
	Key string  `json:"key"`
	Old *string `json:"old"`
	New *string `json:"new"`
}

// DiffConfig lists the settings that differ between two snapshots, by key.
func DiffConfig(old, new map[string]string) []ConfigChange {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range new {
		keys[k] = true
	}
	var out []ConfigChange
	for k := range keys {
		o, hadOld := old[k]
		n, hasNew := new[k]
		if hadOld == hasNew && o == n {
			continue
		}
		c := ConfigChange{Key: k}
		if hadOld {
			c.Old = &o
		}
		if hasNew {
			c.New = &n
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// RecordConfig versions the configuration (SYS-3). When the snapshot,
// redacted, differs from the last recorded version, it stores a new
// version and records what changed, old and new values side by side: the
// audit: settings in an audit.config_changed event (AUD-1, logging
// configuration), the others in config.changed. source says where the
// configuration came from (its file). It returns the version and the
// changes, none when the configuration is unchanged.
func RecordConfig(ctx context.Context, db *store.DB, j *Journal, actor sceau.Actor, source string, snapshot map[string]string) (int64, []ConfigChange, error) {
	const op = "audit: configuration"
	red := RedactConfig(snapshot)
	b, _ := json.Marshal(red) // map keys are sorted
	sum := sha256.Sum256(b)
	digest := hex.EncodeToString(sum[:])
	var (
		version int64
		changes []ConfigChange
	)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var (
			last     int64
			lastHash string
			lastSnap string
		)
		err := tx.QueryRowContext(ctx, sqlLastConfig).Scan(&last, &lastHash, &lastSnap)
		old := map[string]string{}
		switch {
		case err == nil:
			if lastHash == digest {
				version = last
				return nil
			}
			if err := json.Unmarshal([]byte(lastSnap), &old); err != nil {
				return sceau.E(sceau.Internal, op, "the last recorded configuration cannot be read", err)
			}
		case !errors.Is(store.Classify(op, err), sceau.ErrNotFound):
			return store.Classify(op, err)
		}
		version = last + 1
		changes = DiffConfig(old, red)
		if _, err := tx.ExecContext(ctx, sqlInsertConfig, version, store.FormatTime(j.Now()), digest, string(b)); err != nil {
			return store.Classify(op, err)
		}
		var auditChanges, otherChanges []ConfigChange
		for _, c := range changes {
			if strings.HasPrefix(c.Key, "audit.") {
				auditChanges = append(auditChanges, c)
			} else {
				otherChanges = append(otherChanges, c)
			}
		}
		var evs []Event
		obj := object("config", version)
		base := func(cs []ConfigChange) map[string]any {
			return map[string]any{"version": version, "previous_version": last, "source": source, "sha256": digest, "changes": cs}
		}
		if len(otherChanges) > 0 || last == 0 {
			evs = append(evs, Event{Actor: actor, Action: ActionConfigChanged, Object: obj, Details: base(otherChanges)})
		}
		if len(auditChanges) > 0 {
			evs = append(evs, Event{Actor: actor, Action: ActionLoggingConfigChanged, Object: obj, Details: base(auditChanges)})
		}
		return j.Append(ctx, tx, evs...)
	})
	if err != nil {
		return 0, nil, err
	}
	return version, changes, nil
}
