package server

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/tessera-store/tessera/meta"
)

func TestObjectRecordV2(t *testing.T) {
	o := sampleObject(3)
	o.VersionID, o.RetentionMode, o.RetainUntil, o.LegalHold = "3f2a", "GOVERNANCE", 1800000000000000000, true
	o.PartChecksums = []map[string]string{{"CRC32": "AAAAAA=="}, nil, {"SHA256": "x"}}
	b := EncodeObject(o)
	if b[0] != recordV2 {
		t.Fatalf("record version %d", b[0])
	}
	got, err := DecodeObject(b)
	if err != nil {
		t.Fatal(err)
	}
	o.PartChecksums[1] = got.PartChecksums[1] // nil and empty maps encode alike
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, o)
	}
	for i := 0; i < len(b); i++ {
		if _, err := DecodeObject(b[:i]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated at %d/%d: %v", i, len(b), err)
		}
	}
	if _, err := DecodeObject(append([]byte{3}, b[1:]...)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("version 3: %v", err)
	}
	// A v1 record (written before versioning) still decodes, unversioned.
	var e enc
	e.byte1(recordV1)
	e.objectBody(o)
	v1, err := DecodeObject(e.b)
	if err != nil || v1.VersionID != "" || v1.DeleteMarker || v1.LegalHold || v1.ETag != o.ETag || len(v1.Chunks) != 3 {
		t.Fatalf("v1 record = %+v, %v", v1, err)
	}
	// Delete markers carry no manifest.
	m := &meta.Object{VersionID: "m", DeleteMarker: true, Modified: 5}
	if got, err := DecodeObject(EncodeObject(m)); err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("marker = %+v, %v", got, err)
	}
}

func TestBucketRecordV2(t *testing.T) {
	b := meta.Bucket{Name: "abc", Owner: "o", Created: 4, Versioning: meta.VersioningSuspended}
	got, err := decodeBucket(encodeBucketRecord(&b))
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("v2 = %+v, %v", got, err)
	}
	got, err = decodeBucket(encodeBucket(&b)) // v1: no versioning
	b.Versioning = ""
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("v1 = %+v, %v", got, err)
	}
}

func TestCommandV1Compat(t *testing.T) {
	o := sampleObject(2)
	o.Bucket, o.Key = "bkt", "k"
	// What a v1 binary wrote for OpPutObject.
	var e enc
	e.byte1(commandV1)
	e.byte1(byte(OpPutObject))
	e.str("req")
	e.varint(7)
	e.str(o.Bucket)
	e.str(o.Key)
	e.objectBody(o)
	e.packs(nil)
	e.chunkInfos(nil)
	e.str("")
	e.str("")
	c, err := DecodeCommand(e.b)
	if err != nil || c.Put == nil || c.Put.Object.VersionID != "" || len(c.Put.Object.Chunks) != 2 {
		t.Fatalf("v1 put = %+v, %v", c, err)
	}
	// New ops round trip.
	for _, c := range []*Command{
		{Op: OpSetBucketVersioning, ReqID: "a", Time: 1, Bucket: "b", Name: meta.VersioningEnabled},
		{Op: OpDeleteObjectVersion, ReqID: "a", Time: 1, Bucket: "b", Key: "k", VersionID: "v", MarkerVersionID: "m"},
		{Op: OpPutObjectVersionTags, ReqID: "a", Time: 1, Bucket: "b", Key: "k", VersionID: "v", Tags: map[string]string{"x": "y"}},
		{Op: OpPutObjectLock, ReqID: "a", Time: 1, Bucket: "b", Key: "k", VersionID: "v",
			Lock: meta.ObjectLockUpdate{SetRetention: true, RetentionMode: "COMPLIANCE", RetainUntil: 9, SetLegalHold: true, LegalHold: true}},
		{Op: OpCompleteUpload, ReqID: "a", Time: 1, Complete: &meta.CompleteUploadRequest{Bucket: "b", Key: "k", UploadID: "u", VersionID: "v9"}},
	} {
		b, err := EncodeCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeCommand(b)
		if err != nil {
			t.Fatalf("%v: %v", c.Op, err)
		}
		if c.Complete != nil {
			if got.Complete.VersionID != "v9" {
				t.Fatalf("complete VersionID = %q", got.Complete.VersionID)
			}
			continue
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("%v:\n got %+v\nwant %+v", c.Op, got, c)
		}
	}
}

