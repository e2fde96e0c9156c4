package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/metapb"
	"github.com/tessera-store/tessera/pack"
)

// ErrNoAddrs is returned by Dial without addresses.
var ErrNoAddrs = errors.New("meta/remote: no server addresses")

// Options configure a Client. The zero value is the default.
type Options struct {
	Logger *slog.Logger // nil: slog.Default()
	// DialOptions are added to the client's; the default transport is
	// plaintext (insecure credentials).
	DialOptions []grpc.DialOption
	// MinBackoff and MaxBackoff bound the pause between retry rounds
	// (default 10 ms and 500 ms).
	MinBackoff, MaxBackoff time.Duration
	// RetryFor bounds how long a call retries when its ctx has no deadline
	// (default 30 s).
	RetryFor time.Duration
	// AttemptTimeout bounds one attempt against one member (default 5 s):
	// a member cut off by a partition (packets dropped, no reset) would
	// otherwise hold the call until its deadline instead of letting it
	// move on to the new leader. Retries are safe: mutations carry ReqIDs.
	AttemptTimeout time.Duration
}

// Validate reports whether the options are usable.
func (o *Options) Validate() error {
	if o.MinBackoff < 0 || o.MaxBackoff < 0 || o.RetryFor < 0 {
		return fmt.Errorf("%w: negative duration in remote options", meta.ErrInvalidArgument)
	}
	if o.MaxBackoff != 0 && o.MinBackoff > o.MaxBackoff {
		return fmt.Errorf("%w: MinBackoff above MaxBackoff", meta.ErrInvalidArgument)
	}
	return nil
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 10 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 500 * time.Millisecond
	}
	if o.AttemptTimeout == 0 {
		o.AttemptTimeout = 5 * time.Second
	}
	if o.RetryFor == 0 {
		o.RetryFor = 30 * time.Second
	}
}

// Client is a meta.Service reached over gRPC. It sends every call to the
// member it believes leads; on ErrNotLeader it follows the leader hint, on
// ErrUnavailable (no quorum, member down) it tries the next address, with
// backoff between rounds, until ctx ends. Mutations carry their ReqID, so a
// retried mutation is applied once by the state machine. Safe for
// concurrent use; Close it when done.
type Client struct {
	opt Options

	// mu guards the fields below.
	mu    sync.Mutex
	addrs []string // known members, in dial order; leader hints are appended
	conns map[string]metapb.MetaClient
	ccs   []*grpc.ClientConn
	cur   int // index in addrs of the presumed leader
}

var _ meta.Service = (*Client)(nil)

// Dial returns a client of the members at addrs (API addresses). Dial does
// not wait for a connection.
func Dial(addrs []string, opt Options) (*Client, error) {
	if len(addrs) == 0 {
		return nil, ErrNoAddrs
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	opt.setDefaults()
	c := &Client{opt: opt, conns: map[string]metapb.MetaClient{}}
	for _, a := range addrs {
		if _, err := c.connLocked(a); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// connLocked returns the stub for addr, dialing it (lazily) on first use.
func (c *Client) connLocked(addr string) (metapb.MetaClient, error) {
	if mc, ok := c.conns[addr]; ok {
		return mc, nil
	}
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
		// Detect a silently dead member (partition) on idle and busy
		// connections alike; the server's enforcement policy allows it.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 3 * time.Second, PermitWithoutStream: true}),
	}, c.opt.DialOptions...)
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("meta/remote: dial %s: %w", addr, err)
	}
	mc := metapb.NewMetaClient(cc)
	c.conns[addr] = mc
	c.ccs = append(c.ccs, cc)
	c.addrs = append(c.addrs, addr)
	return mc, nil
}

// Close closes every connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, cc := range c.ccs {
		errs = append(errs, cc.Close())
	}
	c.ccs, c.conns, c.addrs = nil, map[string]metapb.MetaClient{}, nil
	return errors.Join(errs...)
}

