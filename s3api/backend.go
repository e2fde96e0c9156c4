package s3api

import (
	"context"
	"io"

	"github.com/tessera-store/tessera/meta"
)

// Backend is what the S3 surface needs from the object layer (package
// object implements it over meta.Service and the shard stores). It knows
// nothing of HTTP or S3 wire formats; s3api owns authentication, digests,
// XML and the error table. Errors are meta's and store's sentinels (and
// ErrBadBody); s3api maps them to S3 codes in one table.
//
// Safe for concurrent use.
type Backend interface {
	// Secret returns the user owning accessKey and the plaintext secret key
	// (meta.ErrNoSuchUser if unknown).
	Secret(ctx context.Context, accessKey string) (user meta.User, secret string, err error)

	CreateBucket(ctx context.Context, owner, name, region string) error
	DeleteBucket(ctx context.Context, name string) error
	GetBucket(ctx context.Context, name string) (meta.Bucket, error)
	ListBuckets(ctx context.Context) ([]meta.Bucket, error)

	// PutObject streams in.Body into the store and commits the object.
	PutObject(ctx context.Context, in *PutInput) (*meta.Object, error)
	// HeadObject returns an object's metadata and manifest.
	HeadObject(ctx context.Context, bucket, key string) (*meta.Object, error)
	// OpenObject streams bytes [off, off+n) of o (as returned by HeadObject).
	// The caller closes the reader. Bytes are verified against their chunk
	// addresses; corruption that cannot be repaired is an error, never data.
	OpenObject(ctx context.Context, o *meta.Object, off, n int64) (io.ReadCloser, error)
	DeleteObject(ctx context.Context, bucket, key string) error
	// CopyObject commits dst (bucket, key and metadata set by the caller)
	// with src's manifest: metadata only, no bytes move.
	CopyObject(ctx context.Context, src *meta.Object, dst *meta.Object, ifMatch, ifNoneMatch string) (*meta.Object, error)
	PutObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error
	ListObjects(ctx context.Context, req *meta.ListRequest) (*meta.ListResult, error)

	// Multipart. UploadPart streams like PutObject; UploadPartCopy takes
	// bytes [off, off+n) of src (whole-object copies are metadata only).
	// UploadPartCopy stores no part checksum: into an upload that declared
	// a checksum algorithm, s3api copies with OpenObject and UploadPart.
	CreateUpload(ctx context.Context, u *meta.Upload) (uploadID string, err error)
	UploadPart(ctx context.Context, bucket, key, uploadID string, in *PartInput) (*meta.Part, error)
	UploadPartCopy(ctx context.Context, bucket, key, uploadID string, number int, src *meta.Object, off, n int64) (*meta.Part, error)
	CompleteUpload(ctx context.Context, req *meta.CompleteUploadRequest) (*meta.Object, error)
	AbortUpload(ctx context.Context, bucket, key, uploadID string) error
	GetUpload(ctx context.Context, bucket, key, uploadID string) (*meta.Upload, error)
	ListParts(ctx context.Context, req *meta.ListPartsRequest) (*meta.ListPartsResult, error)
	ListUploads(ctx context.Context, req *meta.ListUploadsRequest) (*meta.ListUploadsResult, error)

	// Bucket configuration documents ("policy", "cors", "tagging",
	// "object-lock", ...), stored as bytes; s3api validates them.
	// PutBucketConfig with an empty doc deletes; GetBucketConfig returns
	// meta.ErrNoSuchConfig when absent, meta.ErrNoSuchBucket without the
	// bucket. The caller must not modify a returned doc.
	PutBucketConfig(ctx context.Context, bucket, name string, doc []byte) error
	GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error)
}

// PutInput is one object upload.
type PutInput struct {
	// Object carries bucket, key, content type, headers, user metadata and
	// tags; the backend fills Size, manifest, Modified.
	Object meta.Object
	// Body yields the payload. It returns a non-EOF error at its end when a
	// digest, checksum or length does not match; the backend then commits
	// nothing.
	Body io.Reader
	// Size is the declared length, or -1 when unknown.
	Size int64
	// Seal is called after Body returned io.EOF and before the commit; it
	// fills what is known only at the end (ETag, Checksums). An error aborts.
	Seal func(o *meta.Object) error
	// Conditional write.
	IfMatch, IfNoneMatch string
}

// PartInput is one part upload; Seal fills the part's ETag and Checksums.
type PartInput struct {
	Number int
	Body   io.Reader
	Size   int64
	Seal   func(p *meta.Part) error
}
