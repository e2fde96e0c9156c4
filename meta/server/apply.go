package server

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/pebble"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

// Input limits enforced by Apply (meta.ErrInvalidArgument otherwise).
const (
	maxKeyLen       = 1024
	maxChunkRefs    = 2_000_000
	maxUserMetaSize = 2048
	maxTags         = 10
	maxTagKey       = 128
	maxTagValue     = 256
	maxHeaderSize   = 8192
	maxChecksums    = 16
	maxInline       = 256 << 10
	maxPartNumber   = 10000
	maxShards       = 256
	maxName         = 1024 // req IDs, upload IDs, node/pool/user names, ETags
	minPartSize     = 5 << 20
	defaultGCLimit  = 10000
	maxGCLimit      = 100000
	maxDeadPacks    = 1000
)

// txn is one command being applied: reads come from the committed DB, writes
// go to b, and st is the counters after the command.
type txn struct {
	s    *State
	db   *pebble.DB
	b    *pebble.Batch
	st   meta.Stats
	idem int64
	t    int64
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", meta.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

func (t *txn) run(index uint64, cmd []byte) Result {
	c, err := DecodeCommand(cmd)
	if err != nil {
		return Result{Err: fmt.Errorf("%w: %v", meta.ErrInvalidArgument, err)}
	}
	t.t = c.Time
	if len(c.ReqID) > maxName {
		return Result{Err: invalid("request ID longer than %d bytes", maxName)}
	}
	if c.ReqID != "" {
		v, ok, err := get(t.db, reqKey(c.ReqID))
		if err != nil {
			return Result{Err: err}
		}
		if ok {
			_, _, val, err := decodeResult(v)
			if err != nil {
				return Result{Err: fmt.Errorf("server: idempotency record %q: %w", c.ReqID, err)}
			}
			return Result{Value: val}
		}
	}
	val, err := t.exec(c)
	if err != nil {
		return Result{Err: err}
	}
	if c.ReqID != "" {
		if err := t.remember(index, c, val); err != nil {
			return Result{Err: err}
		}
	}
	return Result{Value: val}
}

// remember stores the result of a successful command under its ReqID and
// prunes the oldest records (by command Time, then ReqID) beyond idemKeep.
// Failed commands are not remembered: they changed nothing, so a retry
// simply runs again.
func (t *txn) remember(index uint64, c *Command, val any) error {
	t.b.Set(reqKey(c.ReqID), encodeResult(index, c.Time, val), nil)
	t.b.Set(reqTimeKey(c.Time, c.ReqID), nil, nil)
	t.idem++
	if t.idem <= int64(t.s.idemKeep) {
		return nil
	}
	it, err := t.db.NewIter(&pebble.IterOptions{LowerBound: []byte(pfxReqTime), UpperBound: prefixEnd([]byte(pfxReqTime))})
	if err != nil {
		return fmt.Errorf("server: prune: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid() && t.idem > int64(t.s.idemKeep); it.Next() {
		k := it.Key()
		id := string(k[len(pfxReqTime)+8:])
		if id == c.ReqID {
			continue
		}
		t.b.Delete(k, nil)
		t.b.Delete(reqKey(id), nil)
		t.idem--
	}
	return it.Error()
}

func (t *txn) exec(c *Command) (any, error) {
	switch c.Op {
	case OpCreateBucket:
		return nil, t.createBucket(c.BucketInfo)
	case OpDeleteBucket:
		return nil, t.deleteBucket(c.Bucket)
	case OpPutObject:
		return nil, t.putObject(c.Put)
	case OpDeleteObject:
		_, err := t.deleteVersion(c.Bucket, c.Key, "", "", c.ReqID)
		return nil, err
	case OpSetBucketVersioning:
		return nil, t.setVersioning(c.Bucket, c.Name)
	case OpDeleteObjectVersion:
		return t.deleteVersion(c.Bucket, c.Key, c.VersionID, c.MarkerVersionID, c.ReqID)
	case OpPutObjectVersionTags:
		return nil, t.putVersionTags(c.Bucket, c.Key, c.VersionID, c.Tags)
	case OpPutObjectLock:
		return nil, t.putLock(c.Bucket, c.Key, c.VersionID, c.Lock)
	case OpPutObjectTags:
		return nil, t.putTags(c.Bucket, c.Key, c.Tags)
	case OpMarkShardsMissing:
		return nil, t.markMissing(c.PackIDs, c.Shards)
	case OpSetPackShards:
		return nil, t.setPackShards(c.PackIDs, c.Nodes, c.Shards)
	case OpCollectGarbage:
		return t.collect(c.Grace, c.Limit)
	case OpForgetPacks:
		return nil, t.forgetPacks(c.PackIDs)
	case OpCreateUpload:
		return nil, t.createUpload(c.Upload)
	case OpPutPart:
		return nil, t.putPart(c.PutPart)
	case OpCompleteUpload:
		return t.complete(c.Complete)
	case OpAbortUpload:
		return nil, t.abort(c.Bucket, c.Key, c.UploadID)
	case OpRegisterNode:
		return nil, t.registerNode(c.Node)
	case OpHeartbeat:
		return nil, t.heartbeat(c.Node)
	case OpPutPool:
		return nil, t.putPool(c.Pool)
	case OpPutUser:
		return nil, t.putUser(c.User)
	case OpDeleteUser:
		return nil, t.deleteUser(c.Name)
	case OpPutBucketConfig:
		return nil, t.putConfig(c.Bucket, c.Name, c.Doc)
	}
	return nil, invalid("unknown op %v", c.Op)
}

// ---- validation ----

func validKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", meta.ErrInvalidKey)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%w: %d bytes, more than %d", meta.ErrInvalidKey, len(key), maxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not UTF-8", meta.ErrInvalidKey)
	}
	return nil
}

func validTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return invalid("%d tags, more than %d", len(tags), maxTags)
	}
	for k, v := range tags {
		if k == "" || len(k) > maxTagKey || len(v) > maxTagValue {
			return invalid("tag key or value size")
		}
	}
	return nil
}

func mapSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

func validChecksums(m map[string]string) error {
	if len(m) > maxChecksums || mapSize(m) > maxChecksums*256 {
		return invalid("too many or too large checksums")
	}
	return nil
}

// validObjectMeta checks the descriptive fields of o (not its manifest).
func validObjectMeta(o *meta.Object) error {
	if err := validKey(o.Key); err != nil {
		return err
	}
	if mapSize(o.UserMeta) > maxUserMetaSize {
		return invalid("user metadata over %d bytes", maxUserMetaSize)
	}
	if mapSize(o.Headers)+len(o.ContentType) > maxHeaderSize {
		return invalid("headers over %d bytes", maxHeaderSize)
	}
	if err := validTags(o.Tags); err != nil {
		return err
	}
	if err := validChecksums(o.Checksums); err != nil {
		return err
	}
	if len(o.ETag) > maxName || len(o.ChecksumType) > 64 {
		return invalid("ETag or checksum type too long")
	}
	if len(o.PartSizes) > maxPartNumber {
		return invalid("%d part sizes", len(o.PartSizes))
	}
	return nil
}

// validManifest checks that chunks or inline data add up to size.
func validManifest(size int64, chunks []meta.ChunkRef, inline []byte) error {
	if size < 0 {
		return invalid("negative size")
	}
	if len(chunks) > maxChunkRefs {
		return invalid("%d chunk refs, more than %d", len(chunks), maxChunkRefs)
	}
	if len(inline) > maxInline {
		return invalid("inline data of %d bytes, more than %d", len(inline), maxInline)
	}
	if len(inline) > 0 && len(chunks) > 0 {
		return invalid("both inline data and chunks")
	}
	if len(inline) > 0 {
		if int64(len(inline)) != size {
			return invalid("inline data of %d bytes for size %d", len(inline), size)
		}
		return nil
	}
	var sum int64
	for _, c := range chunks {
		if c.Size == 0 {
			return invalid("chunk %v of size 0", c.Addr)
		}
		sum += int64(c.Size)
	}
	if sum != size {
		return invalid("chunks add up to %d bytes, size is %d", sum, size)
	}
	return nil
}

// ---- reads inside a command ----

func (t *txn) bucket(name string) (meta.Bucket, error) {
	v, ok, err := get(t.db, bucketKey(name))
	if err != nil {
		return meta.Bucket{}, err
	}
	if !ok {
		return meta.Bucket{}, fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, name)
	}
	return decodeBucket(v)
}

func (t *txn) object(bucket, key string) (*meta.Object, error) {
	v, ok, err := get(t.db, objectKey(bucket, key))
	if err != nil || !ok {
		return nil, err
	}
	o, err := DecodeObject(v)
	if err != nil {
		return nil, fmt.Errorf("server: object %s/%s: %w", bucket, key, err)
	}
	o.Bucket, o.Key = bucket, key
	return o, nil
}

func (t *txn) pack(id pack.ID) (*meta.Pack, error) {
	v, ok, err := get(t.db, packKey(id))
	if err != nil || !ok {
		return nil, err
	}
	p, err := decodePack(v)
	if err != nil {
		return nil, fmt.Errorf("server: pack %v: %w", id, err)
	}
	return &p, nil
}

// ---- buckets ----

func (t *txn) createBucket(b meta.Bucket) error {
	if err := meta.ValidBucketName(b.Name); err != nil {
		return err
	}
	if len(b.DomainKey) != 0 && len(b.DomainKey) != 32 {
		return invalid("domain key of %d bytes", len(b.DomainKey))
	}
	if len(b.Owner) > maxName || len(b.Region) > 64 {
		return invalid("owner or region too long")
	}
	old, err := t.bucket(b.Name)
	if err == nil {
		if old.Owner == b.Owner {
			return fmt.Errorf("%w: %q", meta.ErrBucketOwnedByYou, b.Name)
		}
		return fmt.Errorf("%w: %q", meta.ErrBucketExists, b.Name)
	}
	if !errors.Is(err, meta.ErrNoSuchBucket) {
		return err
	}
	b.Created = t.t
	t.b.Set(bucketKey(b.Name), encodeBucketRecord(&b), nil)
	t.st.Buckets++
	return nil
}

func (t *txn) hasPrefix(p []byte) (bool, error) {
	it, err := t.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return false, err
	}
	defer it.Close()
	return it.First(), it.Error()
}

