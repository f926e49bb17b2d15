package audit_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// SYS-3: each configuration is a version; a change is recorded with the
// previous and new values of each setting, the logging settings as a
// logging configuration change (AUD-1), secrets redacted.
func TestSYS3_ConfigurationChangesAreVersionedWithOldAndNewValues(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		j := audit.NewJournal(nil)
		actor := sceau.System("config")
		v1 := map[string]string{"public.listen": "127.0.0.1:8080", "audit.export.dir": "audit-export",
			"database.password": "hunter2", "audit.analysis.webhook.url": "https://hooks.example/alert?token=abc",
			"syslog.url": "tcp://user:pw@collector:514", "keystore.secret_file": "secrets/keystore.secret"}
		version, changes, err := audit.RecordConfig(ctx, db, j, actor, "/etc/sceau/sceau.yaml", v1)
		if err != nil || version != 1 || len(changes) != len(v1) {
			t.Fatalf("first RecordConfig = %d, %d changes, %v", version, len(changes), err)
		}
		if version, changes, err := audit.RecordConfig(ctx, db, j, actor, "/etc/sceau/sceau.yaml", v1); err != nil || version != 1 || changes != nil {
			t.Errorf("unchanged configuration: version %d, %v, %v; want 1 and no change", version, changes, err)
		}
		v2 := map[string]string{}
		for k, v := range v1 {
			v2[k] = v
		}
		v2["public.listen"] = "0.0.0.0:80"
		v2["audit.export.dir"] = "/mnt/backup/audit"
		v2["database.password"] = "correct horse"
		delete(v2, "syslog.url")
		version, changes, err = audit.RecordConfig(ctx, db, j, actor, "/etc/sceau/sceau.yaml", v2)
		if err != nil || version != 2 {
			t.Fatalf("second RecordConfig = %d, %v", version, err)
		}
		got := map[string][2]string{}
		for _, c := range changes {
			var o, n string = "<absent>", "<absent>"
			if c.Old != nil {
				o = *c.Old
			}
			if c.New != nil {
				n = *c.New
			}
			got[c.Key] = [2]string{o, n}
		}
		want := map[string][2]string{
			"public.listen":    {"127.0.0.1:8080", "0.0.0.0:80"},
			"audit.export.dir": {"audit-export", "/mnt/backup/audit"},
			"syslog.url":       {"tcp://user:redacted@collector:514", "<absent>"},
		}
		if len(got) != len(want) {
			t.Errorf("changes %v, want %v (a redacted secret that changed is not a visible change)", got, want)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("change of %s = %v, want %v", k, got[k], w)
			}
		}
		recs, err := audit.Read(ctx, db, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range recs {
			actions = append(actions, r.Action)
			for _, secret := range []string{"hunter2", "correct horse", "token=abc", ":pw@"} {
				if strings.Contains(r.Details, secret) {
					t.Errorf("event %d holds the secret %q: %s", r.Seq, secret, r.Details)
				}
			}
		}
		if strings.Join(actions, ",") != "config.changed,audit.config_changed,config.changed,audit.config_changed" {
			t.Errorf("events %v", actions)
		}
		var d struct {
			Version, PreviousVersion int64
			Changes                  []audit.ConfigChange
		}
		json.Unmarshal([]byte(recs[3].Details), &d)
		if len(d.Changes) != 1 || d.Changes[0].Key != "audit.export.dir" {
			t.Errorf("the logging configuration change lists %+v", d.Changes)
		}
		if !strings.Contains(recs[2].Details, `"previous_version":1`) || !strings.Contains(recs[2].Details, `"version":2`) {
			t.Errorf("config.changed does not name its versions: %s", recs[2].Details)
		}
	})
}
