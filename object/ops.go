package object

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api"
)

var _ s3api.Backend = (*Layer)(nil)

// Keyring seals user secrets at rest.
type Keyring interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// Secret returns the user and plaintext secret for accessKey.
func (l *Layer) Secret(ctx context.Context, accessKey string) (meta.User, string, error) {
	u, err := l.meta.GetUserByKey(ctx, accessKey)
	if err != nil {
		return meta.User{}, "", err
	}
	if l.opt.Keyring == nil {
		return meta.User{}, "", errors.New("object: no keyring to open user secrets")
	}
	secret, err := l.opt.Keyring.Open(u.SecretEnc)
	if err != nil {
		return meta.User{}, "", fmt.Errorf("object: open secret of %s: %w", u.Name, err)
	}
	return u, string(secret), nil
}

func (l *Layer) CreateBucket(ctx context.Context, owner, name, region string) error {
	l.forgetBucket(name)
	return l.meta.CreateBucket(ctx, reqID(), l.now(), meta.Bucket{Name: name, Owner: owner, Created: l.now(), Region: region})
}

func (l *Layer) DeleteBucket(ctx context.Context, name string) error {
	defer l.forgetBucket(name)
	return l.meta.DeleteBucket(ctx, reqID(), l.now(), name)
}

// GetBucket returns bucket metadata from a cache of at most bucketTTL age
// (every S3 request asks for it to check ownership). A bucket deleted or
// recreated through another gateway may be seen as before for that long;
// writes are still decided by the metadata commit.
func (l *Layer) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	return l.bucket(ctx, name)
}

func (l *Layer) ListBuckets(ctx context.Context) ([]meta.Bucket, error) {
	return l.meta.ListBuckets(ctx)
}

// PutObject streams in.Body into packs and commits the object.
func (l *Layer) PutObject(ctx context.Context, in *s3api.PutInput) (*meta.Object, error) {
	b, err := l.bucket(ctx, in.Object.Bucket)
	if err != nil {
		return nil, err
	}
	w, err := l.write(ctx, b.DomainKey, in.Body, in.Size, l.opt.MaxPut, true)
	if err != nil {
		return nil, err
	}
	o := in.Object
	o.Size, o.Chunks, o.Inline = w.size, w.refs, w.inline
	o.VersionID, o.DeleteMarker = newVersionID(), false
	if in.Seal != nil {
		if err := in.Seal(&o); err != nil {
			return nil, err
		}
	}
	req := &meta.PutObjectRequest{
		ReqID:       reqID(),
		Time:        l.now(),
		Object:      o,
		NewPacks:    w.newPacks,
		NewChunks:   w.newChunks,
		IfMatch:     in.IfMatch,
		IfNoneMatch: in.IfNoneMatch,
	}
	if err := l.meta.PutObject(ctx, req); err != nil {
		if errors.Is(err, meta.ErrMissingChunks) {
			return nil, fmt.Errorf("%w: %w", ErrChunkVanished, err)
		}
		return nil, err
	}
	o.Modified = req.Time
	o.VersionID = reportedVersion(b, o.VersionID)
	return &o, nil
}

func (l *Layer) HeadObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	return l.meta.GetObject(ctx, bucket, key)
}

func (l *Layer) DeleteObject(ctx context.Context, bucket, key string) error {
	return l.meta.DeleteObject(ctx, &meta.DeleteObjectRequest{ReqID: reqID(), Time: l.now(), Bucket: bucket, Key: key})
}

// CopyObject commits dst with src's manifest: metadata only.
func (l *Layer) CopyObject(ctx context.Context, src, dst *meta.Object, ifMatch, ifNoneMatch string) (*meta.Object, error) {
	b, err := l.bucket(ctx, dst.Bucket)
	if err != nil {
		return nil, err
	}
	o := *dst
	o.VersionID, o.DeleteMarker, o.IsLatest = newVersionID(), false, false
	o.Size, o.ETag, o.Chunks, o.Inline = src.Size, src.ETag, src.Chunks, src.Inline
	o.Checksums, o.ChecksumType, o.PartSizes = src.Checksums, src.ChecksumType, src.PartSizes
	if len(dst.Checksums) > 0 {
		// The caller computed the copy's own (FULL_OBJECT) checksum.
		o.Checksums, o.ChecksumType = dst.Checksums, dst.ChecksumType
	}
	req := &meta.PutObjectRequest{ReqID: reqID(), Time: l.now(), Object: o, IfMatch: ifMatch, IfNoneMatch: ifNoneMatch}
	if err := l.meta.PutObject(ctx, req); err != nil {
		if errors.Is(err, meta.ErrMissingChunks) {
			// The source was deleted and collected meanwhile.
			return nil, fmt.Errorf("%w: copy source gone: %w", meta.ErrNoSuchKey, err)
		}
		return nil, err
	}
	o.Modified = req.Time
	o.VersionID = reportedVersion(b, o.VersionID)
	return &o, nil
}