// pick returns the presumed leader and how many members are known.
func (c *Client) pick() (string, metapb.MetaClient, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.addrs) == 0 {
		return "", nil, 0, fmt.Errorf("%w: client closed", meta.ErrUnavailable)
	}
	a := c.addrs[c.cur%len(c.addrs)]
	return a, c.conns[a], len(c.addrs), nil
}

// follow makes leader (or, when unknown, the member after failed) the
// target. It reports whether a new, known target was chosen.
func (c *Client) follow(failed, leader string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.addrs) == 0 {
		return false
	}
	if leader != "" && leader != failed {
		if _, err := c.connLocked(leader); err == nil {
			for i, a := range c.addrs {
				if a == leader {
					c.cur = i
					return true
				}
			}
		}
	}
	if c.addrs[c.cur%len(c.addrs)] == failed {
		c.cur = (c.cur + 1) % len(c.addrs)
	}
	return false
}

// checkKey rejects keys gRPC cannot carry (proto3 strings are UTF-8) with
// the error the state machine gives for them.
func checkKey(key string) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: key is not valid UTF-8", meta.ErrInvalidKey)
	}
	return nil
}

// call runs fn against the presumed leader, following leader hints and
// retrying unavailable members until ctx (or Options.RetryFor) ends.
func (c *Client) call(ctx context.Context, op string, fn func(ctx context.Context, mc metapb.MetaClient) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opt.RetryFor)
		defer cancel()
	}
	backoff := c.opt.MinBackoff
	misses := 0
	for {
		addr, mc, n, err := c.pick()
		if err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, c.opt.AttemptTimeout)
		err = fromStatus(fn(actx, mc))
		attemptTimedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if attemptTimedOut {
			// This member did not answer in time: try the others.
			err = fmt.Errorf("%w: %s did not answer within %v", meta.ErrUnavailable, addr, c.opt.AttemptTimeout)
		}
		var nl *notLeaderError
		hinted := false
		switch {
		case errors.As(err, &nl):
			hinted = c.follow(addr, nl.Leader)
		case errors.Is(err, meta.ErrUnavailable):
			c.follow(addr, "")
		default:
			if cerr := ctx.Err(); cerr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				return c.gaveUp(ctx, op, err)
			}
			return err
		}
		if ctx.Err() != nil {
			return c.gaveUp(ctx, op, err)
		}
		c.opt.Logger.Debug("meta rpc retry", "op", op, "node", addr, "err", err)
		misses++
		if hinted && misses <= 2*n {
			continue // a fresh leader hint: try it at once (bounded: hints can be stale)
		}
		if misses < n {
			continue
		}
		misses = 0
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return c.gaveUp(ctx, op, err)
		case <-t.C:
		}
		backoff = min(2*backoff, c.opt.MaxBackoff)
	}
}

func (c *Client) gaveUp(ctx context.Context, op string, last error) error {
	if errors.Is(ctx.Err(), context.Canceled) && !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		return fmt.Errorf("meta/remote: %s: %w (last error: %v)", op, context.Canceled, last)
	}
	return fmt.Errorf("meta/remote: %s: %w: %w (last error: %v)", op, meta.ErrUnavailable, ctx.Err(), last)
}

func (c *Client) CreateBucket(ctx context.Context, reqID string, t int64, b meta.Bucket) error {
	req := &metapb.CreateBucketRequest{ReqId: reqID, Time: t, Bucket: bucketToWire(b)}
	return c.call(ctx, "CreateBucket", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.CreateBucket(ctx, req)
		return err
	})
}

func (c *Client) DeleteBucket(ctx context.Context, reqID string, t int64, name string) error {
	req := &metapb.DeleteBucketRequest{ReqId: reqID, Time: t, Name: name}
	return c.call(ctx, "DeleteBucket", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.DeleteBucket(ctx, req)
		return err
	})
}

