package s3api

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-store/tessera/s3api/checksum"
)

// TestUploadPartCopyChecksum: into an upload created with a checksum
// algorithm, UploadPartCopy hashes the copied bytes, returns the part
// checksum in CopyPartResult and stores it as UploadPart does, so that
// ListParts shows it, CompleteMultipartUpload accepts it when listed with the
// part, and the object's checksum is the one computed here by hand.
func TestUploadPartCopyChecksum(t *testing.T) {
	e := newEnv(t)
	const partSize = 64 << 10
	e.fb.minPart = partSize
	mustMakeBucket(t, e.minio(t, aliceKey, aliceSecret), "pcs")
	src := randBytes(21, 2*partSize+500)
	if r, body := e.do(t, "PUT", "/pcs/src", src, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("PUT src: %s %s", r.Status, body)
	}
	last := []byte("the last part, uploaded")
	// Part 1 copies a range, part 2 the whole source (no range), part 3 is
	// uploaded: copied and uploaded parts combine.
	data := [][]byte{src[100 : 100+partSize], src, last}
	copyRange := []string{fmt.Sprintf("bytes=100-%d", 100+partSize-1), ""}

	crc32c := func(b []byte) []byte {
		h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
		h.Write(b)
		return h.Sum(nil)
	}
	sha := func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
	tests := []struct {
		alg, typ string
		sum      func([]byte) []byte // the algorithm, by hand
	}{
		{"CRC32C", checksumComposite, crc32c},
		{"SHA256", checksumComposite, sha},
		// No CRC-64/NVME in the standard library: the package's hash of the
		// whole object checks the combination of the part CRCs.
		{"CRC64NVME", checksumFullObject, checksum.CRC64NVME.Sum},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			key := "/pcs/dst-" + tt.alg
			r, body := e.do(t, "POST", key+"?uploads", nil, map[string]string{"x-amz-checksum-algorithm": tt.alg, "x-amz-checksum-type": tt.typ})
			var init initiateMultipartUploadResult
			if err := xml.Unmarshal(body, &init); err != nil || r.StatusCode != http.StatusOK {
				t.Fatalf("initiate: %s %s", r.Status, body)
			}
			partURL := func(n int) string { return fmt.Sprintf("%s?partNumber=%d&uploadId=%s", key, n, init.UploadID) }
			sums := make([]string, len(data))
			etags := make([]string, len(data))
			for i, d := range data {
				sums[i] = b64(tt.sum(d))
			}
			for i, rng := range copyRange {
				hdr := map[string]string{"x-amz-copy-source": "/pcs/src"}
				if rng != "" {
					hdr["x-amz-copy-source-range"] = rng
				}
				r, body := e.do(t, "PUT", partURL(i+1), nil, hdr)
				var res copyPartResult
				if err := xml.Unmarshal(body, &res); err != nil || r.StatusCode != http.StatusOK {
					t.Fatalf("UploadPartCopy %d: %s %s", i+1, r.Status, body)
				}
				if want := checksumXML(map[string]string{tt.alg: sums[i]}); res.checksumFields != want {
					t.Errorf("CopyPartResult %d checksums %+v, want %+v", i+1, res.checksumFields, want)
				}
				etags[i] = res.ETag
			}
			r, body = e.do(t, "PUT", partURL(3), last, map[string]string{"x-amz-checksum-" + strings.ToLower(tt.alg): sums[2]})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("UploadPart: %s %s", r.Status, body)
			}
			etags[2] = r.Header.Get("ETag")

			r, body = e.do(t, "GET", key+"?uploadId="+init.UploadID, nil, nil)
			var lp listPartsResult
			if err := xml.Unmarshal(body, &lp); err != nil || len(lp.Parts) != 3 || lp.ChecksumAlgorithm != tt.alg {
				t.Fatalf("ListParts: %s %s", r.Status, body)
			}
			for i, p := range lp.Parts {
				if want := checksumXML(map[string]string{tt.alg: sums[i]}); p.checksumFields != want || p.Size != int64(len(data[i])) || p.ETag != etags[i] {
					t.Errorf("ListParts part %d: %+v, want %d bytes, ETag %s, %+v", i+1, p, len(data[i]), etags[i], want)
				}
			}

			complete := func(sums []string) []byte {
				var b strings.Builder
				b.WriteString("<CompleteMultipartUpload>")
				for i := range data {
					fmt.Fprintf(&b, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag><Checksum%s>%s</Checksum%[3]s></Part>", i+1, etags[i], tt.alg, sums[i])
				}
				b.WriteString("</CompleteMultipartUpload>")
				return []byte(b.String())
			}
			// A listed part checksum that is not the part's is refused.
			wrong := []string{sums[1], sums[1], sums[2]}
			if r, body := e.do(t, "POST", key+"?uploadId="+init.UploadID, complete(wrong), nil); r.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("<Code>InvalidPart</Code>")) {
				t.Errorf("complete with a wrong part checksum: %s %s", r.Status, body)
			}
			r, body = e.do(t, "POST", key+"?uploadId="+init.UploadID, complete(sums), nil)
			var done completeMultipartUploadResult
			if err := xml.Unmarshal(body, &done); err != nil || r.StatusCode != http.StatusOK {
				t.Fatalf("complete: %s %s", r.Status, body)
			}
			whole := bytes.Join(data, nil)
			var want string
			if tt.typ == checksumComposite {
				// The checksum of the concatenated raw part checksums, "-N".
				var raw []byte
				for _, d := range data {
					raw = append(raw, tt.sum(d)...)
				}
				want = fmt.Sprintf("%s-%d", b64(tt.sum(raw)), len(data))
			} else {
				want = b64(tt.sum(whole))
			}
			if w := checksumXML(map[string]string{tt.alg: want}); done.checksumFields != w || done.ChecksumType != tt.typ {
				t.Errorf("object checksum %+v %s, want %+v %s", done.checksumFields, done.ChecksumType, w, tt.typ)
			}
			if r, body := e.do(t, "GET", key, nil, nil); r.StatusCode != http.StatusOK || !bytes.Equal(body, whole) {
				t.Errorf("GET: %s, %d bytes, want %d", r.Status, len(body), len(whole))
			}
		})
	}

	// Without a checksum algorithm the copy stays as it was: no checksum.
	r, body := e.do(t, "POST", "/pcs/plain?uploads", nil, nil)
	var init initiateMultipartUploadResult
	if err := xml.Unmarshal(body, &init); err != nil {
		t.Fatalf("initiate: %s %s", r.Status, body)
	}
	r, body = e.do(t, "PUT", "/pcs/plain?partNumber=1&uploadId="+init.UploadID, nil, map[string]string{"x-amz-copy-source": "/pcs/src"})
	if r.StatusCode != http.StatusOK || bytes.Contains(body, []byte("<Checksum")) {
		t.Errorf("UploadPartCopy without an algorithm: %s %s", r.Status, body)
	}
	// A missing upload is still NoSuchUpload.
	r, body = e.do(t, "PUT", "/pcs/plain?partNumber=1&uploadId=nope", nil, map[string]string{"x-amz-copy-source": "/pcs/src"})
	if r.StatusCode != http.StatusNotFound || !bytes.Contains(body, []byte("<Code>NoSuchUpload</Code>")) {
		t.Errorf("UploadPartCopy to a missing upload: %s %s", r.Status, body)
	}
}

