package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/store"
)

func decodeError(t *testing.T, body []byte) errorResponse {
	t.Helper()
	var e errorResponse
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e
}

// TestHTTPErrors checks the wire form of errors for requests no SDK sends.
func TestHTTPErrors(t *testing.T) {
	e := newEnv(t)
	mustMakeBucket(t, e.minio(t, aliceKey, aliceSecret), "errs")
	if r, _ := e.do(t, "PUT", "/errs/obj", []byte("0123456789"), nil); r.StatusCode != 200 {
		t.Fatalf("PUT: %s", r.Status)
	}
	md5sum := md5.Sum([]byte("hello"))
	longKey := strings.Repeat("k", 1025)
	tests := []struct {
		name         string
		method, path string
		body         []byte
		hdr          map[string]string
		status       int
		code         string
	}{
		{"no such bucket", "GET", "/nobucket?list-type=2", nil, nil, 404, "NoSuchBucket"},
		{"no such key", "GET", "/errs/none", nil, nil, 404, "NoSuchKey"},
		{"invalid bucket name", "PUT", "/Bad_Bucket", nil, nil, 400, "InvalidBucketName"},
		{"short bucket name", "PUT", "/ab", nil, nil, 400, "InvalidBucketName"},
		{"ip bucket name", "PUT", "/192.168.1.1", nil, nil, 400, "InvalidBucketName"},
		{"key too long", "PUT", "/errs/" + longKey, []byte("x"), nil, 400, "KeyTooLongError"},
		{"metadata too large", "PUT", "/errs/m", []byte("x"), map[string]string{"x-amz-meta-big": strings.Repeat("v", 2100)}, 400, "MetadataTooLarge"},
		{"bad content-md5", "PUT", "/errs/m", []byte("hello"), map[string]string{"Content-MD5": "notbase64!"}, 400, "InvalidDigest"},
		{"wrong content-md5", "PUT", "/errs/m", []byte("hellO"), map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(md5sum[:])}, 400, "BadDigest"},
		{"bad checksum value", "PUT", "/errs/m", []byte("hello"), map[string]string{"x-amz-checksum-crc32": "!!"}, 400, "InvalidRequest"},
		{"wrong checksum", "PUT", "/errs/m", []byte("hello"), map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}, 400, "BadDigest"},
		{"bad tagging header", "PUT", "/errs/m", []byte("x"), map[string]string{"x-amz-tagging": "a=1&a=2"}, 400, "InvalidTag"},
		{"range past end", "GET", "/errs/obj", nil, map[string]string{"Range": "bytes=10-"}, 416, "InvalidRange"},
		{"malformed complete", "POST", "/errs/obj?uploadId=x", []byte("<CompleteMultipartUpload><Part>"), nil, 400, "MalformedXML"},
		{"empty complete", "POST", "/errs/obj?uploadId=x", []byte("<CompleteMultipartUpload></CompleteMultipartUpload>"), nil, 400, "MalformedXML"},
		{"complete unknown upload", "POST", "/errs/obj?uploadId=x", []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>"), nil, 404, "NoSuchUpload"},
		{"delete without md5", "POST", "/errs?delete", []byte("<Delete><Object><Key>a</Key></Object></Delete>"), nil, 400, "InvalidRequest"},
		{"malformed delete", "POST", "/errs?delete", []byte("<Delete><Object>"), map[string]string{"Content-MD5": md5b64("<Delete><Object>")}, 400, "MalformedXML"},
		{"malformed tagging", "PUT", "/errs/obj?tagging", []byte("<Tagging><TagSet>"), nil, 400, "MalformedXML"},
		{"too many tags", "PUT", "/errs/obj?tagging", []byte(tagsXML(11)), nil, 400, "InvalidTag"},
		{"malformed bucket config", "PUT", "/newbucket", []byte("<CreateBucketConfiguration>"), nil, 400, "MalformedXML"},
		{"bad location", "PUT", "/newbucket", []byte("<CreateBucketConfiguration><LocationConstraint>Mars/1</LocationConstraint></CreateBucketConfiguration>"), nil, 400, "IllegalLocationConstraintException"},
		{"bucket policy put", "PUT", "/errs?policy", []byte("{}"), nil, 400, "MalformedPolicy"},
		{"bucket policy get", "GET", "/errs?policy", nil, nil, 404, "NoSuchBucketPolicy"},
		{"lifecycle get", "GET", "/errs?lifecycle", nil, nil, 404, "NoSuchLifecycleConfiguration"},
		{"versioning put", "PUT", "/errs?versioning", []byte("<VersioningConfiguration/>"), nil, 501, "NotImplemented"},
		{"object acl put", "PUT", "/errs/obj?acl", nil, nil, 501, "NotImplemented"},
		{"select", "POST", "/errs/obj?select&select-type=2", nil, nil, 501, "NotImplemented"},
		{"post object", "POST", "/errs", nil, nil, 501, "NotImplemented"},
		{"method on service", "DELETE", "/", nil, nil, 405, "MethodNotAllowed"},
		{"bad part number", "PUT", "/errs/obj?partNumber=0&uploadId=x", []byte("x"), nil, 400, "InvalidArgument"},
		{"bad max-keys", "GET", "/errs?max-keys=-1", nil, nil, 400, "InvalidArgument"},
		{"bad continuation token", "GET", "/errs?list-type=2&continuation-token=***", nil, nil, 400, "InvalidArgument"},
		{"bad encoding type", "GET", "/errs?encoding-type=xml", nil, nil, 400, "InvalidArgument"},
		{"copy source without key", "PUT", "/errs/c", nil, map[string]string{"x-amz-copy-source": "errs"}, 400, "InvalidArgument"},
		{"copy source version", "PUT", "/errs/c", nil, map[string]string{"x-amz-copy-source": "errs/obj?versionId=abc"}, 404, "NoSuchVersion"},
		{"copy bad directive", "PUT", "/errs/c", nil, map[string]string{"x-amz-copy-source": "errs/obj", "x-amz-metadata-directive": "MOVE"}, 400, "InvalidArgument"},
		{"part number on plain object", "GET", "/errs/obj?partNumber=2", nil, nil, 416, "InvalidPartNumber"},
		{"range and part number", "GET", "/errs/obj?partNumber=1", nil, map[string]string{"Range": "bytes=0-1"}, 400, "InvalidRequest"},
		{"if-match put", "PUT", "/errs/obj", []byte("x"), map[string]string{"If-Match": `"nope"`}, 412, "PreconditionFailed"},
		{"if-none-match put", "PUT", "/errs/obj", []byte("x"), map[string]string{"If-None-Match": "*"}, 412, "PreconditionFailed"},
		{"if-none-match etag put", "PUT", "/errs/obj", []byte("x"), map[string]string{"If-None-Match": `"781e5e245d69b566979b86e28d23f2c7"`}, 412, "PreconditionFailed"},
		{"if-match put on missing key", "PUT", "/errs/fresh", []byte("x"), map[string]string{"If-Match": `"abc"`}, 404, "NoSuchKey"},
		{"invalid storage class", "PUT", "/errs/sc", []byte("x"), map[string]string{"x-amz-storage-class": "INVALID"}, 400, "InvalidStorageClass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := e.do(t, tt.method, tt.path, tt.body, tt.hdr)
			if r.StatusCode != tt.status {
				t.Fatalf("status %s, want %d; body %s", r.Status, tt.status, body)
			}
			er := decodeError(t, body)
			if er.Code != tt.code || er.RequestID == "" || er.RequestID != r.Header.Get("x-amz-request-id") || er.Message == "" {
				t.Errorf("error = %+v, want code %s", er, tt.code)
			}
		})
	}
	// If-None-Match with another ETag, or on a missing key, writes.
	if r, body := e.do(t, "PUT", "/errs/inm", []byte("v1"), map[string]string{"If-None-Match": `"some-etag"`}); r.StatusCode != 200 {
		t.Errorf("If-None-Match etag on a missing key: %s %s", r.Status, body)
	}
	if r, body := e.do(t, "PUT", "/errs/inm", []byte("v2"), map[string]string{"If-None-Match": `"some-etag"`}); r.StatusCode != 200 {
		t.Errorf("If-None-Match other etag: %s %s", r.Status, body)
	}
	r, _ := e.do(t, "GET", "/errs/obj", nil, map[string]string{"Range": "bytes=10-"})
	if got := r.Header.Get("Content-Range"); got != "bytes */10" {
		t.Errorf("416 Content-Range = %q", got)
	}
	r, body := e.do(t, "HEAD", "/errs/none", nil, nil)
	if r.StatusCode != 404 || len(body) != 0 || r.Header.Get("x-amz-request-id") == "" {
		t.Errorf("HEAD missing: %s, body %q", r.Status, body)
	}
	// Anonymous requests are denied.
	r, body = e.doAs(t, "", "", "GET", "/errs/obj", nil, nil)
	if r.StatusCode != 403 || decodeError(t, body).Code != "AccessDenied" {
		t.Errorf("anonymous: %s %s", r.Status, body)
	}
	// The object survived every failed overwrite.
	r, body = e.do(t, "GET", "/errs/obj", nil, nil)
	if r.StatusCode != 200 || string(body) != "0123456789" {
		t.Errorf("object after failed writes: %s %q", r.Status, body)
	}
}

