package remote

import (
	"context"

	"github.com/tessera-store/tessera/meta/metapb"
)

// Bucket configuration documents (meta.BucketConfigs) over the wire.

func (c *Client) PutBucketConfig(ctx context.Context, reqID string, t int64, bucket, name string, doc []byte) error {
	req := &metapb.PutBucketConfigRequest{ReqId: reqID, Time: t, Bucket: bucket, Name: name, Doc: doc}
	return c.call(ctx, "PutBucketConfig", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.PutBucketConfig(ctx, req)
		return err
	})
}

func (c *Client) GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	var resp *metapb.BucketConfigResponse
	err := c.call(ctx, "GetBucketConfig", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.GetBucketConfig(ctx, &metapb.GetBucketConfigRequest{Bucket: bucket, Name: name})
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp.GetDoc(), nil
}

func (s *Server) PutBucketConfig(ctx context.Context, r *metapb.PutBucketConfigRequest) (*metapb.Empty, error) {
	return s.done(s.svc.PutBucketConfig(ctx, r.GetReqId(), r.GetTime(), r.GetBucket(), r.GetName(), r.GetDoc()))
}

func (s *Server) GetBucketConfig(ctx context.Context, r *metapb.GetBucketConfigRequest) (*metapb.BucketConfigResponse, error) {
	doc, err := s.svc.GetBucketConfig(ctx, r.GetBucket(), r.GetName())
	if err != nil {
		return nil, s.fail(err)
	}
	return &metapb.BucketConfigResponse{Doc: doc}, nil
}
