package e2e

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestGCAfterDelete: a copy shares the original's chunks; deleting the
// original must not lose the copy's data through GC, and deleting both
// must free the stored bytes and the shard files.
func TestGCAfterDelete(t *testing.T) {
	collected := make(chan struct{}, 1)
	s := newServer(t, serverOpts{gcGrace: time.Second, gcEvery: 200 * time.Millisecond, logHook: func(r slog.Record) {
		if r.Message == "gc collected" {
			select {
			case collected <- struct{}{}:
			default:
			}
		}
	}})
	ctx := ctxFor(t, 2*time.Minute)
	c := s.rootAWS(t)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("gcb")}); err != nil {
		t.Fatal(err)
	}
	data := randBytes(21, 12<<20)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gcb"), Key: aws.String("orig"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("gcb"), Key: aws.String("copy"), CopySource: aws.String("gcb/orig")}); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		t.Helper()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gcb"), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	v1, v2 := strings.Repeat("first version ", 1000), strings.Repeat("second version ", 1000)
	s0 := s.countShards(t) // orig's packs (the copy shares them)
	put("over", v1)
	s1 := s.countShards(t)
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("gcb"), Key: aws.String("orig")}); err != nil {
		t.Fatal(err)
	}
	// Overwrite "over": last writer wins and v1's chunks become garbage,
	// the only garbage there is. The GC pass that collects them (after the
	// 1 s grace) also saw "orig" deleted; the copy must stay whole.
	put("over", v2)
	s2 := s.countShards(t)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("gcb"), Key: aws.String("over")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := sha256Of(t, out.Body); got != sum([]byte(v2)) {
		t.Errorf("overwrite: last writer did not win")
	}
	out.Body.Close()
	select {
	case <-collected:
	case <-time.After(30 * time.Second):
		t.Fatal("no GC pass collected the overwritten version within 30s")
	}
	out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("gcb"), Key: aws.String("copy")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := sha256Of(t, out.Body); got != sum(data) {
		t.Fatalf("copy damaged after the original was deleted and GC ran")
	}
	out.Body.Close()
	// orig's shards (s0) and v2's (s2-s1) are referenced; only v1's may go.
	if n, min := s.countShards(t), s0+(s2-s1); n < min {
		t.Errorf("shard files: %d after GC, want >= %d (orig's %d + v2's %d)", n, min, s0, s2-s1)
	}
	for _, k := range []string{"copy", "over"} {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("gcb"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if !waitFor(30*time.Second, func() bool { n = s.countShards(t); return n == 0 }) {
		t.Errorf("%d shard files left 30s after every object was deleted", n)
	}
	if st := s.stats(t); st.StoredBytes != 0 || st.LogicalBytes != 0 || st.Objects != 0 {
		t.Errorf("stats after deleting everything: %+v", st)
	}
}
