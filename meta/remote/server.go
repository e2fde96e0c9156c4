package remote

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/metapb"
)

// MaxMessageBytes bounds one request or response. A 1,000-chunk manifest is
// about 40 KB on the wire; a LookupChunks of 10,000 addresses about 1 MB.
// Larger requests fail with ErrInvalidArgument (gRPC ResourceExhausted).
const MaxMessageBytes = 16 << 20

// Member is one server of the metadata Raft group.
type Member struct {
	ID, RaftAddr, APIAddr string
	Voter                 bool
}

// Status describes the answering member and the group as it sees it.
type Status struct {
	ID, State           string // State: Leader, Follower, Candidate, Shutdown
	LeaderID, LeaderAPI string
	Members             []Member
	Term, LastIndex     uint64
	CommitIndex         uint64
	AppliedIndex        uint64
}

// AdminHooks is what the server needs from the replicated node for admin
// RPCs and leader hints. meta/raftmeta.Node implements it.
type AdminHooks interface {
	Status(ctx context.Context) (Status, error)
	// Join adds a voter; only the leader can (ErrNotLeader otherwise).
	Join(ctx context.Context, id, raftAddr, apiAddr string) error
	RemoveVoter(ctx context.Context, id string) error
	// LeaderAPI returns the leader's API address, "" if unknown.
	LeaderAPI() string
}

// ServerOptions returns the gRPC server options the protocol expects
// (message size bounds).
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes),
		// Clients ping every 10 s (meta/remote Dial); allow it.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	}
}

// Server exposes a meta.Service (and, with AdminHooks, the Raft group's
// admin operations) over gRPC. Register it on a grpc.Server built with
// ServerOptions.
type Server struct {
	metapb.UnimplementedMetaServer
	svc   meta.Service
	admin AdminHooks // nil: admin RPCs fail with ErrInvalidArgument
}

// NewServer returns the gRPC service of svc. admin may be nil.
func NewServer(svc meta.Service, admin AdminHooks) *Server {
	return &Server{svc: svc, admin: admin}
}

// Register registers s on g.
func (s *Server) Register(g grpc.ServiceRegistrar) { metapb.RegisterMetaServer(g, s) }

var empty = &metapb.Empty{}

func (s *Server) fail(err error) error {
	leader := ""
	if s.admin != nil {
		leader = s.admin.LeaderAPI()
	}
	return toStatus(err, leader)
}

// done turns a void result into a reply.
func (s *Server) done(err error) (*metapb.Empty, error) {
	if err != nil {
		return nil, s.fail(err)
	}
	return empty, nil
}

func (s *Server) CreateBucket(ctx context.Context, r *metapb.CreateBucketRequest) (*metapb.Empty, error) {
	return s.done(s.svc.CreateBucket(ctx, r.GetReqId(), r.GetTime(), bucketFromWire(r.GetBucket())))
}

func (s *Server) DeleteBucket(ctx context.Context, r *metapb.DeleteBucketRequest) (*metapb.Empty, error) {
	return s.done(s.svc.DeleteBucket(ctx, r.GetReqId(), r.GetTime(), r.GetName()))
}

func (s *Server) GetBucket(ctx context.Context, r *metapb.GetBucketRequest) (*metapb.Bucket, error) {
	b, err := s.svc.GetBucket(ctx, r.GetName())
	if err != nil {
		return nil, s.fail(err)
	}
	return bucketToWire(b), nil
}

