package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tessera-store/tessera/meta"
)

// fakeBackend is an in-memory Backend that keeps objects as []byte in maps
// and applies the contract's rules (ownership is s3api's job, not its).
type fakeBackend struct {
	mu      sync.Mutex
	users   map[string]fakeUser // by access key
	buckets map[string]meta.Bucket
	objects map[string]map[string]*fakeObject // bucket -> key
	uploads map[string]*fakeUpload            // by upload ID
	seq     int
	minPart int64 // smallest non-last part; 5 MiB as in S3
	// fail, when set, is consulted before every operation (fault injection).
	fail func(op string) error
	// configs holds bucket configuration documents by bucket, then name
	// (fakeconfig_test.go).
	configs map[string]map[string][]byte
}

type fakeUser struct {
	user   meta.User
	secret string
}

type fakeObject struct {
	o    meta.Object
	data []byte
}

type fakeUpload struct {
	u     meta.Upload
	parts map[int]*fakePart
}

type fakePart struct {
	p    meta.Part
	data []byte
}

var _ Backend = (*fakeBackend)(nil)

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		users:   make(map[string]fakeUser),
		buckets: make(map[string]meta.Bucket),
		objects: make(map[string]map[string]*fakeObject),
		uploads: make(map[string]*fakeUpload),
		minPart: 5 << 20,
	}
}

func (f *fakeBackend) addUser(name, access, secret string, root bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[access] = fakeUser{meta.User{Name: name, AccessKey: access, Root: root}, secret}
}

func (f *fakeBackend) check(op string) error {
	if f.fail != nil {
		return f.fail(op)
	}
	return nil
}

func now() int64 { return time.Now().UnixNano() }

func cloneObject(o meta.Object) *meta.Object {
	c := o
	c.Headers = maps.Clone(o.Headers)
	c.UserMeta = maps.Clone(o.UserMeta)
	c.Tags = maps.Clone(o.Tags)
	c.Checksums = maps.Clone(o.Checksums)
	c.PartSizes = slices.Clone(o.PartSizes)
	return &c
}

func (f *fakeBackend) Secret(ctx context.Context, accessKey string) (meta.User, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[accessKey]
	if !ok {
		return meta.User{}, "", fmt.Errorf("fake: key %q: %w", accessKey, meta.ErrNoSuchUser)
	}
	return u.user, u.secret, nil
}

func (f *fakeBackend) CreateBucket(ctx context.Context, owner, name, region string) error {
	if err := f.check("CreateBucket"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.buckets[name]; ok {
		if b.Owner == owner {
			return meta.ErrBucketOwnedByYou
		}
		return meta.ErrBucketExists
	}
	f.buckets[name] = meta.Bucket{Name: name, Owner: owner, Region: region, Created: now()}
	f.objects[name] = make(map[string]*fakeObject)
	return nil
}

func (f *fakeBackend) DeleteBucket(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.buckets[name]; !ok {
		return meta.ErrNoSuchBucket
	}
	if len(f.objects[name]) > 0 {
		return meta.ErrBucketNotEmpty
	}
	for _, u := range f.uploads {
		if u.u.Bucket == name {
			return meta.ErrBucketNotEmpty
		}
	}
	delete(f.buckets, name)
	delete(f.objects, name)
	delete(f.configs, name)
	return nil
}

func (f *fakeBackend) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	if err := f.check("GetBucket"); err != nil {
		return meta.Bucket{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[name]
	if !ok {
		return b, fmt.Errorf("fake: bucket %q: %w", name, meta.ErrNoSuchBucket)
	}
	return b, nil
}

func (f *fakeBackend) ListBuckets(ctx context.Context) ([]meta.Bucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Collect(maps.Values(f.buckets))
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// readBody reads a streamed body to its end the way the real write path
// does: any error (including a digest mismatch at EOF) aborts the commit.
func readBody(r io.Reader, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r)
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("fake: body: %w", err)
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, fmt.Errorf("fake: body of %d bytes, declared %d: %w", len(data), size, ErrIncompleteBody)
	}
	return data, nil
}

func (f *fakeBackend) precondition(bucket, key, ifMatch, ifNoneMatch string) error {
	cur, ok := f.objects[bucket][key]
	if ifMatch != "" && (!ok || (ifMatch != "*" && cur.o.ETag != ifMatch)) {
		return meta.ErrPrecondition
	}
	if ifNoneMatch != "" && ok && (ifNoneMatch == "*" || cur.o.ETag == ifNoneMatch) {
		return meta.ErrPrecondition
	}
	return nil
}

func (f *fakeBackend) PutObject(ctx context.Context, in *PutInput) (*meta.Object, error) {
	if err := f.check("PutObject"); err != nil {
		return nil, err
	}
	if _, err := f.GetBucket(ctx, in.Object.Bucket); err != nil {
		return nil, err
	}
	data, err := readBody(in.Body, in.Size)
	if err != nil {
		return nil, err
	}
	o := *cloneObject(in.Object)
	o.Size = int64(len(data))
	if err := in.Seal(&o); err != nil {
		return nil, err
	}
	o.Modified = now()
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, ok := f.objects[o.Bucket]
	if !ok {
		return nil, meta.ErrNoSuchBucket
	}
	if err := f.precondition(o.Bucket, o.Key, in.IfMatch, in.IfNoneMatch); err != nil {
		return nil, err
	}
	objs[o.Key] = &fakeObject{o: o, data: data}
	return cloneObject(o), nil
}

func (f *fakeBackend) HeadObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	if err := f.check("HeadObject"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, ok := f.objects[bucket]
	if !ok {
		return nil, meta.ErrNoSuchBucket
	}
	obj, ok := objs[key]
	if !ok {
		return nil, fmt.Errorf("fake: %s/%s: %w", bucket, key, meta.ErrNoSuchKey)
	}
	return cloneObject(obj.o), nil
}

func (f *fakeBackend) dataOf(o *meta.Object) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	obj, ok := f.objects[o.Bucket][o.Key]
	if !ok || obj.o.ETag != o.ETag {
		return nil, meta.ErrNoSuchKey
	}
	return obj.data, nil
}

