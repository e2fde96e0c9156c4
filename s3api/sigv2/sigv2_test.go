package sigv2

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/tessera-store/tessera/s3api/auth"
)

const (
	testAK     = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func testCreds(_ context.Context, ak string) (string, error) {
	if ak == testAK {
		return testSecret, nil
	}
	return "", fmt.Errorf("no user %q: %w", ak, auth.ErrInvalidAccessKeyID)
}

// wire serialises req as a client sends it and parses it as a server does,
// so that RequestURI holds the path exactly as sent.
func wire(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// request builds a request the way minio-go does: the object name encoded
// with s3utils.EncodePath, path-style or virtual-host style.
func request(t testing.TB, method, bucket, object, query string, vhost bool) *http.Request {
	t.Helper()
	u := "http://127.0.0.1:9000/" + bucket + "/" + s3utils.EncodePath(object)
	if vhost {
		u = "http://" + bucket + ".s3.local:9000/" + s3utils.EncodePath(object)
	}
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

var diffCases = []struct {
	name, method, object, query string
	hdr                         map[string]string
}{
	{"plain", "GET", "photos/cat.jpg", "", nil},
	{"space", "PUT", "my dir/a file.txt", "", map[string]string{"Content-Type": "text/plain", "Content-Md5": "1B2M2Y8AsgTpgAmY7PhCfg=="}},
	{"unicode", "GET", "dossier/été/日本語.txt", "", nil},
	{"plus", "GET", "a+b/c+d", "", nil},
	{"reserved", "GET", "x!$&'()*,;=:@y", "", nil},
	{"acl", "GET", "k", "acl", nil},
	{"uploads", "POST", "k", "uploads", map[string]string{"X-Amz-Meta-Color": "blue", "X-Amz-Acl": "private"}},
	{"uploadId-part", "PUT", "big object", "partNumber=3&uploadId=abc%2Bdef", nil},
	{"versionId", "GET", "v", "versionId=3%2F4&foo=bar", nil},
	{"response-overrides", "GET", "r", "response-content-type=text%2Fplain%3B%20charset%3Dutf-8&response-expires=Thu%2C%2001%20Dec%201994", nil},
	{"tagging-delete", "POST", "", "delete", map[string]string{"Content-Md5": "Q2hlY2sgSW50ZWdyaXR5IQ=="}},
	{"list", "GET", "", "prefix=a%20b&delimiter=%2F&max-keys=10", nil},
}

func TestDifferentialMinioSignV2(t *testing.T) {
	for _, tc := range diffCases {
		for _, vhost := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/vhost=%v", tc.name, vhost), func(t *testing.T) {
				req := request(t, tc.method, "my-bucket", tc.object, tc.query, vhost)
				for k, v := range tc.hdr {
					req.Header.Set(k, v)
				}
				signed := signer.SignV2(*req, testAK, testSecret, vhost)
				r := wire(t, signed)
				vb := ""
				if vhost {
					vb = "my-bucket"
				}
				now := time.Now()
				ak, err := Verify(context.Background(), r, testCreds, now, vb)
				if err != nil || ak != testAK {
					t.Fatalf("Verify = %q, %v; string to sign:\n%s", ak, err, StringToSign(r, r.URL.Query(), r.Header.Get("Date"), vb))
				}
				// The wrong addressing style must not verify.
				other := "my-bucket"
				if vhost {
					other = ""
				}
				if _, err := Verify(context.Background(), r, testCreds, now, other); !errors.Is(err, auth.ErrSignatureDoesNotMatch) {
					t.Fatalf("other style: err = %v, want ErrSignatureDoesNotMatch", err)
				}
			})
		}
	}
}

func TestDifferentialMinioPreSignV2(t *testing.T) {
	for _, tc := range diffCases {
		for _, vhost := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/vhost=%v", tc.name, vhost), func(t *testing.T) {
				req := request(t, tc.method, "my-bucket", tc.object, tc.query, vhost)
				for k, v := range tc.hdr {
					req.Header.Set(k, v)
				}
				signed := signer.PreSignV2(*req, testAK, testSecret, 600, vhost)
				// The client sends the presigned URL with the request's
				// headers; the Expires header minio-go sets on its copy
				// is not sent (it is only in the query).
				signed.Header.Del("Expires")
				r := wire(t, signed)
				vb := ""
				if vhost {
					vb = "my-bucket"
				}
				now := time.Now()
				ak, err := Verify(context.Background(), r, testCreds, now, vb)
				if err != nil || ak != testAK {
					t.Fatalf("Verify = %q, %v (url %s)", ak, err, r.RequestURI)
				}
				if _, err := Verify(context.Background(), r, testCreds, now.Add(11*time.Minute), vb); !errors.Is(err, auth.ErrExpiredRequest) {
					t.Fatalf("after expiry: err = %v, want ErrExpiredRequest", err)
				}
			})
		}
	}
}

