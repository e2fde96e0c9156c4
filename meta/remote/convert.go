package remote

import (
	"fmt"
	"math"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/metapb"
	"github.com/tessera-store/tessera/pack"
)

// Conversions between meta types and their wire messages. Decoders validate
// what the wire cannot (fixed-length IDs, parallel arrays) and fail with
// meta.ErrInvalidArgument. Empty maps, slices and byte strings decode to nil,
// as the state machine returns them.

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", meta.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

func i32(v int) int32 {
	switch {
	case v > math.MaxInt32:
		return math.MaxInt32
	case v < math.MinInt32:
		return math.MinInt32
	}
	return int32(v)
}

func nilMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nilBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nilStrs(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}

func addrsToWire(addrs []chunk.Addr) []byte {
	b := make([]byte, 0, len(addrs)*len(chunk.Addr{}))
	for _, a := range addrs {
		b = append(b, a[:]...)
	}
	return b
}

func addrsFromWire(b []byte) ([]chunk.Addr, error) {
	const n = len(chunk.Addr{})
	if len(b)%n != 0 {
		return nil, invalid("chunk address list of %d bytes", len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]chunk.Addr, len(b)/n)
	for i := range out {
		copy(out[i][:], b[i*n:])
	}
	return out, nil
}

func idsToWire(ids []pack.ID) []byte {
	b := make([]byte, 0, len(ids)*len(pack.ID{}))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

func idsFromWire(b []byte) ([]pack.ID, error) {
	const n = len(pack.ID{})
	if len(b)%n != 0 {
		return nil, invalid("pack ID list of %d bytes", len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]pack.ID, len(b)/n)
	for i := range out {
		copy(out[i][:], b[i*n:])
	}
	return out, nil
}

func idFromWire(b []byte) (pack.ID, error) {
	var id pack.ID
	if len(b) == 0 {
		return id, nil
	}
	if len(b) != len(id) {
		return id, invalid("pack ID of %d bytes", len(b))
	}
	copy(id[:], b)
	return id, nil
}

func addrFromWire(b []byte) (chunk.Addr, error) {
	var a chunk.Addr
	if len(b) != len(a) {
		return a, invalid("chunk address of %d bytes", len(b))
	}
	copy(a[:], b)
	return a, nil
}

func refsToWire(refs []meta.ChunkRef) ([]byte, []uint32) {
	if len(refs) == 0 {
		return nil, nil
	}
	addrs := make([]byte, 0, len(refs)*len(chunk.Addr{}))
	sizes := make([]uint32, len(refs))
	for i, r := range refs {
		addrs = append(addrs, r.Addr[:]...)
		sizes[i] = r.Size
	}
	return addrs, sizes
}

func refsFromWire(addrs []byte, sizes []uint32) ([]meta.ChunkRef, error) {
	const n = len(chunk.Addr{})
	if len(addrs)%n != 0 || len(addrs)/n != len(sizes) {
		return nil, invalid("manifest of %d address bytes and %d sizes", len(addrs), len(sizes))
	}
	if len(sizes) == 0 {
		return nil, nil
	}
	out := make([]meta.ChunkRef, len(sizes))
	for i := range out {
		copy(out[i].Addr[:], addrs[i*n:])
		out[i].Size = sizes[i]
	}
	return out, nil
}

func intsToWire(v []int) []int32 {
	if len(v) == 0 {
		return nil
	}
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = i32(x)
	}
	return out
}

