package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/tessera-store/tessera/s3api/checksum"
)

// digestReader streams an upload body while computing its ETag (MD5) and the
// checksum the client declared. It fails at EOF, in place of io.EOF, when the
// length, the Content-MD5 or the checksum does not match: the backend then
// commits nothing. After io.EOF, etag and sums hold the results.
type digestReader struct {
	r    io.Reader
	size int64 // declared length, -1 when unknown
	n    int64

	md5     hash.Hash // inline MD5, or nil when pipe hashes it
	pipe    *md5Pipe
	wantMD5 []byte // decoded Content-MD5, nil if none

	alg     checksum.Algorithm
	ck      hash.Hash // nil if no checksum was declared
	wantCk  string    // declared value; "" when none was sent
	viaTrl  bool      // the value comes in the trailer
	trailer func() (alg, value string, ok bool)

	err  error // sticky
	etag string
	sums map[string]string
}

// newDigestReader prepares the body of rq for streaming. size is the decoded
// length the request declares. The caller must call close when done with it.
func (s *Server) newDigestReader(rq *request, size int64) (*digestReader, error) {
	pipeAt := int64(pipeMinSize)
	if s.opt.InlineMD5 {
		pipeAt = -1
	}
	return newDigest(rq.auth.Body, rq.r.Header, size, rq.auth.TrailerChecksum, pipeAt)
}

// newDigest wraps body; MD5 runs on a helper goroutine when size >= pipeAt
// (pipeAt < 0: never).
func newDigest(body io.Reader, hdr http.Header, size int64, trailer func() (string, string, bool), pipeAt int64) (*digestReader, error) {
	d := &digestReader{r: body, size: size, trailer: trailer}
	if v := hdr.Get("Content-MD5"); v != "" {
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(raw) != md5.Size {
			return nil, fmt.Errorf("%w: %q", ErrInvalidDigest, v)
		}
		d.wantMD5 = raw
	}
	alg, value, viaTrailer, err := checksum.FromHeaders(hdr)
	if err != nil {
		return nil, err
	}
	if alg == checksum.None {
		// x-amz-checksum-algorithm without a value (minio-go's automatic
		// checksum): the server computes and stores that checksum.
		if name := hdr.Get("x-amz-checksum-algorithm"); name != "" {
			if alg, err = checksum.Parse(name); err != nil {
				return nil, withMessage(ErrInvalidRequest, "Checksum algorithm provided is unsupported.")
			}
		}
	}
	if alg != checksum.None {
		d.alg, d.ck, d.wantCk, d.viaTrl = alg, alg.New(), value, viaTrailer
	}
	if pipeAt >= 0 && size >= pipeAt {
		d.pipe = newMD5Pipe()
	} else {
		d.md5 = md5.New()
	}
	return d, nil
}

// close releases the MD5 goroutine, if any. Safe to call more than once.
func (d *digestReader) close() {
	if d.pipe != nil {
		d.pipe.Close()
	}
}

func (d *digestReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	if n > 0 {
		if d.pipe != nil {
			d.pipe.Write(p[:n])
		} else {
			d.md5.Write(p[:n])
		}
		if d.ck != nil {
			d.ck.Write(p[:n])
		}
		d.n += int64(n)
		if d.size >= 0 && d.n > d.size {
			d.err = fmt.Errorf("%w: body longer than the declared %d bytes", ErrIncompleteBody, d.size)
			return n, d.err
		}
	}
	switch {
	case err == io.EOF:
		if ferr := d.finish(); ferr != nil {
			d.err = ferr
			return n, ferr
		}
		d.err = io.EOF
	case err != nil:
		d.err = fmt.Errorf("%w: %w", ErrBadBody, err)
		return n, d.err
	}
	return n, err
}

// finish verifies the digests at the end of the body.
func (d *digestReader) finish() error {
	if d.size >= 0 && d.n != d.size {
		return fmt.Errorf("%w: got %d of %d bytes", ErrIncompleteBody, d.n, d.size)
	}
	var sum []byte
	if d.pipe != nil {
		sum = d.pipe.Sum()
	} else {
		sum = d.md5.Sum(nil)
	}
	if d.wantMD5 != nil && string(sum) != string(d.wantMD5) {
		return fmt.Errorf("%w: computed %x", ErrBadDigest, sum)
	}
	d.etag = hex.EncodeToString(sum)
	if d.ck == nil {
		return nil
	}
	got := base64.StdEncoding.EncodeToString(d.ck.Sum(nil))
	want := d.wantCk
	if d.viaTrl {
		alg, v, ok := d.trailer()
		if !ok {
			return fmt.Errorf("%w: trailing %s checksum missing", ErrIncompleteBody, d.alg)
		}
		if !strings.EqualFold(alg, d.alg.String()) {
			return withMessage(ErrInvalidRequest, fmt.Sprintf("The trailing checksum %s does not match the declared algorithm %s.", alg, d.alg))
		}
		want = v
	}
	if want != "" && got != want {
		return withMessage(ErrChecksumMismatch, fmt.Sprintf("The %s you specified did not match the calculated checksum.", d.alg.Header()))
	}
	d.sums = map[string]string{d.alg.String(): got}
	return nil
}

// checksumHeaders sets x-amz-checksum-<alg> for each stored checksum.
func setChecksumHeaders(h http.Header, sums map[string]string, typ string) {
	for alg, v := range sums {
		a, err := checksum.Parse(alg)
		if err != nil {
			continue
		}
		h.Set(a.Header(), v)
	}
	if len(sums) > 0 && typ != "" {
		h.Set("x-amz-checksum-type", typ)
	}
}

// bodySize returns the decoded length of an upload body, refusing bodies of
// unknown length and bodies above limit.
func bodySize(rq *request, limit int64) (int64, error) {
	size := rq.auth.Size
	if size < 0 {
		return 0, ErrMissingContentLength
	}
	if size > limit {
		return 0, fmt.Errorf("%w: %d bytes above %d", ErrEntityTooLarge, size, limit)
	}
	return size, nil
}
