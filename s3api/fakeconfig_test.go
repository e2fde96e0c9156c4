package s3api

import (
	"context"
	"fmt"

	"github.com/tessera-store/tessera/meta"
)

func (f *fakeBackend) PutBucketConfig(ctx context.Context, bucket, name string, doc []byte) error {
	if err := f.check("PutBucketConfig"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.buckets[bucket]; !ok {
		return fmt.Errorf("fake: bucket %q: %w", bucket, meta.ErrNoSuchBucket)
	}
	if len(doc) > 64<<10 {
		return fmt.Errorf("fake: config %q: %w", name, meta.ErrInvalidArgument)
	}
	if len(doc) == 0 {
		delete(f.configs[bucket], name)
		return nil
	}
	if f.configs == nil {
		f.configs = make(map[string]map[string][]byte)
	}
	if f.configs[bucket] == nil {
		f.configs[bucket] = make(map[string][]byte)
	}
	f.configs[bucket][name] = append([]byte(nil), doc...)
	return nil
}

func (f *fakeBackend) GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	if err := f.check("GetBucketConfig"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.buckets[bucket]; !ok {
		return nil, fmt.Errorf("fake: bucket %q: %w", bucket, meta.ErrNoSuchBucket)
	}
	doc, ok := f.configs[bucket][name]
	if !ok {
		return nil, fmt.Errorf("fake: config %q of %q: %w", name, bucket, meta.ErrNoSuchConfig)
	}
	return doc, nil
}