func (t *txn) deleteBucket(name string) error {
	if _, err := t.bucket(name); err != nil {
		return err
	}
	for _, p := range [][]byte{objectPrefix(name), uploadBucketPrefix(name), versionBucketPrefix(name)} {
		ok, err := t.hasPrefix(p)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("%w: %q", meta.ErrBucketNotEmpty, name)
		}
	}
	if err := t.deleteConfigs(name); err != nil {
		return err
	}
	t.b.Delete(bucketKey(name), nil)
	t.st.Buckets--
	return nil
}

// ---- refcounts, packs and chunks ----

// refDelta accumulates refcount changes per chunk in first-seen order, so
// that applying them is deterministic.
type refDelta struct {
	order []chunk.Addr
	d     map[chunk.Addr]int64
	size  map[chunk.Addr]uint32 // plaintext size claimed by positive refs
}

func newRefDelta(n int) *refDelta {
	return &refDelta{d: make(map[chunk.Addr]int64, n), size: make(map[chunk.Addr]uint32, n)}
}

func (r *refDelta) add(refs []meta.ChunkRef, sign int64) {
	for _, c := range refs {
		if _, ok := r.d[c.Addr]; !ok {
			r.order = append(r.order, c.Addr)
		}
		r.d[c.Addr] += sign
		if sign > 0 {
			r.size[c.Addr] = c.Size
		}
	}
}

// stage registers new packs and chunks and applies refcount changes: +1 for
// each ref in plus, -1 for each ref in the minus lists. Positive refs to
// chunks neither in the index nor in newChunks fail with
// *meta.MissingChunksError. A chunk reaching zero refs is tombstoned at the
// command's Time; a tombstoned chunk that gains refs is revived.
func (t *txn) stage(newPacks []meta.Pack, newChunks []meta.ChunkInfo, plus []meta.ChunkRef, minus ...[]meta.ChunkRef) error {
	type packState struct {
		p     *meta.Pack
		isNew bool
		dirty bool
	}
	packs := make(map[pack.ID]*packState, len(newPacks))
	var packOrder []pack.ID
	for i := range newPacks {
		p := newPacks[i]
		if err := validPack(&p); err != nil {
			return err
		}
		if _, dup := packs[p.ID]; dup {
			return invalid("pack %v listed twice", p.ID)
		}
		old, err := t.pack(p.ID)
		if err != nil {
			return err
		}
		if old != nil {
			// Already registered (a retried commit, or a pack shared by
			// several uploads): keep the stored one, whose LiveBytes the
			// fresh chunks below add to.
			packs[p.ID] = &packState{p: old}
			packOrder = append(packOrder, p.ID)
			continue
		}
		p.LiveBytes = 0
		p.Created = t.t
		p.Missing = normShards(p.Missing)
		packs[p.ID] = &packState{p: &p, isNew: true, dirty: true}
		packOrder = append(packOrder, p.ID)
	}
	getPack := func(id pack.ID) (*packState, error) {
		if ps, ok := packs[id]; ok {
			return ps, nil
		}
		p, err := t.pack(id)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, invalid("chunk in unknown pack %v", id)
		}
		ps := &packState{p: p}
		packs[id] = ps
		packOrder = append(packOrder, id)
		return ps, nil
	}

	fresh := make(map[chunk.Addr]int, len(newChunks))
	for i := range newChunks {
		c := &newChunks[i]
		if _, dup := fresh[c.Addr]; dup {
			return invalid("chunk %v listed twice", c.Addr)
		}
		fresh[c.Addr] = i
		if c.Length <= 0 || c.Offset < 0 || c.Size == 0 {
			return invalid("chunk %v: bad offset, length or size", c.Addr)
		}
		ps, err := getPack(c.Pack)
		if err != nil {
			return err
		}
		if c.Offset+int64(c.Length) > ps.p.Length {
			return invalid("chunk %v: frame [%d,+%d) beyond pack %v length %d", c.Addr, c.Offset, c.Length, c.Pack, ps.p.Length)
		}
		if !ps.isNew {
			dead, err := t.hasPrefix(deadPackKey(c.Pack))
			if err != nil {
				return err
			}
			if dead {
				return invalid("chunk %v in dead pack %v", c.Addr, c.Pack)
			}
		}
	}

	rd := newRefDelta(len(plus))
	rd.add(plus, 1)
	for _, m := range minus {
		rd.add(m, -1)
	}
	recs := make([]chunkRec, len(rd.order))
	known := make([]bool, len(rd.order))
	var missing []chunk.Addr
	for i, a := range rd.order {
		v, ok, err := get(t.db, chunkKey(a))
		if err != nil {
			return err
		}
		if ok {
			if recs[i], err = decodeChunk(v); err != nil {
				return fmt.Errorf("server: chunk %v: %w", a, err)
			}
			known[i] = true
		}
		if sz, pos := rd.size[a]; pos {
			switch {
			case ok && recs[i].Size != sz:
				return invalid("chunk %v: manifest size %d, index size %d", a, sz, recs[i].Size)
			case !ok:
				j, isFresh := fresh[a]
				if !isFresh {
					missing = append(missing, a)
				} else if newChunks[j].Size != sz {
					return invalid("chunk %v: manifest size %d, new chunk size %d", a, sz, newChunks[j].Size)
				}
			}
		}
	}
	if len(missing) > 0 {
		return &meta.MissingChunksError{Addrs: missing}
	}

	addFresh := func(a chunk.Addr) (chunkRec, error) {
		c := &newChunks[fresh[a]]
		ps, err := getPack(c.Pack)
		if err != nil {
			return chunkRec{}, err
		}
		ps.p.LiveBytes += int64(c.Length)
		ps.dirty = true
		return chunkRec{Pack: c.Pack, Offset: c.Offset, Length: c.Length, Size: c.Size}, nil
	}
	for i, a := range rd.order {
		delta := rd.d[a]
		rec := recs[i]
		if !known[i] {
			if _, isFresh := fresh[a]; !isFresh {
				// Releasing a ref to a chunk the index lost: nothing to do,
				// but it means the state broke an invariant.
				t.s.log.Warn("meta state: release of unknown chunk", "chunk", a.String())
				continue
			}
			var err error
			if rec, err = addFresh(a); err != nil {
				return err
			}
		}
		if delta == 0 && known[i] {
			continue
		}
		before := rec.Refs
		rec.Refs += delta
		if rec.Refs < 0 {
			t.s.log.Warn("meta state: refcount underflow", "chunk", a.String(), "refs", rec.Refs)
			delta -= rec.Refs
			rec.Refs = 0
		}
		t.st.Chunks += delta
		switch {
		case before == 0 && rec.Refs > 0 && known[i]:
			t.st.UniqueChunks++ // revived
		case !known[i] && rec.Refs > 0:
			t.st.UniqueChunks++
		case before > 0 && rec.Refs == 0:
			t.st.UniqueChunks--
		}
		if rec.Refs == 0 && (before > 0 || !known[i]) {
			rec.Dead = t.t
			t.b.Set(tombstoneKey(t.t, a), nil, nil)
		}
		t.b.Set(chunkKey(a), encodeChunk(&rec), nil)
	}
	// New chunks no manifest references: indexed, and tombstoned at once.
	for i := range newChunks {
		a := newChunks[i].Addr
		if _, ref := rd.d[a]; ref {
			continue
		}
		_, ok, err := get(t.db, chunkKey(a))
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		rec, err := addFresh(a)
		if err != nil {
			return err
		}
		rec.Dead = t.t
		t.b.Set(tombstoneKey(t.t, a), nil, nil)
		t.b.Set(chunkKey(a), encodeChunk(&rec), nil)
	}
	for _, id := range packOrder {
		ps := packs[id]
		if !ps.dirty {
			continue
		}
		t.b.Set(packKey(id), encodePack(ps.p), nil)
		if ps.isNew {
			t.st.Packs++
			t.st.StoredBytes += ps.p.Length
			t.st.RawBytes += ps.p.ShardSize * int64(ps.p.K+ps.p.M)
			if ps.p.LiveBytes == 0 {
				// Not dead yet: a pack shared by several uploads may get
				// its live bytes from a commit still to come (collect).
				t.b.Set(emptyPackKey(t.t, id), nil, nil)
			}
		}
	}
	return nil
}

