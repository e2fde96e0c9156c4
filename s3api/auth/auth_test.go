package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
	"github.com/minio/minio-go/v7/pkg/signer"
)

const (
	testAK     = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRegion = "us-east-1"
)

var testTime = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func testCreds(_ context.Context, ak string) (string, error) {
	switch ak {
	case testAK:
		return testSecret, nil
	case "AK/with/slash":
		return "secret with spaces+=", nil
	}
	return "", fmt.Errorf("unknown %q: %w", ak, ErrInvalidAccessKeyID)
}

// fixedVerifier verifies at time now.
func fixedVerifier(now time.Time) *Verifier {
	return NewVerifier(testCreds, Options{Now: func() time.Time { return now }})
}

// outcome is what the server saw for one request.
type outcome struct {
	req  *Request
	body []byte
	err  error
	alg  string
	val  string
	ok   bool
}

// verifyAll runs Verify on r and reads the whole body.
func verifyAll(v *Verifier, r *http.Request) outcome {
	var o outcome
	req, err := v.Verify(r)
	if err == nil {
		o.req = req
		o.body, err = io.ReadAll(req.Body)
		o.alg, o.val, o.ok = req.TrailerChecksum()
	}
	o.err = err
	return o
}

// server starts an HTTP server whose handler verifies each request; the
// outcome of each request arrives on the channel.
func server(t *testing.T, v *Verifier) (*httptest.Server, *http.Client, <-chan outcome) {
	t.Helper()
	ch := make(chan outcome, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := verifyAll(v, r)
		ch <- o
		if o.err != nil {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(srv.Close)
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr}, ch
}

// send sends r and returns the server's outcome.
func send(t *testing.T, c *http.Client, ch <-chan outcome, r *http.Request) outcome {
	t.Helper()
	resp, err := c.Do(r)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return <-ch
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// objectCase is a request shape used across signer tests.
type objectCase struct {
	name    string
	method  string
	key     string // object key, unescaped
	query   string // raw query
	headers map[string]string
	body    []byte
}

var objectCases = []objectCase{
	{name: "get", method: "GET", key: "plain.txt"},
	{name: "put", method: "PUT", key: "dir/file.bin", body: []byte("hello, tessera"), headers: map[string]string{"Content-Type": "application/octet-stream", "X-Amz-Meta-Color": "  blue   and  green "}},
	{name: "space", method: "GET", key: "a key with spaces"},
	{name: "unicode", method: "PUT", key: "ünïcödé/ключ/日本語.txt", body: []byte("x")},
	{name: "plus-equals", method: "GET", key: "a+b=c&d;e,f@g:h$i!j'k(l)m*"},
	{name: "percent", method: "GET", key: "100%/%41%2F"},
	{name: "dot-segments", method: "GET", key: "x/../y/./z//w"},
	{name: "tilde", method: "GET", key: "~user/-_."},
	{name: "list", method: "GET", key: "", query: "list-type=2&prefix=a%20b%2Bc&delimiter=%2F&start-after=%E2%82%AC"},
	{name: "subresource", method: "GET", key: "k", query: "acl"},
	{name: "uploads", method: "POST", key: "big", query: "uploads="},
	{name: "multi-values", method: "GET", key: "k", query: "b=2&a=2&a=1&c=%3D"},
	{name: "plus-in-query", method: "GET", key: "", query: "prefix=a+b"},
	{name: "expect-continue", method: "PUT", key: "e", body: bytes.Repeat([]byte("e"), 5000), headers: map[string]string{"Expect": "100-continue"}},
	{name: "tabs-in-value", method: "GET", key: "t", headers: map[string]string{"X-Amz-Meta-T": "a\t\tb  c"}},
}

// awsRequest builds the request as the S3 client of aws-sdk-go-v2 would:
// the key escaped with httpbinding.EscapePath into RawPath.
func awsRequest(t *testing.T, base string, c objectCase) *http.Request {
	t.Helper()
	var body io.Reader = http.NoBody
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	r, err := http.NewRequest(c.method, base, body)
	if err != nil {
		t.Fatal(err)
	}
	r.URL.Path = "/bucket/" + c.key
	r.URL.RawPath = "/bucket/" + httpbinding.EscapePath(c.key, false)
	r.URL.RawQuery = c.query
	for k, v := range c.headers {
		r.Header.Set(k, v)
	}
	return r
}

func TestAWSSignHTTP(t *testing.T) {
	v := fixedVerifier(testTime.Add(3 * time.Minute))
	srv, cl, ch := server(t, v)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSecret}
	for _, c := range objectCases {
		for _, unsigned := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/unsigned=%v", c.name, unsigned), func(t *testing.T) {
				r := awsRequest(t, srv.URL, c)
				payload := sha256Hex(c.body)
				if unsigned {
					payload = UnsignedPayload
				}
				r.Header.Set("X-Amz-Content-Sha256", payload)
				if err := s.SignHTTP(context.Background(), creds, r, payload, "s3", testRegion, testTime); err != nil {
					t.Fatal(err)
				}
				o := send(t, cl, ch, r)
				if o.err != nil {
					t.Fatalf("rejected: %v", o.err)
				}
				if o.req.AccessKey != testAK || o.req.Anonymous || o.req.Presigned || !bytes.Equal(o.body, c.body) {
					t.Fatalf("got %+v body %q", o.req, o.body)
				}
			})
		}
	}
}

