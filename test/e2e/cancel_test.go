package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tessera-store/tessera/s3api/auth"
)

// waitFor polls cond every 50ms until it holds or d passes; it returns
// whether cond held. Polling is bounded: the server's GC runs on its own
// ticker, which the test cannot drive.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDisconnectMidUpload: a client announces 64 MiB, sends 10 MiB and
// closes the connection. No object becomes visible, GC removes the shards
// of the packs written so far, and the server's goroutines return to their
// baseline.
func TestDisconnectMidUpload(t *testing.T) {
	s := newServer(t, serverOpts{gcGrace: time.Second, gcEvery: 200 * time.Millisecond})
	ctx := ctxFor(t, 2*time.Minute)
	c := s.rootAWS(t)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cut")}); err != nil {
		t.Fatal(err)
	}
	// A committed object whose shards must survive GC.
	keep := randBytes(3, 9<<20)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cut"), Key: aws.String("keep"), Body: strings.NewReader(string(keep))}); err != nil {
		t.Fatal(err)
	}
	baseShards := s.countShards(t)
	runtime.GC()
	baseG := runtime.NumGoroutine()

	const announced, sent = 64 << 20, 10 << 20
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, s.url()+"/cut/partial", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = announced
	req.Header.Set("Content-Length", fmt.Sprint(announced))
	auth.SignRequest(req, rootKey, rootSecret, region, auth.UnsignedPayload, time.Now())
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "PUT /cut/partial HTTP/1.1\r\nHost: %s\r\n", s.addr)
	if err := req.Header.Write(w); err != nil {
		t.Fatal(err)
	}
	w.WriteString("\r\n")
	body := randBytes(4, sent)
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// Let the server consume what was sent (it streams, so it reads
	// everything the socket holds) before cutting the connection.
	peak := baseShards
	waitFor(10*time.Second, func() bool {
		peak = max(peak, s.countShards(t))
		return peak > baseShards
	})
	conn.Close()
	t.Logf("shards: %d before, %d while uploading", baseShards, peak)
	if peak == baseShards {
		t.Logf("no shard was written before the disconnect: the orphan check below is vacuous")
	}

	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cut"), Key: aws.String("partial")}); awsCode(err) != "NotFound" {
		t.Errorf("HEAD partial: got %q, want NotFound", awsCode(err))
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("cut")})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Contents) != 1 {
		t.Errorf("listing shows %d objects, want 1 (keep)", len(l.Contents))
	}
	var n int
	if !waitFor(30*time.Second, func() bool { n = s.countShards(t); return n == baseShards }) {
		t.Errorf("orphan shards: %d files under shards/ after 30s of GC, want %d", n, baseShards)
	}
	var g int
	if !waitFor(20*time.Second, func() bool { g = runtime.NumGoroutine(); return g <= baseG+2 }) {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d, baseline %d\n%s", g, baseG, buf[:runtime.Stack(buf, true)])
	}
	// The committed object is intact after GC.
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cut"), Key: aws.String("keep")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := sha256Of(t, out.Body)
	out.Body.Close()
	if got != sum(keep) {
		t.Errorf("committed object damaged by GC")
	}
}