func validPack(p *meta.Pack) error {
	switch {
	case p.ID == pack.ID{}:
		return invalid("zero pack ID")
	case p.K < 1 || p.M < 0 || p.K+p.M > maxShards:
		return invalid("pack %v: scheme %d+%d", p.ID, p.K, p.M)
	case p.Length < 0 || p.ShardSize < 0:
		return invalid("pack %v: negative length", p.ID)
	case len(p.Nodes) != p.K+p.M:
		return invalid("pack %v: %d nodes for %d shards", p.ID, len(p.Nodes), p.K+p.M)
	case len(p.Pool) > maxName:
		return invalid("pack %v: pool name too long", p.ID)
	}
	for _, n := range p.Nodes {
		if len(n) > maxName {
			return invalid("pack %v: node name too long", p.ID)
		}
	}
	for _, m := range p.Missing {
		if m < 0 || m >= p.K+p.M {
			return invalid("pack %v: missing shard %d out of range", p.ID, m)
		}
	}
	return nil
}

// normShards returns shard indexes sorted without duplicates.
func normShards(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// ---- objects ----

func (t *txn) putObject(r *meta.PutObjectRequest) error {
	o := r.Object
	b, err := t.bucket(o.Bucket)
	if err != nil {
		return err
	}
	if err := validObjectMeta(&o); err != nil {
		return err
	}
	if err := validManifest(o.Size, o.Chunks, o.Inline); err != nil {
		return err
	}
	if len(r.NewPacks) > maxChunkRefs || len(r.NewChunks) > maxChunkRefs {
		return invalid("too many new packs or chunks")
	}
	old, err := t.object(o.Bucket, o.Key)
	if err != nil {
		return err
	}
	if r.IfNoneMatch != "" {
		if r.IfNoneMatch != "*" {
			return invalid("If-None-Match must be \"*\"")
		}
		if old != nil {
			return fmt.Errorf("%w: %s/%s exists", meta.ErrPrecondition, o.Bucket, o.Key)
		}
	}
	if r.IfMatch != "" {
		want := strings.Trim(r.IfMatch, `"`)
		if old == nil {
			return fmt.Errorf("%w: %s/%s: no such key", meta.ErrPrecondition, o.Bucket, o.Key)
		}
		if want != "*" && want != old.ETag {
			return fmt.Errorf("%w: %s/%s: ETag %q", meta.ErrPrecondition, o.Bucket, o.Key, old.ETag)
		}
	}
	if o.VersionID, err = newVersionID(b.Versioning, o.VersionID, r.ReqID, t.t); err != nil {
		return err
	}
	if len(o.PartChecksums) > maxPartNumber {
		return invalid("%d part checksums", len(o.PartChecksums))
	}
	for _, m := range o.PartChecksums {
		if err := validChecksums(m); err != nil {
			return err
		}
	}
	o.Modified = t.t
	release, err := t.install(b.Versioning, &o, old)
	if err != nil {
		return err
	}
	return t.stage(r.NewPacks, r.NewChunks, o.Chunks, release...)
}

func (t *txn) putTags(bucket, key string, tags map[string]string) error {
	if _, err := t.bucket(bucket); err != nil {
		return err
	}
	if err := validKey(key); err != nil {
		return err
	}
	if err := validTags(tags); err != nil {
		return err
	}
	o, err := t.object(bucket, key)
	if err != nil {
		return err
	}
	if o == nil {
		return fmt.Errorf("%w: %s/%s", meta.ErrNoSuchKey, bucket, key)
	}
	o.Tags = tags
	if len(tags) == 0 {
		o.Tags = nil
	}
	t.b.Set(objectKey(bucket, key), EncodeObject(o), nil)
	return nil
}

// ---- packs and GC ----

func (t *txn) onePack(ids []pack.ID) (*meta.Pack, error) {
	if len(ids) != 1 {
		return nil, invalid("want one pack ID, got %d", len(ids))
	}
	p, err := t.pack(ids[0])
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, invalid("no such pack %v", ids[0])
	}
	return p, nil
}

