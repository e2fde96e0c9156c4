package gateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/object"
)

// RootUser is the name of the built-in administrator. Its credentials come
// from the environment or the data folder, never from metadata.
const RootUser = "root"

// Credentials is an access key pair.
type Credentials struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

const (
	keyAlphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// NewCredentials draws a fresh key pair in AWS's shapes (20 and 40 characters).
func NewCredentials() Credentials {
	return Credentials{AccessKey: randomString(20, keyAlphabet), SecretKey: randomString(40, secretAlphabet)}
}

// rootCredentials returns the root key pair and where it came from: the
// TESSERA_ACCESS_KEY / TESSERA_SECRET_KEY environment, the data folder's
// credentials file, or freshly generated (and then saved with mode 0600).
func rootCredentials(dataDir string, getenv func(string) string) (Credentials, string, error) {
	ak, sk := getenv("TESSERA_ACCESS_KEY"), getenv("TESSERA_SECRET_KEY")
	switch {
	case ak != "" && sk != "":
		if len(ak) < 3 || len(sk) < 8 {
			return Credentials{}, "", errors.New("gateway: TESSERA_ACCESS_KEY must have at least 3 characters and TESSERA_SECRET_KEY at least 8")
		}
		return Credentials{AccessKey: ak, SecretKey: sk}, "environment (TESSERA_ACCESS_KEY, TESSERA_SECRET_KEY)", nil
	case ak != "" || sk != "":
		return Credentials{}, "", errors.New("gateway: set both TESSERA_ACCESS_KEY and TESSERA_SECRET_KEY, or neither")
	}
	path := filepath.Join(dataDir, "root-credentials.json")
	b, err := os.ReadFile(path)
	if err == nil {
		var c Credentials
		if err := json.Unmarshal(b, &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
			return Credentials{}, "", fmt.Errorf("gateway: malformed %s", path)
		}
		return c, "file " + path, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, "", err
	}
	c := NewCredentials()
	b, _ = json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return Credentials{}, "", err
	}
	return c, "generated now, saved in " + path, nil
}

// backend is the object layer with the root user added in front of the
// user table.
type backend struct {
	*object.Layer
	root Credentials
}

func (b *backend) Secret(ctx context.Context, accessKey string) (meta.User, string, error) {
	if accessKey == b.root.AccessKey {
		return meta.User{Name: RootUser, AccessKey: accessKey, Root: true}, b.root.SecretKey, nil
	}
	return b.Layer.Secret(ctx, accessKey)
}
