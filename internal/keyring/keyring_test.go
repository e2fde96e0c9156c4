package keyring

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	k, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate: %v, created=%v", err, created)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	sealed, _ := k.Seal([]byte("secret"))
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	k2, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("reload: %v, created=%v", err, created)
	}
	plain, err := k2.Open(sealed)
	if err != nil || string(plain) != "secret" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 1
		if _, err := k2.Open(bad); !errors.Is(err, ErrOpen) {
			t.Fatalf("flip byte %d: err %v, want ErrOpen", i, err)
		}
	}
	if _, err := k2.Open(sealed[:5]); !errors.Is(err, ErrOpen) {
		t.Fatalf("truncated: %v", err)
	}
}