func intsFromWire(v []int32) []int {
	if len(v) == 0 {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func int64s(v []int64) []int64 {
	if len(v) == 0 {
		return nil
	}
	return v
}

func bucketToWire(b meta.Bucket) *metapb.Bucket {
	return &metapb.Bucket{Name: b.Name, Owner: b.Owner, Created: b.Created, Region: b.Region, DomainKey: b.DomainKey, Versioning: b.Versioning}
}

func bucketFromWire(b *metapb.Bucket) meta.Bucket {
	return meta.Bucket{Name: b.GetName(), Owner: b.GetOwner(), Created: b.GetCreated(), Region: b.GetRegion(), DomainKey: nilBytes(b.GetDomainKey()), Versioning: b.GetVersioning()}
}

func objectToWire(o *meta.Object) *metapb.Object {
	addrs, sizes := refsToWire(o.Chunks)
	return &metapb.Object{
		Bucket: o.Bucket, Key: o.Key, Size: o.Size, Etag: o.ETag, Modified: o.Modified,
		ContentType: o.ContentType, Headers: o.Headers, UserMeta: o.UserMeta, Tags: o.Tags,
		Checksums: o.Checksums, ChecksumType: o.ChecksumType, PartSizes: o.PartSizes,
		ChunkAddrs: addrs, ChunkSizes: sizes, Inline: o.Inline,
		VersionId: o.VersionID, DeleteMarker: o.DeleteMarker, IsLatest: o.IsLatest,
		RetentionMode: o.RetentionMode, RetainUntil: o.RetainUntil, LegalHold: o.LegalHold,
		PartChecksums: partChecksumsToWire(o.PartChecksums),
	}
}

func objectFromWire(o *metapb.Object) (meta.Object, error) {
	if o == nil {
		return meta.Object{}, nil
	}
	refs, err := refsFromWire(o.GetChunkAddrs(), o.GetChunkSizes())
	if err != nil {
		return meta.Object{}, err
	}
	return meta.Object{
		Bucket: o.GetBucket(), Key: o.GetKey(), Size: o.GetSize(), ETag: o.GetEtag(), Modified: o.GetModified(),
		ContentType: o.GetContentType(), Headers: nilMap(o.GetHeaders()), UserMeta: nilMap(o.GetUserMeta()),
		Tags: nilMap(o.GetTags()), Checksums: nilMap(o.GetChecksums()), ChecksumType: o.GetChecksumType(),
		PartSizes: int64s(o.GetPartSizes()), Chunks: refs, Inline: nilBytes(o.GetInline()),
		VersionID: o.GetVersionId(), DeleteMarker: o.GetDeleteMarker(), IsLatest: o.GetIsLatest(),
		RetentionMode: o.GetRetentionMode(), RetainUntil: o.GetRetainUntil(), LegalHold: o.GetLegalHold(),
		PartChecksums: partChecksumsFromWire(o.GetPartChecksums()),
	}, nil
}

// partChecksumsToWire and partChecksumsFromWire carry Object.PartChecksums
// (nil entries for parts without checksums become empty maps and back).
func partChecksumsToWire(ms []map[string]string) []*metapb.StringMap {
	if len(ms) == 0 {
		return nil
	}
	out := make([]*metapb.StringMap, len(ms))
	for i, m := range ms {
		out[i] = &metapb.StringMap{Entries: m}
	}
	return out
}

func partChecksumsFromWire(ms []*metapb.StringMap) []map[string]string {
	if len(ms) == 0 {
		return nil
	}
	out := make([]map[string]string, len(ms))
	for i, m := range ms {
		out[i] = nilMap(m.GetEntries())
	}
	return out
}

func chunkInfoToWire(c *meta.ChunkInfo) *metapb.ChunkInfo {
	return &metapb.ChunkInfo{Addr: c.Addr[:], Pack: c.Pack[:], Offset: c.Offset, Length: c.Length, Size: c.Size, Refs: c.Refs, Found: c.Found}
}

func chunkInfoFromWire(c *metapb.ChunkInfo) (meta.ChunkInfo, error) {
	a, err := addrFromWire(c.GetAddr())
	if err != nil {
		return meta.ChunkInfo{}, err
	}
	id, err := idFromWire(c.GetPack())
	if err != nil {
		return meta.ChunkInfo{}, err
	}
	return meta.ChunkInfo{Addr: a, Pack: id, Offset: c.GetOffset(), Length: c.GetLength(), Size: c.GetSize(), Refs: c.GetRefs(), Found: c.GetFound()}, nil
}

func chunkInfosToWire(cs []meta.ChunkInfo) []*metapb.ChunkInfo {
	if len(cs) == 0 {
		return nil
	}
	out := make([]*metapb.ChunkInfo, len(cs))
	for i := range cs {
		out[i] = chunkInfoToWire(&cs[i])
	}
	return out
}

func chunkInfosFromWire(cs []*metapb.ChunkInfo) ([]meta.ChunkInfo, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	out := make([]meta.ChunkInfo, len(cs))
	for i, c := range cs {
		var err error
		if out[i], err = chunkInfoFromWire(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func packToWire(p *meta.Pack) *metapb.Pack {
	return &metapb.Pack{
		Id: p.ID[:], Pool: p.Pool, K: i32(p.K), M: i32(p.M), Length: p.Length, ShardSize: p.ShardSize,
		Nodes: p.Nodes, Missing: intsToWire(p.Missing), LiveBytes: p.LiveBytes, Created: p.Created,
	}
}

func packFromWire(p *metapb.Pack) (meta.Pack, error) {
	id, err := idFromWire(p.GetId())
	if err != nil {
		return meta.Pack{}, err
	}
	return meta.Pack{
		ID: id, Pool: p.GetPool(), K: int(p.GetK()), M: int(p.GetM()), Length: p.GetLength(), ShardSize: p.GetShardSize(),
		Nodes: nilStrs(p.GetNodes()), Missing: intsFromWire(p.GetMissing()), LiveBytes: p.GetLiveBytes(), Created: p.GetCreated(),
	}, nil
}

func packsToWire(ps []meta.Pack) []*metapb.Pack {
	if len(ps) == 0 {
		return nil
	}
	out := make([]*metapb.Pack, len(ps))
	for i := range ps {
		out[i] = packToWire(&ps[i])
	}
	return out
}

func packsFromWire(ps []*metapb.Pack) ([]meta.Pack, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]meta.Pack, len(ps))
	for i, p := range ps {
		var err error
		if out[i], err = packFromWire(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func uploadToWire(u *meta.Upload) *metapb.Upload {
	return &metapb.Upload{Bucket: u.Bucket, Key: u.Key, UploadId: u.UploadID, Initiated: u.Initiated, Object: objectToWire(&u.Object)}
}

func uploadFromWire(u *metapb.Upload) (meta.Upload, error) {
	o, err := objectFromWire(u.GetObject())
	if err != nil {
		return meta.Upload{}, err
	}
	return meta.Upload{Bucket: u.GetBucket(), Key: u.GetKey(), UploadID: u.GetUploadId(), Initiated: u.GetInitiated(), Object: o}, nil
}

func partToWire(p *meta.Part) *metapb.Part {
	addrs, sizes := refsToWire(p.Chunks)
	return &metapb.Part{
		Number: i32(p.Number), Size: p.Size, Etag: p.ETag, Modified: p.Modified, Checksums: p.Checksums,
		ChunkAddrs: addrs, ChunkSizes: sizes, Inline: p.Inline,
	}
}

func partFromWire(p *metapb.Part) (meta.Part, error) {
	refs, err := refsFromWire(p.GetChunkAddrs(), p.GetChunkSizes())
	if err != nil {
		return meta.Part{}, err
	}
	return meta.Part{
		Number: int(p.GetNumber()), Size: p.GetSize(), ETag: p.GetEtag(), Modified: p.GetModified(),
		Checksums: nilMap(p.GetChecksums()), Chunks: refs, Inline: nilBytes(p.GetInline()),
	}, nil
}

func nodeToWire(n *meta.Node) *metapb.Node {
	return &metapb.Node{
		Id: n.ID, Addr: n.Addr, Region: n.Region, Zone: n.Zone, Rack: n.Rack, Host: n.Host, Class: n.Class,
		Capacity: n.Capacity, Free: n.Free, Used: n.Used, Shards: n.Shards, Failed: n.Failed, LastSeen: n.LastSeen,
	}
}

func nodeFromWire(n *metapb.Node) meta.Node {
	return meta.Node{
		ID: n.GetId(), Addr: n.GetAddr(), Region: n.GetRegion(), Zone: n.GetZone(), Rack: n.GetRack(), Host: n.GetHost(),
		Class: n.GetClass(), Capacity: n.GetCapacity(), Free: n.GetFree(), Used: n.GetUsed(), Shards: n.GetShards(),
		Failed: n.GetFailed(), LastSeen: n.GetLastSeen(),
	}
}

func poolToWire(p *meta.Pool) *metapb.Pool {
	return &metapb.Pool{Name: p.Name, K: i32(p.K), M: i32(p.M), Codec: p.Codec, Class: p.Class, Domain: p.Domain, Pgs: i32(p.PGs)}
}

func poolFromWire(p *metapb.Pool) meta.Pool {
	return meta.Pool{Name: p.GetName(), K: int(p.GetK()), M: int(p.GetM()), Codec: p.GetCodec(), Class: p.GetClass(), Domain: p.GetDomain(), PGs: int(p.GetPgs())}
}

func userToWire(u *meta.User) *metapb.User {
	return &metapb.User{Name: u.Name, AccessKey: u.AccessKey, SecretEnc: u.SecretEnc, Created: u.Created, Root: u.Root}
}

func userFromWire(u *metapb.User) meta.User {
	return meta.User{Name: u.GetName(), AccessKey: u.GetAccessKey(), SecretEnc: nilBytes(u.GetSecretEnc()), Created: u.GetCreated(), Root: u.GetRoot()}
}

func statsToWire(s *meta.Stats) *metapb.ClusterStats {
	return &metapb.ClusterStats{
		Buckets: s.Buckets, Objects: s.Objects, LogicalBytes: s.LogicalBytes, StoredBytes: s.StoredBytes,
		RawBytes: s.RawBytes, Chunks: s.Chunks, UniqueChunks: s.UniqueChunks, Packs: s.Packs, Uploads: s.Uploads,
	}
}

func statsFromWire(s *metapb.ClusterStats) meta.Stats {
	return meta.Stats{
		Buckets: s.GetBuckets(), Objects: s.GetObjects(), LogicalBytes: s.GetLogicalBytes(), StoredBytes: s.GetStoredBytes(),
		RawBytes: s.GetRawBytes(), Chunks: s.GetChunks(), UniqueChunks: s.GetUniqueChunks(), Packs: s.GetPacks(), Uploads: s.GetUploads(),
	}
}
