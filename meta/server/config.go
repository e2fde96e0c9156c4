package server

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble"

	"github.com/tessera-store/tessera/meta"
)

// Bucket configuration documents (meta.BucketConfigs). Each document is one
// key, g/<bucket>/<name>, whose value is the document's bytes as put: bucket
// names never contain '/', so g/<bucket>/ is the prefix of exactly that
// bucket's documents, and deleting the bucket deletes the range.

const (
	pfxConfig     = "g/" // g/<bucket>/<name>               -> document bytes
	maxConfigDoc  = 64 << 10
	maxConfigName = 64
)

func configPrefix(bucket string) []byte {
	k := make([]byte, 0, len(pfxConfig)+len(bucket)+1)
	return append(append(append(k, pfxConfig...), bucket...), '/')
}

func configKey(bucket, name string) []byte {
	return append(configPrefix(bucket), name...)
}

// validConfigName accepts 1..64 bytes of lower-case letters, digits and '-'
// ("policy", "cors", "tagging", "object-lock", "lifecycle", ...).
func validConfigName(name string) error {
	if name == "" || len(name) > maxConfigName {
		return invalid("configuration name of %d bytes", len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return invalid("configuration name %q", name)
		}
	}
	return nil
}

// putConfig replaces (or, for an empty doc, deletes) one document.
func (t *txn) putConfig(bucket, name string, doc []byte) error {
	if err := validConfigName(name); err != nil {
		return err
	}
	if len(doc) > maxConfigDoc {
		return invalid("configuration %q of %d bytes exceeds %d", name, len(doc), maxConfigDoc)
	}
	if _, err := t.bucket(bucket); err != nil {
		return err
	}
	if len(doc) == 0 {
		t.b.Delete(configKey(bucket, name), nil)
		return nil
	}
	t.b.Set(configKey(bucket, name), doc, nil)
	return nil
}

// deleteConfigs removes every document of bucket (called by deleteBucket).
func (t *txn) deleteConfigs(bucket string) error {
	p := configPrefix(bucket)
	return t.b.DeleteRange(p, prefixEnd(p), nil)
}

// GetBucketConfig returns document name of bucket; errors match
// meta.ErrNoSuchBucket or meta.ErrNoSuchConfig.
func (s *State) GetBucketConfig(bucket, name string) (doc []byte, err error) {
	err = s.view(func(r pebble.Reader) error {
		if err := bucketExists(r, bucket); err != nil {
			return err
		}
		v, ok, err := get(r, configKey(bucket, name))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s of %q", meta.ErrNoSuchConfig, name, bucket)
		}
		doc = v
		return nil
	})
	return doc, err
}

// PutBucketConfig implements meta.BucketConfigs.
func (s *Service) PutBucketConfig(ctx context.Context, reqID string, t int64, bucket, name string, doc []byte) error {
	return s.exec(ctx, &Command{Op: OpPutBucketConfig, ReqID: reqID, Time: t, Bucket: bucket, Name: name, Doc: doc})
}

// GetBucketConfig implements meta.BucketConfigs.
func (s *Service) GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.GetBucketConfig(bucket, name)
}