func (c *Client) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	var resp *metapb.Bucket
	err := c.call(ctx, "GetBucket", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.GetBucket(ctx, &metapb.GetBucketRequest{Name: name})
		return err
	})
	if err != nil {
		return meta.Bucket{}, err
	}
	return bucketFromWire(resp), nil
}

func (c *Client) ListBuckets(ctx context.Context) ([]meta.Bucket, error) {
	var resp *metapb.ListBucketsResponse
	err := c.call(ctx, "ListBuckets", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.ListBuckets(ctx, empty)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []meta.Bucket
	for _, b := range resp.GetBuckets() {
		out = append(out, bucketFromWire(b))
	}
	return out, nil
}

func (c *Client) PutObject(ctx context.Context, r *meta.PutObjectRequest) error {
	if err := checkKey(r.Object.Key); err != nil {
		return err
	}
	req := &metapb.PutObjectRequest{
		ReqId: r.ReqID, Time: r.Time, Object: objectToWire(&r.Object), NewPacks: packsToWire(r.NewPacks),
		NewChunks: chunkInfosToWire(r.NewChunks), IfMatch: r.IfMatch, IfNoneMatch: r.IfNoneMatch,
	}
	return c.call(ctx, "PutObject", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.PutObject(ctx, req)
		return err
	})
}

func (c *Client) GetObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var resp *metapb.Object
	err := c.call(ctx, "GetObject", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.GetObject(ctx, &metapb.GetObjectRequest{Bucket: bucket, Key: key})
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

func (c *Client) DeleteObject(ctx context.Context, r *meta.DeleteObjectRequest) error {
	if err := checkKey(r.Key); err != nil {
		return err
	}
	req := &metapb.DeleteObjectRequest{ReqId: r.ReqID, Time: r.Time, Bucket: r.Bucket, Key: r.Key}
	return c.call(ctx, "DeleteObject", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.DeleteObject(ctx, req)
		return err
	})
}

func (c *Client) PutObjectTags(ctx context.Context, reqID string, t int64, bucket, key string, tags map[string]string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	req := &metapb.PutObjectTagsRequest{ReqId: reqID, Time: t, Bucket: bucket, Key: key, Tags: tags}
	return c.call(ctx, "PutObjectTags", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.PutObjectTags(ctx, req)
		return err
	})
}

