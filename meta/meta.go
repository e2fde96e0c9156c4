// Package meta defines the metadata service: buckets, object manifests, the
// chunk index, packs, nodes, pools, multipart uploads and users. It is the
// single source of truth, replicated by Raft (meta/raftmeta) with its state in
// Pebble (meta/server), reached in process or over gRPC (meta/remote).
// meta/metatest is the conformance suite every implementation passes.
//
// Every mutating request carries ReqID (idempotency: a retried request with
// the same ID is applied once and returns the first result) and Time (unix
// nanoseconds chosen by the caller, because the replicated state machine may
// not read a clock). All reads are linearizable.
package meta

import (
	"context"
	"errors"
	"fmt"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/pack"
)

// Errors. They cross the network as stable codes (see errors.go) and come
// back as the same sentinels, so callers always match with errors.Is.
var (
	ErrNoSuchBucket      = errors.New("meta: no such bucket")
	ErrBucketExists      = errors.New("meta: bucket exists")       // owned by another user
	ErrBucketOwnedByYou  = errors.New("meta: bucket owned by you") // create of own bucket
	ErrBucketNotEmpty    = errors.New("meta: bucket not empty")    // delete of a bucket with objects or uploads
	ErrInvalidBucketName = errors.New("meta: invalid bucket name") // S3 naming rules
	ErrInvalidKey        = errors.New("meta: invalid object key")  // empty, > 1024 bytes, invalid UTF-8
	ErrNoSuchKey         = errors.New("meta: no such key")         // object missing
	ErrNoSuchUpload      = errors.New("meta: no such upload")      // multipart upload missing
	ErrInvalidPart       = errors.New("meta: invalid part")        // unknown part or ETag mismatch on complete
	ErrInvalidPartOrder  = errors.New("meta: invalid part order")  // complete with parts not ascending
	ErrEntityTooSmall    = errors.New("meta: part too small")      // a non-last part below 5 MiB
	ErrPrecondition      = errors.New("meta: precondition failed") // IfMatch/IfNoneMatch on a commit
	ErrMissingChunks     = errors.New("meta: referenced chunks missing")
	ErrNoSuchUser        = errors.New("meta: no such user")
	ErrUserExists        = errors.New("meta: user exists")
	ErrNoSuchPool        = errors.New("meta: no such pool")
	ErrNoSuchNode        = errors.New("meta: no such node")
	ErrInvalidArgument   = errors.New("meta: invalid argument")    // malformed or oversize request
	ErrNotLeader         = errors.New("meta: not the leader")      // internal; clients retry elsewhere
	ErrUnavailable       = errors.New("meta: service unavailable") // no quorum, timeout
	ErrNoSuchConfig      = errors.New("meta: no such bucket configuration")
	ErrNoSuchVersion     = errors.New("meta: no such version") // GetObjectVersion of an unknown version ID
)

// MissingChunksError is returned by commits that reference chunks the index
// does not hold (never uploaded, or collected after their grace period). It
// matches ErrMissingChunks. The caller uploads them and retries.
type MissingChunksError struct {
	Addrs []chunk.Addr
}

func (e *MissingChunksError) Error() string {
	if len(e.Addrs) == 0 {
		return "meta: referenced chunks missing"
	}
	return fmt.Sprintf("meta: %d referenced chunks missing (first %v)", len(e.Addrs), e.Addrs[0])
}

// Is makes errors.Is(err, ErrMissingChunks) hold.
func (e *MissingChunksError) Is(target error) bool { return target == ErrMissingChunks }

// Bucket is one S3 bucket.
type Bucket struct {
	Name    string
	Owner   string // user name of the creator
	Created int64  // unix ns
	Region  string
	// DomainKey, when 32 bytes, makes the bucket a private dedup domain:
	// chunk IDs are keyed BLAKE3 with this key. Empty: the global domain.
	DomainKey []byte
	// Versioning is the bucket's versioning state: "" (never enabled),
	// VersioningEnabled or VersioningSuspended.
	Versioning string
}

// ChunkRef is one entry of an object's manifest.
type ChunkRef struct {
	Addr chunk.Addr
	Size uint32 // plaintext bytes
}

