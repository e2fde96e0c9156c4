package metatest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera-store/tessera/meta"
)

// putVersion commits key with content c at time tm, offering version ID vid.
func (e *env) putVersion(bucket, key, vid string, c Content, tm int64) {
	e.t.Helper()
	refs, packs, infos := c.Build()
	o := meta.Object{Bucket: bucket, Key: key, Chunks: refs, ETag: etag(key), VersionID: vid}
	for _, r := range refs {
		o.Size += int64(r.Size)
	}
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: tm, Object: o, NewPacks: packs, NewChunks: infos}); err != nil {
		e.t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
}

func (e *env) setVersioning(bucket, state string) {
	e.t.Helper()
	if err := e.s.SetBucketVersioning(e.ctx, e.id(), 1, bucket, state); err != nil {
		e.t.Fatalf("SetBucketVersioning %s: %v", state, err)
	}
}

func (e *env) deleteVersion(bucket, key, vid, marker string, tm int64) *meta.DeleteObjectResult {
	e.t.Helper()
	r, err := e.s.DeleteObjectVersion(e.ctx, &meta.DeleteObjectRequest{ReqID: e.id(), Time: tm, Bucket: bucket, Key: key, VersionID: vid, MarkerVersionID: marker})
	if err != nil {
		e.t.Fatalf("DeleteObjectVersion %s %q: %v", key, vid, err)
	}
	return r
}

// versions lists all versions of bucket as "key@vid" (+"*" latest, "!" marker).
func (e *env) versions(req meta.ListVersionsRequest) []string {
	e.t.Helper()
	res, err := e.s.ListObjectVersions(e.ctx, &req)
	if err != nil {
		e.t.Fatalf("ListObjectVersions: %v", err)
	}
	var out []string
	for _, o := range res.Versions {
		s := o.Key + "@" + o.VersionID
		if o.IsLatest {
			s += "*"
		}
		if o.DeleteMarker {
			s += "!"
		}
		out = append(out, s)
	}
	for _, p := range res.CommonPrefixes {
		out = append(out, "prefix:"+p)
	}
	return out
}

func (e *env) current(bucket, key string) *meta.Object {
	e.t.Helper()
	o, err := e.s.GetObject(e.ctx, bucket, key)
	if err != nil {
		e.t.Fatalf("GetObject %s: %v", key, err)
	}
	return o
}