func (c *Client) ListObjects(ctx context.Context, r *meta.ListRequest) (*meta.ListResult, error) {
	req := &metapb.ListObjectsRequest{Bucket: r.Bucket, Prefix: r.Prefix, Delimiter: r.Delimiter, Marker: r.Marker, MaxKeys: i32(r.MaxKeys)}
	var resp *metapb.ListObjectsResponse
	err := c.call(ctx, "ListObjects", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.ListObjects(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &meta.ListResult{CommonPrefixes: nilStrs(resp.GetCommonPrefixes()), IsTruncated: resp.GetIsTruncated(), NextMarker: resp.GetNextMarker()}
	if len(resp.GetObjects()) > 0 {
		out.Objects = make([]meta.Object, len(resp.GetObjects()))
		for i, o := range resp.GetObjects() {
			if out.Objects[i], err = objectFromWire(o); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (c *Client) LookupChunks(ctx context.Context, addrs []chunk.Addr) ([]meta.ChunkInfo, error) {
	req := &metapb.LookupChunksRequest{Addrs: addrsToWire(addrs)}
	var resp *metapb.LookupChunksResponse
	err := c.call(ctx, "LookupChunks", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.LookupChunks(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return chunkInfosFromWire(resp.GetChunks())
}

func (c *Client) GetPacks(ctx context.Context, ids []pack.ID) ([]meta.Pack, error) {
	req := &metapb.GetPacksRequest{Ids: idsToWire(ids)}
	var resp *metapb.GetPacksResponse
	err := c.call(ctx, "GetPacks", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.GetPacks(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return packsFromWire(resp.GetPacks())
}

func (c *Client) MarkShardsMissing(ctx context.Context, reqID string, id pack.ID, shards []int) error {
	req := &metapb.MarkShardsMissingRequest{ReqId: reqID, Id: id[:], Shards: intsToWire(shards)}
	return c.call(ctx, "MarkShardsMissing", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.MarkShardsMissing(ctx, req)
		return err
	})
}

func (c *Client) SetPackShards(ctx context.Context, reqID string, id pack.ID, nodes []string, missing []int) error {
	req := &metapb.SetPackShardsRequest{ReqId: reqID, Id: id[:], Nodes: nodes, Missing: intsToWire(missing)}
	return c.call(ctx, "SetPackShards", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.SetPackShards(ctx, req)
		return err
	})
}

func (c *Client) CollectGarbage(ctx context.Context, r *meta.GCRequest) (*meta.GCResult, error) {
	req := &metapb.CollectGarbageRequest{ReqId: r.ReqID, Time: r.Time, Grace: r.Grace, Limit: i32(r.Limit)}
	var resp *metapb.CollectGarbageResponse
	err := c.call(ctx, "CollectGarbage", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.CollectGarbage(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	packs, err := packsFromWire(resp.GetDeadPacks())
	if err != nil {
		return nil, err
	}
	return &meta.GCResult{CollectedChunks: int(resp.GetCollectedChunks()), DeadPacks: packs, More: resp.GetMore()}, nil
}

func (c *Client) ForgetPacks(ctx context.Context, reqID string, ids []pack.ID) error {
	req := &metapb.ForgetPacksRequest{ReqId: reqID, Ids: idsToWire(ids)}
	return c.call(ctx, "ForgetPacks", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.ForgetPacks(ctx, req)
		return err
	})
}

func (c *Client) Stats(ctx context.Context) (meta.Stats, error) {
	var resp *metapb.ClusterStats
	err := c.call(ctx, "Stats", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.Stats(ctx, empty)
		return err
	})
	if err != nil {
		return meta.Stats{}, err
	}
	return statsFromWire(resp), nil
}

func (c *Client) CreateUpload(ctx context.Context, r *meta.CreateUploadRequest) error {
	if err := checkKey(r.Upload.Key); err != nil {
		return err
	}
	req := &metapb.CreateUploadRequest{ReqId: r.ReqID, Time: r.Time, Upload: uploadToWire(&r.Upload)}
	return c.call(ctx, "CreateUpload", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.CreateUpload(ctx, req)
		return err
	})
}

func (c *Client) PutPart(ctx context.Context, r *meta.PutPartRequest) error {
	if err := checkKey(r.Key); err != nil {
		return err
	}
	req := &metapb.PutPartRequest{
		ReqId: r.ReqID, Time: r.Time, Bucket: r.Bucket, Key: r.Key, UploadId: r.UploadID, Part: partToWire(&r.Part),
		NewPacks: packsToWire(r.NewPacks), NewChunks: chunkInfosToWire(r.NewChunks),
	}
	return c.call(ctx, "PutPart", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.PutPart(ctx, req)
		return err
	})
}

func (c *Client) GetUpload(ctx context.Context, bucket, key, uploadID string) (*meta.Upload, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var resp *metapb.Upload
	err := c.call(ctx, "GetUpload", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.GetUpload(ctx, &metapb.GetUploadRequest{Bucket: bucket, Key: key, UploadId: uploadID})
		return err
	})
	if err != nil {
		return nil, err
	}
	u, err := uploadFromWire(resp)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func (c *Client) GetPart(ctx context.Context, bucket, key, uploadID string, number int) (*meta.Part, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var resp *metapb.Part
	err := c.call(ctx, "GetPart", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.GetPart(ctx, &metapb.GetPartRequest{Bucket: bucket, Key: key, UploadId: uploadID, Number: i32(number)})
		return err
	})
	if err != nil {
		return nil, err
	}
	p, err := partFromWire(resp)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (c *Client) ListParts(ctx context.Context, r *meta.ListPartsRequest) (*meta.ListPartsResult, error) {
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	req := &metapb.ListPartsRequest{Bucket: r.Bucket, Key: r.Key, UploadId: r.UploadID, Marker: i32(r.Marker), MaxParts: i32(r.MaxParts)}
	var resp *metapb.ListPartsResponse
	err := c.call(ctx, "ListParts", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.ListParts(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	u, err := uploadFromWire(resp.GetUpload())
	if err != nil {
		return nil, err
	}
	out := &meta.ListPartsResult{Upload: u, IsTruncated: resp.GetIsTruncated(), NextMarker: int(resp.GetNextMarker())}
	if len(resp.GetParts()) > 0 {
		out.Parts = make([]meta.Part, len(resp.GetParts()))
		for i, p := range resp.GetParts() {
			if out.Parts[i], err = partFromWire(p); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (c *Client) ListUploads(ctx context.Context, r *meta.ListUploadsRequest) (*meta.ListUploadsResult, error) {
	req := &metapb.ListUploadsRequest{
		Bucket: r.Bucket, Prefix: r.Prefix, Delimiter: r.Delimiter, KeyMarker: r.KeyMarker,
		UploadIdMarker: r.UploadIDMarker, MaxUploads: i32(r.MaxUploads),
	}
	var resp *metapb.ListUploadsResponse
	err := c.call(ctx, "ListUploads", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.ListUploads(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &meta.ListUploadsResult{
		CommonPrefixes: nilStrs(resp.GetCommonPrefixes()), IsTruncated: resp.GetIsTruncated(),
		NextKeyMarker: resp.GetNextKeyMarker(), NextUploadIDMarker: resp.GetNextUploadIdMarker(),
	}
	if len(resp.GetUploads()) > 0 {
		out.Uploads = make([]meta.Upload, len(resp.GetUploads()))
		for i, u := range resp.GetUploads() {
			if out.Uploads[i], err = uploadFromWire(u); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (c *Client) CompleteUpload(ctx context.Context, r *meta.CompleteUploadRequest) (*meta.Object, error) {
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	req := &metapb.CompleteUploadRequest{
		ReqId: r.ReqID, Time: r.Time, Bucket: r.Bucket, Key: r.Key, UploadId: r.UploadID, Checksums: r.Checksums, VersionId: r.VersionID,
	}
	for _, p := range r.Parts {
		req.Parts = append(req.Parts, &metapb.CompletedPart{Number: i32(p.Number), Etag: p.ETag})
	}
	var resp *metapb.Object
	err := c.call(ctx, "CompleteUpload", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.CompleteUpload(ctx, req)
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

func (c *Client) AbortUpload(ctx context.Context, reqID string, t int64, bucket, key, uploadID string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	req := &metapb.AbortUploadRequest{ReqId: reqID, Time: t, Bucket: bucket, Key: key, UploadId: uploadID}
	return c.call(ctx, "AbortUpload", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.AbortUpload(ctx, req)
		return err
	})
}

func (c *Client) RegisterNode(ctx context.Context, reqID string, n meta.Node) error {
	req := &metapb.NodeRequest{ReqId: reqID, Node: nodeToWire(&n)}
	return c.call(ctx, "RegisterNode", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.RegisterNode(ctx, req)
		return err
	})
}

func (c *Client) Heartbeat(ctx context.Context, reqID string, n meta.Node) error {
	req := &metapb.NodeRequest{ReqId: reqID, Node: nodeToWire(&n)}
	return c.call(ctx, "Heartbeat", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.Heartbeat(ctx, req)
		return err
	})
}

func (c *Client) ListNodes(ctx context.Context) ([]meta.Node, error) {
	var resp *metapb.ListNodesResponse
	err := c.call(ctx, "ListNodes", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.ListNodes(ctx, empty)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []meta.Node
	for _, n := range resp.GetNodes() {
		out = append(out, nodeFromWire(n))
	}
	return out, nil
}

func (c *Client) PutPool(ctx context.Context, reqID string, p meta.Pool) error {
	req := &metapb.PutPoolRequest{ReqId: reqID, Pool: poolToWire(&p)}
	return c.call(ctx, "PutPool", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.PutPool(ctx, req)
		return err
	})
}

func (c *Client) ListPools(ctx context.Context) ([]meta.Pool, error) {
	var resp *metapb.ListPoolsResponse
	err := c.call(ctx, "ListPools", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.ListPools(ctx, empty)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []meta.Pool
	for _, p := range resp.GetPools() {
		out = append(out, poolFromWire(p))
	}
	return out, nil
}

func (c *Client) PutUser(ctx context.Context, reqID string, u meta.User) error {
	req := &metapb.PutUserRequest{ReqId: reqID, User: userToWire(&u)}
	return c.call(ctx, "PutUser", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.PutUser(ctx, req)
		return err
	})
}

func (c *Client) DeleteUser(ctx context.Context, reqID string, name string) error {
	req := &metapb.DeleteUserRequest{ReqId: reqID, Name: name}
	return c.call(ctx, "DeleteUser", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.DeleteUser(ctx, req)
		return err
	})
}

func (c *Client) GetUserByKey(ctx context.Context, accessKey string) (meta.User, error) {
	var resp *metapb.User
	err := c.call(ctx, "GetUserByKey", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.GetUserByKey(ctx, &metapb.GetUserByKeyRequest{AccessKey: accessKey})
		return err
	})
	if err != nil {
		return meta.User{}, err
	}
	return userFromWire(resp), nil
}

func (c *Client) ListUsers(ctx context.Context) ([]meta.User, error) {
	var resp *metapb.ListUsersResponse
	err := c.call(ctx, "ListUsers", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.ListUsers(ctx, empty)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []meta.User
	for _, u := range resp.GetUsers() {
		out = append(out, userFromWire(u))
	}
	return out, nil
}

// Status asks the presumed leader (or, failing that, any member) for the
// group's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var resp *metapb.StatusResponse
	err := c.call(ctx, "Status", func(ctx context.Context, mc metapb.MetaClient) (err error) {
		resp, err = mc.Status(ctx, empty)
		return err
	})
	if err != nil {
		return Status{}, err
	}
	st := Status{
		ID: resp.GetId(), State: resp.GetState(), LeaderID: resp.GetLeaderId(), LeaderAPI: resp.GetLeaderApi(),
		Term: resp.GetTerm(), LastIndex: resp.GetLastIndex(), CommitIndex: resp.GetCommitIndex(), AppliedIndex: resp.GetAppliedIndex(),
	}
	for _, s := range resp.GetServers() {
		st.Members = append(st.Members, Member{ID: s.GetId(), RaftAddr: s.GetRaftAddr(), APIAddr: s.GetApiAddr(), Voter: s.GetVoter()})
	}
	return st, nil
}

// Join asks the leader to add a voter.
func (c *Client) Join(ctx context.Context, id, raftAddr, apiAddr string) error {
	req := &metapb.JoinRequest{Id: id, RaftAddr: raftAddr, ApiAddr: apiAddr}
	return c.call(ctx, "Join", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.Join(ctx, req)
		return err
	})
}

// RemoveVoter asks the leader to remove a server from the group.
func (c *Client) RemoveVoter(ctx context.Context, id string) error {
	req := &metapb.RemoveVoterRequest{Id: id}
	return c.call(ctx, "RemoveVoter", func(ctx context.Context, mc metapb.MetaClient) error {
		_, err := mc.RemoveVoter(ctx, req)
		return err
	})
}
