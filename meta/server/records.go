package server

import (
	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

// Persisted record formats. Each record starts with its format version
// (recordV1); docs/arch/meta-state.md lists the fields in order. Decoders
// reject any other version, truncation and trailing bytes.

type metaChunkRef = meta.ChunkRef

const (
	recordV1 = 1
	// recordV2 object, bucket and upload records append fields to the v1
	// layout (objectExt; bucket Versioning; the upload template's
	// objectLock, so that CreateMultipartUpload's x-amz-object-lock-*
	// reach the completed object). Decoders read both.
	recordV2 = 2
)

func checkVersion(d *dec) {
	if v := d.byte1(); d.err == nil && v != recordV1 {
		d.fail("unknown record version")
	}
}

// checkVersion2 accepts v1 and v2 records and returns which.
func checkVersion2(d *dec) byte {
	v := d.byte1()
	if d.err == nil && v != recordV1 && v != recordV2 {
		d.fail("unknown record version")
	}
	return v
}

// objectExt encodes the fields v2 added after objectBody: VersionID,
// DeleteMarker, PartChecksums, RetentionMode, RetainUntil, LegalHold.
func (e *enc) objectExt(o *meta.Object) {
	e.str(o.VersionID)
	e.bool1(o.DeleteMarker)
	e.uvarint(uint64(len(o.PartChecksums)))
	for _, m := range o.PartChecksums {
		e.strMap(m)
	}
	e.objectLock(o)
}

// objectLock encodes o's Object Lock fields: RetentionMode, RetainUntil,
// LegalHold (the tail of objectExt, and of v2 upload records).
func (e *enc) objectLock(o *meta.Object) {
	e.str(o.RetentionMode)
	e.varint(o.RetainUntil)
	e.bool1(o.LegalHold)
}

func (d *dec) objectLock(o *meta.Object) {
	o.RetentionMode = d.str()
	o.RetainUntil = d.varint()
	o.LegalHold = d.bool1()
}

func (d *dec) objectExt(o *meta.Object) {
	o.VersionID = d.str()
	o.DeleteMarker = d.bool1()
	n := d.count(1)
	if n > 0 {
		o.PartChecksums = make([]map[string]string, n)
		for i := range o.PartChecksums {
			o.PartChecksums[i] = d.strMap()
		}
	}
	d.objectLock(o)
}

// objectBody encodes an object without its bucket and key (the record's key
// holds them).
func (e *enc) objectBody(o *meta.Object) {
	e.varint(o.Size)
	e.str(o.ETag)
	e.varint(o.Modified)
	e.str(o.ContentType)
	e.strMap(o.Headers)
	e.strMap(o.UserMeta)
	e.strMap(o.Tags)
	e.strMap(o.Checksums)
	e.str(o.ChecksumType)
	e.int64s(o.PartSizes)
	e.refs(o.Chunks)
	e.bytes(o.Inline)
}

// objectBody decodes what enc.objectBody wrote. With skipManifest the chunk
// list and inline data are skipped without allocating (listing).
func (d *dec) objectBody(o *meta.Object, skipManifest bool) {
	o.Size = d.varint()
	o.ETag = d.str()
	o.Modified = d.varint()
	o.ContentType = d.str()
	o.Headers = d.strMap()
	o.UserMeta = d.strMap()
	o.Tags = d.strMap()
	o.Checksums = d.strMap()
	o.ChecksumType = d.str()
	o.PartSizes = d.int64s()
	if skipManifest {
		n := d.count(len(chunk.Addr{}) + 1)
		for i := 0; i < n && d.err == nil; i++ {
			d.rawN(len(chunk.Addr{}))
			d.uvarint()
		}
		d.rawN(d.count(1))
		return
	}
	o.Chunks = d.refs()
	o.Inline = d.bytes()
}

// EncodeObject returns the persisted form of o's record (o/<bucket>/<key>).
func EncodeObject(o *meta.Object) []byte {
	e := enc{b: make([]byte, 0, 64+len(o.Chunks)*34+len(o.Inline))}
	e.byte1(recordV2)
	e.objectBody(o)
	e.objectExt(o)
	return e.b
}

// DecodeObject parses an object record. Bucket and Key are left empty.
func DecodeObject(b []byte) (*meta.Object, error) {
	return decodeObject(b, false)
}

func decodeObject(b []byte, skipManifest bool) (*meta.Object, error) {
	d := dec{b: b}
	v := checkVersion2(&d)
	o := new(meta.Object)
	d.objectBody(o, skipManifest)
	if v == recordV2 {
		d.objectExt(o)
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return o, nil
}

// encodeBucket returns the v1 layout, which OpCreateBucket commands embed;
// encodeBucketRecord is the persisted (v2) form.
func encodeBucket(b *meta.Bucket) []byte {
	var e enc
	e.byte1(recordV1)
	e.str(b.Name)
	e.str(b.Owner)
	e.varint(b.Created)
	e.str(b.Region)
	e.bytes(b.DomainKey)
	return e.b
}

func encodeBucketRecord(b *meta.Bucket) []byte {
	p := encodeBucket(b)
	p[0] = recordV2
	e := enc{b: p}
	e.str(b.Versioning)
	return e.b
}

func (d *dec) bucket(b *meta.Bucket) {
	b.Name = d.str()
	b.Owner = d.str()
	b.Created = d.varint()
	b.Region = d.str()
	b.DomainKey = d.bytes()
}

func decodeBucket(p []byte) (meta.Bucket, error) {
	d := dec{b: p}
	v := checkVersion2(&d)
	var b meta.Bucket
	d.bucket(&b)
	if v == recordV2 {
		b.Versioning = d.str()
	}
	return b, d.done()
}

// chunkRec is the chunk index entry c/<addr>. Dead is the Time of the
// tombstone t/<Dead>/<addr> written when Refs fell to zero; GC collects the
// entry only through the tombstone that matches Dead.
type chunkRec struct {
	Pack   pack.ID
	Offset int64
	Length int32
	Size   uint32
	Refs   int64
	Dead   int64
}

func encodeChunk(c *chunkRec) []byte {
	e := enc{b: make([]byte, 0, 48)}
	e.byte1(recordV1)
	e.raw(c.Pack[:])
	e.varint(c.Offset)
	e.varint(int64(c.Length))
	e.varint(int64(c.Size))
	e.varint(c.Refs)
	e.varint(c.Dead)
	return e.b
}

func decodeChunk(p []byte) (chunkRec, error) {
	d := dec{b: p}
	checkVersion(&d)
	var c chunkRec
	c.Pack = d.packID()
	c.Offset = d.varint()
	c.Length = int32(d.intn(1<<31 - 1))
	c.Size = uint32(d.intn(1<<32 - 1))
	c.Refs = d.varint()
	c.Dead = d.varint()
	return c, d.done()
}

func (e *enc) pack(p *meta.Pack) {
	e.raw(p.ID[:])
	e.str(p.Pool)
	e.varint(int64(p.K))
	e.varint(int64(p.M))
	e.varint(p.Length)
	e.varint(p.ShardSize)
	e.strs(p.Nodes)
	e.ints(p.Missing)
	e.varint(p.LiveBytes)
	e.varint(p.Created)
}

func (d *dec) pack(p *meta.Pack) {
	p.ID = d.packID()
	p.Pool = d.str()
	p.K = int(d.intn(maxShards))
	p.M = int(d.intn(maxShards))
	p.Length = d.varint()
	p.ShardSize = d.varint()
	p.Nodes = d.strs()
	p.Missing = d.ints()
	p.LiveBytes = d.varint()
	p.Created = d.varint()
}

func encodePack(p *meta.Pack) []byte {
	var e enc
	e.byte1(recordV1)
	e.pack(p)
	return e.b
}

func decodePack(b []byte) (meta.Pack, error) {
	d := dec{b: b}
	checkVersion(&d)
	var p meta.Pack
	d.pack(&p)
	return p, d.done()
}

func (e *enc) upload(u *meta.Upload) {
	e.str(u.Bucket)
	e.str(u.Key)
	e.str(u.UploadID)
	e.varint(u.Initiated)
	e.objectBody(&u.Object)
}

func (d *dec) upload(u *meta.Upload) {
	u.Bucket = d.str()
	u.Key = d.str()
	u.UploadID = d.str()
	u.Initiated = d.varint()
	d.objectBody(&u.Object, false)
	u.Object.Bucket, u.Object.Key = u.Bucket, u.Key
}

// encodeUpload returns the persisted (v2) form of an upload record.
func encodeUpload(u *meta.Upload) []byte {
	var e enc
	e.byte1(recordV2)
	e.upload(u)
	e.objectLock(&u.Object)
	return e.b
}

// decodeUpload reads v1 records (no Object Lock fields) and v2.
func decodeUpload(b []byte) (meta.Upload, error) {
	d := dec{b: b}
	v := checkVersion2(&d)
	var u meta.Upload
	d.upload(&u)
	if v == recordV2 {
		d.objectLock(&u.Object)
	}
	return u, d.done()
}

func (e *enc) part(p *meta.Part) {
	e.varint(int64(p.Number))
	e.varint(p.Size)
	e.str(p.ETag)
	e.varint(p.Modified)
	e.strMap(p.Checksums)
	e.refs(p.Chunks)
	e.bytes(p.Inline)
}

func (d *dec) part(p *meta.Part) {
	p.Number = int(d.intn(1<<31 - 1)) // range checked by Apply, with a reason
	p.Size = d.varint()
	p.ETag = d.str()
	p.Modified = d.varint()
	p.Checksums = d.strMap()
	p.Chunks = d.refs()
	p.Inline = d.bytes()
}

func encodePart(p *meta.Part) []byte {
	e := enc{b: make([]byte, 0, 64+len(p.Chunks)*34+len(p.Inline))}
	e.byte1(recordV1)
	e.part(p)
	return e.b
}

func decodePart(b []byte) (meta.Part, error) {
	d := dec{b: b}
	checkVersion(&d)
	var p meta.Part
	d.part(&p)
	return p, d.done()
}

func (e *enc) node(n *meta.Node) {
	e.str(n.ID)
	e.str(n.Addr)
	e.str(n.Region)
	e.str(n.Zone)
	e.str(n.Rack)
	e.str(n.Host)
	e.str(n.Class)
	e.varint(n.Capacity)
	e.varint(n.Free)
	e.varint(n.Used)
	e.varint(n.Shards)
	e.bool1(n.Failed)
	e.varint(n.LastSeen)
}

func (d *dec) node(n *meta.Node) {
	n.ID = d.str()
	n.Addr = d.str()
	n.Region = d.str()
	n.Zone = d.str()
	n.Rack = d.str()
	n.Host = d.str()
	n.Class = d.str()
	n.Capacity = d.varint()
	n.Free = d.varint()
	n.Used = d.varint()
	n.Shards = d.varint()
	n.Failed = d.bool1()
	n.LastSeen = d.varint()
}

func encodeNode(n *meta.Node) []byte {
	var e enc
	e.byte1(recordV1)
	e.node(n)
	return e.b
}

func decodeNode(b []byte) (meta.Node, error) {
	d := dec{b: b}
	checkVersion(&d)
	var n meta.Node
	d.node(&n)
	return n, d.done()
}

func (e *enc) pool(p *meta.Pool) {
	e.str(p.Name)
	e.varint(int64(p.K))
	e.varint(int64(p.M))
	e.str(p.Codec)
	e.str(p.Class)
	e.str(p.Domain)
	e.varint(int64(p.PGs))
}

func (d *dec) pool(p *meta.Pool) {
	p.Name = d.str()
	p.K = int(d.intn(maxShards))
	p.M = int(d.intn(maxShards))
	p.Codec = d.str()
	p.Class = d.str()
	p.Domain = d.str()
	p.PGs = int(d.intn(1 << 30))
}

func encodePool(p *meta.Pool) []byte {
	var e enc
	e.byte1(recordV1)
	e.pool(p)
	return e.b
}

func decodePool(b []byte) (meta.Pool, error) {
	d := dec{b: b}
	checkVersion(&d)
	var p meta.Pool
	d.pool(&p)
	return p, d.done()
}

func (e *enc) user(u *meta.User) {
	e.str(u.Name)
	e.str(u.AccessKey)
	e.bytes(u.SecretEnc)
	e.varint(u.Created)
	e.bool1(u.Root)
}

func (d *dec) user(u *meta.User) {
	u.Name = d.str()
	u.AccessKey = d.str()
	u.SecretEnc = d.bytes()
	u.Created = d.varint()
	u.Root = d.bool1()
}

func encodeUser(u *meta.User) []byte {
	var e enc
	e.byte1(recordV1)
	e.user(u)
	return e.b
}

func decodeUser(b []byte) (meta.User, error) {
	d := dec{b: b}
	checkVersion(&d)
	var u meta.User
	d.user(&u)
	return u, d.done()
}

func encodeStats(s *meta.Stats) []byte {
	var e enc
	e.byte1(recordV1)
	for _, v := range [...]int64{s.Buckets, s.Objects, s.LogicalBytes, s.StoredBytes, s.RawBytes,
		s.Chunks, s.UniqueChunks, s.Packs, s.Uploads} {
		e.varint(v)
	}
	return e.b
}

func decodeStats(b []byte) (meta.Stats, error) {
	d := dec{b: b}
	checkVersion(&d)
	var s meta.Stats
	for _, p := range [...]*int64{&s.Buckets, &s.Objects, &s.LogicalBytes, &s.StoredBytes, &s.RawBytes,
		&s.Chunks, &s.UniqueChunks, &s.Packs, &s.Uploads} {
		*p = d.varint()
	}
	return s, d.done()
}

// Result values stored in idempotency records r/k/<reqid>.
const (
	valNone     = 0
	valObject   = 1
	valGC       = 2
	valObjectV2 = 3 // valObject followed by objectExt
	valDelete   = 4 // *meta.DeleteObjectResult
)

func encodeResult(index uint64, t int64, v any) []byte {
	var e enc
	e.byte1(recordV1)
	e.uvarint(index)
	e.varint(t)
	switch v := v.(type) {
	case *meta.Object:
		e.byte1(valObjectV2)
		e.str(v.Bucket)
		e.str(v.Key)
		e.objectBody(v)
		e.objectExt(v)
	case *meta.DeleteObjectResult:
		e.byte1(valDelete)
		e.str(v.VersionID)
		e.bool1(v.DeleteMarker)
	case *meta.GCResult:
		e.byte1(valGC)
		e.varint(int64(v.CollectedChunks))
		e.uvarint(uint64(len(v.DeadPacks)))
		for i := range v.DeadPacks {
			e.pack(&v.DeadPacks[i])
		}
		e.bool1(v.More)
	default:
		e.byte1(valNone)
	}
	return e.b
}

func decodeResult(b []byte) (index uint64, t int64, v any, err error) {
	d := dec{b: b}
	checkVersion(&d)
	index = d.uvarint()
	t = d.varint()
	switch kind := d.byte1(); kind {
	case valNone:
	case valObject, valObjectV2:
		o := new(meta.Object)
		o.Bucket = d.str()
		o.Key = d.str()
		d.objectBody(o, false)
		if kind == valObjectV2 {
			d.objectExt(o)
		}
		v = o
	case valDelete:
		r := new(meta.DeleteObjectResult)
		r.VersionID = d.str()
		r.DeleteMarker = d.bool1()
		v = r
	case valGC:
		r := new(meta.GCResult)
		r.CollectedChunks = int(d.intn(1 << 31))
		n := d.count(minPackSize)
		if n > 0 {
			r.DeadPacks = make([]meta.Pack, n)
			for i := range r.DeadPacks {
				d.pack(&r.DeadPacks[i])
			}
		}
		r.More = d.bool1()
		v = r
	default:
		d.fail("unknown result kind")
	}
	return index, t, v, d.done()
}

// minPackSize is the fewest bytes an encoded pack takes.
const minPackSize = 16 + 9
