package s3api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/server"
	"github.com/tessera-store/tessera/object"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/s3api"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/mem"
)

// The versioning tests run the S3 surface over the real object layer and
// metadata state machine (meta/local, in-memory shard stores).

const verKey, verSecret = "AKIAVERSIONS0000", "versions-secret-0123456789abcdefghijklm"

type verBackend struct{ *object.Layer }

func (verBackend) Secret(_ context.Context, key string) (meta.User, string, error) {
	if key != verKey {
		return meta.User{}, "", meta.ErrNoSuchUser
	}
	return meta.User{Name: "alice", AccessKey: verKey, Root: true}, verSecret, nil
}

type verStores map[string]store.Store

func (s verStores) Store(node string) (store.Store, error) { return s[node], nil }

type verPlacement struct{}

func (verPlacement) Place(context.Context, pack.ID) (int, int, []string, error) {
	return 2, 1, []string{"n0", "n1", "n2"}, nil
}

func newVersionEnv(t *testing.T) (*minio.Client, *httptest.Server) {
	t.Helper()
	ms, err := local.Open(t.TempDir(), server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	stores := verStores{}
	for _, n := range []string{"n0", "n1", "n2"} {
		st, err := mem.New(mem.Options{})
		if err != nil {
			t.Fatal(err)
		}
		stores[n] = st
	}
	l, err := object.New(object.Options{Meta: ms, Stores: stores, Placement: verPlacement{}, PackSize: 1 << 20,
		InlineMax: 16, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s3api.New(verBackend{l}, s3api.Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(verKey, verSecret, ""), Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func listVersions(t *testing.T, c *minio.Client, bucket string) []minio.ObjectInfo {
	t.Helper()
	var out []minio.ObjectInfo
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list versions: %v", o.Err)
		}
		out = append(out, o)
	}
	return out
}

func putString(t *testing.T, c *minio.Client, bucket, key, data string) minio.UploadInfo {
	t.Helper()
	info, err := c.PutObject(context.Background(), bucket, key, strings.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return info
}

func getString(c *minio.Client, bucket, key, vid string) (string, error) {
	r, err := c.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{VersionID: vid})
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

func TestVersioningLifecycle(t *testing.T) {
	ctx := context.Background()
	c, srv := newVersionEnv(t)
	if err := c.MakeBucket(ctx, "vbkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if cfg, err := c.GetBucketVersioning(ctx, "vbkt"); err != nil || cfg.Status != "" {
		t.Fatalf("initial versioning = %+v, %v", cfg, err)
	}
	null := putString(t, c, "vbkt", "k", "null version")
	if null.VersionID != "" {
		t.Fatalf("unversioned put reported version %q", null.VersionID)
	}
	if err := c.EnableVersioning(ctx, "vbkt"); err != nil {
		t.Fatal(err)
	}
	if cfg, err := c.GetBucketVersioning(ctx, "vbkt"); err != nil || cfg.Status != "Enabled" {
		t.Fatalf("versioning = %+v, %v", cfg, err)
	}
	v1 := putString(t, c, "vbkt", "k", "version one")
	v2 := putString(t, c, "vbkt", "k", "version two, longer than the inline limit")
	if v1.VersionID == "" || v2.VersionID == "" || v1.VersionID == v2.VersionID {
		t.Fatalf("version IDs %q %q", v1.VersionID, v2.VersionID)
	}
	vs := listVersions(t, c, "vbkt")
	if len(vs) != 3 || vs[0].VersionID != v2.VersionID || !vs[0].IsLatest || vs[1].VersionID != v1.VersionID || vs[2].VersionID != "null" || vs[2].IsLatest {
		t.Fatalf("versions = %+v", vs)
	}
	for vid, want := range map[string]string{"": "version two, longer than the inline limit", v1.VersionID: "version one", "null": "null version"} {
		if got, err := getString(c, "vbkt", "k", vid); err != nil || got != want {
			t.Fatalf("get version %q = %q, %v", vid, got, err)
		}
	}
	st, err := c.StatObject(ctx, "vbkt", "k", minio.StatObjectOptions{VersionID: v1.VersionID})
	if err != nil || st.VersionID != v1.VersionID || st.Size != int64(len("version one")) {
		t.Fatalf("stat v1 = %+v, %v", st, err)
	}
	if _, err := c.StatObject(ctx, "vbkt", "k", minio.StatObjectOptions{VersionID: "nosuchversion"}); minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
		t.Fatalf("stat of a missing version = %v", err)
	}

	// Tags per version.
	tg, _ := tags.NewTags(map[string]string{"v": "one"}, true)
	if err := c.PutObjectTagging(ctx, "vbkt", "k", tg, minio.PutObjectTaggingOptions{VersionID: v1.VersionID}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetObjectTagging(ctx, "vbkt", "k", minio.GetObjectTaggingOptions{VersionID: v1.VersionID}); err != nil || got.ToMap()["v"] != "one" {
		t.Fatalf("tags of v1 = %v, %v", got, err)
	}
	if got, err := c.GetObjectTagging(ctx, "vbkt", "k", minio.GetObjectTaggingOptions{}); err != nil || len(got.ToMap()) != 0 {
		t.Fatalf("tags of the current version = %v, %v", got, err)
	}

	// Copy from a version.
	cp, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "vbkt", Object: "copy"}, minio.CopySrcOptions{Bucket: "vbkt", Object: "k", VersionID: v1.VersionID})
	if err != nil || cp.VersionID == "" {
		t.Fatalf("copy = %+v, %v", cp, err)
	}
	if got, err := getString(c, "vbkt", "copy", ""); err != nil || got != "version one" {
		t.Fatalf("copy content = %q, %v", got, err)
	}

	// Delete without a version: a delete marker.
	if err := c.RemoveObject(ctx, "vbkt", "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := getString(c, "vbkt", "k", ""); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Fatalf("get under a delete marker = %v", err)
	}
	if req, err := http.NewRequest(http.MethodHead, srv.URL+"/vbkt/k", nil); err != nil {
		t.Fatal(err)
	} else if resp, err := signedDo(c, req); err != nil || resp.StatusCode != http.StatusNotFound || resp.Header.Get("x-amz-delete-marker") != "true" || resp.Header.Get("x-amz-version-id") == "" {
		t.Fatalf("HEAD under a delete marker: %+v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
	vs = listVersions(t, c, "vbkt")
	var marker string
	for _, v := range vs {
		if v.Key == "k" && v.IsDeleteMarker {
			marker = v.VersionID
			if !v.IsLatest {
				t.Fatalf("delete marker not latest: %+v", v)
			}
		}
	}
	if marker == "" || len(vs) != 5 {
		t.Fatalf("versions after delete = %+v", vs)
	}
	// A delete marker named by version: 405 with x-amz-delete-marker.
	_, err = c.StatObject(ctx, "vbkt", "k", minio.StatObjectOptions{VersionID: marker})
	if er := minio.ToErrorResponse(err); er.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("stat of a delete marker = %+v", er)
	}
	if objs, err := listKeys(c, "vbkt"); err != nil || len(objs) != 1 || objs[0] != "copy" {
		t.Fatalf("ListObjects = %v, %v", objs, err)
	}
	// Removing the marker brings v2 back.
	if err := c.RemoveObject(ctx, "vbkt", "k", minio.RemoveObjectOptions{VersionID: marker}); err != nil {
		t.Fatal(err)
	}
	if got, err := getString(c, "vbkt", "k", ""); err != nil || !strings.HasPrefix(got, "version two") {
		t.Fatalf("get after removing the marker = %q, %v", got, err)
	}

	// DeleteObjects with versions, then the bucket can go.
	ch := make(chan minio.ObjectInfo)
	go func() {
		defer close(ch)
		for _, v := range listVersions(t, c, "vbkt") {
			ch <- v
		}
	}()
	n := 0
	for r := range c.RemoveObjectsWithResult(ctx, "vbkt", ch, minio.RemoveObjectsOptions{}) {
		if r.Err != nil {
			t.Fatalf("remove %s@%s: %v", r.ObjectName, r.ObjectVersionID, r.Err)
		}
		n++
	}
	if n != 4 {
		t.Fatalf("removed %d versions, want 4", n)
	}
	if vs := listVersions(t, c, "vbkt"); len(vs) != 0 {
		t.Fatalf("versions left = %+v", vs)
	}
	if err := c.RemoveBucket(ctx, "vbkt"); err != nil {
		t.Fatal(err)
	}
}

func listKeys(c *minio.Client, bucket string) ([]string, error) {
	var keys []string
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		keys = append(keys, o.Key)
	}
	return keys, nil
}

func TestVersioningSuspendedAndMarkers(t *testing.T) {
	ctx := context.Background()
	c, _ := newVersionEnv(t)
	if err := c.MakeBucket(ctx, "sbkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.EnableVersioning(ctx, "sbkt"); err != nil {
		t.Fatal(err)
	}
	v1 := putString(t, c, "sbkt", "k", "one")
	if err := c.SuspendVersioning(ctx, "sbkt"); err != nil {
		t.Fatal(err)
	}
	if cfg, err := c.GetBucketVersioning(ctx, "sbkt"); err != nil || cfg.Status != "Suspended" {
		t.Fatalf("versioning = %+v, %v", cfg, err)
	}
	putString(t, c, "sbkt", "k", "null a")
	putString(t, c, "sbkt", "k", "null b")
	vs := listVersions(t, c, "sbkt")
	if len(vs) != 2 || vs[0].VersionID != "null" || vs[1].VersionID != v1.VersionID {
		t.Fatalf("versions = %+v", vs)
	}
	// DeleteObjects without a version on a suspended bucket: a null marker.
	ch := make(chan minio.ObjectInfo, 1)
	ch <- minio.ObjectInfo{Key: "k"}
	close(ch)
	for r := range c.RemoveObjectsWithResult(ctx, "sbkt", ch, minio.RemoveObjectsOptions{}) {
		if r.Err != nil || !r.DeleteMarker || r.DeleteMarkerVersionID != "null" {
			t.Fatalf("remove result = %+v", r)
		}
	}
	vs = listVersions(t, c, "sbkt")
	if len(vs) != 2 || !vs[0].IsDeleteMarker || vs[0].VersionID != "null" || vs[1].VersionID != v1.VersionID {
		t.Fatalf("versions after delete = %+v", vs)
	}
}

func TestVersioningBadRequests(t *testing.T) {
	c, srv := newVersionEnv(t)
	ctx := context.Background()
	if err := c.MakeBucket(ctx, "bbkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	putString(t, c, "bbkt", "k", "x")
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"bad status", http.MethodPut, "/bbkt?versioning", "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>", http.StatusBadRequest},
		{"not XML", http.MethodPut, "/bbkt?versioning", "<Versioning", http.StatusBadRequest},
		{"empty versionId", http.MethodGet, "/bbkt/k?versionId=", "", http.StatusBadRequest},
		{"bad versionId", http.MethodGet, "/bbkt/k?versionId=%2F..", "", http.StatusBadRequest},
		{"missing version", http.MethodGet, "/bbkt/k?versionId=abc", "", http.StatusNotFound},
		{"null version", http.MethodGet, "/bbkt/k?versionId=null", "", http.StatusOK},
		{"version marker without key marker", http.MethodGet, "/bbkt?versions&version-id-marker=abc", "", http.StatusBadRequest},
		{"list versions", http.MethodGet, "/bbkt?versions&max-keys=1", "", http.StatusOK},
	} {
		req, err := http.NewRequest(tt.method, srv.URL+tt.path, bytes.NewReader([]byte(tt.body)))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := signedDo(c, req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
	}
}

// signedDo sends req through minio-go's presigning (a presigned URL signs
// the method, path and query).
func signedDo(c *minio.Client, req *http.Request) (*http.Response, error) {
	parts := strings.SplitN(strings.TrimPrefix(req.URL.Path, "/"), "/", 2)
	bucket, key := parts[0], ""
	if len(parts) == 2 {
		key = parts[1]
	}
	u, err := c.PresignHeader(context.Background(), req.Method, bucket, key, 600e9, req.URL.Query(), nil)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errors.New("no URL")
	}
	preq, err := http.NewRequest(req.Method, u.String(), req.Body)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(preq)
}

func TestObjectLockVersions(t *testing.T) {
	ctx := context.Background()
	c, _ := newVersionEnv(t)
	if err := c.MakeBucket(ctx, "lbkt", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	if cfg, err := c.GetBucketVersioning(ctx, "lbkt"); err != nil || cfg.Status != "Enabled" {
		t.Fatalf("versioning of a lock bucket = %+v, %v", cfg, err)
	}
	v1 := putString(t, c, "lbkt", "k", "one")
	if _, _, err := c.GetObjectRetention(ctx, "lbkt", "k", v1.VersionID); minio.ToErrorResponse(err).Code != "NoSuchObjectLockConfiguration" {
		t.Fatalf("retention of a plain version = %v", err)
	}
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	mode := minio.Governance
	if err := c.PutObjectRetention(ctx, "lbkt", "k", minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &until, VersionID: v1.VersionID}); err != nil {
		t.Fatal(err)
	}
	gm, gu, err := c.GetObjectRetention(ctx, "lbkt", "k", v1.VersionID)
	if err != nil || gm == nil || *gm != minio.Governance || !gu.Equal(until) {
		t.Fatalf("retention = %v %v, %v", gm, gu, err)
	}
	// Shortening GOVERNANCE needs the bypass.
	earlier := until.Add(-time.Minute)
	if err := c.PutObjectRetention(ctx, "lbkt", "k", minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &earlier, VersionID: v1.VersionID}); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("shortening retention = %v", err)
	}
	if err := c.RemoveObject(ctx, "lbkt", "k", minio.RemoveObjectOptions{VersionID: v1.VersionID}); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("delete of a retained version = %v", err)
	}
	// A plain delete only adds a marker.
	if err := c.RemoveObject(ctx, "lbkt", "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("delete marker on a retained object = %v", err)
	}
	if err := c.RemoveObject(ctx, "lbkt", "k", minio.RemoveObjectOptions{VersionID: v1.VersionID, GovernanceBypass: true}); err != nil {
		t.Fatalf("delete with bypass = %v", err)
	}

	// Legal hold blocks even with the bypass.
	v2 := putString(t, c, "lbkt", "h", "held")
	on, off := minio.LegalHoldEnabled, minio.LegalHoldDisabled
	if err := c.PutObjectLegalHold(ctx, "lbkt", "h", minio.PutObjectLegalHoldOptions{VersionID: v2.VersionID, Status: &on}); err != nil {
		t.Fatal(err)
	}
	if st, err := c.GetObjectLegalHold(ctx, "lbkt", "h", minio.GetObjectLegalHoldOptions{VersionID: v2.VersionID}); err != nil || *st != on {
		t.Fatalf("legal hold = %v, %v", st, err)
	}
	if err := c.RemoveObject(ctx, "lbkt", "h", minio.RemoveObjectOptions{VersionID: v2.VersionID, GovernanceBypass: true}); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("delete under legal hold = %v", err)
	}
	if err := c.PutObjectLegalHold(ctx, "lbkt", "h", minio.PutObjectLegalHoldOptions{VersionID: v2.VersionID, Status: &off}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObject(ctx, "lbkt", "h", minio.RemoveObjectOptions{VersionID: v2.VersionID}); err != nil {
		t.Fatalf("delete after the hold = %v", err)
	}

	// Lock headers on PUT, returned on HEAD.
	info, err := c.PutObject(ctx, "lbkt", "hdr", strings.NewReader("x"), 1, minio.PutObjectOptions{Mode: minio.Governance, RetainUntilDate: until, LegalHold: minio.LegalHoldEnabled})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.StatObject(ctx, "lbkt", "hdr", minio.StatObjectOptions{VersionID: info.VersionID})
	if err != nil || st.Metadata.Get("X-Amz-Object-Lock-Mode") != "GOVERNANCE" || st.Metadata.Get("X-Amz-Object-Lock-Legal-Hold") != "ON" {
		t.Fatalf("stat = %+v, %v", st.Metadata, err)
	}

	// Lock requests on a bucket without Object Lock.
	if err := c.MakeBucket(ctx, "plain", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	putString(t, c, "plain", "k", "x")
	if err := c.PutObjectLegalHold(ctx, "plain", "k", minio.PutObjectLegalHoldOptions{Status: &on}); minio.ToErrorResponse(err).Code != "InvalidRequest" {
		t.Fatalf("legal hold without Object Lock = %v", err)
	}
}

// uploadOnePart creates a multipart upload of key with opts, uploads one
// part and completes it.
func uploadOnePart(t *testing.T, c *minio.Client, bucket, key string, opts minio.PutObjectOptions) (minio.UploadInfo, error) {
	t.Helper()
	ctx := context.Background()
	core := minio.Core{Client: c}
	id, err := core.NewMultipartUpload(ctx, bucket, key, opts)
	if err != nil {
		return minio.UploadInfo{}, err
	}
	p, err := core.PutObjectPart(ctx, bucket, key, id, 1, strings.NewReader("one part"), 8, minio.PutObjectPartOptions{})
	if err != nil {
		t.Fatalf("PutObjectPart: %v", err)
	}
	return core.CompleteMultipartUpload(ctx, bucket, key, id, []minio.CompletePart{{PartNumber: 1, ETag: p.ETag}}, minio.PutObjectOptions{})
}

// TestObjectLockMultipart: the x-amz-object-lock-* headers of
// CreateMultipartUpload, or the bucket's default retention, lock the version
// CompleteMultipartUpload creates, which then cannot be deleted, as a locked
// PutObject version.
func TestObjectLockMultipart(t *testing.T) {
	ctx := context.Background()
	c, _ := newVersionEnv(t)
	if err := c.MakeBucket(ctx, "mlk", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	mode, days, unit := minio.Governance, uint(1), minio.Days
	if err := c.SetObjectLockConfig(ctx, "mlk", &mode, &days, &unit); err != nil {
		t.Fatal(err)
	}
	denied := func(err error) bool { return minio.ToErrorResponse(err).Code == "AccessDenied" }

	// No headers: the bucket's default retention (GOVERNANCE, 1 day).
	before := time.Now()
	info, err := uploadOnePart(t, c, "mlk", "default", minio.PutObjectOptions{})
	if err != nil || info.VersionID == "" {
		t.Fatalf("complete = %+v, %v", info, err)
	}
	after := time.Now()
	gm, gu, err := c.GetObjectRetention(ctx, "mlk", "default", info.VersionID)
	if err != nil || gm == nil || *gm != minio.Governance || gu == nil ||
		gu.Before(before.AddDate(0, 0, 1).Add(-time.Second)) || gu.After(after.AddDate(0, 0, 1).Add(time.Second)) {
		t.Fatalf("default retention = %v %v, %v (uploaded between %v and %v)", gm, gu, err, before, after)
	}
	if err := c.RemoveObject(ctx, "mlk", "default", minio.RemoveObjectOptions{VersionID: info.VersionID}); !denied(err) {
		t.Fatalf("delete of a default-retained version = %v", err)
	}

	// Headers win over the default; a legal hold blocks even the bypass.
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	info, err = uploadOnePart(t, c, "mlk", "explicit", minio.PutObjectOptions{Mode: minio.Governance, RetainUntilDate: until, LegalHold: minio.LegalHoldEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if gm, gu, err := c.GetObjectRetention(ctx, "mlk", "explicit", info.VersionID); err != nil || *gm != minio.Governance || !gu.Equal(until) {
		t.Fatalf("retention = %v %v, %v; want GOVERNANCE %v", gm, gu, err, until)
	}
	st, err := c.StatObject(ctx, "mlk", "explicit", minio.StatObjectOptions{VersionID: info.VersionID})
	if err != nil || st.Metadata.Get("X-Amz-Object-Lock-Mode") != "GOVERNANCE" || st.Metadata.Get("X-Amz-Object-Lock-Legal-Hold") != "ON" {
		t.Fatalf("stat = %+v, %v", st.Metadata, err)
	}
	if err := c.RemoveObject(ctx, "mlk", "explicit", minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true}); !denied(err) {
		t.Fatalf("delete under legal hold = %v", err)
	}
	off := minio.LegalHoldDisabled
	if err := c.PutObjectLegalHold(ctx, "mlk", "explicit", minio.PutObjectLegalHoldOptions{VersionID: info.VersionID, Status: &off}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObject(ctx, "mlk", "explicit", minio.RemoveObjectOptions{VersionID: info.VersionID}); !denied(err) {
		t.Fatalf("delete under GOVERNANCE = %v", err)
	}
	if err := c.RemoveObject(ctx, "mlk", "explicit", minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true}); err != nil {
		t.Fatalf("delete with bypass = %v", err)
	}

	// COMPLIANCE: no bypass, also not through DeleteObjects.
	info, err = uploadOnePart(t, c, "mlk", "compliance", minio.PutObjectOptions{Mode: minio.Compliance, RetainUntilDate: until})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObject(ctx, "mlk", "compliance", minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true}); !denied(err) {
		t.Fatalf("delete under COMPLIANCE = %v", err)
	}
	objs := make(chan minio.ObjectInfo, 1)
	objs <- minio.ObjectInfo{Key: "compliance", VersionID: info.VersionID}
	close(objs)
	for re := range c.RemoveObjects(ctx, "mlk", objs, minio.RemoveObjectsOptions{GovernanceBypass: true}) {
		if !denied(re.Err) {
			t.Fatalf("DeleteObjects under COMPLIANCE = %v", re.Err)
		}
	}
	if _, err := getString(c, "mlk", "compliance", info.VersionID); err != nil {
		t.Fatalf("retained version gone: %v", err)
	}

	// Headers are checked at create, with PutObject's errors.
	if err := c.MakeBucket(ctx, "mplain", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, bucket string
		opts         minio.PutObjectOptions
		code         string
	}{
		{"bad mode", "mlk", minio.PutObjectOptions{Mode: "FOREVER", RetainUntilDate: until}, "InvalidArgument"},
		{"mode without date", "mlk", minio.PutObjectOptions{Mode: minio.Governance}, "InvalidArgument"},
		{"past date", "mlk", minio.PutObjectOptions{Mode: minio.Governance, RetainUntilDate: time.Now().Add(-time.Hour)}, "InvalidArgument"},
		{"no Object Lock", "mplain", minio.PutObjectOptions{Mode: minio.Governance, RetainUntilDate: until}, "InvalidRequest"},
		{"legal hold without Object Lock", "mplain", minio.PutObjectOptions{LegalHold: minio.LegalHoldEnabled}, "InvalidRequest"},
	} {
		_, err := minio.Core{Client: c}.NewMultipartUpload(ctx, tt.bucket, "k", tt.opts)
		if er := minio.ToErrorResponse(err); er.Code != tt.code || er.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %v (%d), want 400 %s", tt.name, err, er.StatusCode, tt.code)
		}
	}
	// Without headers a bucket without Object Lock is unaffected.
	if _, err := uploadOnePart(t, c, "mplain", "k", minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.GetObjectRetention(ctx, "mplain", "k", ""); minio.ToErrorResponse(err).Code != "InvalidRequest" {
		t.Errorf("retention on a plain bucket = %v", err)
	}
}

// TestUploadPartCopyChecksumLayer: UploadPartCopy into a CRC32C upload over
// the real object layer; the copied part keeps its checksum through the
// metadata state machine.
func TestUploadPartCopyChecksumLayer(t *testing.T) {
	ctx := context.Background()
	c, _ := newVersionEnv(t)
	core := minio.Core{Client: c}
	if err := c.MakeBucket(ctx, "pcl", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	src := strings.Repeat("0123456789abcdef", 4096) // 64 KiB: chunked, not inline
	putString(t, c, "pcl", "src", src)
	// As minio-go's PutObject asks for an algorithm (a header it sends from UserMetadata).
	id, err := core.NewMultipartUpload(ctx, "pcl", "dst", minio.PutObjectOptions{UserMetadata: map[string]string{"X-Amz-Checksum-Algorithm": "CRC32C"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := core.CopyObjectPart(ctx, "pcl", "src", "pcl", "dst", id, 1, 16, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	crc := crc32.Checksum([]byte(src[16:1016]), crc32.MakeTable(crc32.Castagnoli))
	want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc))
	if p.ChecksumCRC32C != want {
		t.Fatalf("CopyPartResult CRC32C %q, want %q", p.ChecksumCRC32C, want)
	}
	lp, err := core.ListObjectParts(ctx, "pcl", "dst", id, 0, 10)
	if err != nil || len(lp.ObjectParts) != 1 || lp.ObjectParts[0].ChecksumCRC32C != want {
		t.Fatalf("ListParts = %+v, %v", lp.ObjectParts, err)
	}
	raw := binary.BigEndian.AppendUint32(nil, crc)
	composite := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(raw, crc32.MakeTable(crc32.Castagnoli)))) + "-1"
	info, err := core.CompleteMultipartUpload(ctx, "pcl", "dst", id, []minio.CompletePart{p}, minio.PutObjectOptions{})
	if err != nil || info.ChecksumCRC32C != composite {
		t.Fatalf("complete = %+v, %v; want CRC32C %q", info, err, composite)
	}
	if got, err := getString(c, "pcl", "dst", ""); err != nil || got != src[16:1016] {
		t.Fatalf("GET = %d bytes, %v", len(got), err)
	}
}
