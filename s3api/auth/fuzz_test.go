package auth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
	"golang.org/x/net/http/httpguts"
)

var sentinels = []error{ErrAccessDenied, ErrSignatureDoesNotMatch, ErrInvalidAccessKeyID, ErrRequestTimeTooSkewed,
	ErrExpiredRequest, ErrAuthorizationHeaderMalformed, ErrAuthorizationQueryParametersError, ErrMissingSecurityHeader,
	ErrContentSHA256Mismatch, ErrInvalidDigest, ErrIncompleteBody, ErrMalformedChunk, ErrUnsupportedAlgorithm, ErrInvalidArgument}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzChunkedReader mutates valid aws-chunked streams signed by minio-go.
// The decoder must never panic, must fail only with a sentinel, and a signed
// stream it accepts must decode to exactly the signed payload.
func FuzzChunkedReader(f *testing.F) {
	body := bytes.Repeat([]byte("fuzzing!"), 9000) // two chunks
	type mode struct {
		sr     *http.Request
		signed bool
	}
	var modes []mode
	for i, tr := range []http.Header{nil, {"x-amz-checksum-crc32c": {"yZRlqg=="}}, {"x-amz-checksum-crc32": {"DUoRhQ=="}}} {
		signed := i < 2
		sr, stream := minioStream(f, body, tr, signed)
		modes = append(modes, mode{sr, signed})
		f.Add(uint8(i), stream)
		_, short := minioStream(f, body[:5], tr, signed)
		f.Add(uint8(i+3), short)
	}
	// The short seeds were signed for a 5-byte body: index modes 3..5.
	for i, tr := range []http.Header{nil, {"x-amz-checksum-crc32c": {"yZRlqg=="}}, {"x-amz-checksum-crc32": {"DUoRhQ=="}}} {
		sr, _ := minioStream(f, body[:5], tr, i < 2)
		modes = append(modes, mode{sr, i < 2})
	}
	f.Add(uint8(5), []byte("5\r\nfuzzi\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"))
	v := NewVerifier(testCreds, Options{})
	f.Fuzz(func(t *testing.T, m uint8, stream []byte) {
		md := modes[int(m)%len(modes)]
		want := body
		if int(m)%len(modes) >= 3 {
			want = body[:5]
		}
		o := verifyAll(v, serverRequest(md.sr, stream))
		if o.err != nil {
			if !isSentinel(o.err) {
				t.Fatalf("non-sentinel error %v", o.err)
			}
			return
		}
		if md.signed && !bytes.Equal(o.body, want) {
			t.Fatalf("accepted a signed stream decoding to %d other bytes", len(o.body))
		}
		if int64(len(o.body)) != o.req.Size {
			t.Fatalf("decoded %d bytes, declared %d", len(o.body), o.req.Size)
		}
	})
}

// FuzzChunkedRaw feeds arbitrary bytes to the unsigned decoder with an
// arbitrary declared size: no panic, a sentinel on failure, and success only
// with exactly the declared number of bytes.
func FuzzChunkedRaw(f *testing.F) {
	f.Add([]byte("3\r\nabc\r\n0\r\n\r\n"), int64(3))
	f.Add([]byte("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\n\r\n\r\n"), int64(3))
	f.Add([]byte("ffffffffffffffff\r\n"), int64(1<<62))
	f.Fuzz(func(t *testing.T, stream []byte, size int64) {
		if size < 0 {
			size = -size
		}
		c := newChunkedReader(bytes.NewReader(stream), chunkedOptions{trailer: true, size: size})
		out, err := io.ReadAll(io.LimitReader(c, 1<<20))
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("non-sentinel error %v", err)
			}
			return
		}
		if len(out) < 1<<20 && int64(len(out)) != size {
			t.Fatalf("accepted %d bytes, declared %d", len(out), size)
		}
		if len(out) > len(stream) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(stream))
		}
	})
}

// FuzzParseAuthorization: no panic; an accepted header round-trips.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0a", 32))
	f.Add("AWS AK:sig")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g,SignedHeaders=host,Signature=")
	f.Fuzz(func(t *testing.T, h string) {
		p, err := parseAuthorization(h)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("non-sentinel error %v", err)
			}
			return
		}
		again := "AWS4-HMAC-SHA256 Credential=" + p.accessKey + "/" + p.date + "/" + p.region + "/" + p.service + "/" + p.term +
			", SignedHeaders=" + p.signedList + ", Signature=" + strings.ToLower(hexString(p.sig[:]))
		q, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("round trip of %q: %v", again, err)
		}
		if q.accessKey != p.accessKey || q.signedList != p.signedList || q.sig != p.sig || q.region != p.region {
			t.Fatalf("round trip differs: %+v vs %+v", p, q)
		}
	})
}

func hexString(b []byte) string {
	const d = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(d[c>>4])
		s.WriteByte(d[c&15])
	}
	return s.String()
}

// FuzzSignerDifferential signs requests with arbitrary keys, query values
// and header values using the AWS SDK's v4 signer, and requires Verify to
// accept them, and to reject them once the key changes.
func FuzzSignerDifferential(f *testing.F) {
	f.Add("a b/c+d=e%f", "prefix", "x y+z", "  v  w ")
	f.Add("ünï/日本", "k", "€", "a\tb")
	f.Add("x/../y", "", "", "")
	now := testTime
	v := fixedVerifier(now)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSecret}
	f.Fuzz(func(t *testing.T, key, qk, qv, hv string) {
		if !utf8.ValidString(key) || !utf8.ValidString(qk) || !utf8.ValidString(qv) || !httpguts.ValidHeaderFieldValue(hv) {
			return
		}
		r, err := http.NewRequest("GET", "http://127.0.0.1:9000/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.URL.Path = "/bucket/" + key
		r.URL.RawPath = "/bucket/" + httpbinding.EscapePath(key, false)
		q := url.Values{}
		if qk != "" {
			q.Set(qk, qv)
		}
		r.URL.RawQuery = q.Encode()
		r.Header.Set("X-Amz-Meta-F", hv)
		r.Header.Set("X-Amz-Content-Sha256", emptySHA256Hex)
		if err := s.SignHTTP(context.Background(), creds, r, emptySHA256Hex, "s3", testRegion, now); err != nil {
			t.Fatal(err)
		}
		// Rebuild it as the server parses it off the wire.
		var wire bytes.Buffer
		if err := r.Write(&wire); err != nil {
			return
		}
		sr, err := http.ReadRequest(bufioReader(&wire))
		if err != nil {
			return
		}
		if _, err := v.Verify(sr); err != nil {
			t.Fatalf("rejected key %q query %q=%q header %q: %v\n%s", key, qk, qv, hv, err, wire.String())
		}
		sr2 := httptest.NewRequest("GET", "http://127.0.0.1:9000/", nil)
		sr2.Header = sr.Header
		sr2.URL.Path, sr2.URL.RawQuery = sr.URL.Path+"x", sr.URL.RawQuery
		if _, err := v.Verify(sr2); !errors.Is(err, ErrSignatureDoesNotMatch) {
			t.Fatalf("changed path: %v", err)
		}
	})
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