func testVersions(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("ver")
	e.putVersion("ver", "a", "ignored", Content{Pack: 1, Chunks: []int{1}}, 10) // never versioned: null
	if o := e.current("ver", "a"); o.VersionID != "" {
		t.Fatalf("unversioned put got version %q", o.VersionID)
	}
	for _, tt := range []struct {
		bucket, state string
		want          error
	}{
		{"ver", "On", meta.ErrInvalidArgument},
		{"ver", "", meta.ErrInvalidArgument},
		{"nope", meta.VersioningEnabled, meta.ErrNoSuchBucket},
	} {
		if err := e.s.SetBucketVersioning(ctx, e.id(), 1, tt.bucket, tt.state); !errors.Is(err, tt.want) {
			t.Errorf("SetBucketVersioning(%s, %q) = %v, want %v", tt.bucket, tt.state, err, tt.want)
		}
	}
	e.setVersioning("ver", meta.VersioningEnabled)
	if b, err := e.s.GetBucket(ctx, "ver"); err != nil || b.Versioning != meta.VersioningEnabled {
		t.Fatalf("GetBucket = %+v, %v", b, err)
	}
	e.putVersion("ver", "a", "v2", Content{Pack: 2, Chunks: []int{2}}, 20)
	e.putVersion("ver", "a", "v3", Content{Pack: 3, Chunks: []int{3}}, 30)
	if o := e.current("ver", "a"); o.VersionID != "v3" || o.Chunks[0].Addr != Addr(3) {
		t.Fatalf("current = %+v", o)
	}
	if r1, r2, r3 := e.refs(1), e.refs(2), e.refs(3); r1 != 1 || r2 != 1 || r3 != 1 {
		t.Fatalf("refs = %d %d %d, want 1 1 1", r1, r2, r3)
	}
	if st := e.stats(); st.Objects != 3 || st.LogicalBytes != 3000 {
		t.Fatalf("stats = %+v", st)
	}
	for _, tt := range []struct {
		vid    string
		chunk  int
		latest bool
	}{{"null", 1, false}, {"", 1, false}, {"v2", 2, false}, {"v3", 3, true}} {
		o, err := e.s.GetObjectVersion(ctx, "ver", "a", tt.vid)
		if err != nil || o.Chunks[0].Addr != Addr(tt.chunk) || o.IsLatest != tt.latest {
			t.Fatalf("GetObjectVersion(%q) = %+v, %v", tt.vid, o, err)
		}
	}
	if _, err := e.s.GetObjectVersion(ctx, "ver", "a", "nope"); !errors.Is(err, meta.ErrNoSuchVersion) {
		t.Fatalf("GetObjectVersion(nope) = %v", err)
	}
	if _, err := e.s.GetObjectVersion(ctx, "nope", "a", "v2"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("GetObjectVersion in missing bucket = %v", err)
	}
	// Delete without a version: a delete marker on top.
	if r := e.deleteVersion("ver", "a", "", "m4", 40); r.VersionID != "m4" || !r.DeleteMarker {
		t.Fatalf("delete = %+v", r)
	}
	if _, err := e.s.GetObject(ctx, "ver", "a"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("GetObject under a delete marker = %v", err)
	}
	if o, err := e.s.GetObjectVersion(ctx, "ver", "a", "m4"); err != nil || !o.DeleteMarker || !o.IsLatest {
		t.Fatalf("GetObjectVersion(marker) = %+v, %v", o, err)
	}
	if got, want := e.versions(meta.ListVersionsRequest{Bucket: "ver"}), []string{"a@m4*!", "a@v3", "a@v2", "a@"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	if res, _ := e.s.ListObjects(ctx, &meta.ListRequest{Bucket: "ver"}); len(res.Objects) != 0 {
		t.Fatalf("ListObjects under a delete marker = %+v", res.Objects)
	}
	// Tags per version.
	if err := e.s.PutObjectVersionTags(ctx, e.id(), 41, "ver", "a", "v2", map[string]string{"k": "2"}); err != nil {
		t.Fatal(err)
	}
	if o, _ := e.s.GetObjectVersion(ctx, "ver", "a", "v2"); o.Tags["k"] != "2" {
		t.Fatalf("tags of v2 = %v", o.Tags)
	}
	if err := e.s.PutObjectVersionTags(ctx, e.id(), 41, "ver", "a", "m4", map[string]string{"k": "2"}); !errors.Is(err, meta.ErrInvalidArgument) {
		t.Fatalf("tags on a marker = %v", err)
	}
	if err := e.s.PutObjectVersionTags(ctx, e.id(), 41, "ver", "a", "zz", map[string]string{"k": "2"}); !errors.Is(err, meta.ErrNoSuchVersion) {
		t.Fatalf("tags on a missing version = %v", err)
	}
	// Removing the marker uncovers v3; removing v3 (current) promotes v2.
	if r := e.deleteVersion("ver", "a", "m4", "", 50); r.VersionID != "m4" || !r.DeleteMarker {
		t.Fatalf("delete marker = %+v", r)
	}
	if o := e.current("ver", "a"); o.VersionID != "v3" {
		t.Fatalf("current after marker removal = %q", o.VersionID)
	}
	e.deleteVersion("ver", "a", "v3", "", 51)
	if o := e.current("ver", "a"); o.VersionID != "v2" || o.Tags["k"] != "2" {
		t.Fatalf("current after removing v3 = %+v", o)
	}
	if e.refs(3) != 0 {
		t.Fatalf("refs(3) = %d after its version went", e.refs(3))
	}
	e.deleteVersion("ver", "a", "missing", "", 52) // succeeds
	e.deleteVersion("ver", "a", "null", "", 53)
	if e.refs(1) != 0 || e.refs(2) != 1 {
		t.Fatalf("refs = %d %d, want 0 1", e.refs(1), e.refs(2))
	}
	if err := e.s.DeleteBucket(ctx, e.id(), 60, "ver"); !errors.Is(err, meta.ErrBucketNotEmpty) {
		t.Fatalf("DeleteBucket with versions = %v", err)
	}
	e.deleteVersion("ver", "a", "", "m6", 61) // v2 becomes non-current under m6
	if err := e.s.DeleteBucket(ctx, e.id(), 62, "ver"); !errors.Is(err, meta.ErrBucketNotEmpty) {
		t.Fatalf("DeleteBucket with a delete marker = %v", err)
	}
	e.deleteVersion("ver", "a", "v2", "", 63)
	e.deleteVersion("ver", "a", "m6", "", 64)
	if st := e.stats(); st.Objects != 0 || st.LogicalBytes != 0 || st.Chunks != 0 {
		t.Fatalf("stats at the end = %+v", st)
	}
	if err := e.s.DeleteBucket(ctx, e.id(), 65, "ver"); err != nil {
		t.Fatalf("DeleteBucket of an emptied bucket = %v", err)
	}
}

func testVersionsSuspended(t *testing.T, e *env) {
	e.mkBucket("sus")
	e.setVersioning("sus", meta.VersioningEnabled)
	e.putVersion("sus", "k", "v1", Content{Pack: 1, Chunks: []int{1}}, 10)
	e.setVersioning("sus", meta.VersioningSuspended)
	e.putVersion("sus", "k", "x", Content{Pack: 2, Chunks: []int{2}}, 20)
	e.putVersion("sus", "k", "y", Content{Pack: 3, Chunks: []int{3}}, 30) // replaces the null version
	if got, want := e.versions(meta.ListVersionsRequest{Bucket: "sus"}), []string{"k@*", "k@v1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	if e.refs(2) != 0 || e.refs(3) != 1 || e.refs(1) != 1 {
		t.Fatalf("refs = %d %d %d", e.refs(1), e.refs(2), e.refs(3))
	}
	// Delete: a null marker replaces the null version.
	if r := e.deleteVersion("sus", "k", "", "ignored", 40); r.VersionID != "" || !r.DeleteMarker {
		t.Fatalf("delete = %+v", r)
	}
	if e.refs(3) != 0 {
		t.Fatalf("refs(3) = %d", e.refs(3))
	}
	if got, want := e.versions(meta.ListVersionsRequest{Bucket: "sus"}), []string{"k@*!", "k@v1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	e.putVersion("sus", "k", "", Content{Pack: 4, Chunks: []int{4}}, 50) // replaces the null marker
	e.setVersioning("sus", meta.VersioningEnabled)
	e.putVersion("sus", "k", "v6", Content{Pack: 5, Chunks: []int{5}}, 60)
	if got, want := e.versions(meta.ListVersionsRequest{Bucket: "sus"}), []string{"k@v6*", "k@", "k@v1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	if st := e.stats(); st.Objects != 3 {
		t.Fatalf("stats = %+v", st)
	}
	// Multipart complete creates a version too.
	e.createUpload("sus", "k", "u1")
	tag := e.putPart("sus", "k", "u1", 1, Content{Pack: 6, Chunks: []int{6}})
	o, err := e.s.CompleteUpload(e.ctx, &meta.CompleteUploadRequest{ReqID: e.id(), Time: 70, Bucket: "sus", Key: "k", UploadID: "u1",
		Parts: []meta.CompletedPart{{Number: 1, ETag: tag}}, VersionID: "mp7"})
	if err != nil || o.VersionID != "mp7" {
		t.Fatalf("CompleteUpload = %+v, %v", o, err)
	}
	if got, want := e.versions(meta.ListVersionsRequest{Bucket: "sus"}), []string{"k@mp7*", "k@v6", "k@", "k@v1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	// A clock going backwards does not reorder versions.
	e.putVersion("sus", "k", "v0", Content{Pack: 7, Chunks: []int{7}}, 5)
	if got := e.versions(meta.ListVersionsRequest{Bucket: "sus"}); len(got) != 5 || got[0] != "k@v0*" || got[1] != "k@mp7" {
		t.Fatalf("versions after a clock step back = %v", got)
	}
}

func testVersionListing(t *testing.T, e *env) {
	e.mkBucket("lst")
	e.setVersioning("lst", meta.VersioningEnabled)
	n := 0
	for _, k := range []string{"a", "b/1", "b/2", "c", "c\x00d"} {
		for i := 0; i < 3; i++ {
			n++
			e.putVersion("lst", k, fmt.Sprintf("%s-%d", strings.ReplaceAll(k, "\x00", "_"), i), Content{Pack: n, Chunks: []int{n}}, int64(10+n))
		}
	}
	e.deleteVersion("lst", "c", "", "c-del", 100)
	all := e.versions(meta.ListVersionsRequest{Bucket: "lst"})
	if len(all) != 16 || all[0] != "a@a-2*" || all[9] != "c@c-del*!" || all[10] != "c@c-2" {
		t.Fatalf("all versions = %v", all)
	}
	for _, max := range []int{1, 2, 3, 5, 7} {
		var got []string
		req := meta.ListVersionsRequest{Bucket: "lst", MaxKeys: max}
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("max %d: no end", max)
			}
			res, err := e.s.ListObjectVersions(e.ctx, &req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Versions) > max {
				t.Fatalf("max %d: page of %d", max, len(res.Versions))
			}
			for _, o := range res.Versions {
				s := o.Key + "@" + o.VersionID
				if o.IsLatest {
					s += "*"
				}
				if o.DeleteMarker {
					s += "!"
				}
				got = append(got, s)
			}
			if !res.IsTruncated {
				break
			}
			req.KeyMarker, req.VersionIDMarker = res.NextKeyMarker, res.NextVersionIDMarker
		}
		if !reflect.DeepEqual(got, all) {
			t.Fatalf("max %d: paged = %v\nwant %v", max, got, all)
		}
	}
	if got, want := e.versions(meta.ListVersionsRequest{Bucket: "lst", Delimiter: "/"}), []string{
		"a@a-2*", "a@a-1", "a@a-0", "c@c-del*!", "c@c-2", "c@c-1", "c@c-0", "c\x00d@c_d-2*", "c\x00d@c_d-1", "c\x00d@c_d-0", "prefix:b/"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("delimiter = %q\nwant %q", got, want)
	}
	if got, want := e.versions(meta.ListVersionsRequest{Bucket: "lst", Prefix: "b/", KeyMarker: "b/1"}), []string{"b/2@b/2-2*", "b/2@b/2-1", "b/2@b/2-0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("prefix and key marker = %v, want %v", got, want)
	}
	if got, want := e.versions(meta.ListVersionsRequest{Bucket: "lst", KeyMarker: "c", VersionIDMarker: "c-1"}), []string{"c@c-0", "c\x00d@c_d-2*", "c\x00d@c_d-1", "c\x00d@c_d-0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("version marker = %v, want %v", got, want)
	}
	if _, err := e.s.ListObjectVersions(e.ctx, &meta.ListVersionsRequest{Bucket: "nope"}); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("missing bucket = %v", err)
	}
}

