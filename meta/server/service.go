package server

import (
	"context"
	"fmt"
	"time"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

// Proposer gets a command applied by the replicated log and returns Apply's
// Result. meta/local applies directly (single process, serialized);
// meta/raftmeta goes through raft.Apply.
type Proposer interface {
	Propose(ctx context.Context, cmd []byte) (Result, error)
	// ReadBarrier returns once every command committed before the call is
	// applied locally and this node is still the leader (linearizable reads).
	ReadBarrier(ctx context.Context) error
}

// Service implements meta.Service over a State: writes become commands
// proposed through p, reads pass p.ReadBarrier and then read st.
type Service struct {
	st *State
	p  Proposer
	// now stamps commands whose API carries no time (cluster and pack
	// operations); the stamp travels in the command, so Apply stays
	// deterministic.
	now func() int64
}

var _ meta.Service = (*Service)(nil)

// NewService returns the meta.Service of st, writing through p.
func NewService(st *State, p Proposer) *Service {
	return &Service{st: st, p: p, now: func() int64 { return time.Now().UnixNano() }}
}

// State returns the state the service reads.
func (s *Service) State() *State { return s.st }

func (s *Service) propose(ctx context.Context, c *Command) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := EncodeCommand(c)
	if err != nil {
		return nil, err
	}
	r, err := s.p.Propose(ctx, b)
	if err != nil {
		return nil, err
	}
	return r.Value, r.Err
}

func (s *Service) exec(ctx context.Context, c *Command) error {
	_, err := s.propose(ctx, c)
	return err
}

func (s *Service) read(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.p.ReadBarrier(ctx)
}

// ---- buckets ----

func (s *Service) CreateBucket(ctx context.Context, reqID string, t int64, b meta.Bucket) error {
	return s.exec(ctx, &Command{Op: OpCreateBucket, ReqID: reqID, Time: t, BucketInfo: b})
}

func (s *Service) DeleteBucket(ctx context.Context, reqID string, t int64, name string) error {
	return s.exec(ctx, &Command{Op: OpDeleteBucket, ReqID: reqID, Time: t, Bucket: name})
}

func (s *Service) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	if err := s.read(ctx); err != nil {
		return meta.Bucket{}, err
	}
	return s.st.GetBucket(name)
}

func (s *Service) ListBuckets(ctx context.Context) ([]meta.Bucket, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.ListBuckets()
}

// ---- objects ----

func (s *Service) PutObject(ctx context.Context, req *meta.PutObjectRequest) error {
	return s.exec(ctx, &Command{Op: OpPutObject, ReqID: req.ReqID, Time: req.Time, Put: req})
}

func (s *Service) GetObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.GetObject(bucket, key)
}

func (s *Service) DeleteObject(ctx context.Context, req *meta.DeleteObjectRequest) error {
	return s.exec(ctx, &Command{Op: OpDeleteObject, ReqID: req.ReqID, Time: req.Time, Bucket: req.Bucket, Key: req.Key})
}

func (s *Service) PutObjectTags(ctx context.Context, reqID string, t int64, bucket, key string, tags map[string]string) error {
	return s.exec(ctx, &Command{Op: OpPutObjectTags, ReqID: reqID, Time: t, Bucket: bucket, Key: key, Tags: tags})
}

func (s *Service) ListObjects(ctx context.Context, req *meta.ListRequest) (*meta.ListResult, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.ListObjects(req)
}

// ---- chunks and packs ----

func (s *Service) LookupChunks(ctx context.Context, addrs []chunk.Addr) ([]meta.ChunkInfo, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.LookupChunks(addrs)
}

func (s *Service) GetPacks(ctx context.Context, ids []pack.ID) ([]meta.Pack, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.GetPacks(ids)
}

func (s *Service) MarkShardsMissing(ctx context.Context, reqID string, id pack.ID, shards []int) error {
	return s.exec(ctx, &Command{Op: OpMarkShardsMissing, ReqID: reqID, Time: s.now(), PackIDs: []pack.ID{id}, Shards: shards})
}

func (s *Service) SetPackShards(ctx context.Context, reqID string, id pack.ID, nodes []string, missing []int) error {
	return s.exec(ctx, &Command{Op: OpSetPackShards, ReqID: reqID, Time: s.now(), PackIDs: []pack.ID{id}, Nodes: nodes, Shards: missing})
}