// TestBitFlips flips every bit of every signed value of a header-signed
// and a presigned request: none may verify.
func TestBitFlips(t *testing.T) {
	now := time.Now()
	type form struct {
		name string
		raw  []byte
	}
	var forms []form
	{
		req := request(t, "PUT", "bkt", "dir/a b+c.txt", "uploadId=xyz&partNumber=2", false)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Md5", "rL0Y20zC+Fzt72VPzMSk2A==")
		req.Header.Set("X-Amz-Meta-Owner", "alice")
		signed := signer.SignV2(*req, testAK, testSecret, false)
		var buf bytes.Buffer
		if err := signed.Write(&buf); err != nil {
			t.Fatal(err)
		}
		forms = append(forms, form{"header", buf.Bytes()})
	}
	{
		req := request(t, "GET", "bkt", "dir/a b+c.txt", "versionId=v1", false)
		signed := signer.PreSignV2(*req, testAK, testSecret, 600, false)
		signed.Header.Del("Expires")
		var buf bytes.Buffer
		if err := signed.Write(&buf); err != nil {
			t.Fatal(err)
		}
		forms = append(forms, form{"presigned", buf.Bytes()})
	}
	// Regions of the wire form that are signed: the method, path and query
	// of the request line, and the values of the signed headers.
	signedRegions := func(raw []byte) [][2]int {
		var regs [][2]int
		lineEnd := bytes.Index(raw, []byte(" HTTP/1.1\r\n"))
		regs = append(regs, [2]int{0, lineEnd})
		for _, h := range []string{"Authorization: ", "Content-Type: ", "Content-Md5: ", "Date: ", "X-Amz-Meta-Owner: "} {
			i := bytes.Index(raw, []byte("\r\n"+h))
			if i < 0 {
				continue
			}
			start := i + 2 + len(h)
			end := start + bytes.Index(raw[start:], []byte("\r\n"))
			regs = append(regs, [2]int{start, end})
		}
		return regs
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(f.raw)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(context.Background(), r, testCreds, now, ""); err != nil {
				t.Fatalf("unmodified: %v", err)
			}
			tried := 0
			for _, reg := range signedRegions(f.raw) {
				for i := reg[0]; i < reg[1]; i++ {
					for bit := range 8 {
						mod := bytes.Clone(f.raw)
						mod[i] ^= 1 << bit
						r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(mod)))
						if err != nil {
							continue // not a request any more
						}
						if sameMeaning(t, f.raw, r) {
							continue // e.g. %2B -> %2b in a query value
						}
						tried++
						if ak, err := Verify(context.Background(), r, testCreds, now, ""); err == nil {
							t.Fatalf("flip byte %d (%q) bit %d verified as %q:\n%s", i, f.raw[i], bit, ak, mod)
						}
					}
				}
			}
			if tried < 500 {
				t.Fatalf("only %d flips tried", tried)
			}
		})
	}
}

// sameMeaning reports whether r is the request of raw up to encoding: same
// method, raw path, decoded query and header values.
func sameMeaning(t *testing.T, raw []byte, r *http.Request) bool {
	o, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if o.Method != r.Method || rawPath(o) != rawPath(r) || fmt.Sprint(o.Header) != fmt.Sprint(r.Header) {
		return false
	}
	oq, err1 := url.ParseQuery(o.URL.RawQuery)
	rq, err2 := url.ParseQuery(r.URL.RawQuery)
	return err1 == nil && err2 == nil && fmt.Sprint(oq) == fmt.Sprint(rq)
}