func testObjectLock(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("lock")
	e.setVersioning("lock", meta.VersioningEnabled)
	e.putVersion("lock", "k", "v1", Content{Pack: 1, Chunks: []int{1}}, 10)
	e.putVersion("lock", "k", "v2", Content{Pack: 2, Chunks: []int{2}}, 20)
	if err := e.s.PutObjectLock(ctx, e.id(), 30, "lock", "k", "v1", meta.ObjectLockUpdate{SetRetention: true, RetentionMode: "GOVERNANCE", RetainUntil: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutObjectLock(ctx, e.id(), 31, "lock", "k", "", meta.ObjectLockUpdate{SetLegalHold: true, LegalHold: true}); err != nil {
		t.Fatal(err)
	}
	o, err := e.s.GetObjectVersion(ctx, "lock", "k", "v1")
	if err != nil || o.RetentionMode != "GOVERNANCE" || o.RetainUntil != 1000 || o.LegalHold {
		t.Fatalf("v1 = %+v, %v", o, err)
	}
	if o := e.current("lock", "k"); o.VersionID != "v2" || !o.LegalHold || o.RetentionMode != "" {
		t.Fatalf("current = %+v", o)
	}
	// Removing retention clears the date; the legal hold is kept apart.
	if err := e.s.PutObjectLock(ctx, e.id(), 32, "lock", "k", "v1", meta.ObjectLockUpdate{SetRetention: true}); err != nil {
		t.Fatal(err)
	}
	if o, _ := e.s.GetObjectVersion(ctx, "lock", "k", "v1"); o.RetentionMode != "" || o.RetainUntil != 0 {
		t.Fatalf("v1 after removal = %+v", o)
	}
	e.deleteVersion("lock", "k", "", "m3", 40)
	for _, tt := range []struct {
		key, vid string
		want     error
	}{
		{"k", "m3", meta.ErrInvalidArgument},
		{"k", "nope", meta.ErrNoSuchVersion},
		{"k", "", meta.ErrNoSuchKey}, // current is a delete marker
		{"other", "", meta.ErrNoSuchKey},
	} {
		if err := e.s.PutObjectLock(ctx, e.id(), 41, "lock", tt.key, tt.vid, meta.ObjectLockUpdate{SetLegalHold: true}); !errors.Is(err, tt.want) {
			t.Errorf("PutObjectLock(%s, %q) = %v, want %v", tt.key, tt.vid, err, tt.want)
		}
	}
	// An upload's template carries the lock of the version Complete makes
	// (CreateMultipartUpload's x-amz-object-lock-*).
	err = e.s.CreateUpload(ctx, &meta.CreateUploadRequest{ReqID: e.id(), Time: 50, Upload: meta.Upload{
		Bucket: "lock", Key: "mp", UploadID: "u1",
		Object: meta.Object{RetentionMode: "COMPLIANCE", RetainUntil: 2000, LegalHold: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := e.s.GetUpload(ctx, "lock", "mp", "u1"); err != nil || u.Object.RetentionMode != "COMPLIANCE" || u.Object.RetainUntil != 2000 || !u.Object.LegalHold {
		t.Fatalf("GetUpload = %+v, %v", u, err)
	}
	tag := e.putPart("lock", "mp", "u1", 1, Content{Pack: 3, Chunks: []int{3}})
	o, err = e.s.CompleteUpload(ctx, &meta.CompleteUploadRequest{ReqID: e.id(), Time: 51, Bucket: "lock", Key: "mp", UploadID: "u1",
		Parts: []meta.CompletedPart{cp(1, tag)}, VersionID: "v5"})
	if err != nil {
		t.Fatal(err)
	}
	if o, err := e.s.GetObjectVersion(ctx, "lock", "mp", o.VersionID); err != nil || o.RetentionMode != "COMPLIANCE" || o.RetainUntil != 2000 || !o.LegalHold {
		t.Fatalf("completed version = %+v, %v", o, err)
	}
}
