package object

import "context"

// PutBucketConfig stores (or, for an empty doc, deletes) a bucket's
// configuration document. Documents are not cached: a policy or CORS change
// is visible to the next request on every gateway.
func (l *Layer) PutBucketConfig(ctx context.Context, bucket, name string, doc []byte) error {
	return l.meta.PutBucketConfig(ctx, reqID(), l.now(), bucket, name, doc)
}

// GetBucketConfig returns a bucket's configuration document, or an error
// matching meta.ErrNoSuchConfig or meta.ErrNoSuchBucket.
func (l *Layer) GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	return l.meta.GetBucketConfig(ctx, bucket, name)
}