// TestAWSSignHTTPTamper changes one thing after signing and expects the
// right sentinel.
func TestAWSSignHTTPTamper(t *testing.T) {
	now := testTime.Add(time.Minute)
	v := fixedVerifier(now)
	srv, cl, ch := server(t, v)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSecret}
	c := objectCase{method: "PUT", key: "dir/ob+ject", query: "x-id=PutObject&tagging", body: []byte("payload bytes"),
		headers: map[string]string{"X-Amz-Meta-A": "1", "Content-Type": "text/plain"}}
	tests := []struct {
		name    string
		mutate  func(r *http.Request)
		secret  string
		sigTime time.Time
		want    error
	}{
		{name: "ok", mutate: func(*http.Request) {}},
		{name: "header value", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Meta-A", "2") }, want: ErrSignatureDoesNotMatch},
		{name: "content-type", mutate: func(r *http.Request) { r.Header.Set("Content-Type", "text/plaim") }, want: ErrSignatureDoesNotMatch},
		{name: "path", mutate: func(r *http.Request) {
			r.URL.Path = "/bucket/dir/ob+jecu"
			r.URL.RawPath = ""
		}, want: ErrSignatureDoesNotMatch},
		{name: "path escaping", mutate: func(r *http.Request) { r.URL.RawPath = ""; r.URL.Path = "/bucket/dir/ob jec" }, want: ErrSignatureDoesNotMatch},
		{name: "query", mutate: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "PutObject", "PutObjecu", 1) }, want: ErrSignatureDoesNotMatch},
		{name: "query added", mutate: func(r *http.Request) { r.URL.RawQuery += "&versionId=1" }, want: ErrSignatureDoesNotMatch},
		{name: "method", mutate: func(r *http.Request) { r.Method = "POST" }, want: ErrSignatureDoesNotMatch},
		{name: "body byte", mutate: func(r *http.Request) {
			b := bytes.Clone(c.body)
			b[3] ^= 1
			r.Body = io.NopCloser(bytes.NewReader(b))
		}, want: ErrContentSHA256Mismatch},
		{name: "signature", mutate: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := "0"
			if a[len(a)-1] == '0' {
				last = "1"
			}
			r.Header.Set("Authorization", a[:len(a)-1]+last)
		}, want: ErrSignatureDoesNotMatch},
		{name: "signature upper", mutate: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, want: ErrAuthorizationHeaderMalformed},
		{name: "upper case scheme", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.ToUpper(r.Header.Get("Authorization")))
		}, want: ErrAuthorizationHeaderMalformed},
		{name: "wrong secret", secret: "other", mutate: func(*http.Request) {}, want: ErrSignatureDoesNotMatch},
		{name: "skewed past", sigTime: now.Add(-16 * time.Minute), mutate: func(*http.Request) {}, want: ErrRequestTimeTooSkewed},
		{name: "skewed future", sigTime: now.Add(16 * time.Minute), mutate: func(*http.Request) {}, want: ErrRequestTimeTooSkewed},
		{name: "skew within", sigTime: now.Add(-14 * time.Minute), mutate: func(*http.Request) {}},
		{name: "date changed", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", testTime.Add(time.Second).Format(iso8601Format))
		}, want: ErrSignatureDoesNotMatch},
		{name: "date other day", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", testTime.Add(24*time.Hour).Format(iso8601Format))
		}, want: ErrAuthorizationHeaderMalformed},
		{name: "no date", mutate: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, want: ErrMissingSecurityHeader},
		{name: "unknown key", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testAK, "NOPE", 1))
		}, want: ErrInvalidAccessKeyID},
		{name: "region", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/eu-west-1/", 1))
		}, want: ErrAuthorizationHeaderMalformed},
		{name: "service", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/s3/", "/s4/", 1))
		}, want: ErrAuthorizationHeaderMalformed},
		{name: "content sha", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload) }, want: ErrSignatureDoesNotMatch},
		{name: "sigv2", mutate: func(r *http.Request) { r.Header.Set("Authorization", "AWS "+testAK+":c2lnbmF0dXJl") }, want: ErrUnsupportedAlgorithm},
		{name: "anonymous", mutate: func(r *http.Request) { r.Header.Del("Authorization") }},
		{name: "header and query", mutate: func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Signature=00" }, want: ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := awsRequest(t, srv.URL, c)
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex(c.body))
			secret, st := testSecret, testTime
			if tt.secret != "" {
				secret = tt.secret
			}
			if !tt.sigTime.IsZero() {
				st = tt.sigTime
			}
			cr := creds
			cr.SecretAccessKey = secret
			s := s
			if tt.secret != "" {
				// The SDK signer caches derived keys per access key.
				s = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
			}
			if err := s.SignHTTP(context.Background(), cr, r, sha256Hex(c.body), "s3", testRegion, st); err != nil {
				t.Fatal(err)
			}
			tt.mutate(r)
			o := send(t, cl, ch, r)
			if !errors.Is(o.err, tt.want) {
				t.Fatalf("got %v, want %v", o.err, tt.want)
			}
			if tt.name == "anonymous" && (o.req == nil || !o.req.Anonymous) {
				t.Fatalf("anonymous: %+v", o.req)
			}
		})
	}
}

