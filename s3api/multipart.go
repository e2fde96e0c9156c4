package s3api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/checksum"
)

const (
	checksumComposite  = "COMPOSITE"
	checksumFullObject = "FULL_OBJECT"
)

func partNumber(rq *request) (int, error) {
	n, ok := parseDecimal(rq.query("partNumber"))
	if !ok || n < 1 || n > maxParts {
		return 0, withMessage(ErrInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
	}
	return int(n), nil
}

// uploadChecksum reads the algorithm and type a CreateMultipartUpload asks
// for. The type defaults to FULL_OBJECT for CRC64NVME and COMPOSITE for the
// others, as in AWS.
func uploadChecksum(h http.Header) (checksum.Algorithm, string, error) {
	name, typName := h.Get("x-amz-checksum-algorithm"), h.Get("x-amz-checksum-type")
	if name == "" {
		if typName != "" {
			return checksum.None, "", withMessage(ErrInvalidRequest, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		return checksum.None, "", nil
	}
	alg, err := checksum.Parse(name)
	if err != nil {
		return checksum.None, "", withMessage(ErrInvalidRequest, "Checksum algorithm provided is unsupported.")
	}
	typ := alg.DefaultType()
	if typName != "" {
		if typ, err = checksum.ParseType(typName); err != nil {
			return checksum.None, "", withMessage(ErrInvalidRequest, "Value for x-amz-checksum-type header is invalid.")
		}
	}
	if !alg.Supports(typ) {
		return checksum.None, "", withMessage(ErrInvalidRequest, fmt.Sprintf("The %s checksum type cannot be used with the %s checksum algorithm.", typ, alg))
	}
	return alg, typ.String(), nil
}

func (s *Server) createUpload(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := checkKey(rq.key); err != nil {
		return err
	}
	obj, err := objectFromHeaders(rq.r.Header, b.Name, rq.key)
	if err != nil {
		return err
	}
	alg, typ, err := uploadChecksum(rq.r.Header)
	if err != nil {
		return err
	}
	if alg != checksum.None {
		// The algorithm is recorded with an empty value until Complete.
		obj.Checksums = map[string]string{alg.String(): ""}
		obj.ChecksumType = typ
	}
	// Object Lock is decided here, as for PutObject: the headers are
	// validated now, and the retention (theirs, else the bucket's default
	// counted from now) and legal hold travel in the upload's template,
	// which CompleteMultipartUpload commits as the new version. The lock is
	// thus in place in the same commit that makes the object visible; a
	// default applied at completion would need a second commit
	// (PutObjectLock), leaving the version briefly unprotected.
	if err := s.applyObjectLock(ctx, rq, b, &obj); err != nil {
		return err
	}
	u := &meta.Upload{Bucket: b.Name, Key: rq.key, Initiated: s.opt.Now().UnixNano(), Object: obj}
	id, err := s.b.CreateUpload(ctx, u)
	if err != nil {
		return err
	}
	if alg != checksum.None {
		rq.w.Header().Set("x-amz-checksum-algorithm", alg.String())
		rq.w.Header().Set("x-amz-checksum-type", typ)
	}
	return s.writeXML(rq, http.StatusOK, initiateMultipartUploadResult{NS: s3NS, Bucket: b.Name, Key: rq.key, UploadID: id})
}

func (s *Server) uploadPart(ctx context.Context, rq *request, b meta.Bucket) error {
	num, err := partNumber(rq)
	if err != nil {
		return err
	}
	size, err := bodySize(rq, s.opt.MaxPutSize)
	if err != nil {
		return err
	}
	d, err := s.newDigestReader(rq, size)
	if err != nil {
		return err
	}
	defer d.close()
	in := &PartInput{Number: num, Body: d, Size: size, Seal: func(p *meta.Part) error {
		p.ETag, p.Checksums = d.etag, d.sums
		return nil
	}}
	p, err := s.b.UploadPart(ctx, b.Name, rq.key, rq.query("uploadId"), in)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", quoteETag(p.ETag))
	setChecksumHeaders(h, p.Checksums, "")
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// parseCopyRange parses x-amz-copy-source-range ("bytes=first-last", both
// required and inside the source).
func parseCopyRange(v string, size int64) (off, n int64, err error) {
	bad := withMessage(ErrInvalidArgument, fmt.Sprintf("Range specified is not valid for source object of size: %d", size))
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, 0, bad
	}
	a, z, ok := strings.Cut(spec, "-")
	first, ok1 := parseDecimal(a)
	last, ok2 := parseDecimal(z)
	if !ok || !ok1 || !ok2 || first > last || last >= size {
		return 0, 0, bad
	}
	return first, last - first + 1, nil
}

func (s *Server) uploadPartCopy(ctx context.Context, rq *request, b meta.Bucket) error {
	num, err := partNumber(rq)
	if err != nil {
		return err
	}
	if err := checkKey(rq.key); err != nil {
		return err
	}
	src, err := s.copySource(ctx, rq)
	if err != nil {
		return err
	}
	off, n := int64(0), src.Size
	if v := rq.r.Header.Get("x-amz-copy-source-range"); v != "" {
		if off, n, err = parseCopyRange(v, src.Size); err != nil {
			return err
		}
	}
	if n > s.opt.MaxPutSize {
		return fmt.Errorf("%w: part copy of %d bytes", ErrEntityTooLarge, n)
	}
	id := rq.query("uploadId")
	u, err := s.b.GetUpload(ctx, b.Name, rq.key, id)
	if err != nil {
		return err
	}
	var p *meta.Part
	if alg := uploadAlgorithm(u); alg != checksum.None {
		p, err = s.copyPartSummed(ctx, b.Name, rq.key, id, num, src, off, n, alg)
	} else {
		p, err = s.b.UploadPartCopy(ctx, b.Name, rq.key, id, num, src, off, n)
	}
	if err != nil {
		return err
	}
	res := copyPartResult{NS: s3NS, LastModified: xmlTime(p.Modified), ETag: quoteETag(p.ETag)}
	res.checksumFields = checksumXML(p.Checksums)
	return s.writeXML(rq, http.StatusOK, res)
}

// uploadAlgorithm returns the checksum algorithm u was created with:
// checksum.None when it declared none, or one this gateway cannot compute.
func uploadAlgorithm(u *meta.Upload) checksum.Algorithm {
	for name := range u.Object.Checksums {
		if a, err := checksum.Parse(name); err == nil {
			return a
		}
	}
	return checksum.None
}

// allParts pages through an upload's parts.
func (s *Server) allParts(ctx context.Context, bucket, key, id string) (map[int]meta.Part, error) {
	parts := make(map[int]meta.Part)
	marker := 0
	for {
		res, err := s.b.ListParts(ctx, &meta.ListPartsRequest{Bucket: bucket, Key: key, UploadID: id, Marker: marker, MaxParts: maxListKeys})
		if err != nil {
			return nil, err
		}
		for _, p := range res.Parts {
			parts[p.Number] = p
		}
		if !res.IsTruncated || res.NextMarker <= marker {
			return parts, nil
		}
		marker = res.NextMarker
	}
}

// sum returns the part checksum of algorithm alg the client listed ("" if
// none).
func (p completePart) sum(alg checksum.Algorithm) string {
	switch alg {
	case checksum.CRC32:
		return p.ChecksumCRC32
	case checksum.CRC32C:
		return p.ChecksumCRC32C
	case checksum.CRC64NVME:
		return p.ChecksumCRC64NVME
	case checksum.SHA1:
		return p.ChecksumSHA1
	case checksum.SHA256:
		return p.ChecksumSHA256
	}
	return ""
}

// completeChecksums computes the whole object's checksum from its parts'
// for an upload that declared an algorithm.
func (s *Server) completeChecksums(ctx context.Context, u *meta.Upload, named []completePart) (map[string]string, string, error) {
	alg := uploadAlgorithm(u)
	if alg == checksum.None {
		return nil, "", nil // none declared, or one this gateway cannot combine
	}
	parts, err := s.allParts(ctx, u.Bucket, u.Key, u.UploadID)
	if err != nil {
		return nil, "", err
	}
	ps := make([]checksum.Part, 0, len(named))
	for _, cp := range named {
		p, ok := parts[cp.PartNumber]
		if !ok {
			return nil, "", fmt.Errorf("%w: part %d", meta.ErrInvalidPart, cp.PartNumber)
		}
		have := p.Checksums[alg.String()]
		raw, err := alg.Decode(have)
		if err != nil || len(raw) == 0 {
			return nil, "", withMessage(ErrInvalidRequest, fmt.Sprintf("The upload was created using the %s checksum algorithm but part %d has no valid checksum.", alg, cp.PartNumber))
		}
		// A part checksum the client lists must be the stored one, as in AWS.
		if want := cp.sum(alg); want != "" && want != have {
			return nil, "", fmt.Errorf("%w: part %d %s %q, have %q", meta.ErrInvalidPart, cp.PartNumber, alg, want, have)
		}
		ps = append(ps, checksum.Part{Sum: raw, Size: p.Size})
	}
	typ := u.Object.ChecksumType
	var v string
	if typ == checksumFullObject {
		var sum []byte
		if sum, err = alg.FullObjectSum(ps); err == nil {
			v = checksum.Encode(sum)
		}
	} else {
		typ = checksumComposite
		v, err = alg.CompositeValue(ps)
	}
	if err != nil {
		return nil, "", err
	}
	return map[string]string{alg.String(): v}, typ, nil
}

func (s *Server) completeUpload(ctx context.Context, rq *request, b meta.Bucket) error {
	id := rq.query("uploadId")
	c, err := readComplete(rq.auth.Body)
	if err != nil {
		return err
	}
	for i := 1; i < len(c.Parts); i++ {
		if c.Parts[i].PartNumber <= c.Parts[i-1].PartNumber {
			return meta.ErrInvalidPartOrder
		}
	}
	u, err := s.b.GetUpload(ctx, b.Name, rq.key, id)
	if err != nil {
		return err
	}
	if err := s.checkCompleteConditions(ctx, rq, b); err != nil {
		return err
	}
	sums, typ, err := s.completeChecksums(ctx, u, c.Parts)
	if err != nil {
		return err
	}
	if err := checkDeclaredTotal(rq.r.Header, sums); err != nil {
		return err
	}
	req := &meta.CompleteUploadRequest{
		ReqID: rq.id, Time: s.opt.Now().UnixNano(),
		Bucket: b.Name, Key: rq.key, UploadID: id, Checksums: sums,
	}
	for _, p := range c.Parts {
		req.Parts = append(req.Parts, meta.CompletedPart{Number: p.PartNumber, ETag: trimETag(p.ETag)})
	}
	o, err := s.b.CompleteUpload(ctx, req)
	if err != nil {
		return err
	}
	setVersionHeader(rq.w.Header(), b, o)
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	res := completeMultipartUploadResult{
		NS: s3NS, Location: scheme + "://" + rq.r.Host + "/" + b.Name + "/" + s3URLEncode(rq.key),
		Bucket: b.Name, Key: rq.key, ETag: quoteETag(o.ETag),
	}
	if len(o.Checksums) == 0 {
		o.Checksums = sums
	}
	res.checksumFields = checksumXML(o.Checksums)
	if len(o.Checksums) > 0 {
		res.ChecksumType = typ
	}
	return s.writeXML(rq, http.StatusOK, res)
}

func readComplete(r io.Reader) (*completeMultipartUpload, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCompleteXML+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCompleteXML {
		return nil, fmt.Errorf("%w: CompleteMultipartUpload over %d bytes", ErrMalformedXML, maxCompleteXML)
	}
	return parseComplete(data)
}

func (s *Server) abortUpload(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := s.b.AbortUpload(ctx, b.Name, rq.key, rq.query("uploadId")); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listParts(ctx context.Context, rq *request, b meta.Bucket) error {
	maxP, err := maxKeysParam(rq, "max-parts")
	if err != nil {
		return err
	}
	marker := 0
	if v := rq.query("part-number-marker"); v != "" {
		m, ok := parseDecimal(v)
		if !ok || m > maxParts {
			return withMessage(ErrInvalidArgument, "Provided part-number-marker not an integer or within integer range")
		}
		marker = int(m)
	}
	id := rq.query("uploadId")
	res, err := s.b.ListParts(ctx, &meta.ListPartsRequest{Bucket: b.Name, Key: rq.key, UploadID: id, Marker: marker, MaxParts: max(maxP, 1)})
	if err != nil {
		return err
	}
	own := ownerOf(b)
	out := listPartsResult{
		NS: s3NS, Bucket: b.Name, Key: rq.key, UploadID: id, Initiator: own, Owner: own,
		StorageClass: "STANDARD", PartNumberMarker: marker, MaxParts: maxP, IsTruncated: res.IsTruncated,
	}
	if res.IsTruncated {
		out.NextPartNumberMarker = res.NextMarker
	}
	for alg := range res.Upload.Object.Checksums {
		out.ChecksumAlgorithm = alg
		out.ChecksumType = res.Upload.Object.ChecksumType
	}
	for _, p := range res.Parts {
		pi := partInfo{PartNumber: p.Number, LastModified: xmlTime(p.Modified), ETag: quoteETag(p.ETag), Size: p.Size}
		pi.checksumFields = checksumXML(p.Checksums)
		out.Parts = append(out.Parts, pi)
		if len(out.Parts) == maxP {
			break
		}
	}
	return s.writeXML(rq, http.StatusOK, out)
}

// checkDeclaredTotal verifies the whole-object checksum a client may send
// with CompleteMultipartUpload (minio-go does) against the computed one. A
// COMPOSITE value is compared without its "-N" suffix, as clients send it
// either way.
func checkDeclaredTotal(h http.Header, sums map[string]string) error {
	h = h.Clone()
	for k, vs := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") && len(vs) == 1 {
			h[k] = []string{strings.SplitN(vs[0], "-", 2)[0]}
		}
	}
	alg, value, _, err := checksum.FromHeaders(h)
	if err != nil || alg == checksum.None || value == "" {
		return err
	}
	got, ok := sums[alg.String()]
	if !ok {
		return nil // the upload did not declare this algorithm: nothing to compare
	}
	if got, _, _ = strings.Cut(got, "-"); got != value {
		return withMessage(ErrChecksumMismatch, fmt.Sprintf("The %s you specified did not match the calculated checksum.", alg.Header()))
	}
	return nil
}

// checkCompleteConditions applies If-Match / If-None-Match to a
// CompleteMultipartUpload. meta.CompleteUploadRequest carries no condition,
// so this is checked before the commit, not atomically with it.
func (s *Server) checkCompleteConditions(ctx context.Context, rq *request, b meta.Bucket) error {
	im, inm := rq.r.Header.Get("If-Match"), rq.r.Header.Get("If-None-Match")
	if im == "" && inm == "" {
		return nil
	}
	cur, err := s.b.HeadObject(ctx, b.Name, rq.key)
	switch {
	case errors.Is(err, meta.ErrNoSuchKey):
		if im != "" {
			return err
		}
		return nil
	case err != nil:
		return err
	case im != "" && !etagMatches(im, cur.ETag):
		return fmt.Errorf("%w: If-Match", ErrPrecondition)
	case inm != "" && etagMatches(inm, cur.ETag):
		return fmt.Errorf("%w: If-None-Match", ErrPrecondition)
	}
	return nil
}