// Object is an object's metadata and manifest.
type Object struct {
	Bucket, Key string
	Size        int64
	ETag        string // without quotes; "hex" or "hex-N" for multipart
	Modified    int64  // unix ns, the commit's Time
	ContentType string
	// Headers holds the standard headers stored with the object, by canonical
	// name: Content-Encoding, Content-Disposition, Content-Language,
	// Cache-Control, Expires.
	Headers  map[string]string
	UserMeta map[string]string // x-amz-meta-* without the prefix, lower case names
	Tags     map[string]string
	// Checksums by algorithm name ("CRC32", "CRC32C", "CRC64NVME", "SHA1",
	// "SHA256", ...) holds base64 values; ChecksumType is "FULL_OBJECT" or
	// "COMPOSITE" (multipart).
	Checksums    map[string]string
	ChecksumType string
	// PartSizes, for a completed multipart object, are the parts' sizes in
	// order (GET ?partNumber=N and the ETag's -N); PartChecksums, when the
	// upload had checksums, each part's checksums by algorithm (base64).
	PartSizes     []int64
	PartChecksums []map[string]string
	// Versioning. VersionID is "" for the null version (written while the
	// bucket's versioning was never enabled, or suspended). DeleteMarker
	// marks a delete marker version (no data). IsLatest is set on results
	// that list or fetch versions.
	VersionID    string
	DeleteMarker bool
	IsLatest     bool
	// Object Lock of this version: RetentionMode "GOVERNANCE" or
	// "COMPLIANCE" (or "") until RetainUntil (unix ns), and LegalHold.
	// The S3 layer decides (s3api/objectlock); meta stores.
	RetentionMode string
	RetainUntil   int64
	LegalHold     bool
	// The manifest: Chunks in order, or Inline data for tiny objects (then
	// Chunks is empty). Listing results leave both empty.
	Chunks []ChunkRef
	Inline []byte
}

// ChunkInfo is one chunk index entry: where a chunk's stored frame lives.
type ChunkInfo struct {
	Addr   chunk.Addr
	Pack   pack.ID
	Offset int64  // byte offset of the stored frame inside the pack
	Length int32  // stored frame length (codec tag + compressed bytes)
	Size   uint32 // plaintext length
	Refs   int64  // reference count; 0 means tombstoned (within grace)
	Found  bool   // LookupChunks: false if the index does not hold Addr
}

// Pack is one erasure-coded stripe of chunk frames.
type Pack struct {
	ID        pack.ID
	Pool      string
	K, M      int
	Length    int64    // pack bytes before coding
	ShardSize int64    // bytes per shard
	Nodes     []string // node ID holding shard i (len K+M)
	Missing   []int    // shard indexes known missing, awaiting repair
	LiveBytes int64    // bytes of frames still referenced
	Created   int64
}

// PutObjectRequest commits an object version: new packs, new chunk entries,
// the manifest and refcount changes, atomically. Chunks of the manifest that
// are neither in NewChunks nor in the index fail the commit with
// *MissingChunksError; tombstoned chunks are revived.
type PutObjectRequest struct {
	ReqID     string
	Time      int64
	Object    Object // Modified is set to Time
	NewPacks  []Pack
	NewChunks []ChunkInfo
	// Conditional write: IfMatch (an ETag) or IfNoneMatch ("*") fail the
	// commit with ErrPrecondition when they do not hold.
	IfMatch, IfNoneMatch string
}

// DeleteObjectRequest deletes a key; deleting a missing key succeeds.
// VersionID and MarkerVersionID are used by DeleteObjectVersion only (see
// Versions); DeleteObject ignores them and behaves as DeleteObjectVersion
// without VersionID.
type DeleteObjectRequest struct {
	ReqID       string
	Time        int64
	Bucket, Key string
	// VersionID, when set, removes that version permanently ("null" names
	// the null version).
	VersionID string
	// MarkerVersionID is the ID given to a delete marker if one is created
	// (bucket versioning Enabled); chosen by the caller, like all IDs.
	MarkerVersionID string
}