func (s *Server) ListBuckets(ctx context.Context, _ *metapb.Empty) (*metapb.ListBucketsResponse, error) {
	bs, err := s.svc.ListBuckets(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.ListBucketsResponse{Buckets: make([]*metapb.Bucket, len(bs))}
	for i, b := range bs {
		out.Buckets[i] = bucketToWire(b)
	}
	return out, nil
}

func (s *Server) PutObject(ctx context.Context, r *metapb.PutObjectRequest) (*metapb.Empty, error) {
	o, err := objectFromWire(r.GetObject())
	if err != nil {
		return nil, s.fail(err)
	}
	packs, err := packsFromWire(r.GetNewPacks())
	if err != nil {
		return nil, s.fail(err)
	}
	chunks, err := chunkInfosFromWire(r.GetNewChunks())
	if err != nil {
		return nil, s.fail(err)
	}
	return s.done(s.svc.PutObject(ctx, &meta.PutObjectRequest{
		ReqID: r.GetReqId(), Time: r.GetTime(), Object: o, NewPacks: packs, NewChunks: chunks,
		IfMatch: r.GetIfMatch(), IfNoneMatch: r.GetIfNoneMatch(),
	}))
}

func (s *Server) GetObject(ctx context.Context, r *metapb.GetObjectRequest) (*metapb.Object, error) {
	o, err := s.svc.GetObject(ctx, r.GetBucket(), r.GetKey())
	if err != nil {
		return nil, s.fail(err)
	}
	return objectToWire(o), nil
}

func (s *Server) DeleteObject(ctx context.Context, r *metapb.DeleteObjectRequest) (*metapb.Empty, error) {
	return s.done(s.svc.DeleteObject(ctx, &meta.DeleteObjectRequest{ReqID: r.GetReqId(), Time: r.GetTime(), Bucket: r.GetBucket(), Key: r.GetKey()}))
}

func (s *Server) PutObjectTags(ctx context.Context, r *metapb.PutObjectTagsRequest) (*metapb.Empty, error) {
	return s.done(s.svc.PutObjectTags(ctx, r.GetReqId(), r.GetTime(), r.GetBucket(), r.GetKey(), nilMap(r.GetTags())))
}

func (s *Server) ListObjects(ctx context.Context, r *metapb.ListObjectsRequest) (*metapb.ListObjectsResponse, error) {
	res, err := s.svc.ListObjects(ctx, &meta.ListRequest{
		Bucket: r.GetBucket(), Prefix: r.GetPrefix(), Delimiter: r.GetDelimiter(), Marker: r.GetMarker(), MaxKeys: int(r.GetMaxKeys()),
	})
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.ListObjectsResponse{CommonPrefixes: res.CommonPrefixes, IsTruncated: res.IsTruncated, NextMarker: res.NextMarker}
	out.Objects = make([]*metapb.Object, len(res.Objects))
	for i := range res.Objects {
		out.Objects[i] = objectToWire(&res.Objects[i])
	}
	return out, nil
}

func (s *Server) LookupChunks(ctx context.Context, r *metapb.LookupChunksRequest) (*metapb.LookupChunksResponse, error) {
	addrs, err := addrsFromWire(r.GetAddrs())
	if err != nil {
		return nil, s.fail(err)
	}
	cs, err := s.svc.LookupChunks(ctx, addrs)
	if err != nil {
		return nil, s.fail(err)
	}
	return &metapb.LookupChunksResponse{Chunks: chunkInfosToWire(cs)}, nil
}

func (s *Server) GetPacks(ctx context.Context, r *metapb.GetPacksRequest) (*metapb.GetPacksResponse, error) {
	ids, err := idsFromWire(r.GetIds())
	if err != nil {
		return nil, s.fail(err)
	}
	ps, err := s.svc.GetPacks(ctx, ids)
	if err != nil {
		return nil, s.fail(err)
	}
	return &metapb.GetPacksResponse{Packs: packsToWire(ps)}, nil
}

func (s *Server) MarkShardsMissing(ctx context.Context, r *metapb.MarkShardsMissingRequest) (*metapb.Empty, error) {
	id, err := idFromWire(r.GetId())
	if err != nil {
		return nil, s.fail(err)
	}
	return s.done(s.svc.MarkShardsMissing(ctx, r.GetReqId(), id, intsFromWire(r.GetShards())))
}

func (s *Server) SetPackShards(ctx context.Context, r *metapb.SetPackShardsRequest) (*metapb.Empty, error) {
	id, err := idFromWire(r.GetId())
	if err != nil {
		return nil, s.fail(err)
	}
	return s.done(s.svc.SetPackShards(ctx, r.GetReqId(), id, nilStrs(r.GetNodes()), intsFromWire(r.GetMissing())))
}

func (s *Server) CollectGarbage(ctx context.Context, r *metapb.CollectGarbageRequest) (*metapb.CollectGarbageResponse, error) {
	res, err := s.svc.CollectGarbage(ctx, &meta.GCRequest{ReqID: r.GetReqId(), Time: r.GetTime(), Grace: r.GetGrace(), Limit: int(r.GetLimit())})
	if err != nil {
		return nil, s.fail(err)
	}
	return &metapb.CollectGarbageResponse{CollectedChunks: int64(res.CollectedChunks), DeadPacks: packsToWire(res.DeadPacks), More: res.More}, nil
}

func (s *Server) ForgetPacks(ctx context.Context, r *metapb.ForgetPacksRequest) (*metapb.Empty, error) {
	ids, err := idsFromWire(r.GetIds())
	if err != nil {
		return nil, s.fail(err)
	}
	return s.done(s.svc.ForgetPacks(ctx, r.GetReqId(), ids))
}

func (s *Server) Stats(ctx context.Context, _ *metapb.Empty) (*metapb.ClusterStats, error) {
	st, err := s.svc.Stats(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	return statsToWire(&st), nil
}

func (s *Server) CreateUpload(ctx context.Context, r *metapb.CreateUploadRequest) (*metapb.Empty, error) {
	u, err := uploadFromWire(r.GetUpload())
	if err != nil {
		return nil, s.fail(err)
	}
	return s.done(s.svc.CreateUpload(ctx, &meta.CreateUploadRequest{ReqID: r.GetReqId(), Time: r.GetTime(), Upload: u}))
}

func (s *Server) PutPart(ctx context.Context, r *metapb.PutPartRequest) (*metapb.Empty, error) {
	p, err := partFromWire(r.GetPart())
	if err != nil {
		return nil, s.fail(err)
	}
	packs, err := packsFromWire(r.GetNewPacks())
	if err != nil {
		return nil, s.fail(err)
	}
	chunks, err := chunkInfosFromWire(r.GetNewChunks())
	if err != nil {
		return nil, s.fail(err)
	}
	return s.done(s.svc.PutPart(ctx, &meta.PutPartRequest{
		ReqID: r.GetReqId(), Time: r.GetTime(), Bucket: r.GetBucket(), Key: r.GetKey(), UploadID: r.GetUploadId(),
		Part: p, NewPacks: packs, NewChunks: chunks,
	}))
}

func (s *Server) GetUpload(ctx context.Context, r *metapb.GetUploadRequest) (*metapb.Upload, error) {
	u, err := s.svc.GetUpload(ctx, r.GetBucket(), r.GetKey(), r.GetUploadId())
	if err != nil {
		return nil, s.fail(err)
	}
	return uploadToWire(u), nil
}

func (s *Server) GetPart(ctx context.Context, r *metapb.GetPartRequest) (*metapb.Part, error) {
	p, err := s.svc.GetPart(ctx, r.GetBucket(), r.GetKey(), r.GetUploadId(), int(r.GetNumber()))
	if err != nil {
		return nil, s.fail(err)
	}
	return partToWire(p), nil
}

func (s *Server) ListParts(ctx context.Context, r *metapb.ListPartsRequest) (*metapb.ListPartsResponse, error) {
	res, err := s.svc.ListParts(ctx, &meta.ListPartsRequest{
		Bucket: r.GetBucket(), Key: r.GetKey(), UploadID: r.GetUploadId(), Marker: int(r.GetMarker()), MaxParts: int(r.GetMaxParts()),
	})
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.ListPartsResponse{Upload: uploadToWire(&res.Upload), IsTruncated: res.IsTruncated, NextMarker: i32(res.NextMarker)}
	out.Parts = make([]*metapb.Part, len(res.Parts))
	for i := range res.Parts {
		out.Parts[i] = partToWire(&res.Parts[i])
	}
	return out, nil
}

func (s *Server) ListUploads(ctx context.Context, r *metapb.ListUploadsRequest) (*metapb.ListUploadsResponse, error) {
	res, err := s.svc.ListUploads(ctx, &meta.ListUploadsRequest{
		Bucket: r.GetBucket(), Prefix: r.GetPrefix(), Delimiter: r.GetDelimiter(), KeyMarker: r.GetKeyMarker(),
		UploadIDMarker: r.GetUploadIdMarker(), MaxUploads: int(r.GetMaxUploads()),
	})
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.ListUploadsResponse{
		CommonPrefixes: res.CommonPrefixes, IsTruncated: res.IsTruncated,
		NextKeyMarker: res.NextKeyMarker, NextUploadIdMarker: res.NextUploadIDMarker,
	}
	out.Uploads = make([]*metapb.Upload, len(res.Uploads))
	for i := range res.Uploads {
		out.Uploads[i] = uploadToWire(&res.Uploads[i])
	}
	return out, nil
}

func (s *Server) CompleteUpload(ctx context.Context, r *metapb.CompleteUploadRequest) (*metapb.Object, error) {
	req := &meta.CompleteUploadRequest{
		ReqID: r.GetReqId(), Time: r.GetTime(), Bucket: r.GetBucket(), Key: r.GetKey(), UploadID: r.GetUploadId(),
		Checksums: nilMap(r.GetChecksums()), VersionID: r.GetVersionId(),
	}
	if ps := r.GetParts(); len(ps) > 0 {
		req.Parts = make([]meta.CompletedPart, len(ps))
		for i, p := range ps {
			req.Parts[i] = meta.CompletedPart{Number: int(p.GetNumber()), ETag: p.GetEtag()}
		}
	}
	o, err := s.svc.CompleteUpload(ctx, req)
	if err != nil {
		return nil, s.fail(err)
	}
	return objectToWire(o), nil
}

func (s *Server) AbortUpload(ctx context.Context, r *metapb.AbortUploadRequest) (*metapb.Empty, error) {
	return s.done(s.svc.AbortUpload(ctx, r.GetReqId(), r.GetTime(), r.GetBucket(), r.GetKey(), r.GetUploadId()))
}

func (s *Server) RegisterNode(ctx context.Context, r *metapb.NodeRequest) (*metapb.Empty, error) {
	return s.done(s.svc.RegisterNode(ctx, r.GetReqId(), nodeFromWire(r.GetNode())))
}

func (s *Server) Heartbeat(ctx context.Context, r *metapb.NodeRequest) (*metapb.Empty, error) {
	return s.done(s.svc.Heartbeat(ctx, r.GetReqId(), nodeFromWire(r.GetNode())))
}

func (s *Server) ListNodes(ctx context.Context, _ *metapb.Empty) (*metapb.ListNodesResponse, error) {
	ns, err := s.svc.ListNodes(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.ListNodesResponse{Nodes: make([]*metapb.Node, len(ns))}
	for i := range ns {
		out.Nodes[i] = nodeToWire(&ns[i])
	}
	return out, nil
}

func (s *Server) PutPool(ctx context.Context, r *metapb.PutPoolRequest) (*metapb.Empty, error) {
	return s.done(s.svc.PutPool(ctx, r.GetReqId(), poolFromWire(r.GetPool())))
}

func (s *Server) ListPools(ctx context.Context, _ *metapb.Empty) (*metapb.ListPoolsResponse, error) {
	ps, err := s.svc.ListPools(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.ListPoolsResponse{Pools: make([]*metapb.Pool, len(ps))}
	for i := range ps {
		out.Pools[i] = poolToWire(&ps[i])
	}
	return out, nil
}

func (s *Server) PutUser(ctx context.Context, r *metapb.PutUserRequest) (*metapb.Empty, error) {
	return s.done(s.svc.PutUser(ctx, r.GetReqId(), userFromWire(r.GetUser())))
}

func (s *Server) DeleteUser(ctx context.Context, r *metapb.DeleteUserRequest) (*metapb.Empty, error) {
	return s.done(s.svc.DeleteUser(ctx, r.GetReqId(), r.GetName()))
}

func (s *Server) GetUserByKey(ctx context.Context, r *metapb.GetUserByKeyRequest) (*metapb.User, error) {
	u, err := s.svc.GetUserByKey(ctx, r.GetAccessKey())
	if err != nil {
		return nil, s.fail(err)
	}
	return userToWire(&u), nil
}

func (s *Server) ListUsers(ctx context.Context, _ *metapb.Empty) (*metapb.ListUsersResponse, error) {
	us, err := s.svc.ListUsers(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.ListUsersResponse{Users: make([]*metapb.User, len(us))}
	for i := range us {
		out.Users[i] = userToWire(&us[i])
	}
	return out, nil
}

func (s *Server) Status(ctx context.Context, _ *metapb.Empty) (*metapb.StatusResponse, error) {
	if s.admin == nil {
		return nil, s.fail(invalid("no admin interface on this server"))
	}
	st, err := s.admin.Status(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &metapb.StatusResponse{
		Id: st.ID, State: st.State, LeaderId: st.LeaderID, LeaderApi: st.LeaderAPI, Term: st.Term,
		LastIndex: st.LastIndex, CommitIndex: st.CommitIndex, AppliedIndex: st.AppliedIndex,
	}
	for _, m := range st.Members {
		out.Servers = append(out.Servers, &metapb.Server{Id: m.ID, RaftAddr: m.RaftAddr, ApiAddr: m.APIAddr, Voter: m.Voter})
	}
	return out, nil
}

func (s *Server) Join(ctx context.Context, r *metapb.JoinRequest) (*metapb.Empty, error) {
	if s.admin == nil {
		return nil, s.fail(invalid("no admin interface on this server"))
	}
	if r.GetId() == "" || r.GetRaftAddr() == "" {
		return nil, s.fail(invalid("join needs an id and a raft address"))
	}
	return s.done(s.admin.Join(ctx, r.GetId(), r.GetRaftAddr(), r.GetApiAddr()))
}

func (s *Server) RemoveVoter(ctx context.Context, r *metapb.RemoveVoterRequest) (*metapb.Empty, error) {
	if s.admin == nil {
		return nil, s.fail(invalid("no admin interface on this server"))
	}
	if r.GetId() == "" {
		return nil, s.fail(invalid("remove needs an id"))
	}
	return s.done(s.admin.RemoveVoter(ctx, r.GetId()))
}