func TestAWSPresignHTTP(t *testing.T) {
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSecret}
	for _, c := range objectCases {
		t.Run(c.name, func(t *testing.T) {
			for _, tt := range []struct {
				name string
				now  time.Time
				want error
			}{
				{"valid", testTime.Add(time.Hour), nil},
				{"at expiry", testTime.Add(2 * time.Hour), nil},
				{"expired", testTime.Add(2*time.Hour + time.Second), ErrExpiredRequest},
				{"future", testTime.Add(-16 * time.Minute), ErrAccessDenied},
				{"slightly future", testTime.Add(-14 * time.Minute), nil},
			} {
				v := fixedVerifier(tt.now)
				srv, cl, ch := server(t, v)
				r := awsRequest(t, srv.URL, c)
				q := r.URL.Query()
				q.Set("X-Amz-Expires", "7200")
				r.URL.RawQuery = q.Encode()
				u, hdr, err := s.PresignHTTP(context.Background(), creds, r, UnsignedPayload, "s3", testRegion, testTime)
				if err != nil {
					t.Fatal(err)
				}
				var body io.Reader = http.NoBody
				if c.body != nil {
					body = bytes.NewReader(c.body)
				}
				pr, err := http.NewRequest(c.method, u, body)
				if err != nil {
					t.Fatal(err)
				}
				for k, vs := range hdr {
					if !strings.EqualFold(k, "host") {
						pr.Header[k] = vs
					}
				}
				o := send(t, cl, ch, pr)
				if !errors.Is(o.err, tt.want) {
					t.Fatalf("%s: got %v, want %v (url %s)", tt.name, o.err, tt.want, u)
				}
				if tt.want == nil && (!o.req.Presigned || !bytes.Equal(o.body, c.body)) {
					t.Fatalf("%s: %+v", tt.name, o.req)
				}
			}
		})
	}
}

func TestPresignTamper(t *testing.T) {
	v := fixedVerifier(testTime.Add(time.Minute))
	srv, cl, ch := server(t, v)
	base, _ := http.NewRequest("GET", srv.URL+"/bucket/some%20key", nil)
	good := Presign(base, testAK, testSecret, testRegion, testTime, time.Hour)
	tests := []struct {
		name string
		edit func(string) string
		want error
	}{
		{"ok", func(s string) string { return s }, nil},
		{"path", func(s string) string { return strings.Replace(s, "some%20key", "some%20kez", 1) }, ErrSignatureDoesNotMatch},
		{"expires", func(s string) string { return strings.Replace(s, "X-Amz-Expires=3600", "X-Amz-Expires=3601", 1) }, ErrSignatureDoesNotMatch},
		{"expires zero", func(s string) string { return strings.Replace(s, "X-Amz-Expires=3600", "X-Amz-Expires=0", 1) }, ErrAuthorizationQueryParametersError},
		{"expires too long", func(s string) string { return strings.Replace(s, "X-Amz-Expires=3600", "X-Amz-Expires=604801", 1) }, ErrAuthorizationQueryParametersError},
		{"added param", func(s string) string { return s + "&response-content-type=text%2Fhtml" }, ErrSignatureDoesNotMatch},
		{"algorithm", func(s string) string { return strings.Replace(s, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1) }, ErrAuthorizationQueryParametersError},
		{"no signature", func(s string) string { return s[:strings.Index(s, "&X-Amz-Signature")] }, ErrAuthorizationQueryParametersError},
		{"bad escape", func(s string) string { return s + "&x=%zz" }, ErrInvalidArgument},
		{"sigv2 query", func(s string) string { return srv.URL + "/bucket/k?AWSAccessKeyId=AK&Signature=x&Expires=1" }, ErrUnsupportedAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest("GET", tt.edit(good), nil)
			if err != nil {
				t.Fatal(err)
			}
			o := send(t, cl, ch, r)
			if !errors.Is(o.err, tt.want) {
				t.Fatalf("got %v, want %v", o.err, tt.want)
			}
		})
	}
}