// TestCreateUploadLockHeaders: CreateMultipartUpload validates the
// x-amz-object-lock-* headers as PutObject does, and creates no upload when
// they are refused. (The fake backend has no versioning, so no bucket of it
// has Object Lock; versions_test.go covers locked uploads on the real
// object layer.)
func TestCreateUploadLockHeaders(t *testing.T) {
	e := newEnv(t)
	mustMakeBucket(t, e.minio(t, aliceKey, aliceSecret), "nolock")
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name string
		hdr  map[string]string
		code string
	}{
		{"no lock on the bucket", map[string]string{"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": future}, "InvalidRequest"},
		{"legal hold only", map[string]string{"x-amz-object-lock-legal-hold": "ON"}, "InvalidRequest"},
		{"bad mode", map[string]string{"x-amz-object-lock-mode": "FOREVER", "x-amz-object-lock-retain-until-date": future}, "InvalidArgument"},
		{"bad date", map[string]string{"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": "tomorrow"}, "InvalidArgument"},
		{"past date", map[string]string{"x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": past}, "InvalidArgument"},
		{"mode without date", map[string]string{"x-amz-object-lock-mode": "GOVERNANCE"}, "InvalidArgument"},
		{"bad legal hold", map[string]string{"x-amz-object-lock-legal-hold": "MAYBE"}, "InvalidArgument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := e.do(t, "POST", "/nolock/k?uploads", nil, tt.hdr)
			if r.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("<Code>"+tt.code+"</Code>")) {
				t.Errorf("%s %s, want 400 %s", r.Status, body, tt.code)
			}
		})
	}
	e.fb.mu.Lock()
	n := len(e.fb.uploads)
	e.fb.mu.Unlock()
	if n != 0 {
		t.Errorf("%d uploads created by refused requests", n)
	}
}
