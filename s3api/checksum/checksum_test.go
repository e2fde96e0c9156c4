package checksum

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// Vectors from the AWS SDK for Go v2 (service/internal/checksum
// algorithms_test.go) and standard digests of "hello world".
func TestVectors(t *testing.T) {
	tests := []struct {
		alg  Algorithm
		want string
	}{
		{CRC32, "DUoRhQ=="},
		{CRC32C, "yZRlqg=="},
		{CRC64NVME, "jSnVw/bqjr4="},
		{SHA1, "Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
		{SHA256, "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
		{MD5, "XrY7u+Ae7tCTyyK7j1rNww=="},
	}
	for _, tt := range tests {
		t.Run(tt.alg.String(), func(t *testing.T) {
			got := Encode(tt.alg.Sum([]byte("hello world")))
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if err := tt.alg.Verify(tt.want, tt.alg.Sum([]byte("hello world"))); err != nil {
				t.Fatal(err)
			}
			if err := tt.alg.Verify(tt.want, tt.alg.Sum([]byte("hello worle"))); !errors.Is(err, ErrBadDigest) {
				t.Fatalf("Verify of other data: %v", err)
			}
		})
	}
}

// TestMinioGo checks every algorithm against minio-go v7's own hashers and
// header names.
func TestMinioGo(t *testing.T) {
	types := map[Algorithm]minio.ChecksumType{
		CRC32: minio.ChecksumCRC32, CRC32C: minio.ChecksumCRC32C, CRC64NVME: minio.ChecksumCRC64NVME,
		SHA1: minio.ChecksumSHA1, SHA256: minio.ChecksumSHA256, MD5: minio.ChecksumMD5,
		SHA512: minio.ChecksumSHA512, XXHASH64: minio.ChecksumXXHash64, XXHASH3: minio.ChecksumXXHash3,
		XXHASH128: minio.ChecksumXXHash128,
	}
	data := make([]byte, 100_003)
	rand.New(rand.NewSource(12)).Read(data)
	for _, a := range Algorithms() {
		mt, ok := types[a]
		if !ok {
			t.Fatalf("%s: no minio-go type", a)
		}
		if a.Header() != mt.Key() || a.String() != mt.String() || a.Size() != mt.RawByteLen() {
			t.Errorf("%s: header %s/%s name %s size %d/%d", a, a.Header(), mt.Key(), mt.String(), a.Size(), mt.RawByteLen())
		}
		if got, want := Encode(a.Sum(data)), mt.EncodeToString(data); got != want {
			t.Errorf("%s: got %s, minio-go %s", a, got, want)
		}
		p, err := Parse(strings.ToLower(a.String()))
		if err != nil || p != a {
			t.Errorf("Parse(%s) = %v, %v", a, p, err)
		}
	}
}

func TestCombine(t *testing.T) {
	r := rand.New(rand.NewSource(34))
	data := make([]byte, 300_000)
	r.Read(data)
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		for range 20 {
			n := r.Intn(5) + 1
			cuts := []int{0}
			for range n - 1 {
				cuts = append(cuts, r.Intn(len(data)+1))
			}
			cuts = append(cuts, len(data))
			sortInts(cuts)
			var parts []Part
			for i := 0; i < len(cuts)-1; i++ {
				b := data[cuts[i]:cuts[i+1]]
				parts = append(parts, Part{Sum: a.Sum(b), Size: int64(len(b))})
			}
			got, err := a.FullObjectSum(parts)
			if err != nil {
				t.Fatal(err)
			}
			if want := a.Sum(data); !bytes.Equal(got, want) {
				t.Fatalf("%s cuts %v: got %x, want %x", a, cuts, got, want)
			}
		}
	}
	if _, err := SHA256.FullObjectSum(nil); !errors.Is(err, ErrInvalidChecksum) {
		t.Fatalf("SHA256 full object: %v", err)
	}
	if _, err := CRC32.Combine([]byte{1}, []byte{1, 2, 3, 4}, 1); !errors.Is(err, ErrInvalidChecksum) {
		t.Fatalf("short sum: %v", err)
	}
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// TestCompositeMinioGo compares the COMPOSITE and FULL_OBJECT values with
// minio-go's multipart computations.
func TestCompositeMinioGo(t *testing.T) {
	r := rand.New(rand.NewSource(56))
	sizes := []int{5 << 20, 5 << 20, 12345}
	for _, a := range []Algorithm{CRC32, CRC32C, SHA1, SHA256, CRC64NVME} {
		mt, _ := map[Algorithm]minio.ChecksumType{CRC32: minio.ChecksumCRC32, CRC32C: minio.ChecksumCRC32C,
			SHA1: minio.ChecksumSHA1, SHA256: minio.ChecksumSHA256, CRC64NVME: minio.ChecksumCRC64NVME}[a]
		var parts []Part
		var mparts []minio.ObjectPart
		for i, n := range sizes {
			b := make([]byte, n)
			r.Read(b)
			sum := a.Sum(b)
			parts = append(parts, Part{Sum: sum, Size: int64(n)})
			op := minio.ObjectPart{PartNumber: i + 1, Size: int64(n)}
			v := Encode(sum)
			switch a {
			case CRC32:
				op.ChecksumCRC32 = v
			case CRC32C:
				op.ChecksumCRC32C = v
			case SHA1:
				op.ChecksumSHA1 = v
			case SHA256:
				op.ChecksumSHA256 = v
			case CRC64NVME:
				op.ChecksumCRC64NVME = v
			}
			mparts = append(mparts, op)
		}
		if a.Supports(Composite) {
			got, err := a.CompositeSum(parts)
			if err != nil {
				t.Fatal(err)
			}
			want, err := mt.CompositeChecksum(mparts)
			if err != nil {
				t.Fatal(err)
			}
			if Encode(got) != want.Encoded() {
				t.Errorf("%s composite: got %s, minio-go %s", a, Encode(got), want.Encoded())
			}
			v, _ := a.CompositeValue(parts)
			if v != want.Encoded()+"-3" {
				t.Errorf("%s composite value %s", a, v)
			}
		}
		if a.IsCRC() {
			got, err := a.FullObjectSum(parts)
			if err != nil {
				t.Fatal(err)
			}
			want, err := mt.FullObjectChecksum(mparts)
			if err != nil {
				t.Fatal(err)
			}
			if Encode(got) != want.Encoded() {
				t.Errorf("%s full object: got %s, minio-go %s", a, Encode(got), want.Encoded())
			}
		}
	}
}

func TestFromHeaders(t *testing.T) {
	crc := Encode(CRC32C.Sum([]byte("x")))
	tests := []struct {
		name    string
		h       map[string]string
		alg     Algorithm
		value   string
		trailer bool
		wantErr error
	}{
		{"none", nil, None, "", false, nil},
		{"value", map[string]string{"x-amz-checksum-crc32c": crc}, CRC32C, crc, false, nil},
		{"value+sdk", map[string]string{"x-amz-checksum-crc32c": crc, "x-amz-sdk-checksum-algorithm": "CRC32C"}, CRC32C, crc, false, nil},
		{"sdk mismatch", map[string]string{"x-amz-checksum-crc32c": crc, "x-amz-sdk-checksum-algorithm": "CRC32"}, None, "", false, ErrInvalidChecksum},
		{"trailer", map[string]string{"x-amz-trailer": "x-amz-checksum-crc64nvme", "x-amz-sdk-checksum-algorithm": "crc64nvme"}, CRC64NVME, "", true, nil},
		{"sdk only", map[string]string{"x-amz-sdk-checksum-algorithm": "SHA256"}, SHA256, "", false, nil},
		{"bad base64", map[string]string{"x-amz-checksum-crc32": "!!!!!!!!"}, None, "", false, ErrInvalidChecksum},
		{"wrong length", map[string]string{"x-amz-checksum-sha256": crc}, None, "", false, ErrInvalidChecksum},
		{"two", map[string]string{"x-amz-checksum-crc32c": crc, "x-amz-checksum-crc32": crc}, None, "", false, ErrInvalidChecksum},
		{"unknown value header", map[string]string{"x-amz-checksum-blake9": "AAAA"}, None, "", false, ErrInvalidChecksum},
		{"unknown trailer", map[string]string{"x-amz-trailer": "x-amz-meta-foo"}, None, "", false, ErrInvalidChecksum},
		{"value and trailer", map[string]string{"x-amz-checksum-crc32c": crc, "x-amz-trailer": "x-amz-checksum-crc32c"}, None, "", false, ErrInvalidChecksum},
		{"type header ignored", map[string]string{"x-amz-checksum-type": "FULL_OBJECT", "x-amz-checksum-algorithm": "CRC32"}, None, "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.h {
				h.Set(k, v)
			}
			alg, value, trailer, err := FromHeaders(h)
			if !errors.Is(err, tt.wantErr) || alg != tt.alg || value != tt.value || trailer != tt.trailer {
				t.Fatalf("got %v %q %v %v; want %v %q %v %v", alg, value, trailer, err, tt.alg, tt.value, tt.trailer, tt.wantErr)
			}
		})
	}
}