// sha256Hasher adapts crypto/sha256 to minio-go's md5simd.Hasher.
type sha256Hasher struct{ hash.Hash }

func (sha256Hasher) Close() {}

// minioRequest builds a request as minio-go's core does: the path as given,
// query sorted by url.Values.Encode.
func minioRequest(t *testing.T, base string, c objectCase) *http.Request {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	r, err := http.NewRequest(c.method, base, body)
	if err != nil {
		t.Fatal(err)
	}
	r.URL.Path = "/bucket/" + c.key
	r.URL.RawPath = ""
	r.URL.RawQuery = c.query
	for k, v := range c.headers {
		r.Header.Set(k, v)
	}
	return r
}

func TestMinioSignV4(t *testing.T) {
	v := NewVerifier(testCreds, Options{})
	srv, cl, ch := server(t, v)
	for _, c := range objectCases {
		t.Run(c.name, func(t *testing.T) {
			r := minioRequest(t, srv.URL, c)
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex(c.body))
			sr := signer.SignV4(*r, testAK, testSecret, "", testRegion)
			o := send(t, cl, ch, sr)
			if o.err != nil {
				t.Fatalf("rejected: %v", o.err)
			}
			if !bytes.Equal(o.body, c.body) {
				t.Fatalf("body %q", o.body)
			}

			// Presigned by minio-go.
			r = minioRequest(t, srv.URL, c)
			pr := signer.PreSignV4(*r, testAK, testSecret, "", testRegion, 600)
			if c.body != nil {
				pr.Body = io.NopCloser(bytes.NewReader(c.body))
			}
			o = send(t, cl, ch, pr)
			if o.err != nil || !o.req.Presigned {
				t.Fatalf("presigned rejected: %v (%s)", o.err, pr.URL)
			}
		})
	}
}

// streamOf signs body with minio-go's StreamingSignV4 (with trailer when
// trailer != nil) and returns the request as the server sees it, with the
// encoded stream as its body.
func minioStream(t testing.TB, body []byte, trailer http.Header, signed bool) (*http.Request, []byte) {
	t.Helper()
	r := httptest.NewRequest("PUT", "http://example.com/bucket/obj", bytes.NewReader(body))
	r.RequestURI = ""
	r.ContentLength = int64(len(body))
	var sr *http.Request
	if signed {
		r.Trailer = trailer
		sr = signer.StreamingSignV4(r, testAK, testSecret, "", testRegion, int64(len(body)), time.Now().UTC(), sha256Hasher{sha256.New()})
	} else {
		r.Header.Set("X-Amz-Content-Sha256", StreamingUnsignedTrailer)
		sr = signer.SignV4Trailer(*r, testAK, testSecret, "", testRegion, trailer)
	}
	stream, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	// minio-go declares 0 for an empty body (net/http then sends it chunked).
	if len(body) > 0 && sr.ContentLength != int64(len(stream)) {
		t.Fatalf("ContentLength %d, stream %d", sr.ContentLength, len(stream))
	}
	return sr, stream
}

// serverRequest rebuilds sr as a server request with the given body.
func serverRequest(sr *http.Request, stream []byte) *http.Request {
	r := httptest.NewRequest(sr.Method, sr.URL.String(), bytes.NewReader(stream))
	r.Header = sr.Header.Clone()
	r.Host = sr.URL.Host
	r.ContentLength = int64(len(stream))
	return r
}