func (t *txn) markMissing(ids []pack.ID, shards []int) error {
	p, err := t.onePack(ids)
	if err != nil {
		return err
	}
	for _, s := range shards {
		if s < 0 || s >= p.K+p.M {
			return invalid("pack %v: shard %d out of range", p.ID, s)
		}
	}
	p.Missing = normShards(append(slices.Clone(p.Missing), shards...))
	t.b.Set(packKey(p.ID), encodePack(p), nil)
	return nil
}

func (t *txn) setPackShards(ids []pack.ID, nodes []string, missing []int) error {
	p, err := t.onePack(ids)
	if err != nil {
		return err
	}
	np := *p
	np.Nodes = nodes
	np.Missing = missing
	if err := validPack(&np); err != nil {
		return err
	}
	np.Missing = normShards(missing)
	t.b.Set(packKey(p.ID), encodePack(&np), nil)
	return nil
}

func (t *txn) collect(grace int64, limit int) (*meta.GCResult, error) {
	if grace < 0 || limit < 0 {
		return nil, invalid("negative grace or limit")
	}
	if limit == 0 {
		limit = defaultGCLimit
	}
	limit = min(limit, maxGCLimit)
	res := &meta.GCResult{}
	cutoff := tombstoneKey(t.t-grace, chunk.Addr{})
	it, err := t.db.NewIter(&pebble.IterOptions{LowerBound: []byte(pfxTombstone), UpperBound: cutoff})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	packs := map[pack.ID]*meta.Pack{}
	var packOrder []pack.ID
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n == limit {
			res.More = true
			break
		}
		n++
		k := it.Key()
		if len(k) != len(pfxTombstone)+8+32 {
			return nil, fmt.Errorf("server: tombstone key %x: %w", k, ErrCorrupt)
		}
		when := timeFromBytes(k[len(pfxTombstone):])
		var a chunk.Addr
		copy(a[:], k[len(pfxTombstone)+8:])
		t.b.Delete(k, nil)
		v, ok, err := get(t.db, chunkKey(a))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		rec, err := decodeChunk(v)
		if err != nil {
			return nil, fmt.Errorf("server: chunk %v: %w", a, err)
		}
		if rec.Refs != 0 || rec.Dead != when {
			continue // revived, or tombstoned again later
		}
		t.b.Delete(chunkKey(a), nil)
		res.CollectedChunks++
		p, ok := packs[rec.Pack]
		if !ok {
			if p, err = t.pack(rec.Pack); err != nil {
				return nil, err
			}
			if p == nil {
				continue
			}
			packs[rec.Pack] = p
			packOrder = append(packOrder, rec.Pack)
		}
		p.LiveBytes -= int64(rec.Length)
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	// Packs registered empty more than grace ago that no commit has added
	// live bytes to are dead.
	zit, err := t.db.NewIter(&pebble.IterOptions{LowerBound: []byte(pfxEmptyPack), UpperBound: emptyPackKey(t.t-grace, pack.ID{})})
	if err != nil {
		return nil, err
	}
	defer zit.Close()
	for zit.First(); zit.Valid() && n < limit; zit.Next() {
		n++
		k := zit.Key()
		if len(k) != len(pfxEmptyPack)+8+len(pack.ID{}) {
			return nil, fmt.Errorf("server: empty-pack key %x: %w", k, ErrCorrupt)
		}
		var id pack.ID
		copy(id[:], k[len(pfxEmptyPack)+8:])
		t.b.Delete(k, nil)
		if _, ok := packs[id]; ok {
			continue // its LiveBytes changed above: decided below
		}
		p, err := t.pack(id)
		if err != nil {
			return nil, err
		}
		if p != nil && p.LiveBytes == 0 {
			packs[id] = p
			packOrder = append(packOrder, id)
		}
	}
	if err := zit.Error(); err != nil {
		return nil, err
	}
	if zit.Valid() {
		res.More = true
	}
	var newlyDead []meta.Pack
	for _, id := range packOrder {
		p := packs[id]
		if p.LiveBytes <= 0 {
			p.LiveBytes = 0
			t.b.Set(deadPackKey(id), nil, nil)
			newlyDead = append(newlyDead, *p)
		}
		t.b.Set(packKey(id), encodePack(p), nil)
	}
	// Report every dead pack not yet forgotten, in ID order.
	dit, err := t.db.NewIter(&pebble.IterOptions{LowerBound: []byte(pfxDeadPack), UpperBound: prefixEnd([]byte(pfxDeadPack))})
	if err != nil {
		return nil, err
	}
	defer dit.Close()
	seen := map[pack.ID]bool{}
	for _, p := range newlyDead {
		seen[p.ID] = true
	}
	dead := newlyDead
	for dit.First(); dit.Valid(); dit.Next() {
		var id pack.ID
		copy(id[:], dit.Key()[len(pfxDeadPack):])
		if seen[id] {
			continue
		}
		if len(dead) >= maxDeadPacks {
			res.More = true
			break
		}
		p, err := t.pack(id)
		if err != nil {
			return nil, err
		}
		if p != nil {
			dead = append(dead, *p)
		}
	}
	if err := dit.Error(); err != nil {
		return nil, err
	}
	slices.SortFunc(dead, func(a, b meta.Pack) int { return strings.Compare(string(a.ID[:]), string(b.ID[:])) })
	res.DeadPacks = dead
	return res, nil
}