func TestParseType(t *testing.T) {
	for _, s := range []string{"COMPOSITE", "full_object"} {
		if _, err := ParseType(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ParseType("x"); !errors.Is(err, ErrInvalidChecksum) {
		t.Fatal(err)
	}
	if CRC64NVME.Supports(Composite) || !CRC64NVME.Supports(FullObject) || SHA256.Supports(FullObject) {
		t.Fatal("Supports table")
	}
}

func FuzzFromHeaders(f *testing.F) {
	f.Add("x-amz-checksum-crc32c", "yZRlqg==", "CRC32C")
	f.Add("x-amz-trailer", "x-amz-checksum-sha256", "")
	f.Add("x-amz-checksum-sha1", "====", "sha1")
	f.Fuzz(func(t *testing.T, k, v, sdk string) {
		h := http.Header{}
		h.Set(k, v)
		if sdk != "" {
			h.Set("x-amz-sdk-checksum-algorithm", sdk)
		}
		alg, value, _, err := FromHeaders(h)
		if err != nil {
			return
		}
		if value != "" {
			raw, err := base64.StdEncoding.DecodeString(value)
			if err != nil || len(raw) != alg.Size() {
				t.Fatalf("accepted %s value %q", alg, value)
			}
		}
	})
}

func BenchmarkCombine(b *testing.B) {
	s := CRC64NVME.Sum([]byte("a"))
	b.ReportAllocs()
	for b.Loop() {
		CRC64NVME.Combine(s, s, 5<<30)
	}
}