func (f *fakeBackend) OpenObject(ctx context.Context, o *meta.Object, off, n int64) (io.ReadCloser, error) {
	if err := f.check("OpenObject"); err != nil {
		return nil, err
	}
	data, err := f.dataOf(o)
	if err != nil {
		return nil, err
	}
	if off < 0 || n < 0 || off+n > int64(len(data)) {
		return nil, fmt.Errorf("fake: range [%d,+%d) of %d: %w", off, n, len(data), meta.ErrInvalidArgument)
	}
	return io.NopCloser(bytes.NewReader(data[off : off+n])), nil
}

func (f *fakeBackend) DeleteObject(ctx context.Context, bucket, key string) error {
	if err := f.check("DeleteObject"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, ok := f.objects[bucket]
	if !ok {
		return meta.ErrNoSuchBucket
	}
	delete(objs, key)
	return nil
}

func (f *fakeBackend) CopyObject(ctx context.Context, src, dst *meta.Object, ifMatch, ifNoneMatch string) (*meta.Object, error) {
	data, err := f.dataOf(src)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, ok := f.objects[dst.Bucket]
	if !ok {
		return nil, meta.ErrNoSuchBucket
	}
	if err := f.precondition(dst.Bucket, dst.Key, ifMatch, ifNoneMatch); err != nil {
		return nil, err
	}
	o := *cloneObject(*dst)
	o.Size, o.ETag, o.Modified = src.Size, src.ETag, now()
	objs[o.Key] = &fakeObject{o: o, data: data}
	return cloneObject(o), nil
}

func (f *fakeBackend) PutObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, ok := f.objects[bucket]
	if !ok {
		return meta.ErrNoSuchBucket
	}
	obj, ok := objs[key]
	if !ok {
		return meta.ErrNoSuchKey
	}
	obj.o.Tags = maps.Clone(tags)
	return nil
}