// ListRequest lists a bucket in key order, S3 style. Marker is exclusive
// (V1 marker, V2 start-after or decoded continuation token).
type ListRequest struct {
	Bucket, Prefix, Delimiter, Marker string
	MaxKeys                           int // 0 means 1000; at most 1000 are returned
}

// ListResult is one page. Objects carry no manifest. NextMarker is the last
// key or common prefix returned, set when IsTruncated.
type ListResult struct {
	Objects        []Object
	CommonPrefixes []string
	IsTruncated    bool
	NextMarker     string
}

// Upload is one multipart upload in progress.
type Upload struct {
	Bucket, Key, UploadID string
	Initiated             int64
	Object                Object // headers and metadata given at create
}

// Part is one uploaded part.
type Part struct {
	Number    int
	Size      int64
	ETag      string // without quotes
	Modified  int64
	Checksums map[string]string
	Chunks    []ChunkRef
	Inline    []byte
}

// CreateUploadRequest starts a multipart upload; UploadID is chosen by the caller.
type CreateUploadRequest struct {
	ReqID  string
	Time   int64
	Upload Upload
}

// PutPartRequest records a part (replacing one with the same number), with
// its new packs and chunks as in PutObjectRequest.
type PutPartRequest struct {
	ReqID                 string
	Time                  int64
	Bucket, Key, UploadID string
	Part                  Part
	NewPacks              []Pack
	NewChunks             []ChunkInfo
}

// CompletedPart names a part in CompleteUploadRequest.
type CompletedPart struct {
	Number int
	ETag   string // without quotes
}

// CompleteUploadRequest turns an upload into an object: parts in ascending
// order, ETags must match, every part but the last at least 5 MiB. The
// object's ETag is hex(md5(concat(binary part md5s)))-N. Parts not named are
// released.
type CompleteUploadRequest struct {
	ReqID                 string
	Time                  int64
	Bucket, Key, UploadID string
	Parts                 []CompletedPart
	// Checksums of the whole object (COMPOSITE), computed by the caller.
	Checksums map[string]string
	// VersionID of the new object if the bucket's versioning is Enabled
	// (see Versions).
	VersionID string
}

// ListPartsRequest and ListUploadsRequest page S3 style.
type ListPartsRequest struct {
	Bucket, Key, UploadID string
	Marker, MaxParts      int
}

type ListPartsResult struct {
	Upload      Upload
	Parts       []Part // without manifests
	IsTruncated bool
	NextMarker  int
}

type ListUploadsRequest struct {
	Bucket, Prefix, Delimiter, KeyMarker, UploadIDMarker string
	MaxUploads                                           int
}

type ListUploadsResult struct {
	Uploads                           []Upload
	CommonPrefixes                    []string
	IsTruncated                       bool
	NextKeyMarker, NextUploadIDMarker string
}

// Node is a storage node as registered with metad.
type Node struct {
	ID, Addr                 string
	Region, Zone, Rack, Host string
	Class                    string // "hdd" or "ssd"
	Capacity, Free, Used     int64
	Shards                   int64
	Failed                   bool  // a drive failed; takes no writes
	LastSeen                 int64 // unix ns of the last heartbeat
}

// Pool is a placement pool.
type Pool struct {
	Name   string
	K, M   int    // erasure code; K=1 with M=n-1 means n-way replication
	Codec  string // compression: "zstd", "s2", "none"
	Class  string // device class, "" = any
	Domain string // failure-domain level: "host", "rack", "zone", "region"
	PGs    int    // placement group count
}

// User is an account. SecretEnc is the secret key sealed with the cluster's
// key (the metadata service never sees plaintext secrets).
type User struct {
	Name      string
	AccessKey string
	SecretEnc []byte
	Created   int64
	Root      bool
}

// Stats are cluster-wide totals, kept by the state machine.
type Stats struct {
	Buckets      int64
	Objects      int64
	LogicalBytes int64 // sum of object sizes
	StoredBytes  int64 // sum of pack lengths of live packs (before coding)
	RawBytes     int64 // sum of shard bytes (after coding)
	Chunks       int64 // chunk references from manifests
	UniqueChunks int64 // chunk index entries with Refs > 0
	Packs        int64
	Uploads      int64
}

