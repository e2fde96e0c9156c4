package object

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/tessera-store/tessera/meta"
)

// Versioning: the object layer chooses version IDs (the metadata state
// machine must stay deterministic) and passes the rest through to meta.

// newVersionID returns a random, URL-safe version ID of 32 characters.
func newVersionID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// reportedVersion is the version ID to report for a commit that offered
// vid to bucket b: the state machine uses it only when versioning is
// Enabled. b may be up to bucketTTL stale on other gateways; this gateway
// forgets its cached bucket when it changes the state.
func reportedVersion(b meta.Bucket, vid string) string {
	if b.Versioning == meta.VersioningEnabled {
		return vid
	}
	return ""
}

// SetBucketVersioning sets the bucket's versioning state ("Enabled" or
// "Suspended").
func (l *Layer) SetBucketVersioning(ctx context.Context, bucket, state string) error {
	defer l.forgetBucket(bucket)
	return l.meta.SetBucketVersioning(ctx, reqID(), l.now(), bucket, state)
}

// GetObjectVersion returns one version with its manifest ("null" names the
// null version); delete markers come back with DeleteMarker set.
func (l *Layer) GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	return l.meta.GetObjectVersion(ctx, bucket, key, versionID)
}

// DeleteObjectVersion deletes S3 style: versionID "" creates a delete
// marker on a versioned bucket; otherwise that version goes for good.
func (l *Layer) DeleteObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.DeleteObjectResult, error) {
	return l.meta.DeleteObjectVersion(ctx, &meta.DeleteObjectRequest{ReqID: reqID(), Time: l.now(), Bucket: bucket, Key: key,
		VersionID: versionID, MarkerVersionID: newVersionID()})
}

func (l *Layer) ListObjectVersions(ctx context.Context, req *meta.ListVersionsRequest) (*meta.ListVersionsResult, error) {
	return l.meta.ListObjectVersions(ctx, req)
}

// PutObjectVersionTags replaces the tags of one version.
func (l *Layer) PutObjectVersionTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) error {
	return l.meta.PutObjectVersionTags(ctx, reqID(), l.now(), bucket, key, versionID, tags)
}

// PutObjectLock changes one version's retention and legal hold (versionID
// "" names the current version).
func (l *Layer) PutObjectLock(ctx context.Context, bucket, key, versionID string, u meta.ObjectLockUpdate) error {
	return l.meta.PutObjectLock(ctx, reqID(), l.now(), bucket, key, versionID, u)
}
