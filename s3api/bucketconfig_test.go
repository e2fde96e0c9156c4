package s3api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	mcors "github.com/minio/minio-go/v7/pkg/cors"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/auth"
)

type call struct {
	name         string
	access       string // "" = anonymous; "alice", "bob", "root"
	method, path string
	body         string
	hdr          map[string]string
	wantStatus   int
	wantCode     string
}

func (e *testEnv) run(t *testing.T, calls []call) {
	t.Helper()
	keys := map[string][2]string{"alice": {aliceKey, aliceSecret}, "bob": {bobKey, bobSecret}, "root": {rootKey, rootSecret}}
	for _, c := range calls {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		k := keys[c.access]
		r, out := e.doAs(t, k[0], k[1], c.method, c.path, body, c.hdr)
		if r.StatusCode != c.wantStatus {
			t.Errorf("%s: %s %s = %s %s, want %d", c.name, c.method, c.path, r.Status, out, c.wantStatus)
			continue
		}
		if c.wantCode != "" && c.method != http.MethodHead {
			if got := decodeError(t, out).Code; got != c.wantCode {
				t.Errorf("%s: code %s, want %s", c.name, got, c.wantCode)
			}
		}
	}
}

const policyDoc = `{"Version":"2012-10-17","Statement":[` +
	`{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::pol/pub/*"]},` +
	`{"Effect":"Allow","Principal":{"AWS":["bob"]},"Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::pol"],"Condition":{"StringEquals":{"s3:prefix":["pub/"]}}},` +
	`{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::pol/drop/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},` +
	`{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::pol/keep/*"}]}`

func TestBucketPolicy(t *testing.T) {
	e := newEnv(t)
	e.run(t, []call{
		{"create", "alice", "PUT", "/pol", "", nil, 200, ""},
		{"no policy", "alice", "GET", "/pol?policy", "", nil, 404, "NoSuchBucketPolicy"},
		{"no status", "alice", "GET", "/pol?policyStatus", "", nil, 404, "NoSuchBucketPolicy"},
		{"put pub", "alice", "PUT", "/pol/pub/a", "public", nil, 200, ""},
		{"put keep", "alice", "PUT", "/pol/keep/a", "kept", nil, 200, ""},
		{"put private", "alice", "PUT", "/pol/private", "secret", nil, 200, ""},
		{"anonymous before policy", "", "GET", "/pol/pub/a", "", nil, 403, "AccessDenied"},
		{"malformed", "alice", "PUT", "/pol?policy", "{not json", nil, 400, "MalformedPolicy"},
		{"other bucket resource", "alice", "PUT", "/pol?policy", strings.ReplaceAll(policyDoc, ":::pol", ":::other"), nil, 400, "MalformedPolicy"},
		{"too large", "alice", "PUT", "/pol?policy", "{" + strings.Repeat(" ", 20<<10) + "}", nil, 400, "PolicyTooLarge"},
		{"bob may not set", "bob", "PUT", "/pol?policy", policyDoc, nil, 403, "AccessDenied"},
		{"put policy", "alice", "PUT", "/pol?policy", policyDoc, nil, 204, ""},
		{"anonymous get allowed", "", "GET", "/pol/pub/a", "", nil, 200, ""},
		{"anonymous head allowed", "", "HEAD", "/pol/pub/a", "", nil, 200, ""},
		{"anonymous missing key", "", "GET", "/pol/pub/none", "", nil, 404, "NoSuchKey"},
		{"anonymous private", "", "GET", "/pol/private", "", nil, 403, "AccessDenied"},
		{"anonymous list", "", "GET", "/pol", "", nil, 403, "AccessDenied"},
		{"anonymous put outside source range", "", "PUT", "/pol/drop/x", "x", nil, 403, "AccessDenied"},
		{"anonymous policy read", "", "GET", "/pol?policy", "", nil, 403, "AccessDenied"},
		{"anonymous list buckets", "", "GET", "/", "", nil, 403, "AccessDenied"},
		{"anonymous create bucket", "", "PUT", "/anon", "", nil, 403, "AccessDenied"},
		{"anonymous missing bucket", "", "GET", "/nobucket/x", "", nil, 403, "AccessDenied"},
		{"bob get public", "bob", "GET", "/pol/pub/a", "", nil, 200, ""},
		{"bob list with prefix", "bob", "GET", "/pol?prefix=pub/", "", nil, 200, ""},
		{"bob list without prefix", "bob", "GET", "/pol", "", nil, 403, "AccessDenied"},
		{"bob private", "bob", "GET", "/pol/private", "", nil, 403, "AccessDenied"},
		{"owner denied by Deny", "alice", "DELETE", "/pol/keep/a", "", nil, 403, "AccessDenied"},
		{"owner otherwise allowed", "alice", "DELETE", "/pol/private", "", nil, 204, ""},
		{"root ignores Deny", "root", "DELETE", "/pol/keep/a", "", nil, 204, ""},
		{"status", "alice", "GET", "/pol?policyStatus", "", nil, 200, ""},
		{"delete policy", "alice", "DELETE", "/pol?policy", "", nil, 204, ""},
		{"anonymous after delete", "", "GET", "/pol/pub/a", "", nil, 403, "AccessDenied"},
		{"gone", "alice", "GET", "/pol?policy", "", nil, 404, "NoSuchBucketPolicy"},
	})
	// Get returns the document as put.
	e.run(t, []call{{"put again", "alice", "PUT", "/pol?policy", policyDoc, nil, 204, ""}})
	r, body := e.do(t, "GET", "/pol?policy", nil, nil)
	if r.StatusCode != 200 || string(body) != policyDoc {
		t.Fatalf("GetBucketPolicy = %s %q", r.Status, body)
	}
	r, body = e.do(t, "GET", "/pol?policyStatus", nil, nil)
	if r.StatusCode != 200 || !strings.Contains(string(body), "<IsPublic>true</IsPublic>") {
		t.Fatalf("GetBucketPolicyStatus = %s %q", r.Status, body)
	}
}

