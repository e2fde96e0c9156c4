package server

import (
	"fmt"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

// Op names a mutating operation. Values are persisted in the replicated log:
// append only, never reorder.
type Op uint8

const (
	OpCreateBucket Op = iota + 1
	OpDeleteBucket
	OpPutObject
	OpDeleteObject
	OpPutObjectTags
	OpMarkShardsMissing
	OpSetPackShards
	OpCollectGarbage
	OpForgetPacks
	OpCreateUpload
	OpPutPart
	OpCompleteUpload
	OpAbortUpload
	OpRegisterNode
	OpHeartbeat
	OpPutPool
	OpPutUser
	OpDeleteUser
	OpPutBucketConfig
	OpSetBucketVersioning
	OpDeleteObjectVersion
	OpPutObjectVersionTags
	OpPutObjectLock
	opMax
)

var opNames = [...]string{"", "CreateBucket", "DeleteBucket", "PutObject", "DeleteObject", "PutObjectTags",
	"MarkShardsMissing", "SetPackShards", "CollectGarbage", "ForgetPacks", "CreateUpload", "PutPart",
	"CompleteUpload", "AbortUpload", "RegisterNode", "Heartbeat", "PutPool", "PutUser", "DeleteUser",
	"PutBucketConfig", "SetBucketVersioning", "DeleteObjectVersion", "PutObjectVersionTags", "PutObjectLock"}

func (o Op) String() string {
	if o > 0 && o < opMax {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// commandV1 is the first byte of every encoded command.
const commandV1 = 1

// commandV2 commands append fields to some v1 layouts: OpPutObject the
// object's objectExt, OpCompleteUpload the VersionID.
const commandV2 = 2

// commandV3 commands append the upload template's objectLock to
// OpCreateUpload. EncodeCommand writes v3; DecodeCommand reads v1 to v3.
const commandV3 = 3

// Command is one mutating request as it travels through the replicated log.
// Op selects which fields are used:
//
//	OpCreateBucket      BucketInfo
//	OpDeleteBucket      Bucket
//	OpPutObject         Put
//	OpDeleteObject      Bucket, Key
//	OpPutObjectTags     Bucket, Key, Tags
//	OpMarkShardsMissing PackIDs[0], Shards
//	OpSetPackShards     PackIDs[0], Nodes, Shards (the missing shards)
//	OpCollectGarbage    Grace, Limit
//	OpForgetPacks       PackIDs
//	OpCreateUpload      Upload
//	OpPutPart           PutPart
//	OpCompleteUpload    Complete
//	OpAbortUpload       Bucket, Key, UploadID
//	OpRegisterNode      Node
//	OpHeartbeat         Node
//	OpPutPool           Pool
//	OpPutUser           User
//	OpDeleteUser        Name
//	OpPutBucketConfig   Bucket, Name, Doc (empty Doc deletes)
//	OpSetBucketVersioning  Bucket, Name (the state)
//	OpDeleteObjectVersion  Bucket, Key, VersionID, MarkerVersionID
//	OpPutObjectVersionTags Bucket, Key, VersionID, Tags
//	OpPutObjectLock        Bucket, Key, VersionID, Lock
//
// ReqID and Time are common to all. Time is the only clock Apply sees.
// Request structs pointed to are not modified by encoding; their own ReqID
// and Time fields are ignored in favour of the Command's.
type Command struct {
	Op    Op
	ReqID string
	Time  int64

	Bucket, Key, UploadID, Name string
	Tags                        map[string]string
	BucketInfo                  meta.Bucket
	Put                         *meta.PutObjectRequest
	Upload                      *meta.Upload
	PutPart                     *meta.PutPartRequest
	Complete                    *meta.CompleteUploadRequest
	Grace                       int64
	Limit                       int
	PackIDs                     []pack.ID
	Shards                      []int
	Nodes                       []string
	Node                        meta.Node
	Pool                        meta.Pool
	User                        meta.User
	Doc                         []byte
	VersionID, MarkerVersionID  string
	Lock                        meta.ObjectLockUpdate
}

// EncodeCommand returns c's binary form: version byte, op byte, ReqID, Time,
// then the op's fields (docs/arch/meta-state.md). It fails only for an
// unknown op or a missing request struct.
func EncodeCommand(c *Command) ([]byte, error) {
	e := enc{b: make([]byte, 0, commandSizeHint(c))}
	e.byte1(commandV3)
	e.byte1(byte(c.Op))
	e.str(c.ReqID)
	e.varint(c.Time)
	switch c.Op {
	case OpCreateBucket:
		e.raw(encodeBucket(&c.BucketInfo)[1:])
	case OpDeleteBucket:
		e.str(c.Bucket)
	case OpPutObject:
		if c.Put == nil {
			return nil, fmt.Errorf("server: encode %v: %w: nil request", c.Op, meta.ErrInvalidArgument)
		}
		r := c.Put
		e.str(r.Object.Bucket)
		e.str(r.Object.Key)
		e.objectBody(&r.Object)
		e.packs(r.NewPacks)
		e.chunkInfos(r.NewChunks)
		e.str(r.IfMatch)
		e.str(r.IfNoneMatch)
		e.objectExt(&r.Object)
	case OpDeleteObject:
		e.str(c.Bucket)
		e.str(c.Key)
	case OpPutObjectTags:
		e.str(c.Bucket)
		e.str(c.Key)
		e.strMap(c.Tags)
	case OpMarkShardsMissing, OpSetPackShards, OpForgetPacks:
		e.uvarint(uint64(len(c.PackIDs)))
		for _, id := range c.PackIDs {
			e.raw(id[:])
		}
		e.strs(c.Nodes)
		e.ints(c.Shards)
	case OpCollectGarbage:
		e.varint(c.Grace)
		e.varint(int64(c.Limit))
	case OpCreateUpload:
		if c.Upload == nil {
			return nil, fmt.Errorf("server: encode %v: %w: nil request", c.Op, meta.ErrInvalidArgument)
		}
		e.upload(c.Upload)
		e.objectLock(&c.Upload.Object)
	case OpPutPart:
		if c.PutPart == nil {
			return nil, fmt.Errorf("server: encode %v: %w: nil request", c.Op, meta.ErrInvalidArgument)
		}
		r := c.PutPart
		e.str(r.Bucket)
		e.str(r.Key)
		e.str(r.UploadID)
		e.part(&r.Part)
		e.packs(r.NewPacks)
		e.chunkInfos(r.NewChunks)
	case OpCompleteUpload:
		if c.Complete == nil {
			return nil, fmt.Errorf("server: encode %v: %w: nil request", c.Op, meta.ErrInvalidArgument)
		}
		r := c.Complete
		e.str(r.Bucket)
		e.str(r.Key)
		e.str(r.UploadID)
		e.uvarint(uint64(len(r.Parts)))
		for _, p := range r.Parts {
			e.varint(int64(p.Number))
			e.str(p.ETag)
		}
		e.strMap(r.Checksums)
		e.str(r.VersionID)
	case OpAbortUpload:
		e.str(c.Bucket)
		e.str(c.Key)
		e.str(c.UploadID)
	case OpRegisterNode, OpHeartbeat:
		e.node(&c.Node)
	case OpPutPool:
		e.pool(&c.Pool)
	case OpPutUser:
		e.user(&c.User)
	case OpDeleteUser:
		e.str(c.Name)
	case OpPutBucketConfig:
		e.str(c.Bucket)
		e.str(c.Name)
		e.bytes(c.Doc)
	case OpSetBucketVersioning:
		e.str(c.Bucket)
		e.str(c.Name)
	case OpDeleteObjectVersion:
		e.str(c.Bucket)
		e.str(c.Key)
		e.str(c.VersionID)
		e.str(c.MarkerVersionID)
	case OpPutObjectVersionTags:
		e.str(c.Bucket)
		e.str(c.Key)
		e.str(c.VersionID)
		e.strMap(c.Tags)
	case OpPutObjectLock:
		e.str(c.Bucket)
		e.str(c.Key)
		e.str(c.VersionID)
		e.bool1(c.Lock.SetRetention)
		e.str(c.Lock.RetentionMode)
		e.varint(c.Lock.RetainUntil)
		e.bool1(c.Lock.SetLegalHold)
		e.bool1(c.Lock.LegalHold)
	default:
		return nil, fmt.Errorf("server: encode: %w: unknown op %v", meta.ErrInvalidArgument, c.Op)
	}
	return e.b, nil
}

func commandSizeHint(c *Command) int {
	n := 64 + len(c.ReqID)
	switch {
	case c.Put != nil:
		n += 128 + len(c.Put.Object.Chunks)*34 + len(c.Put.Object.Inline) + len(c.Put.NewChunks)*64 + len(c.Put.NewPacks)*128
	case c.PutPart != nil:
		n += 128 + len(c.PutPart.Part.Chunks)*34 + len(c.PutPart.Part.Inline) + len(c.PutPart.NewChunks)*64 + len(c.PutPart.NewPacks)*128
	}
	return n
}

func (e *enc) packs(ps []meta.Pack) {
	e.uvarint(uint64(len(ps)))
	for i := range ps {
		e.pack(&ps[i])
	}
}

func (d *dec) packs() []meta.Pack {
	n := d.count(minPackSize)
	if n == 0 {
		return nil
	}
	ps := make([]meta.Pack, n)
	for i := range ps {
		d.pack(&ps[i])
	}
	return ps
}

func (e *enc) chunkInfos(cs []meta.ChunkInfo) {
	e.uvarint(uint64(len(cs)))
	for i := range cs {
		c := &cs[i]
		e.raw(c.Addr[:])
		e.raw(c.Pack[:])
		e.varint(c.Offset)
		e.varint(int64(c.Length))
		e.varint(int64(c.Size))
	}
}

func (d *dec) chunkInfos() []meta.ChunkInfo {
	n := d.count(len(chunk.Addr{}) + len(pack.ID{}) + 3)
	if n == 0 {
		return nil
	}
	cs := make([]meta.ChunkInfo, n)
	for i := range cs {
		c := &cs[i]
		c.Addr = d.addr()
		c.Pack = d.packID()
		c.Offset = d.varint()
		c.Length = int32(d.intn(1<<31 - 1))
		c.Size = uint32(d.intn(1<<32 - 1))
	}
	return cs
}

// DecodeCommand parses what EncodeCommand wrote. Errors match ErrCorrupt.
func DecodeCommand(b []byte) (*Command, error) {
	d := dec{b: b}
	ver := d.byte1()
	if d.err == nil && (ver < commandV1 || ver > commandV3) {
		d.fail("unknown command version")
	}
	c := &Command{Op: Op(d.byte1())}
	c.ReqID = d.str()
	c.Time = d.varint()
	switch c.Op {
	case OpCreateBucket:
		d.bucket(&c.BucketInfo)
	case OpDeleteBucket:
		c.Bucket = d.str()
	case OpPutObject:
		r := &meta.PutObjectRequest{ReqID: c.ReqID, Time: c.Time}
		r.Object.Bucket = d.str()
		r.Object.Key = d.str()
		d.objectBody(&r.Object, false)
		r.NewPacks = d.packs()
		r.NewChunks = d.chunkInfos()
		r.IfMatch = d.str()
		r.IfNoneMatch = d.str()
		if ver >= commandV2 {
			d.objectExt(&r.Object)
		}
		c.Put = r
	case OpDeleteObject:
		c.Bucket = d.str()
		c.Key = d.str()
	case OpPutObjectTags:
		c.Bucket = d.str()
		c.Key = d.str()
		c.Tags = d.strMap()
	case OpMarkShardsMissing, OpSetPackShards, OpForgetPacks:
		n := d.count(len(pack.ID{}))
		if n > 0 {
			c.PackIDs = make([]pack.ID, n)
			for i := range c.PackIDs {
				c.PackIDs[i] = d.packID()
			}
		}
		c.Nodes = d.strs()
		c.Shards = d.ints()
	case OpCollectGarbage:
		c.Grace = d.varint()
		c.Limit = int(d.intn(1 << 31))
	case OpCreateUpload:
		c.Upload = new(meta.Upload)
		d.upload(c.Upload)
		if ver >= commandV3 {
			d.objectLock(&c.Upload.Object)
		}
	case OpPutPart:
		r := &meta.PutPartRequest{ReqID: c.ReqID, Time: c.Time}
		r.Bucket = d.str()
		r.Key = d.str()
		r.UploadID = d.str()
		d.part(&r.Part)
		r.NewPacks = d.packs()
		r.NewChunks = d.chunkInfos()
		c.PutPart = r
	case OpCompleteUpload:
		r := &meta.CompleteUploadRequest{ReqID: c.ReqID, Time: c.Time}
		r.Bucket = d.str()
		r.Key = d.str()
		r.UploadID = d.str()
		n := d.count(2)
		if n > 0 {
			r.Parts = make([]meta.CompletedPart, n)
			for i := range r.Parts {
				r.Parts[i].Number = int(d.intn(1 << 31))
				r.Parts[i].ETag = d.str()
			}
		}
		r.Checksums = d.strMap()
		if ver >= commandV2 {
			r.VersionID = d.str()
		}
		c.Complete = r
	case OpAbortUpload:
		c.Bucket = d.str()
		c.Key = d.str()
		c.UploadID = d.str()
	case OpRegisterNode, OpHeartbeat:
		d.node(&c.Node)
	case OpPutPool:
		d.pool(&c.Pool)
	case OpPutUser:
		d.user(&c.User)
	case OpDeleteUser:
		c.Name = d.str()
	case OpPutBucketConfig:
		c.Bucket = d.str()
		c.Name = d.str()
		c.Doc = d.bytes()
	case OpSetBucketVersioning:
		c.Bucket = d.str()
		c.Name = d.str()
	case OpDeleteObjectVersion:
		c.Bucket = d.str()
		c.Key = d.str()
		c.VersionID = d.str()
		c.MarkerVersionID = d.str()
	case OpPutObjectVersionTags:
		c.Bucket = d.str()
		c.Key = d.str()
		c.VersionID = d.str()
		c.Tags = d.strMap()
	case OpPutObjectLock:
		c.Bucket = d.str()
		c.Key = d.str()
		c.VersionID = d.str()
		c.Lock.SetRetention = d.bool1()
		c.Lock.RetentionMode = d.str()
		c.Lock.RetainUntil = d.varint()
		c.Lock.SetLegalHold = d.bool1()
		c.Lock.LegalHold = d.bool1()
	default:
		d.fail("unknown op")
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return c, nil
}
