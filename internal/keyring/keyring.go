// Package keyring seals small secrets (users' secret keys) at rest with
// AES-256-GCM under a key kept in a file of its own, so the metadata store
// (and its snapshots and backups) never holds a plaintext secret.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrOpen reports sealed bytes that do not open under this key (tampered,
// truncated, or sealed under another key).
var ErrOpen = errors.New("keyring: cannot open sealed value")

// KeySize is the key length in bytes.
const KeySize = 32

// Keyring seals and opens values. Safe for concurrent use.
type Keyring struct {
	aead cipher.AEAD
}

// New returns a Keyring for a 32-byte key.
func New(key []byte) (*Keyring, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keyring: key is %d bytes, want %d", len(key), KeySize)
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	return &Keyring{aead: aead}, nil
}

// LoadOrCreate reads the key file at path, creating it (mode 0600, random
// key) if it does not exist. created reports whether it did.
func LoadOrCreate(path string) (k *Keyring, created bool, err error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, KeySize)
		rand.Read(key)
		if err := writeFileAtomic(path, key, 0o600); err != nil {
			return nil, false, err
		}
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("keyring: %w", err)
	}
	k, err = New(key)
	return k, created, err
}

// Seal encrypts plain: nonce || ciphertext || tag.
func (k *Keyring) Seal(plain []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, plain, nil), nil
}

// Open decrypts what Seal returned.
func (k *Keyring) Open(sealed []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < ns+k.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// writeFileAtomic writes data to path via a synced temp file and a rename.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-key-*")
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