func TestVerifyErrors(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	sign := func(r *http.Request, ak, secret string) {
		sts := StringToSign(r, r.URL.Query(), r.Header.Get("Date"), "")
		if _, ok := r.Header["X-Amz-Date"]; ok {
			sts = StringToSign(r, r.URL.Query(), "", "")
		}
		r.Header.Set("Authorization", "AWS "+ak+":"+Sign(secret, sts))
	}
	presign := func(r *http.Request, ak, secret string, exp int64) {
		q := r.URL.Query()
		q.Set("AWSAccessKeyId", ak)
		q.Set("Expires", fmt.Sprint(exp))
		r.URL.RawQuery = q.Encode()
		sig := Sign(secret, StringToSign(r, r.URL.Query(), fmt.Sprint(exp), ""))
		r.URL.RawQuery += "&Signature=" + url.QueryEscape(sig)
	}
	tests := []struct {
		name    string
		prep    func(r *http.Request)
		wantErr error
	}{
		{"ok", func(r *http.Request) {
			r.Header.Set("Date", now.Format(http.TimeFormat))
			sign(r, testAK, testSecret)
		}, nil},
		{"x-amz-date", func(r *http.Request) {
			r.Header.Set("Date", "garbage")
			r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
			sign(r, testAK, testSecret)
		}, nil},
		{"x-amz-date-rfc1123", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Add(-14*time.Minute).Format(http.TimeFormat))
			sign(r, testAK, testSecret)
		}, nil},
		{"skew-past", func(r *http.Request) {
			r.Header.Set("Date", now.Add(-16*time.Minute).Format(http.TimeFormat))
			sign(r, testAK, testSecret)
		}, auth.ErrRequestTimeTooSkewed},
		{"skew-future", func(r *http.Request) {
			r.Header.Set("Date", now.Add(16*time.Minute).Format(http.TimeFormat))
			sign(r, testAK, testSecret)
		}, auth.ErrRequestTimeTooSkewed},
		{"no-date", func(r *http.Request) { sign(r, testAK, testSecret) }, auth.ErrAccessDenied},
		{"bad-date", func(r *http.Request) {
			r.Header.Set("Date", "yesterday")
			sign(r, testAK, testSecret)
		}, auth.ErrAccessDenied},
		{"unknown-key", func(r *http.Request) {
			r.Header.Set("Date", now.Format(http.TimeFormat))
			sign(r, "NOBODY", testSecret)
		}, auth.ErrInvalidAccessKeyID},
		{"wrong-secret", func(r *http.Request) {
			r.Header.Set("Date", now.Format(http.TimeFormat))
			sign(r, testAK, "other")
		}, auth.ErrSignatureDoesNotMatch},
		{"header-malformed", func(r *http.Request) {
			r.Header.Set("Date", now.Format(http.TimeFormat))
			r.Header.Set("Authorization", "AWS "+testAK)
		}, auth.ErrInvalidArgument},
		{"header-and-query", func(r *http.Request) {
			r.Header.Set("Date", now.Format(http.TimeFormat))
			sign(r, testAK, testSecret)
			r.URL.RawQuery = "AWSAccessKeyId=x&Signature=y&Expires=1"
		}, auth.ErrInvalidArgument},
		{"presigned-ok", func(r *http.Request) { presign(r, testAK, testSecret, now.Unix()+60) }, nil},
		{"presigned-expired", func(r *http.Request) { presign(r, testAK, testSecret, now.Unix()-1) }, auth.ErrExpiredRequest},
		{"presigned-missing-expires", func(r *http.Request) {
			r.URL.RawQuery = "AWSAccessKeyId=" + testAK + "&Signature=abc"
		}, auth.ErrAccessDenied},
		{"presigned-bad-expires", func(r *http.Request) {
			r.URL.RawQuery = "AWSAccessKeyId=" + testAK + "&Signature=abc&Expires=soon"
		}, auth.ErrAccessDenied},
		{"presigned-repeated", func(r *http.Request) {
			presign(r, testAK, testSecret, now.Unix()+60)
			r.URL.RawQuery += "&Signature=abc"
		}, auth.ErrInvalidArgument},
		{"presigned-wrong-secret", func(r *http.Request) { presign(r, testAK, "nope", now.Unix()+60) }, auth.ErrSignatureDoesNotMatch},
		{"bad-query", func(r *http.Request) {
			r.Header.Set("Date", now.Format(http.TimeFormat))
			sign(r, testAK, testSecret)
			r.URL.RawQuery = "a=%zz"
		}, auth.ErrInvalidArgument},
		{"anonymous", func(r *http.Request) {}, auth.ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpRequest(t, "GET", "/bkt/key%20one")
			tt.prep(r)
			ak, err := Verify(context.Background(), r, testCreds, now, "")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && ak != testAK {
				t.Fatalf("access key %q", ak)
			}
		})
	}
}

func httpRequest(t testing.TB, method, path string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://127.0.0.1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCredentialsInternalError(t *testing.T) {
	boom := errors.New("meta down")
	r := httpRequest(t, "GET", "/b/k")
	r.Header.Set("Date", time.Now().Format(http.TimeFormat))
	r.Header.Set("Authorization", "AWS AK:c2ln")
	_, err := Verify(context.Background(), r, func(context.Context, string) (string, error) { return "", boom }, time.Now(), "")
	if !errors.Is(err, boom) || errors.Is(err, auth.ErrSignatureDoesNotMatch) {
		t.Fatalf("err = %v", err)
	}
}

