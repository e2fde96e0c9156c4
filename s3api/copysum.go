package s3api

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/checksum"
)

// copyChecksums returns the checksum a CopyObject destination gets. As in
// AWS, a copy is a new single-part object whose checksum is FULL_OBJECT: of
// the algorithm named by x-amz-checksum-algorithm, else the source's, else
// CRC64NVME. The value is taken from the source when it already is a
// full-object value of that algorithm, combined from the part CRCs of a
// multipart source when the algorithm is a CRC and every part has one, and
// otherwise computed by streaming the source once through the hash (bounded
// memory: one copy buffer).
func (s *Server) copyChecksums(ctx context.Context, h http.Header, src *meta.Object) (map[string]string, string, error) {
	alg := checksum.None
	if name := h.Get("x-amz-checksum-algorithm"); name != "" {
		a, err := checksum.Parse(name)
		if err != nil {
			return nil, "", withMessage(ErrInvalidRequest, "Checksum algorithm provided is unsupported.")
		}
		alg = a
	}
	if alg == checksum.None {
		for _, a := range checksum.Algorithms() {
			if src.Checksums[a.String()] != "" {
				alg = a
				break
			}
		}
	}
	if alg == checksum.None {
		alg = checksum.CRC64NVME
	}
	v, err := s.fullObjectChecksum(ctx, src, alg)
	if err != nil {
		return nil, "", err
	}
	return map[string]string{alg.String(): v}, checksumFullObject, nil
}

// fullObjectChecksum returns the base64 FULL_OBJECT checksum of src with alg.
func (s *Server) fullObjectChecksum(ctx context.Context, src *meta.Object, alg checksum.Algorithm) (string, error) {
	have := src.Checksums[alg.String()]
	if have != "" && !strings.Contains(have, "-") && (src.ChecksumType == checksumFullObject || len(src.PartSizes) == 0) {
		if _, err := alg.Decode(have); err == nil {
			return have, nil
		}
	}
	if alg.IsCRC() && len(src.PartSizes) > 0 && len(src.PartChecksums) == len(src.PartSizes) {
		ps := make([]checksum.Part, 0, len(src.PartSizes))
		for i, size := range src.PartSizes {
			raw, err := alg.Decode(src.PartChecksums[i][alg.String()])
			if err != nil {
				ps = nil
				break
			}
			ps = append(ps, checksum.Part{Sum: raw, Size: size})
		}
		if ps != nil {
			sum, err := alg.FullObjectSum(ps)
			if err == nil {
				return checksum.Encode(sum), nil
			}
		}
	}
	hs := alg.New()
	if src.Size > 0 {
		rc, err := s.b.OpenObject(ctx, src, 0, src.Size)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		n, err := io.Copy(hs, rc)
		if err != nil {
			return "", err
		}
		if n != src.Size {
			return "", fmt.Errorf("s3api: checksum of copy source %s/%s: read %d of %d bytes: %w", src.Bucket, src.Key, n, src.Size, io.ErrUnexpectedEOF)
		}
	}
	return checksum.Encode(hs.Sum(nil)), nil
}

// copyPartSummed makes part num of upload id from bytes [off, off+n) of src
// when the upload declared checksum algorithm alg. Backend.UploadPartCopy
// stores no checksum, so the bytes stream from the source through
// UploadPart instead, hashed on the way (MD5 for the ETag, and alg), and the
// part is stored with its checksum as an uploaded part is. This gives up
// UploadPartCopy's metadata-only copy of a whole single-part source: the
// checksum needs the bytes anyway. The write path deduplicates the copied
// chunks against the source's, so they are not stored twice.
func (s *Server) copyPartSummed(ctx context.Context, bucket, key, id string, num int, src *meta.Object, off, n int64, alg checksum.Algorithm) (*meta.Part, error) {
	rc, err := s.b.OpenObject(ctx, src, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sum := &partSummer{md5: md5.New(), ck: alg.New()}
	in := &PartInput{Number: num, Body: io.TeeReader(rc, sum), Size: n, Seal: func(p *meta.Part) error {
		if sum.n != n {
			return fmt.Errorf("s3api: part copy from %s/%s: read %d of %d bytes: %w", src.Bucket, src.Key, sum.n, n, io.ErrUnexpectedEOF)
		}
		p.ETag = hex.EncodeToString(sum.md5.Sum(nil))
		p.Checksums = map[string]string{alg.String(): checksum.Encode(sum.ck.Sum(nil))}
		return nil
	}}
	return s.b.UploadPart(ctx, bucket, key, id, in)
}

// partSummer hashes a part copy's bytes as the backend reads them.
type partSummer struct {
	md5, ck hash.Hash
	n       int64
}

func (w *partSummer) Write(p []byte) (int, error) {
	w.md5.Write(p)
	w.ck.Write(p)
	w.n += int64(len(p))
	return len(p), nil
}