func md5b64(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func tagsXML(n int) string {
	var b strings.Builder
	b.WriteString("<Tagging><TagSet>")
	for i := range n {
		fmt.Fprintf(&b, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i)
	}
	b.WriteString("</TagSet></Tagging>")
	return b.String()
}

func TestHTTPMissingContentLength(t *testing.T) {
	e := newEnv(t)
	mustMakeBucket(t, e.minio(t, aliceKey, aliceSecret), "chunked")
	// A body of unknown length (Transfer-Encoding: chunked) without
	// x-amz-decoded-content-length.
	req, _ := http.NewRequest("PUT", e.srv.URL+"/chunked/k", struct{ *strings.Reader }{strings.NewReader("data")})
	req.ContentLength = -1
	signAlice(req)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusLengthRequired {
		t.Errorf("status %s, want 411", resp.Status)
	}
}

func TestHTTPReadsAndHeaders(t *testing.T) {
	e := newEnv(t)
	mustMakeBucket(t, e.minio(t, aliceKey, aliceSecret), "rdx")
	r, _ := e.do(t, "PUT", "/rdx/a%20b", []byte("abcdefghij"), map[string]string{
		"Content-Type": "text/plain", "Content-Language": "fr", "Expires": "Thu, 01 Jan 2037 00:00:00 GMT",
		"Content-Encoding": "gzip", "x-amz-meta-Mixed-Case": "v1", "x-amz-tagging": "t=1",
	})
	if r.StatusCode != 200 || r.Header.Get("ETag") == "" {
		t.Fatalf("PUT: %s", r.Status)
	}
	etag := r.Header.Get("ETag")
	r, body := e.do(t, "GET", "/rdx/a%20b?response-content-type=application/json&response-cache-control=no-cache", nil, nil)
	h := r.Header
	if string(body) != "abcdefghij" || h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-cache" ||
		h.Get("Content-Language") != "fr" || h.Get("Content-Encoding") != "gzip" || h.Get("x-amz-meta-mixed-case") != "v1" ||
		h.Get("x-amz-tagging-count") != "1" || h.Get("Accept-Ranges") != "bytes" || h.Get("Expires") == "" {
		t.Errorf("GET headers %v body %q", h, body)
	}
	lm := h.Get("Last-Modified")
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		hdr    map[string]string
		status int
	}{
		{map[string]string{"Range": "bytes=2-4"}, 206},
		{map[string]string{"Range": "bytes=-3"}, 206},
		{map[string]string{"Range": "bytes=8-100"}, 206},
		{map[string]string{"Range": "bytes=1-2,4-5"}, 200}, // multiple ranges: ignored
		{map[string]string{"Range": "lines=1-2"}, 200},
		{map[string]string{"If-Match": etag}, 200},
		{map[string]string{"If-Match": `"x", ` + etag}, 200},
		{map[string]string{"If-Match": "*"}, 200},
		{map[string]string{"If-Match": `"x"`}, 412},
		{map[string]string{"If-None-Match": etag}, 304},
		{map[string]string{"If-None-Match": `"x"`}, 200},
		{map[string]string{"If-Modified-Since": lm}, 304},
		{map[string]string{"If-Modified-Since": past}, 200},
		{map[string]string{"If-Unmodified-Since": past}, 412},
		{map[string]string{"If-Unmodified-Since": future}, 200},
		// If-Match true wins over If-Unmodified-Since false.
		{map[string]string{"If-Match": etag, "If-Unmodified-Since": past}, 200},
		// If-None-Match false and If-Modified-Since true: 304.
		{map[string]string{"If-None-Match": etag, "If-Modified-Since": past}, 304},
		{map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": future}, 200},
	} {
		for _, m := range []string{"GET", "HEAD"} {
			r, body := e.do(t, m, "/rdx/a%20b", nil, tc.hdr)
			if r.StatusCode != tc.status {
				t.Errorf("%s %v: %s, want %d", m, tc.hdr, r.Status, tc.status)
			}
			if r.StatusCode == 304 && (len(body) != 0 || r.Header.Get("ETag") != etag) {
				t.Errorf("304 with body %q, ETag %q", body, r.Header.Get("ETag"))
			}
			if m == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD with body %q", body)
			}
		}
	}
	r, body = e.do(t, "GET", "/rdx/a%20b", nil, map[string]string{"Range": "bytes=-3"})
	if string(body) != "hij" || r.Header.Get("Content-Range") != "bytes 7-9/10" {
		t.Errorf("suffix range: %q %q", body, r.Header.Get("Content-Range"))
	}
	// encoding-type=url listing.
	r, body = e.do(t, "GET", "/rdx?list-type=2&encoding-type=url", nil, nil)
	var lr listBucketResultV2
	if err := xml.Unmarshal(body, &lr); err != nil || len(lr.Contents) != 1 || lr.Contents[0].Key != "a+b" || lr.EncodingType != "url" {
		t.Errorf("encoded listing %s: %v", body, err)
	}
	// Virtual-host style with a raw request.
	r, body = e.do(t, "GET", "/a%20b", nil, map[string]string{"Host": "rdx." + testDomain})
	if r.StatusCode != 200 || string(body) != "abcdefghij" {
		t.Errorf("virtual host GET: %s %q", r.Status, body)
	}
	// Probes clients make.
	for _, p := range []string{"/rdx?versioning", "/rdx?acl", "/rdx/a%20b?acl", "/rdx?location", "/rdx?uploads"} {
		if r, body := e.do(t, "GET", p, nil, nil); r.StatusCode != 200 || !bytes.HasPrefix(body, []byte("<?xml")) {
			t.Errorf("GET %s: %s %s", p, r.Status, body)
		}
	}
	// Metrics were recorded.
	if v := counterValue(t, e, "tessera_s3_requests_total", "PutObject", "200"); v != 1 {
		t.Errorf("PutObject 200 count = %v", v)
	}
	if v := counterValue(t, e, "tessera_s3_received_bytes_total", "PutObject", ""); v != 10 {
		t.Errorf("PutObject bytes in = %v", v)
	}
	// Storage class: recorded, returned unless STANDARD.
	e.do(t, "PUT", "/rdx/rr", []byte("x"), map[string]string{"x-amz-storage-class": "REDUCED_REDUNDANCY"})
	if r, _ := e.do(t, "HEAD", "/rdx/rr", nil, nil); r.Header.Get("x-amz-storage-class") != "REDUCED_REDUNDANCY" {
		t.Errorf("storage class on HEAD = %q", r.Header.Get("x-amz-storage-class"))
	}
	e.do(t, "PUT", "/rdx/std", []byte("x"), map[string]string{"x-amz-storage-class": "STANDARD"})
	if r, _ := e.do(t, "HEAD", "/rdx/std", nil, nil); r.Header.Get("x-amz-storage-class") != "" {
		t.Errorf("STANDARD storage class returned: %q", r.Header.Get("x-amz-storage-class"))
	}
	e.do(t, "DELETE", "/rdx/rr", nil, nil)
	e.do(t, "DELETE", "/rdx/std", nil, nil)
	// Conditional CompleteMultipartUpload.
	r, body = e.do(t, "POST", "/rdx/a%20b?uploads", nil, nil)
	var init initiateMultipartUploadResult
	if err := xml.Unmarshal(body, &init); err != nil {
		t.Fatalf("initiate: %s %v", body, err)
	}
	r, _ = e.do(t, "PUT", "/rdx/a%20b?partNumber=1&uploadId="+init.UploadID, []byte("part"), nil)
	complete := []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + r.Header.Get("ETag") + "</ETag></Part></CompleteMultipartUpload>")
	if r, body := e.do(t, "POST", "/rdx/a%20b?uploadId="+init.UploadID, complete, map[string]string{"If-None-Match": "*"}); r.StatusCode != 412 {
		t.Errorf("complete If-None-Match * over an object: %s %s", r.Status, body)
	}
	if r, body := e.do(t, "POST", "/rdx/a%20b?uploadId="+init.UploadID, complete, map[string]string{"If-Match": etag}); r.StatusCode != 200 {
		t.Errorf("complete If-Match current: %s %s", r.Status, body)
	}
}