func TestMinioStreaming(t *testing.T) {
	v := NewVerifier(testCreds, Options{})
	for _, size := range []int{0, 1, 100, 64 << 10, 64<<10 + 1, 200_000} {
		body := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), size/36+1)[:size]
		for _, mode := range []string{"signed", "signed-trailer", "unsigned-trailer"} {
			t.Run(fmt.Sprintf("%s/%d", mode, size), func(t *testing.T) {
				var trailer http.Header
				if mode != "signed" {
					trailer = http.Header{"x-amz-checksum-crc32c": {"yZRlqg=="}}
				}
				sr, stream := minioStream(t, body, trailer, mode != "unsigned-trailer")
				o := verifyAll(v, serverRequest(sr, stream))
				if o.err != nil {
					t.Fatalf("rejected: %v\n%q", o.err, truncBytes(stream))
				}
				if !bytes.Equal(o.body, body) || o.req.Size != int64(size) {
					t.Fatalf("body %d bytes, size %d", len(o.body), o.req.Size)
				}
				if mode != "signed" && (!o.ok || o.alg != "CRC32C" || o.val != "yZRlqg==") {
					t.Fatalf("trailer %q %q %v", o.alg, o.val, o.ok)
				}
				// Truncation anywhere is an error, never a short success.
				var cuts []int
				for cut := 0; cut < len(stream); cut += max(1, len(stream)/97) {
					cuts = append(cuts, cut)
				}
				cuts = append(cuts, len(stream)-3, len(stream)-2, len(stream)-1)
				for _, cut := range cuts {
					if cut < 0 {
						continue
					}
					o := verifyAll(v, serverRequest(sr, stream[:cut]))
					if mode == "unsigned-trailer" && cut == len(stream)-2 && o.err == nil {
						// minio-go ends "name:value\n\r\n\r\n", the AWS SDK
						// "name:value\r\n\r\n": both are complete here.
						continue
					}
					if !errors.Is(o.err, ErrIncompleteBody) {
						t.Fatalf("truncated at %d/%d: %v", cut, len(stream), o.err)
					}
				}
			})
		}
	}
}

func truncBytes(b []byte) []byte {
	if len(b) > 400 {
		return b[:400]
	}
	return b
}

// TestStreamingBitFlips flips every bit of small signed streams and some
// bits of a multi-chunk one: each must be rejected with a sentinel, and a
// flip inside chunk data or trailer value with ErrSignatureDoesNotMatch.
func TestStreamingBitFlips(t *testing.T) {
	v := NewVerifier(testCreds, Options{})
	for _, tc := range []struct {
		name    string
		size    int
		trailer http.Header
		every   int
	}{
		{"signed-100", 100, nil, 1},
		{"trailer-100", 100, http.Header{"x-amz-checksum-sha256": {"uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="}}, 1},
		{"signed-70000", 70000, nil, 49999},
		{"trailer-70000", 70000, http.Header{"x-amz-checksum-crc32": {"DUoRhQ=="}}, 49999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte{'7'}, tc.size)
			sr, stream := minioStream(t, body, tc.trailer, true)
			var bits []int
			for bit := 0; bit < len(stream)*8; bit += tc.every {
				bits = append(bits, bit)
			}
			if tc.every > 1 {
				// Sampled: still hit every framing byte once.
				for i, c := range stream {
					if c != '7' {
						bits = append(bits, i*8+i%8)
					}
				}
			}
			for _, bit := range bits {
				mut := bytes.Clone(stream)
				mut[bit/8] ^= 1 << (bit % 8)
				o := verifyAll(v, serverRequest(sr, mut))
				switch {
				case o.err == nil:
					t.Fatalf("flip of bit %d (byte %d %q) accepted", bit, bit/8, stream[bit/8])
				case errors.Is(o.err, ErrSignatureDoesNotMatch), errors.Is(o.err, ErrMalformedChunk), errors.Is(o.err, ErrIncompleteBody):
				default:
					t.Fatalf("flip of bit %d: %v", bit, o.err)
				}
				if stream[bit/8] == '7' && !errors.Is(o.err, ErrSignatureDoesNotMatch) && !errors.Is(o.err, ErrMalformedChunk) {
					t.Fatalf("flip of data bit %d: %v", bit, o.err)
				}
			}
		})
	}
}

