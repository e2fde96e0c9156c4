package remote

import (
	"context"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/metapb"
)

// Versioning RPCs (meta.Versions).

func (c *Client) SetBucketVersioning(ctx context.Context, reqID string, t int64, bucket, state string) error {
	req := &metapb.SetBucketVersioningRequest{ReqId: reqID, Time: t, Bucket: bucket, State: state}
	return c.call(ctx, "SetBucketVersioning", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.SetBucketVersioning(ctx, req)
		return err
	})
}

func (c *Client) GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var resp *metapb.Object
	err := c.call(ctx, "GetObjectVersion", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.GetObjectVersion(ctx, &metapb.GetObjectVersionRequest{Bucket: bucket, Key: key, VersionId: versionID})
		return err
	})
	if err != nil {
		return nil, err
	}
	o, err := objectFromWire(resp)
	if err != nil {
		return nil, err
	}
	return &o, nil
}

func (c *Client) DeleteObjectVersion(ctx context.Context, r *meta.DeleteObjectRequest) (*meta.DeleteObjectResult, error) {
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	req := &metapb.DeleteObjectRequest{ReqId: r.ReqID, Time: r.Time, Bucket: r.Bucket, Key: r.Key,
		VersionId: r.VersionID, MarkerVersionId: r.MarkerVersionID}
	var resp *metapb.DeleteObjectResponse
	err := c.call(ctx, "DeleteObjectVersion", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.DeleteObjectVersion(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &meta.DeleteObjectResult{VersionID: resp.GetVersionId(), DeleteMarker: resp.GetDeleteMarker()}, nil
}

func (c *Client) ListObjectVersions(ctx context.Context, r *meta.ListVersionsRequest) (*meta.ListVersionsResult, error) {
	req := &metapb.ListObjectVersionsRequest{Bucket: r.Bucket, Prefix: r.Prefix, Delimiter: r.Delimiter,
		KeyMarker: r.KeyMarker, VersionIdMarker: r.VersionIDMarker, MaxKeys: i32(r.MaxKeys)}
	var resp *metapb.ListObjectVersionsResponse
	err := c.call(ctx, "ListObjectVersions", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.ListObjectVersions(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &meta.ListVersionsResult{CommonPrefixes: nilStrs(resp.GetCommonPrefixes()), IsTruncated: resp.GetIsTruncated(),
		NextKeyMarker: resp.GetNextKeyMarker(), NextVersionIDMarker: resp.GetNextVersionIdMarker()}
	if len(resp.GetVersions()) > 0 {
		out.Versions = make([]meta.Object, len(resp.GetVersions()))
		for i, o := range resp.GetVersions() {
			if out.Versions[i], err = objectFromWire(o); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (c *Client) PutObjectVersionTags(ctx context.Context, reqID string, t int64, bucket, key, versionID string, tags map[string]string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	req := &metapb.PutObjectVersionTagsRequest{ReqId: reqID, Time: t, Bucket: bucket, Key: key, VersionId: versionID, Tags: tags}
	return c.call(ctx, "PutObjectVersionTags", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.PutObjectVersionTags(ctx, req)
		return err
	})
}

func (s *Server) SetBucketVersioning(ctx context.Context, r *metapb.SetBucketVersioningRequest) (*metapb.Empty, error) {
	return s.done(s.svc.SetBucketVersioning(ctx, r.GetReqId(), r.GetTime(), r.GetBucket(), r.GetState()))
}

func (s *Server) GetObjectVersion(ctx context.Context, r *metapb.GetObjectVersionRequest) (*metapb.Object, error) {
	o, err := s.svc.GetObjectVersion(ctx, r.GetBucket(), r.GetKey(), r.GetVersionId())
	if err != nil {
		return nil, s.fail(err)
	}
	return objectToWire(o), nil
}

func (s *Server) DeleteObjectVersion(ctx context.Context, r *metapb.DeleteObjectRequest) (*metapb.DeleteObjectResponse, error) {
	res, err := s.svc.DeleteObjectVersion(ctx, &meta.DeleteObjectRequest{ReqID: r.GetReqId(), Time: r.GetTime(),
		Bucket: r.GetBucket(), Key: r.GetKey(), VersionID: r.GetVersionId(), MarkerVersionID: r.GetMarkerVersionId()})
	if err != nil {
		return nil, s.fail(err)
	}
	return &metapb.DeleteObjectResponse{VersionId: res.VersionID, DeleteMarker: res.DeleteMarker}, nil
}

func (s *Server) ListObjectVersions(ctx context.Context, r *metapb.ListObjectVersionsRequest) (*metapb.ListObjectVersionsResponse, error) {
	res, err := s.svc.ListObjectVersions(ctx, &meta.ListVersionsRequest{Bucket: r.GetBucket(), Prefix: r.GetPrefix(),
		Delimiter: r.GetDelimiter(), KeyMarker: r.GetKeyMarker(), VersionIDMarker: r.GetVersionIdMarker(), MaxKeys: int(r.GetMaxKeys())})
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.ListObjectVersionsResponse{CommonPrefixes: res.CommonPrefixes, IsTruncated: res.IsTruncated,
		NextKeyMarker: res.NextKeyMarker, NextVersionIdMarker: res.NextVersionIDMarker}
	out.Versions = make([]*metapb.Object, len(res.Versions))
	for i := range res.Versions {
		out.Versions[i] = objectToWire(&res.Versions[i])
	}
	return out, nil
}

func (s *Server) PutObjectVersionTags(ctx context.Context, r *metapb.PutObjectVersionTagsRequest) (*metapb.Empty, error) {
	return s.done(s.svc.PutObjectVersionTags(ctx, r.GetReqId(), r.GetTime(), r.GetBucket(), r.GetKey(), r.GetVersionId(), nilMap(r.GetTags())))
}

func (c *Client) PutObjectLock(ctx context.Context, reqID string, t int64, bucket, key, versionID string, u meta.ObjectLockUpdate) error {
	if err := checkKey(key); err != nil {
		return err
	}
	req := &metapb.PutObjectLockRequest{ReqId: reqID, Time: t, Bucket: bucket, Key: key, VersionId: versionID,
		SetRetention: u.SetRetention, RetentionMode: u.RetentionMode, RetainUntil: u.RetainUntil,
		SetLegalHold: u.SetLegalHold, LegalHold: u.LegalHold}
	return c.call(ctx, "PutObjectLock", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.PutObjectLock(ctx, req)
		return err
	})
}

func (s *Server) PutObjectLock(ctx context.Context, r *metapb.PutObjectLockRequest) (*metapb.Empty, error) {
	return s.done(s.svc.PutObjectLock(ctx, r.GetReqId(), r.GetTime(), r.GetBucket(), r.GetKey(), r.GetVersionId(), meta.ObjectLockUpdate{
		SetRetention: r.GetSetRetention(), RetentionMode: r.GetRetentionMode(), RetainUntil: r.GetRetainUntil(),
		SetLegalHold: r.GetSetLegalHold(), LegalHold: r.GetLegalHold()}))
}
