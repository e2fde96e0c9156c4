package s3api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tessera-store/tessera/erasure"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/auth"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		hdr     string
		size    int64
		off, n  int64
		wantErr error
	}{
		{"bytes=0-99", 1000, 0, 100, nil},
		{"bytes=0-0", 1000, 0, 1, nil},
		{"bytes=-100", 1000, 900, 100, nil},
		{"bytes=-5000", 1000, 0, 1000, nil},
		{"bytes=990-", 1000, 990, 10, nil},
		{"bytes=990-5000", 1000, 990, 10, nil},
		{"bytes=999-999", 1000, 999, 1, nil},
		{"bytes= 10-20", 1000, 10, 11, nil},
		{"bytes=1000-", 1000, 0, 0, ErrInvalidRange},
		{"bytes=1000-2000", 1000, 0, 0, ErrInvalidRange},
		{"bytes=-0", 1000, 0, 0, ErrInvalidRange},
		{"bytes=0-", 0, 0, 0, ErrInvalidRange},
		{"bytes=-1", 0, 0, 0, ErrInvalidRange},
		{"bytes=20-10", 1000, 0, 0, errRangeSyntax},
		{"bytes=0-1,5-6", 1000, 0, 0, errRangeSyntax},
		{"bytes=a-b", 1000, 0, 0, errRangeSyntax},
		{"bytes=-", 1000, 0, 0, errRangeSyntax},
		{"bytes=5", 1000, 0, 0, errRangeSyntax},
		{"bytes=+5-6", 1000, 0, 0, errRangeSyntax},
		{"items=0-1", 1000, 0, 0, errRangeSyntax},
		{"bytes=99999999999999999999-", 1000, 0, 0, errRangeSyntax},
		{"", 1000, 0, 0, errRangeSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.hdr, func(t *testing.T) {
			off, n, err := parseRange(tt.hdr, tt.size)
			if !errors.Is(err, tt.wantErr) || off != tt.off || n != tt.n {
				t.Fatalf("got %d, %d, %v; want %d, %d, %v", off, n, err, tt.off, tt.n, tt.wantErr)
			}
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-100", "bytes=5-", "bytes=1-2,3-4", "bytes=x", "bytes=-0"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, hdr string, size int64) {
		if size < 0 {
			size = -size
			if size < 0 {
				size = 0
			}
		}
		off, n, err := parseRange(hdr, size)
		if err != nil {
			if !errors.Is(err, ErrInvalidRange) && !errors.Is(err, errRangeSyntax) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if off < 0 || n <= 0 || off+n > size {
			t.Fatalf("%q on %d: span [%d,+%d) outside the object", hdr, size, off, n)
		}
	})
}

func TestParseCopyRange(t *testing.T) {
	for _, tc := range []struct {
		v      string
		off, n int64
		ok     bool
	}{
		{"bytes=0-9", 0, 10, true},
		{"bytes=5-99", 5, 95, true},
		{"bytes=5-100", 0, 0, false},
		{"bytes=5-", 0, 0, false},
		{"bytes=-5", 0, 0, false},
		{"bytes=9-5", 0, 0, false},
	} {
		off, n, err := parseCopyRange(tc.v, 100)
		if (err == nil) != tc.ok || off != tc.off || n != tc.n {
			t.Errorf("%q: %d, %d, %v", tc.v, off, n, err)
		}
	}
}

func TestParseCopySource(t *testing.T) {
	for _, tc := range []struct {
		v           string
		bucket, key string
		err         error
	}{
		{"bkt/a/b", "bkt", "a/b", nil},
		{"/bkt/a%20b%2Bc", "bkt", "a b+c", nil},
		{"bkt/k?versionId=null", "bkt", "k", nil},
		{"bkt/k?versionId=v1", "", "", ErrNoSuchVersion},
		{"bkt", "", "", ErrCopySource},
		{"bkt/", "", "", ErrCopySource},
		{"bkt/%zz", "", "", ErrCopySource},
		{"bkt/" + strings.Repeat("k", 1025), "", "", ErrKeyTooLong},
	} {
		b, k, err := parseCopySource(tc.v)
		if !errors.Is(err, tc.err) || b != tc.bucket || k != tc.key {
			t.Errorf("%q: %q %q %v", tc.v, b, k, err)
		}
	}
}

func TestValidBucketName(t *testing.T) {
	for name, ok := range map[string]bool{
		"abc": true, "my-bucket.data": true, "a1b2c3": true, strings.Repeat("a", 63): true,
		"ab": false, strings.Repeat("a", 64): false, "Abc": false, "a_b": false, "-abc": false,
		"abc-": false, "a..b": false, "a.-b": false, "10.0.0.1": false, "xn--abc": false, "abc-s3alias": false,
	} {
		if validBucketName(name) != ok {
			t.Errorf("validBucketName(%q) = %v", name, !ok)
		}
	}
}

func TestS3URLEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a b/c": "a+b/c", "x+y": "x%2By", "ü": "%C3%BC", "safe-_.~": "safe-_.~", "%": "%25",
	} {
		if got := s3URLEncode(in); got != want {
			t.Errorf("s3URLEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

// The XML request parsers take untrusted bytes: they must never panic and
// must accept only what they can round-trip.

func FuzzParseComplete(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"abc"</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>e</ETag><PartNumber>10000</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseComplete(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedXML) && !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if len(c.Parts) == 0 || len(c.Parts) > maxParts {
			t.Fatalf("%d parts accepted", len(c.Parts))
		}
		for _, p := range c.Parts {
			if p.PartNumber < 1 || p.PartNumber > maxParts {
				t.Fatalf("part number %d accepted", p.PartNumber)
			}
		}
	})
}

func FuzzParseDelete(f *testing.F) {
	f.Add([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>null</VersionId></Object></Delete>`))
	f.Add([]byte(`<Delete><Object><Key>a&amp;b</Key></Object></Delete>`))
	f.Add([]byte(`<Delete></Delete>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDelete(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedXML) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if len(d.Objects) == 0 || len(d.Objects) > maxDeleteKeys {
			t.Fatalf("%d objects accepted", len(d.Objects))
		}
	})
}

func FuzzParseCreateBucketConfiguration(f *testing.F) {
	f.Add([]byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`))
	f.Add([]byte(``))
	f.Add([]byte(`<CreateBucketConfiguration/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := parseCreateBucketConfiguration(data); err != nil && !errors.Is(err, ErrMalformedXML) {
			t.Fatalf("unexpected error class %v", err)
		}
	})
}