func (f *fakeBackend) ListObjects(ctx context.Context, req *meta.ListRequest) (*meta.ListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, ok := f.objects[req.Bucket]
	if !ok {
		return nil, meta.ErrNoSuchBucket
	}
	max := req.MaxKeys
	if max <= 0 || max > 1000 {
		max = 1000
	}
	keys := slices.Sorted(maps.Keys(objs))
	res := &meta.ListResult{}
	n := 0
	lastCP := ""
	for _, k := range keys {
		if !strings.HasPrefix(k, req.Prefix) || k <= req.Marker {
			continue
		}
		cp := ""
		if req.Delimiter != "" {
			if i := strings.Index(k[len(req.Prefix):], req.Delimiter); i >= 0 {
				cp = k[:len(req.Prefix)+i+len(req.Delimiter)]
			}
		}
		if cp != "" && (cp == lastCP || cp <= req.Marker) {
			continue
		}
		if n == max {
			res.IsTruncated = true
			break
		}
		n++
		if cp != "" {
			lastCP = cp
			res.CommonPrefixes = append(res.CommonPrefixes, cp)
			res.NextMarker = cp
			continue
		}
		o := *cloneObject(objs[k].o)
		o.Chunks, o.Inline = nil, nil
		res.Objects = append(res.Objects, o)
		res.NextMarker = k
	}
	if !res.IsTruncated {
		res.NextMarker = ""
	}
	return res, nil
}

func (f *fakeBackend) CreateUpload(ctx context.Context, u *meta.Upload) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.buckets[u.Bucket]; !ok {
		return "", meta.ErrNoSuchBucket
	}
	f.seq++
	id := fmt.Sprintf("upload-%06d", f.seq)
	c := *u
	c.UploadID = id
	c.Object = *cloneObject(u.Object)
	f.uploads[id] = &fakeUpload{u: c, parts: make(map[int]*fakePart)}
	return id, nil
}

func (f *fakeBackend) upload(bucket, key, id string) (*fakeUpload, error) {
	u, ok := f.uploads[id]
	if !ok || u.u.Bucket != bucket || u.u.Key != key {
		return nil, fmt.Errorf("fake: upload %q: %w", id, meta.ErrNoSuchUpload)
	}
	return u, nil
}

func (f *fakeBackend) putPart(bucket, key, id string, p meta.Part, data []byte) (*meta.Part, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.upload(bucket, key, id)
	if err != nil {
		return nil, err
	}
	p.Size, p.Modified = int64(len(data)), now()
	u.parts[p.Number] = &fakePart{p: p, data: data}
	c := p
	return &c, nil
}

func (f *fakeBackend) UploadPart(ctx context.Context, bucket, key, uploadID string, in *PartInput) (*meta.Part, error) {
	f.mu.Lock()
	_, err := f.upload(bucket, key, uploadID)
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	data, err := readBody(in.Body, in.Size)
	if err != nil {
		return nil, err
	}
	p := meta.Part{Number: in.Number}
	if err := in.Seal(&p); err != nil {
		return nil, err
	}
	return f.putPart(bucket, key, uploadID, p, data)
}

func (f *fakeBackend) UploadPartCopy(ctx context.Context, bucket, key, uploadID string, number int, src *meta.Object, off, n int64) (*meta.Part, error) {
	data, err := f.dataOf(src)
	if err != nil {
		return nil, err
	}
	if off < 0 || n < 0 || off+n > int64(len(data)) {
		return nil, meta.ErrInvalidArgument
	}
	part := slices.Clone(data[off : off+n])
	sum := md5.Sum(part)
	return f.putPart(bucket, key, uploadID, meta.Part{Number: number, ETag: hex.EncodeToString(sum[:])}, part)
}

func (f *fakeBackend) CompleteUpload(ctx context.Context, req *meta.CompleteUploadRequest) (*meta.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.upload(req.Bucket, req.Key, req.UploadID)
	if err != nil {
		return nil, err
	}
	objs, ok := f.objects[req.Bucket]
	if !ok {
		return nil, meta.ErrNoSuchBucket
	}
	if len(req.Parts) == 0 {
		return nil, meta.ErrInvalidArgument
	}
	var md5s []byte
	var sizes []int64
	var partSums []map[string]string // as meta/server keeps them
	total := 0
	for _, cp := range req.Parts {
		if p, ok := u.parts[cp.Number]; ok {
			total += len(p.data)
		}
	}
	data := make([]byte, 0, total)
	for i, cp := range req.Parts {
		if i > 0 && cp.Number <= req.Parts[i-1].Number {
			return nil, meta.ErrInvalidPartOrder
		}
		p, ok := u.parts[cp.Number]
		if !ok || p.p.ETag != cp.ETag {
			return nil, fmt.Errorf("fake: part %d: %w", cp.Number, meta.ErrInvalidPart)
		}
		if i < len(req.Parts)-1 && p.p.Size < f.minPart {
			return nil, meta.ErrEntityTooSmall
		}
		raw, err := hex.DecodeString(p.p.ETag)
		if err != nil {
			return nil, meta.ErrInvalidPart
		}
		md5s = append(md5s, raw...)
		data = append(data, p.data...)
		sizes = append(sizes, p.p.Size)
		partSums = append(partSums, maps.Clone(p.p.Checksums))
	}
	sum := md5.Sum(md5s)
	o := *cloneObject(u.u.Object)
	o.Size, o.Modified, o.PartSizes = int64(len(data)), now(), sizes
	o.ETag = fmt.Sprintf("%s-%d", hex.EncodeToString(sum[:]), len(req.Parts))
	o.Checksums = maps.Clone(req.Checksums)
	if len(o.Checksums) == 0 {
		o.ChecksumType = ""
	}
	for _, m := range partSums {
		if len(m) > 0 {
			o.PartChecksums = partSums
			break
		}
	}
	objs[o.Key] = &fakeObject{o: o, data: data}
	delete(f.uploads, req.UploadID)
	return cloneObject(o), nil
}