// GCRequest collects chunks tombstoned before Time-Grace: their index entries
// are removed and their packs' LiveBytes drop. Packs left with no live bytes
// are returned (and forgotten after ForgetPacks) so their shards can be deleted.
type GCRequest struct {
	ReqID string
	Time  int64
	Grace int64 // ns
	Limit int   // at most this many chunks per call (0 = 10000)
}

type GCResult struct {
	CollectedChunks int
	DeadPacks       []Pack
	More            bool // call again
}

// Buckets is the bucket part of the service.
type Buckets interface {
	CreateBucket(ctx context.Context, reqID string, t int64, b Bucket) error
	DeleteBucket(ctx context.Context, reqID string, t int64, name string) error
	GetBucket(ctx context.Context, name string) (Bucket, error)
	ListBuckets(ctx context.Context) ([]Bucket, error)
}

// Objects is the object part: commits, reads and listing.
type Objects interface {
	PutObject(ctx context.Context, req *PutObjectRequest) error
	GetObject(ctx context.Context, bucket, key string) (*Object, error)
	DeleteObject(ctx context.Context, req *DeleteObjectRequest) error
	// PutObjectTags replaces an object's tag set.
	PutObjectTags(ctx context.Context, reqID string, t int64, bucket, key string, tags map[string]string) error
	ListObjects(ctx context.Context, req *ListRequest) (*ListResult, error)
}

// Chunks is the chunk index and pack registry.
type Chunks interface {
	// LookupChunks answers for each addr, in order. Thousands per call.
	LookupChunks(ctx context.Context, addrs []chunk.Addr) ([]ChunkInfo, error)
	GetPacks(ctx context.Context, ids []pack.ID) ([]Pack, error) // missing packs: zero ID
	MarkShardsMissing(ctx context.Context, reqID string, id pack.ID, shards []int) error
	// SetPackShards records a repaired or moved shard placement.
	SetPackShards(ctx context.Context, reqID string, id pack.ID, nodes []string, missing []int) error
	CollectGarbage(ctx context.Context, req *GCRequest) (*GCResult, error)
	ForgetPacks(ctx context.Context, reqID string, ids []pack.ID) error
	Stats(ctx context.Context) (Stats, error)
}

// Multipart is the multipart-upload part.
type Multipart interface {
	CreateUpload(ctx context.Context, req *CreateUploadRequest) error
	PutPart(ctx context.Context, req *PutPartRequest) error
	GetUpload(ctx context.Context, bucket, key, uploadID string) (*Upload, error)
	// GetPart returns a part with its manifest (UploadPartCopy, checks).
	GetPart(ctx context.Context, bucket, key, uploadID string, number int) (*Part, error)
	ListParts(ctx context.Context, req *ListPartsRequest) (*ListPartsResult, error)
	ListUploads(ctx context.Context, req *ListUploadsRequest) (*ListUploadsResult, error)
	CompleteUpload(ctx context.Context, req *CompleteUploadRequest) (*Object, error)
	AbortUpload(ctx context.Context, reqID string, t int64, bucket, key, uploadID string) error
}

// Cluster is nodes, pools and users.
type Cluster interface {
	RegisterNode(ctx context.Context, reqID string, n Node) error // upsert, n.LastSeen set by caller
	Heartbeat(ctx context.Context, reqID string, n Node) error    // updates capacity, health, LastSeen
	ListNodes(ctx context.Context) ([]Node, error)
	PutPool(ctx context.Context, reqID string, p Pool) error
	ListPools(ctx context.Context) ([]Pool, error)
	PutUser(ctx context.Context, reqID string, u User) error // ErrUserExists on a taken name or key
	DeleteUser(ctx context.Context, reqID string, name string) error
	GetUserByKey(ctx context.Context, accessKey string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
}

// BucketConfigs stores a bucket's configuration documents by name:
// "policy" (JSON), "cors", "tagging", "object-lock", "lifecycle" (XML as
// put), each at most 64 KiB. The documents are validated by the S3 layer;
// the metadata service stores bytes.
type BucketConfigs interface {
	// PutBucketConfig replaces document name of bucket; an empty doc
	// deletes it. ErrNoSuchBucket if the bucket does not exist.
	PutBucketConfig(ctx context.Context, reqID string, t int64, bucket, name string, doc []byte) error
	// GetBucketConfig returns the document, or ErrNoSuchConfig.
	GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error)
}