func FuzzParseTagging(f *testing.F) {
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>`))
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>`))
	f.Add([]byte(`<Tagging><TagSet></TagSet></Tagging>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tags, err := parseTagging(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedXML) && !errors.Is(err, ErrInvalidTag) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if err := validateTags(tags); err != nil {
			t.Fatalf("accepted tags fail validation: %v", err)
		}
	})
}

func FuzzParseTaggingHeader(f *testing.F) {
	f.Add("a=1&b=2")
	f.Add("a=1&a=2")
	f.Add("%zz=1")
	f.Fuzz(func(t *testing.T, h string) {
		tags, err := parseTaggingHeader(h)
		if err != nil {
			if !errors.Is(err, ErrInvalidTag) && !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if err := validateTags(tags); err != nil {
			t.Fatalf("accepted tags fail validation: %v", err)
		}
	})
}

func TestCheckDeclaredTotal(t *testing.T) {
	sums := map[string]string{"CRC32C": "yZRlqg==-3"}
	for _, tc := range []struct {
		hdr  map[string]string
		want error
	}{
		{nil, nil},
		{map[string]string{"x-amz-checksum-crc32c": "yZRlqg=="}, nil},
		{map[string]string{"x-amz-checksum-crc32c": "yZRlqg==-3"}, nil},
		{map[string]string{"x-amz-checksum-crc32c": "AAAAAA=="}, ErrChecksumMismatch},
		{map[string]string{"x-amz-checksum-sha1": "2jmj7l5rSw0yVb/vlWAYkK/YBwk="}, nil}, // not the upload's algorithm
	} {
		h := http.Header{}
		for k, v := range tc.hdr {
			h.Set(k, v)
		}
		if err := checkDeclaredTotal(h, sums); !errors.Is(err, tc.want) {
			t.Errorf("%v: %v, want %v", tc.hdr, err, tc.want)
		}
	}
}

func TestErrorTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   string
		status int
	}{
		{fmt.Errorf("read: %w", erasure.ErrTooFewShards), "ServiceUnavailable", 503},
		{fmt.Errorf("x: %w", meta.ErrNoSuchKey), "NoSuchKey", 404},
		{fmt.Errorf("%w: %w", ErrBadBody, auth.ErrSignatureDoesNotMatch), "SignatureDoesNotMatch", 403},
		{fmt.Errorf("%w: %w", ErrBadBody, io.ErrUnexpectedEOF), "IncompleteBody", 400},
		{withMessage(ErrInvalidArgument, "custom"), "InvalidArgument", 400},
		{&http.MaxBytesError{Limit: 1}, "MalformedXML", 400},
		{context.Canceled, "RequestCancelled", 499},
		{errors.New("boom"), "InternalError", 500},
	} {
		c := lookupError(tc.err)
		if c.code != tc.code || c.status != tc.status {
			t.Errorf("%v: %s %d, want %s %d", tc.err, c.code, c.status, tc.code, tc.status)
		}
	}
	if c := lookupError(withMessage(ErrInvalidArgument, "custom")); c.msg != "custom" {
		t.Errorf("message override lost: %q", c.msg)
	}
}
