package keys

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"
)

// fuzzSPKI is a fixed P-256 public key: the fuzzing engine runs the setup
// below once per worker process, so everything the genuine file holds must
// be the same in every process.
const fuzzSPKI = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEspEkrBZkaeqcmBohb7vjIHLZEZD8ddaUchiFOYr9qEpodupdY7uwJi611vBv6lR/j0RXalXY9rUwLjlzfsa2Gg=="

// A backup file comes back from outside (a safe, another site) to be
// imported (KEY-4): whatever its bytes, ParseBackup and Verify never
// panic, and only the genuine file verifies under its wrapping key.
func FuzzKEY4_BackupFile(f *testing.F) {
	pub, err := base64.StdEncoding.DecodeString(fuzzSPKI)
	if err != nil {
		f.Fatal(err)
	}
	wrap := bytes.Repeat([]byte{7}, WrapKeySize)
	genuine := &Backup{Format: backupFormat, Version: 1, CA: "fuzz", Label: "ca-fuzz", Type: ECDSAP256, Public: pub,
		Mechanism: MechAESGCM, WrapKeyID: "backup-fuzz-1", CreatedAt: time.Unix(1.8e9, 0).UTC(),
		Nonce: bytes.Repeat([]byte{1}, 12), Wrapped: bytes.Repeat([]byte{2}, 48)}
	_, macKey, err := backupKeys(wrap)
	if err != nil {
		f.Fatal(err)
	}
	genuine.seal(macKey)
	good := genuine.Marshal()
	if bk, err := ParseBackup(good); err != nil || bk.Verify(wrap) != nil {
		f.Fatalf("the genuine file does not verify: %v", err)
	}
	f.Add(good)
	f.Add([]byte("{}"))
	f.Add([]byte("sceau-backup"))
	f.Fuzz(func(t *testing.T, in []byte) {
		bk, err := ParseBackup(in)
		if err != nil {
			return
		}
		if bk.Verify(wrap) == nil && !bytes.Equal(bk.header(), genuine.header()) {
			t.Fatalf("an altered backup verified under the wrapping key")
		}
		if bk.Verify(wrap) == nil && (!bytes.Equal(bk.Nonce, genuine.Nonce) || !bytes.Equal(bk.Wrapped, genuine.Wrapped)) {
			t.Fatalf("an altered ciphertext verified under the wrapping key")
		}
	})
}