// Service is the whole metadata service. Safe for concurrent use.
type Service interface {
	Buckets
	Versions
	BucketConfigs
	Objects
	Chunks
	Multipart
	Cluster
}

// Bucket versioning states (Bucket.Versioning).
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
	// NullVersion is the S3 name of the version whose VersionID is "".
	NullVersion = "null"
)

// DeleteObjectResult tells what a delete did: DeleteMarker with the
// marker's VersionID when it created a delete marker; when it removed a
// version permanently, that VersionID and DeleteMarker if the removed
// version was a delete marker.
type DeleteObjectResult struct {
	VersionID    string
	DeleteMarker bool
}

// ListVersionsRequest lists every version of a bucket's keys, S3 style:
// keys in order, each key's versions newest first. KeyMarker and
// VersionIDMarker continue after that version (without VersionIDMarker,
// after every version of KeyMarker).
type ListVersionsRequest struct {
	Bucket, Prefix, Delimiter  string
	KeyMarker, VersionIDMarker string
	MaxKeys                    int // 0 means 1000; at most 1000 are returned
}

// ListVersionsResult is one page. Versions holds objects and delete markers
// (Object.DeleteMarker) in listing order, with IsLatest and VersionID set
// ("" for the null version) and no manifest.
type ListVersionsResult struct {
	Versions                           []Object
	CommonPrefixes                     []string
	IsTruncated                        bool
	NextKeyMarker, NextVersionIDMarker string
}

// Versions is object versioning. The current version of a key is what
// GetObject returns; when the newest version is a delete marker GetObject
// answers ErrNoSuchKey. Every version holds its chunk refs until it is
// removed with DeleteObjectVersion and a VersionID.
//
// PutObject and CompleteUpload on an Enabled bucket keep the previous
// version as non-current; Req.Object.VersionID is the new version's ID,
// chosen by the caller (random, URL-safe, at most 1024 bytes; derived from
// ReqID if empty). On a never-versioned or Suspended bucket the new object
// is the null version (VersionID ignored) and replaces the previous null
// version.
type Versions interface {
	// SetBucketVersioning sets state VersioningEnabled or
	// VersioningSuspended (ErrInvalidArgument otherwise).
	SetBucketVersioning(ctx context.Context, reqID string, t int64, bucket, state string) error
	// GetObjectVersion returns one version with its manifest; versionID ""
	// or "null" names the null version. A delete marker is returned with
	// DeleteMarker set. ErrNoSuchVersion if absent.
	GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*Object, error)
	// DeleteObjectVersion deletes as S3 does: without req.VersionID it
	// creates a delete marker (Enabled, Suspended: a null marker replacing
	// the null version) or removes the object (never versioned); with it,
	// that version is removed permanently and, if it was current, the
	// newest remaining version becomes current. Missing versions succeed.
	DeleteObjectVersion(ctx context.Context, req *DeleteObjectRequest) (*DeleteObjectResult, error)
	ListObjectVersions(ctx context.Context, req *ListVersionsRequest) (*ListVersionsResult, error)
	// PutObjectVersionTags replaces one version's tag set (a delete marker:
	// ErrInvalidArgument; unknown: ErrNoSuchVersion).
	PutObjectVersionTags(ctx context.Context, reqID string, t int64, bucket, key, versionID string, tags map[string]string) error
	// PutObjectLock changes one version's retention and/or legal hold
	// (versionID "" names the current version; a delete marker:
	// ErrInvalidArgument; unknown: ErrNoSuchVersion or ErrNoSuchKey).
	PutObjectLock(ctx context.Context, reqID string, t int64, bucket, key, versionID string, u ObjectLockUpdate) error
}

// ObjectLockUpdate is what PutObjectLock changes: the retention when
// SetRetention (an empty mode removes it), the legal hold when SetLegalHold.
type ObjectLockUpdate struct {
	SetRetention  bool
	RetentionMode string
	RetainUntil   int64
	SetLegalHold  bool
	LegalHold     bool
}
