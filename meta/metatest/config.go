package metatest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tessera-store/tessera/meta"
)

func testBucketConfigs(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("conf")
	e.mkBucket("other")
	policy := []byte(`{"Version":"2012-10-17","Statement":[]}`)
	cors := []byte("<CORSConfiguration></CORSConfiguration>")
	if _, err := e.s.GetBucketConfig(ctx, "conf", "policy"); !errors.Is(err, meta.ErrNoSuchConfig) {
		t.Fatalf("GetBucketConfig before put = %v, want ErrNoSuchConfig", err)
	}
	tests := []struct {
		name         string
		bucket, conf string
		doc          []byte
		wantErr      error
	}{
		{"policy", "conf", "policy", policy, nil},
		{"cors", "conf", "cors", cors, nil},
		{"other bucket", "other", "policy", []byte("x"), nil},
		{"no bucket", "nope", "policy", policy, meta.ErrNoSuchBucket},
		{"empty name", "conf", "", policy, meta.ErrInvalidArgument},
		{"bad name", "conf", "Po/licy", policy, meta.ErrInvalidArgument},
		{"too large", "conf", "lifecycle", make([]byte, 64<<10+1), meta.ErrInvalidArgument},
		{"at limit", "conf", "tagging", bytes.Repeat([]byte("t"), 64<<10), nil},
	}
	for _, tt := range tests {
		err := e.s.PutBucketConfig(ctx, e.id(), 20, tt.bucket, tt.conf, tt.doc)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: PutBucketConfig = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	for _, c := range []struct {
		bucket, name string
		want         []byte
	}{{"conf", "policy", policy}, {"conf", "cors", cors}, {"other", "policy", []byte("x")}, {"conf", "tagging", bytes.Repeat([]byte("t"), 64<<10)}} {
		got, err := e.s.GetBucketConfig(ctx, c.bucket, c.name)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("GetBucketConfig(%s, %s) = %d bytes, %v; want %d bytes", c.bucket, c.name, len(got), err, len(c.want))
		}
	}
	if _, err := e.s.GetBucketConfig(ctx, "conf", "lifecycle"); !errors.Is(err, meta.ErrNoSuchConfig) {
		t.Fatalf("rejected put left a document: %v", err)
	}
	if _, err := e.s.GetBucketConfig(ctx, "nope", "policy"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("GetBucketConfig(no bucket) = %v", err)
	}

	// Replace, then delete with an empty document.
	if err := e.s.PutBucketConfig(ctx, e.id(), 21, "conf", "policy", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.GetBucketConfig(ctx, "conf", "policy"); err != nil || string(got) != "v2" {
		t.Fatalf("after replace: %q, %v", got, err)
	}
	if err := e.s.PutBucketConfig(ctx, e.id(), 22, "conf", "policy", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetBucketConfig(ctx, "conf", "policy"); !errors.Is(err, meta.ErrNoSuchConfig) {
		t.Fatalf("after delete: %v", err)
	}
	if err := e.s.PutBucketConfig(ctx, e.id(), 22, "conf", "policy", nil); err != nil {
		t.Fatalf("deleting an absent document: %v", err)
	}

	// Documents do not make a bucket non-empty, and go with it; a bucket
	// created again under the same name starts without them.
	if err := e.s.DeleteBucket(ctx, e.id(), 23, "conf"); err != nil {
		t.Fatalf("DeleteBucket with documents: %v", err)
	}
	e.mkBucket("conf")
	for _, name := range []string{"policy", "cors", "tagging"} {
		if _, err := e.s.GetBucketConfig(ctx, "conf", name); !errors.Is(err, meta.ErrNoSuchConfig) {
			t.Fatalf("%s survived its bucket: %v", name, err)
		}
	}
	if got, err := e.s.GetBucketConfig(ctx, "other", "policy"); err != nil || string(got) != "x" {
		t.Fatalf("neighbour bucket lost its document: %q, %v", got, err)
	}

	// Idempotent retry: the same request ID does not apply twice.
	id := e.id()
	if err := e.s.PutBucketConfig(ctx, id, 30, "conf", "cors", cors); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutBucketConfig(ctx, e.id(), 31, "conf", "cors", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutBucketConfig(ctx, id, 30, "conf", "cors", cors); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetBucketConfig(ctx, "conf", "cors"); !errors.Is(err, meta.ErrNoSuchConfig) {
		t.Fatalf("retried request applied again: %v", err)
	}
}