func (s *Service) CollectGarbage(ctx context.Context, req *meta.GCRequest) (*meta.GCResult, error) {
	v, err := s.propose(ctx, &Command{Op: OpCollectGarbage, ReqID: req.ReqID, Time: req.Time, Grace: req.Grace, Limit: req.Limit})
	if err != nil {
		return nil, err
	}
	r, ok := v.(*meta.GCResult)
	if !ok {
		return nil, fmt.Errorf("server: collect garbage: unexpected result %T", v)
	}
	return r, nil
}

func (s *Service) ForgetPacks(ctx context.Context, reqID string, ids []pack.ID) error {
	return s.exec(ctx, &Command{Op: OpForgetPacks, ReqID: reqID, Time: s.now(), PackIDs: ids})
}

func (s *Service) Stats(ctx context.Context) (meta.Stats, error) {
	if err := s.read(ctx); err != nil {
		return meta.Stats{}, err
	}
	return s.st.Stats()
}

// ---- multipart ----

func (s *Service) CreateUpload(ctx context.Context, req *meta.CreateUploadRequest) error {
	u := req.Upload
	return s.exec(ctx, &Command{Op: OpCreateUpload, ReqID: req.ReqID, Time: req.Time, Upload: &u})
}

func (s *Service) PutPart(ctx context.Context, req *meta.PutPartRequest) error {
	return s.exec(ctx, &Command{Op: OpPutPart, ReqID: req.ReqID, Time: req.Time, PutPart: req})
}

func (s *Service) GetUpload(ctx context.Context, bucket, key, uploadID string) (*meta.Upload, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.GetUpload(bucket, key, uploadID)
}

func (s *Service) GetPart(ctx context.Context, bucket, key, uploadID string, number int) (*meta.Part, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.GetPart(bucket, key, uploadID, number)
}

func (s *Service) ListParts(ctx context.Context, req *meta.ListPartsRequest) (*meta.ListPartsResult, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.ListParts(req)
}

func (s *Service) ListUploads(ctx context.Context, req *meta.ListUploadsRequest) (*meta.ListUploadsResult, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.ListUploads(req)
}

func (s *Service) CompleteUpload(ctx context.Context, req *meta.CompleteUploadRequest) (*meta.Object, error) {
	v, err := s.propose(ctx, &Command{Op: OpCompleteUpload, ReqID: req.ReqID, Time: req.Time, Complete: req})
	if err != nil {
		return nil, err
	}
	o, ok := v.(*meta.Object)
	if !ok {
		return nil, fmt.Errorf("server: complete upload: unexpected result %T", v)
	}
	return o, nil
}

func (s *Service) AbortUpload(ctx context.Context, reqID string, t int64, bucket, key, uploadID string) error {
	return s.exec(ctx, &Command{Op: OpAbortUpload, ReqID: reqID, Time: t, Bucket: bucket, Key: key, UploadID: uploadID})
}

// ---- cluster ----

func (s *Service) RegisterNode(ctx context.Context, reqID string, n meta.Node) error {
	return s.exec(ctx, &Command{Op: OpRegisterNode, ReqID: reqID, Time: s.now(), Node: n})
}

func (s *Service) Heartbeat(ctx context.Context, reqID string, n meta.Node) error {
	return s.exec(ctx, &Command{Op: OpHeartbeat, ReqID: reqID, Time: s.now(), Node: n})
}

func (s *Service) ListNodes(ctx context.Context) ([]meta.Node, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.ListNodes()
}

func (s *Service) PutPool(ctx context.Context, reqID string, p meta.Pool) error {
	return s.exec(ctx, &Command{Op: OpPutPool, ReqID: reqID, Time: s.now(), Pool: p})
}

func (s *Service) ListPools(ctx context.Context) ([]meta.Pool, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.ListPools()
}

func (s *Service) PutUser(ctx context.Context, reqID string, u meta.User) error {
	return s.exec(ctx, &Command{Op: OpPutUser, ReqID: reqID, Time: s.now(), User: u})
}

func (s *Service) DeleteUser(ctx context.Context, reqID string, name string) error {
	return s.exec(ctx, &Command{Op: OpDeleteUser, ReqID: reqID, Time: s.now(), Name: name})
}

func (s *Service) GetUserByKey(ctx context.Context, accessKey string) (meta.User, error) {
	if err := s.read(ctx); err != nil {
		return meta.User{}, err
	}
	return s.st.GetUserByKey(accessKey)
}

func (s *Service) ListUsers(ctx context.Context) ([]meta.User, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.ListUsers()
}