func (t *txn) forgetPacks(ids []pack.ID) error {
	done := map[pack.ID]bool{}
	for _, id := range ids {
		if done[id] {
			continue
		}
		done[id] = true
		p, err := t.pack(id)
		if err != nil {
			return err
		}
		if p == nil || p.LiveBytes != 0 {
			continue // unknown, or still holding live chunks: keep it
		}
		t.b.Delete(packKey(id), nil)
		t.b.Delete(deadPackKey(id), nil)
		t.st.Packs--
		t.st.StoredBytes -= p.Length
		t.st.RawBytes -= p.ShardSize * int64(p.K+p.M)
	}
	return nil
}

// ---- multipart ----

func validUploadID(id string) error {
	if id == "" || len(id) > maxName {
		return fmt.Errorf("%w: upload ID %q", meta.ErrNoSuchUpload, id)
	}
	return nil
}

func (t *txn) upload(bucket, key, id string) (*meta.Upload, error) {
	if _, err := t.bucket(bucket); err != nil {
		return nil, err
	}
	if err := validKey(key); err != nil {
		return nil, err
	}
	if err := validUploadID(id); err != nil {
		return nil, err
	}
	v, ok, err := get(t.db, uploadKey(bucket, key, id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s/%s %q", meta.ErrNoSuchUpload, bucket, key, id)
	}
	u, err := decodeUpload(v)
	if err != nil {
		return nil, fmt.Errorf("server: upload %q: %w", id, err)
	}
	return &u, nil
}

func (t *txn) createUpload(u *meta.Upload) error {
	if _, err := t.bucket(u.Bucket); err != nil {
		return err
	}
	u.Object.Bucket, u.Object.Key = u.Bucket, u.Key
	if err := validObjectMeta(&u.Object); err != nil {
		return err
	}
	if u.UploadID == "" || len(u.UploadID) > maxName {
		return invalid("upload ID %q", u.UploadID)
	}
	ok, err := t.hasPrefix(uploadKey(u.Bucket, u.Key, u.UploadID))
	if err != nil {
		return err
	}
	if ok {
		return invalid("upload ID %q in use", u.UploadID)
	}
	u.Initiated = t.t
	u.Object.Chunks, u.Object.Inline, u.Object.Size, u.Object.PartSizes = nil, nil, 0, nil
	t.b.Set(uploadKey(u.Bucket, u.Key, u.UploadID), encodeUpload(u), nil)
	t.st.Uploads++
	return nil
}

func (t *txn) part(bucket, key, id string, n int) (*meta.Part, error) {
	v, ok, err := get(t.db, partKey(bucket, key, id, n))
	if err != nil || !ok {
		return nil, err
	}
	p, err := decodePart(v)
	if err != nil {
		return nil, fmt.Errorf("server: part %d of %q: %w", n, id, err)
	}
	return &p, nil
}

func (t *txn) putPart(r *meta.PutPartRequest) error {
	if _, err := t.upload(r.Bucket, r.Key, r.UploadID); err != nil {
		return err
	}
	p := r.Part
	if p.Number < 1 || p.Number > maxPartNumber {
		return invalid("part number %d outside 1..%d", p.Number, maxPartNumber)
	}
	if err := validManifest(p.Size, p.Chunks, p.Inline); err != nil {
		return err
	}
	if err := validChecksums(p.Checksums); err != nil {
		return err
	}
	if len(p.ETag) > maxName {
		return invalid("ETag too long")
	}
	if len(r.NewPacks) > maxChunkRefs || len(r.NewChunks) > maxChunkRefs {
		return invalid("too many new packs or chunks")
	}
	old, err := t.part(r.Bucket, r.Key, r.UploadID, p.Number)
	if err != nil {
		return err
	}
	var oldChunks []meta.ChunkRef
	if old != nil {
		oldChunks = old.Chunks
	}
	if err := t.stage(r.NewPacks, r.NewChunks, p.Chunks, oldChunks); err != nil {
		return err
	}
	p.Modified = t.t
	t.b.Set(partKey(r.Bucket, r.Key, r.UploadID, p.Number), encodePart(&p), nil)
	return nil
}

// parts calls fn for each part of an upload in number order.
func (t *txn) parts(bucket, key, id string, fn func(k []byte, p *meta.Part) error) error {
	lo := partKey(bucket, key, id, 0)
	it, err := t.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(uploadKey(bucket, key, id))})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		p, err := decodePart(it.Value())
		if err != nil {
			return fmt.Errorf("server: part of %q: %w", id, err)
		}
		if err := fn(slices.Clone(it.Key()), &p); err != nil {
			return err
		}
	}
	return it.Error()
}