// TestUploadLockFields: an upload template's Object Lock fields survive the
// OpCreateUpload command and the upload record (v2 of both), and older
// encodings without them still decode.
func TestUploadLockFields(t *testing.T) {
	u := &meta.Upload{Bucket: "b", Key: "k", UploadID: "u", Initiated: 5,
		Object: meta.Object{ContentType: "text/plain", RetentionMode: "COMPLIANCE", RetainUntil: 1800000000000000000, LegalHold: true}}
	rec := encodeUpload(u)
	if rec[0] != recordV2 {
		t.Fatalf("record version %d", rec[0])
	}
	got, err := decodeUpload(rec)
	u.Object.Bucket, u.Object.Key = "b", "k" // decodeUpload fills them
	if err != nil || !reflect.DeepEqual(&got, u) {
		t.Fatalf("round trip:\n got %+v\nwant %+v (%v)", got, *u, err)
	}
	for i := 0; i < len(rec); i++ {
		if _, err := decodeUpload(rec[:i]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated at %d/%d: %v", i, len(rec), err)
		}
	}
	// A v1 record (written before the lock fields) decodes without them.
	var e enc
	e.byte1(recordV1)
	e.upload(u)
	v1, err := decodeUpload(e.b)
	if err != nil || v1.Object.RetentionMode != "" || v1.Object.LegalHold || v1.Object.ContentType != "text/plain" {
		t.Fatalf("v1 record = %+v, %v", v1, err)
	}

	c := &Command{Op: OpCreateUpload, ReqID: "a", Time: 1, Upload: u}
	b, err := EncodeCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := DecodeCommand(b)
	if err != nil || !reflect.DeepEqual(dc, c) {
		t.Fatalf("command round trip:\n got %+v\nwant %+v (%v)", dc, c, err)
	}
	// What a v2 binary wrote for OpCreateUpload.
	e = enc{}
	e.byte1(commandV2)
	e.byte1(byte(OpCreateUpload))
	e.str("a")
	e.varint(1)
	e.upload(u)
	dc, err = DecodeCommand(e.b)
	if err != nil || dc.Upload == nil || dc.Upload.Object.RetentionMode != "" || dc.Upload.UploadID != "u" {
		t.Fatalf("v2 create upload = %+v, %v", dc, err)
	}
}

func TestResultRecordsVersions(t *testing.T) {
	for _, v := range []any{
		&meta.DeleteObjectResult{VersionID: "v", DeleteMarker: true},
		&meta.Object{Bucket: "b", Key: "k", VersionID: "v", LegalHold: true},
	} {
		_, _, got, err := decodeResult(encodeResult(3, 4, v))
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Fatalf("result %T = %+v, %v", v, got, err)
		}
	}
}

// BenchmarkListVersionsPage compares a 1,000-entry page of ListObjects with
// one of ListObjectVersions over 100,000 keys of 3 versions each (the
// current one in o/, two in v/).
func BenchmarkListVersionsPage(b *testing.B) {
	const nKeys = 100_000
	st, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	db := st.h.db
	batch := db.NewBatch()
	batch.Set(bucketKey("big"), encodeBucketRecord(&meta.Bucket{Name: "big", Versioning: meta.VersioningEnabled}), nil)
	base := meta.Object{Size: 1 << 20, ETag: "0123456789abcdef0123456789abcdef", Modified: 1, ContentType: "image/jpeg",
		Chunks: sampleObject(4).Chunks}
	keys := make([]string, nKeys)
	for i := range keys {
		k := fmt.Sprintf("dir%04d/photo-%07d.jpg", i%1000, i)
		keys[i] = k
		for v := 0; v < 3; v++ {
			o := base
			o.VersionID, o.Modified = fmt.Sprintf("%032x", i*3+v), int64(v+1)
			if v == 2 {
				batch.Set(objectKey("big", k), EncodeObject(&o), nil)
			} else {
				batch.Set(versionKey("big", k, o.Modified, o.VersionID), EncodeObject(&o), nil)
			}
		}
		if batch.Len() > 8<<20 {
			if err := batch.Commit(pebble.NoSync); err != nil {
				b.Fatal(err)
			}
			batch = db.NewBatch()
		}
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		b.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := db.Compact([]byte("a"), []byte("z"), true); err != nil {
		b.Fatal(err)
	}
	sort.Strings(keys)
	rng := rand.New(rand.NewPCG(1, 1))
	b.Run("objects", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := st.ListObjects(&meta.ListRequest{Bucket: "big", Marker: keys[rng.IntN(nKeys-2000)], MaxKeys: 1000})
			if err != nil || len(res.Objects) != 1000 {
				b.Fatalf("page: %d, %v", len(res.Objects), err)
			}
		}
	})
	b.Run("versions", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := st.ListObjectVersions(&meta.ListVersionsRequest{Bucket: "big", KeyMarker: keys[rng.IntN(nKeys-2000)], MaxKeys: 1000})
			if err != nil || len(res.Versions) != 1000 {
				b.Fatalf("page: %d, %v", len(res.Versions), err)
			}
		}
	})
}