func TestHTTPBackendFaults(t *testing.T) {
	e := newEnv(t)
	mustMakeBucket(t, e.minio(t, aliceKey, aliceSecret), "flt")
	e.do(t, "PUT", "/flt/k", []byte("data"), nil)
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("object: read: %w", store.ErrUnavailable), 503, "ServiceUnavailable"},
		{meta.ErrUnavailable, 503, "ServiceUnavailable"},
		{errors.New("something unexpected"), 500, "InternalError"},
	} {
		e.fb.fail = func(op string) error {
			if op == "OpenObject" {
				return tc.err
			}
			return nil
		}
		r, body := e.do(t, "GET", "/flt/k", nil, nil)
		if r.StatusCode != tc.status || decodeError(t, body).Code != tc.code {
			t.Errorf("%v: %s %s", tc.err, r.Status, body)
		}
	}
	// A panic in the backend is answered with 500 and logged.
	e.fb.fail = func(op string) error {
		if op == "HeadObject" {
			panic("backend bug")
		}
		return nil
	}
	r, body := e.do(t, "GET", "/flt/k", nil, nil)
	if r.StatusCode != 500 || decodeError(t, body).Code != "InternalError" {
		t.Errorf("panic: %s %s", r.Status, body)
	}
	e.fb.fail = nil
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		opt Options
		ok  bool
	}{
		{Options{}, true},
		{Options{Domains: []string{"s3.example.com"}}, true},
		{Options{Domains: []string{"bad/domain"}}, false},
		{Options{MaxObjectSize: 10, MaxPutSize: 20}, false},
		{Options{MaxPutSize: -1}, false},
	} {
		if err := tc.opt.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.opt, err)
		}
	}
}

// counterValue reads one counter from the test registry.
func counterValue(t *testing.T, e *testEnv, name, op, code string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["op"] == op && (code == "" || labels["code"] == code) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