func (t *txn) complete(r *meta.CompleteUploadRequest) (*meta.Object, error) {
	u, err := t.upload(r.Bucket, r.Key, r.UploadID)
	if err != nil {
		return nil, err
	}
	if len(r.Parts) == 0 {
		return nil, fmt.Errorf("%w: no parts", meta.ErrInvalidPart)
	}
	if len(r.Parts) > maxPartNumber {
		return nil, invalid("%d parts", len(r.Parts))
	}
	if err := validChecksums(r.Checksums); err != nil {
		return nil, err
	}
	for i := 1; i < len(r.Parts); i++ {
		if r.Parts[i].Number <= r.Parts[i-1].Number {
			return nil, fmt.Errorf("%w: part %d after %d", meta.ErrInvalidPartOrder, r.Parts[i].Number, r.Parts[i-1].Number)
		}
	}
	parts := make([]*meta.Part, len(r.Parts))
	for i, cp := range r.Parts {
		if cp.Number < 1 || cp.Number > maxPartNumber {
			return nil, fmt.Errorf("%w: part number %d", meta.ErrInvalidPart, cp.Number)
		}
		p, err := t.part(r.Bucket, r.Key, r.UploadID, cp.Number)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("%w: part %d not uploaded", meta.ErrInvalidPart, cp.Number)
		}
		if strings.Trim(cp.ETag, `"`) != strings.Trim(p.ETag, `"`) {
			return nil, fmt.Errorf("%w: part %d ETag %q, have %q", meta.ErrInvalidPart, cp.Number, cp.ETag, p.ETag)
		}
		parts[i] = p
	}
	h := md5.New()
	o := u.Object
	o.Bucket, o.Key = r.Bucket, r.Key
	o.PartSizes = make([]int64, len(parts))
	o.PartChecksums = nil
	nInline, nChunks := 0, 0
	for i, p := range parts {
		if i < len(parts)-1 && p.Size < minPartSize {
			return nil, fmt.Errorf("%w: part %d is %d bytes", meta.ErrEntityTooSmall, p.Number, p.Size)
		}
		sum, err := hex.DecodeString(strings.Trim(p.ETag, `"`))
		if err != nil || len(sum) != md5.Size {
			return nil, fmt.Errorf("%w: part %d ETag %q is not an MD5", meta.ErrInvalidPart, p.Number, p.ETag)
		}
		h.Write(sum)
		o.Size += p.Size
		o.PartSizes[i] = p.Size
		if len(p.Checksums) > 0 {
			// Per-part checksums (GetObjectAttributes, GET ?partNumber).
			if o.PartChecksums == nil {
				o.PartChecksums = make([]map[string]string, len(parts))
			}
			o.PartChecksums[i] = p.Checksums
		}
		if len(p.Inline) > 0 {
			nInline++
		}
		nChunks += len(p.Chunks)
	}
	if nChunks > maxChunkRefs {
		return nil, invalid("%d chunk refs, more than %d", nChunks, maxChunkRefs)
	}
	switch {
	case nInline > 0 && nChunks > 0:
		return nil, invalid("upload mixes inline and chunked parts")
	case nInline > 0:
		if o.Size > maxInline {
			return nil, invalid("inline upload of %d bytes", o.Size)
		}
		o.Inline = make([]byte, 0, o.Size)
		for _, p := range parts {
			o.Inline = append(o.Inline, p.Inline...)
		}
	default:
		o.Chunks = make([]meta.ChunkRef, 0, nChunks)
		for _, p := range parts {
			o.Chunks = append(o.Chunks, p.Chunks...)
		}
	}
	o.ETag = hex.EncodeToString(h.Sum(nil)) + fmt.Sprintf("-%d", len(parts))
	o.Modified = t.t
	o.Checksums = r.Checksums
	o.ChecksumType = ""
	if len(r.Checksums) > 0 {
		// The type asked for at create (FULL_OBJECT for CRCs that the
		// gateway combined), COMPOSITE otherwise.
		o.ChecksumType = "COMPOSITE"
		if u.Object.ChecksumType == "FULL_OBJECT" {
			o.ChecksumType = "FULL_OBJECT"
		}
	}
	// The object takes over the named parts' refs; the others are released.
	used := make(map[int]bool, len(parts))
	for _, p := range parts {
		used[p.Number] = true
	}
	var release [][]meta.ChunkRef
	err = t.parts(r.Bucket, r.Key, r.UploadID, func(k []byte, p *meta.Part) error {
		if !used[p.Number] {
			release = append(release, p.Chunks)
		}
		t.b.Delete(k, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	old, err := t.object(r.Bucket, r.Key)
	if err != nil {
		return nil, err
	}
	b, err := t.bucket(r.Bucket)
	if err != nil {
		return nil, err
	}
	if o.VersionID, err = newVersionID(b.Versioning, r.VersionID, r.ReqID, t.t); err != nil {
		return nil, err
	}
	o.PartChecksums = nil
	for i, p := range parts {
		if len(p.Checksums) > 0 {
			if o.PartChecksums == nil {
				o.PartChecksums = make([]map[string]string, len(parts))
			}
			o.PartChecksums[i] = p.Checksums
		}
	}
	rel, err := t.install(b.Versioning, &o, old)
	if err != nil {
		return nil, err
	}
	if err := t.stage(nil, nil, nil, append(release, rel...)...); err != nil {
		return nil, err
	}
	t.b.Delete(uploadKey(r.Bucket, r.Key, r.UploadID), nil)
	t.st.Uploads--
	res := o
	res.Chunks, res.Inline = nil, nil
	return &res, nil
}

func (t *txn) abort(bucket, key, id string) error {
	if _, err := t.upload(bucket, key, id); err != nil {
		return err
	}
	var release [][]meta.ChunkRef
	err := t.parts(bucket, key, id, func(k []byte, p *meta.Part) error {
		release = append(release, p.Chunks)
		t.b.Delete(k, nil)
		return nil
	})
	if err != nil {
		return err
	}
	if err := t.stage(nil, nil, nil, release...); err != nil {
		return err
	}
	t.b.Delete(uploadKey(bucket, key, id), nil)
	t.st.Uploads--
	return nil
}

// ---- cluster ----

func (t *txn) registerNode(n meta.Node) error {
	if n.ID == "" || len(n.ID) > maxName || len(n.Addr) > maxName {
		return invalid("node ID %q", n.ID)
	}
	t.b.Set(key2(pfxNode, n.ID), encodeNode(&n), nil)
	return nil
}

func (t *txn) heartbeat(n meta.Node) error {
	v, ok, err := get(t.db, key2(pfxNode, n.ID))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %q", meta.ErrNoSuchNode, n.ID)
	}
	cur, err := decodeNode(v)
	if err != nil {
		return fmt.Errorf("server: node %q: %w", n.ID, err)
	}
	cur.Capacity, cur.Free, cur.Used, cur.Shards = n.Capacity, n.Free, n.Used, n.Shards
	cur.Failed, cur.LastSeen = n.Failed, n.LastSeen
	t.b.Set(key2(pfxNode, n.ID), encodeNode(&cur), nil)
	return nil
}

func (t *txn) putPool(p meta.Pool) error {
	if p.Name == "" || len(p.Name) > maxName {
		return invalid("pool name %q", p.Name)
	}
	if p.K < 1 || p.M < 0 || p.K+p.M > maxShards || p.PGs < 0 {
		return invalid("pool %q: scheme %d+%d, %d PGs", p.Name, p.K, p.M, p.PGs)
	}
	t.b.Set(key2(pfxPool, p.Name), encodePool(&p), nil)
	return nil
}

func (t *txn) putUser(u meta.User) error {
	if u.Name == "" || u.AccessKey == "" || len(u.Name) > maxName || len(u.AccessKey) > maxName || len(u.SecretEnc) > 4096 {
		return invalid("user name or access key")
	}
	for _, k := range [][]byte{key2(pfxUserName, u.Name), key2(pfxUserKey, u.AccessKey)} {
		_, ok, err := get(t.db, k)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("%w: %q", meta.ErrUserExists, u.Name)
		}
	}
	if u.Created == 0 {
		u.Created = t.t
	}
	t.b.Set(key2(pfxUserKey, u.AccessKey), encodeUser(&u), nil)
	t.b.Set(key2(pfxUserName, u.Name), []byte(u.AccessKey), nil)
	return nil
}

func (t *txn) deleteUser(name string) error {
	ak, ok, err := get(t.db, key2(pfxUserName, name))
	if err != nil {
		return err
	}
	if !ok || name == "" {
		return fmt.Errorf("%w: %q", meta.ErrNoSuchUser, name)
	}
	t.b.Delete(key2(pfxUserName, name), nil)
	t.b.Delete(key2(pfxUserKey, string(ak)), nil)
	return nil
}