func TestBucketPolicyMinio(t *testing.T) {
	e := newEnv(t)
	c := e.minio(t, aliceKey, aliceSecret)
	ctx := context.Background()
	mustMakeBucket(t, c, "mpol")
	if p, err := c.GetBucketPolicy(ctx, "mpol"); err != nil || p != "" {
		t.Fatalf("GetBucketPolicy before put = %q, %v", p, err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":["arn:aws:s3:::mpol"]}]}`
	if err := c.SetBucketPolicy(ctx, "mpol", doc); err != nil {
		t.Fatal(err)
	}
	if p, err := c.GetBucketPolicy(ctx, "mpol"); err != nil || p != doc {
		t.Fatalf("GetBucketPolicy = %q, %v", p, err)
	}
	anon, err := minio.New(e.host(), &minio.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	for o := range anon.ListObjects(ctx, "mpol", minio.ListObjectsOptions{}) {
		if o.Err != nil {
			t.Fatalf("anonymous list with ListBucket allowed: %v", o.Err)
		}
	}
	if err := c.SetBucketPolicy(ctx, "mpol", ""); err != nil {
		t.Fatal(err)
	}
	if p, err := c.GetBucketPolicy(ctx, "mpol"); err != nil || p != "" {
		t.Fatalf("GetBucketPolicy after delete = %q, %v", p, err)
	}
}

func TestBucketCors(t *testing.T) {
	e := newEnv(t)
	c := e.minio(t, aliceKey, aliceSecret)
	ctx := context.Background()
	mustMakeBucket(t, c, "cors")
	if got, err := c.GetBucketCors(ctx, "cors"); err != nil || got != nil {
		t.Fatalf("GetBucketCors before put = %v, %v", got, err)
	}
	cfg := mcors.NewConfig([]mcors.Rule{
		{AllowedOrigin: []string{"http://www.example1.com"}, AllowedMethod: []string{"PUT"}, AllowedHeader: []string{"*"}, ExposeHeader: []string{"x-amz-request-id"}, MaxAgeSeconds: 3600},
		{AllowedOrigin: []string{"*"}, AllowedMethod: []string{"GET"}, AllowedHeader: []string{"*"}},
	})
	if err := c.SetBucketCors(ctx, "cors", cfg); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketCors(ctx, "cors")
	if err != nil || !reflect.DeepEqual(got, cfg) {
		t.Fatalf("GetBucketCors = %+v, %v; want %+v", got, err, cfg)
	}
	if _, err := c.PutObject(ctx, "cors", "obj", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	e.run(t, []call{
		{"preflight match", "", "OPTIONS", "/cors/obj", "", map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT"}, 200, ""},
		{"preflight no match", "", "OPTIONS", "/cors/obj", "", map[string]string{"Origin": "http://other.com", "Access-Control-Request-Method": "PUT"}, 403, "AccessForbidden"},
		{"preflight no origin", "", "OPTIONS", "/cors/obj", "", map[string]string{"Access-Control-Request-Method": "PUT"}, 400, "BadRequest"},
		{"preflight no bucket", "", "OPTIONS", "/nocors/obj", "", map[string]string{"Origin": "http://a.com", "Access-Control-Request-Method": "GET"}, 404, "NoSuchBucket"},
		{"preflight service", "", "OPTIONS", "/", "", map[string]string{"Origin": "http://a.com", "Access-Control-Request-Method": "GET"}, 405, "MethodNotAllowed"},
		{"malformed", "alice", "PUT", "/cors?cors", "<CORSConfiguration><CORSRule>", nil, 400, "MalformedXML"},
	})
	r, _ := e.doAs(t, "", "", "OPTIONS", "/cors/obj", nil, map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-a"})
	if r.Header.Get("Access-Control-Allow-Origin") != "http://www.example1.com" || r.Header.Get("Access-Control-Allow-Headers") != "x-a" ||
		r.Header.Get("Access-Control-Max-Age") != "3600" || r.Header.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("preflight headers: %v", r.Header)
	}
	// Actual requests: headers when a rule matches; the request is never blocked.
	r, body := e.doAs(t, aliceKey, aliceSecret, "GET", "/cors/obj", nil, map[string]string{"Origin": "http://anywhere.com"})
	if r.StatusCode != 200 || string(body) != "x" || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("actual GET: %s %v", r.Status, r.Header)
	}
	r, _ = e.doAs(t, aliceKey, aliceSecret, "PUT", "/cors/obj2", []byte("y"), map[string]string{"Origin": "http://www.example1.com"})
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "http://www.example1.com" ||
		r.Header.Get("Access-Control-Allow-Credentials") != "true" || r.Header.Get("Access-Control-Expose-Headers") != "x-amz-request-id" {
		t.Errorf("actual PUT: %s %v", r.Status, r.Header)
	}
	r, _ = e.doAs(t, aliceKey, aliceSecret, "DELETE", "/cors/obj2", nil, map[string]string{"Origin": "http://nomatch.com"})
	if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("actual DELETE without match: %s %v", r.Status, r.Header)
	}
	if err := c.SetBucketCors(ctx, "cors", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetBucketCors(ctx, "cors"); err != nil || got != nil {
		t.Fatalf("GetBucketCors after delete = %v, %v", got, err)
	}
	e.run(t, []call{
		{"preflight without config", "", "OPTIONS", "/cors/obj", "", map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT"}, 403, "AccessForbidden"},
	})
}

func TestBucketTagging(t *testing.T) {
	e := newEnv(t)
	c := e.minio(t, aliceKey, aliceSecret)
	ctx := context.Background()
	mustMakeBucket(t, c, "tagged")
	if _, err := c.GetBucketTagging(ctx, "tagged"); errCode(err) != "NoSuchTagSet" {
		t.Fatalf("GetBucketTagging before put: %v", err)
	}
	want := map[string]string{"team": "storage", "cost-center": "42", "empty": ""}
	bt, err := tags.MapToBucketTags(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetBucketTagging(ctx, "tagged", bt); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketTagging(ctx, "tagged")
	if err != nil || !reflect.DeepEqual(got.ToMap(), want) {
		t.Fatalf("GetBucketTagging = %v, %v", got, err)
	}
	if err := c.RemoveBucketTagging(ctx, "tagged"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketTagging(ctx, "tagged"); errCode(err) != "NoSuchTagSet" {
		t.Fatalf("GetBucketTagging after delete: %v", err)
	}
	dup := "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>"
	many := "<Tagging><TagSet>"
	for i := 0; i < 51; i++ {
		many += "<Tag><Key>k" + string(rune('A'+i%26)) + string(rune('a'+i/26)) + "</Key><Value>v</Value></Tag>"
	}
	many += "</TagSet></Tagging>"
	e.run(t, []call{
		{"duplicate key", "alice", "PUT", "/tagged?tagging", dup, nil, 400, "InvalidTag"},
		{"51 tags", "alice", "PUT", "/tagged?tagging", many, nil, 400, "InvalidTag"},
		{"aws: prefix", "alice", "PUT", "/tagged?tagging", "<Tagging><TagSet><Tag><Key>aws:x</Key><Value>1</Value></Tag></TagSet></Tagging>", nil, 400, "InvalidTag"},
		{"malformed", "alice", "PUT", "/tagged?tagging", "<Tagging>", nil, 400, "MalformedXML"},
		{"wrong root", "alice", "PUT", "/tagged?tagging", "<Other></Other>", nil, 400, "MalformedXML"},
		{"bob", "bob", "GET", "/tagged?tagging", "", nil, 403, "AccessDenied"},
	})
}

func TestObjectLockConfiguration(t *testing.T) {
	e := newEnv(t)
	c := e.minio(t, aliceKey, aliceSecret)
	ctx := context.Background()
	if err := c.MakeBucket(ctx, "locked", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	mustMakeBucket(t, c, "plain")
	status, mode, validity, unit, err := c.GetObjectLockConfig(ctx, "locked")
	if err != nil || status != "Enabled" || mode != nil || validity != nil || unit != nil {
		t.Fatalf("GetObjectLockConfig = %q %v %v %v, %v", status, mode, validity, unit, err)
	}
	if _, _, _, _, err := c.GetObjectLockConfig(ctx, "plain"); errCode(err) != "ObjectLockConfigurationNotFoundError" {
		t.Fatalf("GetObjectLockConfig(plain): %v", err)
	}
	gov, days := minio.Governance, uint(3)
	dv := minio.Days
	if err := c.SetObjectLockConfig(ctx, "locked", &gov, &days, &dv); err != nil {
		t.Fatal(err)
	}
	_, mode, validity, unit, err = c.GetObjectLockConfig(ctx, "locked")
	if err != nil || mode == nil || *mode != minio.Governance || validity == nil || *validity != 3 || unit == nil || *unit != minio.Days {
		t.Fatalf("after set: %v %v %v, %v", mode, validity, unit, err)
	}
	if err := c.SetObjectLockConfig(ctx, "plain", &gov, &days, &dv); errCode(err) != "InvalidBucketState" {
		t.Fatalf("SetObjectLockConfig(plain): %v", err)
	}
	e.run(t, []call{
		{"bad header", "alice", "PUT", "/badlock", "", map[string]string{"x-amz-bucket-object-lock-enabled": "maybe"}, 400, "InvalidArgument"},
		{"malformed", "alice", "PUT", "/locked?object-lock", "<ObjectLockConfiguration>", nil, 400, "MalformedXML"},
		{"zero days", "alice", "PUT", "/locked?object-lock",
			"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule></ObjectLockConfiguration>", nil, 400, "InvalidArgument"},
	})
	if _, err := e.fb.GetBucket(ctx, "badlock"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("a rejected CreateBucket left a bucket: %v", err)
	}
}

// FuzzParseBucketTagging checks that any body either fails with an S3
// error or gives a document that parses again to itself.
func FuzzParseBucketTagging(f *testing.F) {
	f.Add([]byte("<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>"))
	f.Add([]byte(`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>b</Key><Value></Value></Tag><Tag><Key>a</Key><Value>x</Value></Tag></TagSet></Tagging>`))
	f.Add([]byte("<Tagging><TagSet><Tag><Key>aws:x</Key></Tag></TagSet></Tagging>"))
	f.Add([]byte("<Tagging>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseBucketTagging(data)
		if err != nil {
			if c := lookupError(err); c.status != http.StatusBadRequest {
				t.Fatalf("error %v maps to %d %s", err, c.status, c.code)
			}
			return
		}
		again, err := parseBucketTagging(doc)
		if err != nil || !bytes.Equal(again, doc) {
			t.Fatalf("canonical document %q does not round-trip: %q, %v", doc, again, err)
		}
	})
}

func TestObjectLockCreateUndo(t *testing.T) {
	e := newEnv(t)
	e.fb.fail = func(op string) error {
		if op == "PutBucketConfig" {
			return errors.New("injected")
		}
		return nil
	}
	e.run(t, []call{{"lock config fails", "alice", "PUT", "/lockfail", "", map[string]string{"x-amz-bucket-object-lock-enabled": "true"}, 500, "InternalError"}})
	if _, err := e.fb.GetBucket(context.Background(), "lockfail"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("bucket without its Object Lock configuration left behind: %v", err)
	}
}

// BenchmarkAuthorize measures the per-request cost of the policy check on
// a cached configuration: the owner of a bucket without policy, and an
// anonymous request a policy allows.
func BenchmarkAuthorize(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	for _, name := range []string{"nopol", "withpol", "plainpol"} {
		if err := e.fb.CreateBucket(ctx, "alice", name, "us-east-1"); err != nil {
			b.Fatal(err)
		}
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::withpol/pub/*"},` +
		`{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::withpol/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if err := e.fb.PutBucketConfig(ctx, "withpol", configPolicy, []byte(doc)); err != nil {
		b.Fatal(err)
	}
	plain := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::plainpol/pub/*"}]}`
	if err := e.fb.PutBucketConfig(ctx, "plainpol", configPolicy, []byte(plain)); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name, bucket string
		anonymous    bool
	}{{"owner-no-policy", "nopol", false}, {"owner-policy-conditions", "withpol", false},
		{"anonymous-policy-conditions", "withpol", true}, {"anonymous-policy-plain", "plainpol", true}} {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/"+tc.bucket+"/pub/x", nil)
			rq := &request{op: "GetObject", bucket: tc.bucket, key: "pub/x", r: r, auth: &auth.Request{Anonymous: tc.anonymous}}
			if !tc.anonymous {
				rq.user = meta.User{Name: "alice"}
			}
			bk, err := e.fb.GetBucket(ctx, tc.bucket)
			if err != nil {
				b.Fatal(err)
			}
			if err := e.s.authorize(ctx, rq, bk); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := e.s.authorize(ctx, rq, bk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