func (l *Layer) PutObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error {
	return l.meta.PutObjectTags(ctx, reqID(), l.now(), bucket, key, tags)
}

func (l *Layer) ListObjects(ctx context.Context, req *meta.ListRequest) (*meta.ListResult, error) {
	return l.meta.ListObjects(ctx, req)
}

func (l *Layer) CreateUpload(ctx context.Context, u *meta.Upload) (string, error) {
	if _, err := l.bucket(ctx, u.Bucket); err != nil {
		return "", err
	}
	up := *u
	up.UploadID = reqID()
	up.Initiated = l.now()
	if err := l.meta.CreateUpload(ctx, &meta.CreateUploadRequest{ReqID: reqID(), Time: up.Initiated, Upload: up}); err != nil {
		return "", err
	}
	return up.UploadID, nil
}

// UploadPart streams a part like PutObject and records it.
func (l *Layer) UploadPart(ctx context.Context, bucket, key, uploadID string, in *s3api.PartInput) (*meta.Part, error) {
	b, err := l.bucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	if _, err := l.meta.GetUpload(ctx, bucket, key, uploadID); err != nil {
		return nil, err
	}
	w, err := l.write(ctx, b.DomainKey, in.Body, in.Size, l.opt.MaxPut, false)
	if err != nil {
		return nil, err
	}
	p := meta.Part{Number: in.Number, Size: w.size, Chunks: w.refs, Inline: w.inline}
	if in.Seal != nil {
		if err := in.Seal(&p); err != nil {
			return nil, err
		}
	}
	return l.putPart(ctx, bucket, key, uploadID, p, w)
}

func (l *Layer) putPart(ctx context.Context, bucket, key, uploadID string, p meta.Part, w *written) (*meta.Part, error) {
	p.Modified = l.now()
	req := &meta.PutPartRequest{ReqID: reqID(), Time: p.Modified, Bucket: bucket, Key: key, UploadID: uploadID, Part: p}
	if w != nil {
		req.NewPacks, req.NewChunks = w.newPacks, w.newChunks
	}
	if err := l.meta.PutPart(ctx, req); err != nil {
		if errors.Is(err, meta.ErrMissingChunks) {
			return nil, fmt.Errorf("%w: %w", ErrChunkVanished, err)
		}
		return nil, err
	}
	return &p, nil
}

// UploadPartCopy makes part number of the upload from bytes [off, off+n) of
// src. A whole single-part source is referenced (metadata only); a range is
// re-chunked through the write path, where its chunks deduplicate against
// the source's, so bytes move through the gateway but are not stored twice.
func (l *Layer) UploadPartCopy(ctx context.Context, bucket, key, uploadID string, number int, src *meta.Object, off, n int64) (*meta.Part, error) {
	if _, err := l.meta.GetUpload(ctx, bucket, key, uploadID); err != nil {
		return nil, err
	}
	if off == 0 && n == src.Size && len(src.PartSizes) == 0 && len(src.ETag) == 32 && len(src.Inline) == 0 {
		p := meta.Part{Number: number, Size: src.Size, ETag: src.ETag, Chunks: src.Chunks, Inline: src.Inline}
		return l.putPart(ctx, bucket, key, uploadID, p, nil)
	}
	b, err := l.bucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	rc, err := l.OpenObject(ctx, src, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h := md5.New()
	w, err := l.write(ctx, b.DomainKey, io.TeeReader(rc, h), n, l.opt.MaxPut, false)
	if err != nil {
		return nil, err
	}
	p := meta.Part{Number: number, Size: w.size, ETag: hex.EncodeToString(h.Sum(nil)), Chunks: w.refs, Inline: w.inline}
	return l.putPart(ctx, bucket, key, uploadID, p, w)
}

func (l *Layer) CompleteUpload(ctx context.Context, req *meta.CompleteUploadRequest) (*meta.Object, error) {
	r := *req
	r.ReqID, r.Time = reqID(), l.now()
	r.VersionID = newVersionID()
	return l.meta.CompleteUpload(ctx, &r)
}

func (l *Layer) AbortUpload(ctx context.Context, bucket, key, uploadID string) error {
	return l.meta.AbortUpload(ctx, reqID(), l.now(), bucket, key, uploadID)
}

func (l *Layer) GetUpload(ctx context.Context, bucket, key, uploadID string) (*meta.Upload, error) {
	return l.meta.GetUpload(ctx, bucket, key, uploadID)
}

func (l *Layer) ListParts(ctx context.Context, req *meta.ListPartsRequest) (*meta.ListPartsResult, error) {
	return l.meta.ListParts(ctx, req)
}

func (l *Layer) ListUploads(ctx context.Context, req *meta.ListUploadsRequest) (*meta.ListUploadsResult, error) {
	return l.meta.ListUploads(ctx, req)
}