func TestStringToSign(t *testing.T) {
	// The example of the AWS documentation (RESTAuthentication, "Object
	// PUT" with x-amz headers), adapted: repeated and mixed-case x-amz
	// headers are merged, trimmed and sorted.
	r := httpRequest(t, "PUT", "/static.example.com/db-backup.dat.gz?uploads&foo=bar")
	r.Header.Set("Content-Type", "application/x-download")
	r.Header.Set("Content-Md5", "4gJE4saaMU4BqNR0kLY+lw==")
	r.Header.Set("Date", "Tue, 27 Mar 2007 21:06:08 +0000")
	r.Header.Set("X-Amz-Acl", "public-read")
	r.Header.Add("X-Amz-Meta-ReviewedBy", "joe@example.com")
	r.Header.Add("x-amz-meta-reviewedby", " jane@example.com ")
	r.Header.Set("X-Amz-Meta-FileChecksum", "0x02661779")
	r.Header.Set("X-Amz-Meta-ChecksumAlgorithm", "crc32")
	want := "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n" +
		"x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n" +
		"x-amz-meta-reviewedby:joe@example.com,jane@example.com\n/static.example.com/db-backup.dat.gz?uploads"
	if got := string(StringToSign(r, r.URL.Query(), r.Header.Get("Date"), "")); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// The documented signature of the AWS example GET (secret of the docs).
	g := httpRequest(t, "GET", "/photos/puppy.jpg")
	g.Header.Set("Date", "Tue, 27 Mar 2007 19:36:42 +0000")
	if sig := Sign(testSecret, StringToSign(g, g.URL.Query(), g.Header.Get("Date"), "awsexamplebucket1")); sig != "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=" {
		t.Fatalf("AWS example signature %s", sig)
	}
}

func TestIsSigV2(t *testing.T) {
	for _, tc := range []struct {
		authz, query string
		want         bool
	}{
		{"AWS a:b", "", true},
		{"AWS4-HMAC-SHA256 Credential=x", "", false},
		{"", "AWSAccessKeyId=a&Signature=b&Expires=1", true},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&Signature=b", false},
		{"", "acl", false},
	} {
		r := httpRequest(t, "GET", "/b/k?"+tc.query)
		if tc.authz != "" {
			r.Header.Set("Authorization", tc.authz)
		}
		if got := IsSigV2(r); got != tc.want {
			t.Errorf("IsSigV2(%q, %q) = %v", tc.authz, tc.query, got)
		}
	}
}

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		in, ak, sig string
		ok          bool
	}{
		{"AWS AK:sig=", "AK", "sig=", true},
		{"AWS a:b:c", "a:b", "c", true},
		{"AWS :sig", "", "", false},
		{"AWS ak:", "", "", false},
		{"AWS ak", "", "", false},
		{"AWS  ak:s", "", "", false},
		{"aws ak:s", "", "", false},
		{"AWS ak: s", "", "", false},
		{"", "", "", false},
	} {
		ak, sig, err := ParseHeader(tc.in)
		if (err == nil) != tc.ok || ak != tc.ak || sig != tc.sig {
			t.Errorf("ParseHeader(%q) = %q, %q, %v", tc.in, ak, sig, err)
		}
		if err != nil && !errors.Is(err, auth.ErrInvalidArgument) {
			t.Errorf("ParseHeader(%q): %v does not wrap ErrInvalidArgument", tc.in, err)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"AWS AK:sig=", "AWS a:b:c", "AWS :", "AWS", "AWS4-HMAC-SHA256 Credential=a/b", "AWS ak:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		ak, sig, err := ParseHeader(h)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidArgument) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if Algorithm+" "+ak+":"+sig != h || ak == "" || sig == "" || strings.Contains(sig, ":") {
			t.Fatalf("ParseHeader(%q) = %q, %q", h, ak, sig)
		}
	})
}

// FuzzVerify feeds arbitrary Authorization headers, dates, paths and
// queries: Verify must never panic, always return a typed error, and only
// verify what the test's own signer signed.
func FuzzVerify(f *testing.F) {
	f.Add("AWS "+testAK+":abc", "Tue, 27 Mar 2007 19:36:42 +0000", "/b/k", "acl")
	f.Add("", "", "/b/k%20x", "AWSAccessKeyId="+testAK+"&Expires=99999999999&Signature=x")
	f.Add("AWS a:b", "20261127T120000Z", "/", "uploadId=%zz")
	now := time.Date(2007, 3, 27, 19, 36, 42, 0, time.UTC)
	f.Fuzz(func(t *testing.T, authz, date, path, query string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}, RequestURI: path}
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if date != "" {
			r.Header.Set("Date", date)
		}
		_, err := Verify(context.Background(), r, testCreds, now, "")
		if err == nil {
			t.Fatalf("unsigned fuzz input verified: %q %q %q %q", authz, date, path, query)
		}
		for _, s := range []error{auth.ErrInvalidArgument, auth.ErrAccessDenied, auth.ErrRequestTimeTooSkewed,
			auth.ErrExpiredRequest, auth.ErrInvalidAccessKeyID, auth.ErrSignatureDoesNotMatch} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("untyped error %v", err)
	})
}