func (f *fakeBackend) AbortUpload(ctx context.Context, bucket, key, uploadID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.upload(bucket, key, uploadID); err != nil {
		return err
	}
	delete(f.uploads, uploadID)
	return nil
}

func (f *fakeBackend) GetUpload(ctx context.Context, bucket, key, uploadID string) (*meta.Upload, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.upload(bucket, key, uploadID)
	if err != nil {
		return nil, err
	}
	c := u.u
	c.Object = *cloneObject(u.u.Object)
	return &c, nil
}

func (f *fakeBackend) ListParts(ctx context.Context, req *meta.ListPartsRequest) (*meta.ListPartsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.upload(req.Bucket, req.Key, req.UploadID)
	if err != nil {
		return nil, err
	}
	max := req.MaxParts
	if max <= 0 || max > 1000 {
		max = 1000
	}
	res := &meta.ListPartsResult{Upload: u.u}
	for _, n := range slices.Sorted(maps.Keys(u.parts)) {
		if n <= req.Marker {
			continue
		}
		if len(res.Parts) == max {
			res.IsTruncated = true
			break
		}
		p := u.parts[n].p
		p.Checksums = maps.Clone(p.Checksums)
		res.Parts = append(res.Parts, p)
		res.NextMarker = n
	}
	return res, nil
}

func (f *fakeBackend) ListUploads(ctx context.Context, req *meta.ListUploadsRequest) (*meta.ListUploadsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ups []meta.Upload
	for _, u := range f.uploads {
		if u.u.Bucket == req.Bucket && strings.HasPrefix(u.u.Key, req.Prefix) {
			ups = append(ups, u.u)
		}
	}
	sort.Slice(ups, func(i, j int) bool {
		if ups[i].Key != ups[j].Key {
			return ups[i].Key < ups[j].Key
		}
		return ups[i].UploadID < ups[j].UploadID
	})
	max := req.MaxUploads
	if max <= 0 || max > 1000 {
		max = 1000
	}
	res := &meta.ListUploadsResult{}
	lastCP := ""
	for _, u := range ups {
		if u.Key < req.KeyMarker || (u.Key == req.KeyMarker && (req.UploadIDMarker == "" || u.UploadID <= req.UploadIDMarker)) {
			continue
		}
		cp := ""
		if req.Delimiter != "" {
			if i := strings.Index(u.Key[len(req.Prefix):], req.Delimiter); i >= 0 {
				cp = u.Key[:len(req.Prefix)+i+len(req.Delimiter)]
			}
		}
		if cp != "" && cp == lastCP {
			continue
		}
		if len(res.Uploads)+len(res.CommonPrefixes) == max {
			res.IsTruncated = true
			break
		}
		if cp != "" {
			lastCP = cp
			res.CommonPrefixes = append(res.CommonPrefixes, cp)
			res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
			continue
		}
		res.Uploads = append(res.Uploads, u)
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
	}
	return res, nil
}

// seed stores objects directly (listing tests need thousands of keys).
func (f *fakeBackend) seed(bucket string, keys []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		sum := md5.Sum([]byte(k))
		f.objects[bucket][k] = &fakeObject{
			o:    meta.Object{Bucket: bucket, Key: k, Size: int64(len(k)), ETag: hex.EncodeToString(sum[:]), Modified: now(), ContentType: "text/plain"},
			data: []byte(k),
		}
	}
}