// TestChunkedHandmade covers framing cases no signer produces.
func TestChunkedHandmade(t *testing.T) {
	unsigned := func(body string, size int64, declared ...string) error {
		c := newChunkedReader(strings.NewReader(body), chunkedOptions{trailer: true, size: size, declared: declared})
		_, err := io.ReadAll(c)
		return err
	}
	tests := []struct {
		name     string
		body     string
		size     int64
		declared []string
		want     error
	}{
		{"ok", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", 3, nil, nil},
		{"ok minio style", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\n\r\n\r\n", 3, []string{"x-amz-checksum-crc32"}, nil},
		{"no trailer", "3\r\nabc\r\n0\r\n\r\n", 3, nil, nil},
		{"declared missing", "3\r\nabc\r\n0\r\n\r\n", 3, []string{"x-amz-checksum-crc32"}, ErrMalformedChunk},
		{"undeclared", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", 3, []string{"x-amz-checksum-sha1"}, ErrMalformedChunk},
		{"other trailer", "3\r\nabc\r\n0\r\nx-amz-meta-a:b\r\n\r\n", 3, nil, ErrMalformedChunk},
		{"two checksums", "0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n", 0, nil, ErrMalformedChunk},
		{"short", "3\r\nabc\r\n0\r\n\r\n", 4, nil, ErrIncompleteBody},
		{"long", "3\r\nabc\r\n0\r\n\r\n", 2, nil, ErrMalformedChunk},
		{"eof in data", "3\r\nab", 3, nil, ErrIncompleteBody},
		{"eof in header", "3", 3, nil, ErrIncompleteBody},
		{"empty", "", 3, nil, ErrIncompleteBody},
		{"no crlf after data", "3\r\nabcX\n0\r\n\r\n", 3, nil, ErrMalformedChunk},
		{"no size", "\r\nabc\r\n", 3, nil, ErrMalformedChunk},
		{"huge size", "7fffffffffffffff\r\n", 1 << 40, nil, ErrMalformedChunk},
		{"huge size in range", "ffffffffff\r\n", 1 << 62, nil, ErrIncompleteBody},
		{"long line", strings.Repeat("1", 1000) + "\r\n", 3, nil, ErrMalformedChunk},
		{"very long line", strings.Repeat("1", 200000), 3, nil, ErrMalformedChunk},
		{"long trailer", "0\r\nx-amz-checksum-crc32:" + strings.Repeat("A", 5000) + "\r\n\r\n", 0, nil, ErrMalformedChunk},
		{"trailer eof", "0\r\nx-amz-checksum-crc32:AAAA", 0, nil, ErrIncompleteBody},
		{"unsigned trailer signature", "0\r\nx-amz-trailer-signature:" + strings.Repeat("0", 64) + "\r\n\r\n", 0, nil, ErrMalformedChunk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := unsigned(tt.body, tt.size, tt.declared...); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestStreamingHeaders(t *testing.T) {
	v := NewVerifier(testCreds, Options{})
	sr, stream := minioStream(t, []byte("abc"), nil, true)
	r := httptest.NewRequest("PUT", "http://h/b/k", bytes.NewReader(stream))
	SignRequest(r, testAK, testSecret, testRegion, StreamingPayload, time.Now())
	if o := verifyAll(v, r); !errors.Is(o.err, ErrMissingSecurityHeader) {
		t.Fatalf("no decoded length: %v", o.err)
	}
	r = serverRequest(sr, stream)
	r.Header.Set("X-Amz-Decoded-Content-Length", "4")
	if o := verifyAll(v, r); !errors.Is(o.err, ErrSignatureDoesNotMatch) {
		t.Fatalf("changed decoded length: %v", o.err)
	}
}

func TestSignRequestRoundTrip(t *testing.T) {
	v := fixedVerifier(testTime)
	srv, cl, ch := server(t, v)
	body := []byte("round trip")
	r, _ := http.NewRequest("PUT", srv.URL+"/b/k%20ey?tagging", bytes.NewReader(body))
	r.Header.Set("X-Amz-Meta-X", "y")
	SignRequest(r, testAK, testSecret, testRegion, sha256Hex(body), testTime)
	if o := send(t, cl, ch, r); o.err != nil || !bytes.Equal(o.body, body) {
		t.Fatalf("%v %q", o.err, o.body)
	}
	// Access key with '/', secret with spaces.
	r, _ = http.NewRequest("GET", srv.URL+"/b/k", nil)
	SignRequest(r, "AK/with/slash", "secret with spaces+=", testRegion, "", testTime)
	if o := send(t, cl, ch, r); o.err != nil || o.req.AccessKey != "AK/with/slash" {
		t.Fatalf("%v %+v", o.err, o.req)
	}
}

// TestDateHeader signs with the Date header instead of x-amz-date: the
// string to sign carries the Date in ISO 8601 basic form.
func TestDateHeader(t *testing.T) {
	r := httptest.NewRequest("GET", "http://h/b/k", nil)
	r.Header.Set("Date", testTime.Format(http.TimeFormat))
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	signed := []string{"date", "host", "x-amz-content-sha256"}
	list := strings.Join(signed, ";")
	date := testTime.Format(yyyymmdd)
	sc := scope(date, testRegion, serviceS3)
	canon := canonicalRequest(r, r.URL.Query(), "", canonOptions{}, signed, list, UnsignedPayload)
	sig := signature(deriveKey(testSecret, date, testRegion, serviceS3), stringToSign(testTime.Format(iso8601Format), sc, canon))
	r.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%x", testAK, sc, list, sig))
	if _, err := fixedVerifier(testTime).Verify(r); err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Date", testTime.Add(time.Second).Format(http.TimeFormat))
	if _, err := fixedVerifier(testTime).Verify(r); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatalf("changed Date: %v", err)
	}
	r.Header.Set("Date", "yesterday")
	if _, err := fixedVerifier(testTime).Verify(r); !errors.Is(err, ErrMissingSecurityHeader) {
		t.Fatalf("bad Date: %v", err)
	}
}

func TestAnyRegion(t *testing.T) {
	r := httptest.NewRequest("GET", "http://h/b/k", nil)
	SignRequest(r, testAK, testSecret, "eu-central-1", "", testTime)
	if _, err := fixedVerifier(testTime).Verify(r); !errors.Is(err, ErrAuthorizationHeaderMalformed) {
		t.Fatalf("other region: %v", err)
	}
	v := NewVerifier(testCreds, Options{AnyRegion: true, Now: func() time.Time { return testTime }})
	if _, err := v.Verify(r); err != nil {
		t.Fatalf("AnyRegion: %v", err)
	}
	v = NewVerifier(testCreds, Options{Region: "eu-central-1", Now: func() time.Time { return testTime }})
	if _, err := v.Verify(r); err != nil {
		t.Fatalf("Region: %v", err)
	}
}

func TestCredentialsError(t *testing.T) {
	boom := errors.New("meta down")
	v := NewVerifier(func(context.Context, string) (string, error) { return "", boom }, Options{Now: func() time.Time { return testTime }})
	r := httptest.NewRequest("GET", "http://h/b/k", nil)
	SignRequest(r, testAK, testSecret, testRegion, "", testTime)
	if _, err := v.Verify(r); !errors.Is(err, boom) || errors.Is(err, ErrInvalidAccessKeyID) {
		t.Fatalf("got %v", err)
	}
}

func TestPlainBody(t *testing.T) {
	v := fixedVerifier(testTime)
	body := []byte("0123456789")
	// Truncated body: Content-Length says 20.
	r := httptest.NewRequest("PUT", "http://h/b/k", io.MultiReader(bytes.NewReader(body), iotestErr{io.ErrUnexpectedEOF}))
	r.ContentLength = 20
	SignRequest(r, testAK, testSecret, testRegion, UnsignedPayload, testTime)
	if o := verifyAll(v, r); !errors.Is(o.err, ErrIncompleteBody) {
		t.Fatalf("truncated: %v", o.err)
	}
	// Body shorter than Content-Length with a clean EOF.
	r = httptest.NewRequest("PUT", "http://h/b/k", bytes.NewReader(body))
	r.ContentLength = 20
	SignRequest(r, testAK, testSecret, testRegion, sha256Hex(body), testTime)
	if o := verifyAll(v, r); !errors.Is(o.err, ErrIncompleteBody) {
		t.Fatalf("short: %v", o.err)
	}
	// Missing x-amz-content-sha256 means an empty body.
	r = httptest.NewRequest("PUT", "http://h/b/k", bytes.NewReader(body))
	SignRequest(r, testAK, testSecret, testRegion, "", testTime)
	r.Header.Del("X-Amz-Content-Sha256")
	if o := verifyAll(v, r); !errors.Is(o.err, ErrSignatureDoesNotMatch) {
		t.Fatalf("no content sha: %v", o.err)
	}
	// Bad payload hash values.
	for _, p := range []string{"xyz", strings.Repeat("A", 64), "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"} {
		r = httptest.NewRequest("PUT", "http://h/b/k", bytes.NewReader(body))
		SignRequest(r, testAK, testSecret, testRegion, p, testTime)
		if o := verifyAll(v, r); !errors.Is(o.err, ErrInvalidArgument) {
			t.Fatalf("payload %q: %v", p, o.err)
		}
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

func TestParseContentMD5(t *testing.T) {
	if b, err := ParseContentMD5("XrY7u+Ae7tCTyyK7j1rNww=="); err != nil || len(b) != 16 {
		t.Fatal(b, err)
	}
	for _, s := range []string{"", "XrY7u+Ae7tCTyyK7j1rNww", "!!!!", "AAAA", "XrY7u+Ae7tCTyyK7j1rNwwAA"} {
		if _, err := ParseContentMD5(s); !errors.Is(err, ErrInvalidDigest) {
			t.Fatalf("%q: %v", s, err)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	good := "AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig
	tests := []struct {
		h    string
		want error
	}{
		{good, nil},
		{strings.ReplaceAll(good, ", ", ","), nil},
		{"AWS4-HMAC-SHA256 Signature=" + sig + ",SignedHeaders=host,Credential=AK/20261127/r/s3/aws4_request", nil},
		{"AWS AK:sig", ErrUnsupportedAlgorithm},
		{"Bearer x", ErrUnsupportedAlgorithm},
		{"AWS4-HMAC-SHA256", ErrUnsupportedAlgorithm},
		{"AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=" + sig, ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AK/2026112/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig, ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AK/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig, ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc", ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/s3/aws4_request, SignedHeaders=Host, Signature=" + sig, ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/s3/aws4_request, SignedHeaders=host;;a, Signature=" + sig, ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/s3/aws4_request, Signature=" + sig, ErrAuthorizationHeaderMalformed},
		{good + ", Signature=" + sig, ErrAuthorizationHeaderMalformed},
		{good + ", Foo=bar", ErrAuthorizationHeaderMalformed},
		{good + ", junk", ErrAuthorizationHeaderMalformed},
		{good + strings.Repeat(" ", maxAuthHeader), ErrAuthorizationHeaderMalformed},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if _, err := parseAuthorization(tt.h); !errors.Is(err, tt.want) {
				t.Fatalf("%q: got %v, want %v", tt.h, err, tt.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{MaxSkew: -1}).Validate(); err == nil {
		t.Fatal("negative skew accepted")
	}
	if err := (Options{Region: "a/b"}).Validate(); err == nil {
		t.Fatal("bad region accepted")
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestVerdictWithLastByte: a consumer that reads exactly Size bytes and
// never asks for io.EOF still gets the error.
func TestVerdictWithLastByte(t *testing.T) {
	v := NewVerifier(testCreds, Options{})
	body := []byte("exactly these bytes")
	readSize := func(r *http.Request) error {
		req, err := v.Verify(r)
		if err != nil {
			return err
		}
		_, err = io.ReadFull(req.Body, make([]byte, req.Size))
		return err
	}
	// Plain body, wrong digest.
	r := httptest.NewRequest("PUT", "http://h/b/k", bytes.NewReader(body))
	SignRequest(r, testAK, testSecret, testRegion, sha256Hex([]byte("other")), time.Now())
	if err := readSize(r); !errors.Is(err, ErrContentSHA256Mismatch) {
		t.Fatalf("digest: %v", err)
	}
	r = httptest.NewRequest("PUT", "http://h/b/k", bytes.NewReader(body))
	SignRequest(r, testAK, testSecret, testRegion, sha256Hex(body), time.Now())
	if err := readSize(r); err != nil {
		t.Fatalf("good digest: %v", err)
	}
	// Signed stream whose final chunk signature is broken.
	sr, stream := minioStream(t, body, http.Header{"x-amz-checksum-crc32": {"DUoRhQ=="}}, true)
	i := bytes.Index(stream, []byte("0;chunk-signature=")) + len("0;chunk-signature=")
	bad := bytes.Clone(stream)
	bad[i] ^= 1
	if err := readSize(serverRequest(sr, bad)); !errors.Is(err, ErrMalformedChunk) && !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatalf("final chunk: %v", err)
	}
	// Broken trailer signature.
	bad = bytes.Clone(stream)
	bad[len(bad)-5] ^= 1
	if err := readSize(serverRequest(sr, bad)); !errors.Is(err, ErrMalformedChunk) && !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatalf("trailer: %v", err)
	}
	if err := readSize(serverRequest(sr, stream)); err != nil {
		t.Fatalf("good stream: %v", err)
	}
}

func TestHeaderValuesFallback(t *testing.T) {
	r := httptest.NewRequest("PUT", "http://h/b/k", strings.NewReader("abc"))
	r.Header.Del("Content-Length")
	r.TransferEncoding = []string{"chunked"}
	for name, want := range map[string]string{"content-length": "3", "transfer-encoding": "chunked", "expect": "100-continue", "host": "h", "x-none": ""} {
		if got := strings.Join(headerValues(r, name), ","); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}
