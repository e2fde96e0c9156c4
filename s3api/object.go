package s3api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/objectlock"
)

// storedHeaders are the standard headers kept with an object and returned on
// GET and HEAD, by canonical name.
var storedHeaders = []string{"Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires"}

// responseOverrides are the GET query parameters that override stored headers.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

const defaultContentType = "binary/octet-stream"

// storageClassHeader holds a non-STANDARD storage class, kept in
// meta.Object.Headers under this canonical name and returned as is. Tessera
// places data by its own pools and tiering; the class is recorded only.
const storageClassHeader = "X-Amz-Storage-Class"

var storageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "OUTPOSTS": true,
	"GLACIER_IR": true, "SNOW": true, "EXPRESS_ONEZONE": true,
}

// storageClass validates x-amz-storage-class; "" means STANDARD.
func storageClass(h http.Header) (string, error) {
	sc := h.Get("x-amz-storage-class")
	if sc == "" || sc == "STANDARD" {
		return "", nil
	}
	if !storageClasses[sc] {
		return "", fmt.Errorf("%w: %q", ErrInvalidStorageClass, sc)
	}
	return sc, nil
}

func urlUnescape(s string) (string, error) { return url.QueryUnescape(s) }

func checkKey(key string) error {
	if len(key) > maxKeyBytes {
		return ErrKeyTooLong
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: key is not UTF-8", meta.ErrInvalidKey)
	}
	return nil
}

// objectFromHeaders collects what a PUT, a CreateMultipartUpload or a
// CopyObject with REPLACE stores from the request headers.
func objectFromHeaders(h http.Header, bucket, key string) (meta.Object, error) {
	o := meta.Object{Bucket: bucket, Key: key, ContentType: h.Get("Content-Type")}
	if o.ContentType == "" {
		o.ContentType = defaultContentType
	}
	for _, name := range storedHeaders {
		v := h.Get(name)
		if name == "Content-Encoding" {
			v = stripAWSChunked(v)
		}
		if v == "" {
			continue
		}
		if o.Headers == nil {
			o.Headers = make(map[string]string)
		}
		o.Headers[name] = v
	}
	sc, err := storageClass(h)
	if err != nil {
		return o, err
	}
	if sc != "" {
		if o.Headers == nil {
			o.Headers = make(map[string]string)
		}
		o.Headers[storageClassHeader] = sc
	}
	var metaBytes int
	for k, vs := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-")
		if !ok {
			continue
		}
		if o.UserMeta == nil {
			o.UserMeta = make(map[string]string)
		}
		v := strings.Join(vs, ",")
		o.UserMeta[name] = v
		metaBytes += len(name) + len(v)
	}
	if metaBytes > maxUserMetaBytes {
		return o, fmt.Errorf("%w: %d bytes", ErrMetadataTooLarge, metaBytes)
	}
	tags, err := parseTaggingHeader(h.Get("x-amz-tagging"))
	if err != nil {
		return o, err
	}
	o.Tags = tags
	return o, nil
}

// stripAWSChunked removes the aws-chunked transfer coding from a
// Content-Encoding value: it describes the request, not the object.
func stripAWSChunked(v string) string {
	if !strings.Contains(v, "aws-chunked") {
		return v
	}
	var keep []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" && p != "aws-chunked" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ",")
}

func quoteETag(e string) string { return `"` + e + `"` }

func trimETag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(e, "W/")
	return strings.Trim(e, `"`)
}

// etagMatches reports whether an If-Match / If-None-Match list names etag.
func etagMatches(list, etag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || trimETag(v) == etag {
			return true
		}
	}
	return false
}

func lastModified(o *meta.Object) time.Time {
	return time.Unix(0, o.Modified).UTC().Truncate(time.Second)
}

// checkConditions applies the conditional GET/HEAD headers in AWS's order:
// If-Match (then If-Unmodified-Since is ignored), If-Unmodified-Since,
// If-None-Match (then If-Modified-Since is ignored), If-Modified-Since.
func checkConditions(h http.Header, o *meta.Object) error {
	mod := lastModified(o)
	if im := h.Get("If-Match"); im != "" {
		if !etagMatches(im, o.ETag) {
			return fmt.Errorf("%w: If-Match", ErrPrecondition)
		}
	} else if t, err := http.ParseTime(h.Get("If-Unmodified-Since")); err == nil && mod.After(t) {
		return fmt.Errorf("%w: If-Unmodified-Since", ErrPrecondition)
	}
	if inm := h.Get("If-None-Match"); inm != "" {
		if etagMatches(inm, o.ETag) {
			return errNotModified
		}
	} else if t, err := http.ParseTime(h.Get("If-Modified-Since")); err == nil && !mod.After(t) {
		return errNotModified
	}
	return nil
}

// checkCopyConditions applies x-amz-copy-source-if-*: every failure is 412.
func checkCopyConditions(h http.Header, o *meta.Object) error {
	mod := lastModified(o)
	if im := h.Get("x-amz-copy-source-if-match"); im != "" {
		if !etagMatches(im, o.ETag) {
			return fmt.Errorf("%w: x-amz-copy-source-if-match", ErrPrecondition)
		}
	} else if t, err := http.ParseTime(h.Get("x-amz-copy-source-if-unmodified-since")); err == nil && mod.After(t) {
		return fmt.Errorf("%w: x-amz-copy-source-if-unmodified-since", ErrPrecondition)
	}
	if inm := h.Get("x-amz-copy-source-if-none-match"); inm != "" {
		if etagMatches(inm, o.ETag) {
			return fmt.Errorf("%w: x-amz-copy-source-if-none-match", ErrPrecondition)
		}
	} else if t, err := http.ParseTime(h.Get("x-amz-copy-source-if-modified-since")); err == nil && !mod.After(t) {
		return fmt.Errorf("%w: x-amz-copy-source-if-modified-since", ErrPrecondition)
	}
	return nil
}

// setObjectHeaders writes an object's metadata as GET and HEAD return it.
func setObjectHeaders(h http.Header, o *meta.Object) {
	h.Set("Last-Modified", lastModified(o).Format(http.TimeFormat))
	h.Set("ETag", quoteETag(o.ETag))
	ct := o.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	h.Set("Content-Type", ct)
	h.Set("Accept-Ranges", "bytes")
	for k, v := range o.Headers {
		h.Set(k, v)
	}
	for k, v := range o.UserMeta {
		h["X-Amz-Meta-"+k] = []string{v}
	}
	if len(o.Tags) > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(len(o.Tags)))
	}
}

// getObject serves GetObject and HeadObject.
func (s *Server) getObject(ctx context.Context, rq *request, b meta.Bucket) error {
	o, err := s.objectForRead(ctx, rq, b)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	if err := checkConditions(rq.r.Header, o); err != nil {
		if errors.Is(err, errNotModified) {
			h.Set("ETag", quoteETag(o.ETag))
			h.Set("Last-Modified", lastModified(o).Format(http.TimeFormat))
		}
		return err
	}
	off, n := int64(0), o.Size
	partial := false
	if pn := rq.query("partNumber"); pn != "" {
		num, ok := parseDecimal(pn)
		if !ok || num < 1 || num > maxParts {
			return withMessage(ErrInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
		}
		if rq.r.Header.Get("Range") != "" {
			return withMessage(ErrInvalidRequest, "Cannot specify both Range header and partNumber query parameter")
		}
		switch {
		case len(o.PartSizes) == 0 && num == 1:
		case len(o.PartSizes) == 0 || num > int64(len(o.PartSizes)):
			return ErrInvalidPartNumber
		default:
			for _, sz := range o.PartSizes[:num-1] {
				off += sz
			}
			n = o.PartSizes[num-1]
			h.Set("x-amz-mp-parts-count", strconv.Itoa(len(o.PartSizes)))
		}
		partial = true
	} else if rh := rq.r.Header.Get("Range"); rh != "" {
		roff, rn, err := parseRange(rh, o.Size)
		switch {
		case errors.Is(err, ErrInvalidRange):
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", o.Size))
			return err
		case err == nil:
			off, n, partial = roff, rn, true
		}
	}
	setObjectHeaders(h, o)
	if strings.EqualFold(rq.r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
		setGetChecksumHeaders(h, o, rq.query("partNumber"), partial)
	}
	for q, name := range responseOverrides {
		if v := rq.query(q); v != "" {
			h.Set(name, v)
		}
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		if n > 0 {
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, o.Size))
		}
	}
	if rq.r.Method == http.MethodHead || n == 0 {
		rq.w.WriteHeader(status)
		return nil
	}
	rc, err := s.b.OpenObject(ctx, o, off, n)
	if err != nil {
		return err
	}
	defer rc.Close()
	return s.sendBody(rq, status, rc, n)
}

// getBufSize is the copy buffer of a GET: the first read happens before the
// status is sent, so that a failure to read anything is still an S3 error.
const getBufSize = 128 << 10

func (s *Server) sendBody(rq *request, status int, rc io.Reader, n int64) error {
	buf := make([]byte, min(int64(getBufSize), n))
	k, err := io.ReadFull(rc, buf)
	if err != nil && !(errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
		return err
	}
	if k == 0 {
		return fmt.Errorf("s3api: object %s/%s: backend returned no bytes: %w", rq.bucket, rq.key, io.ErrUnexpectedEOF)
	}
	rq.w.WriteHeader(status)
	cw := &countWriter{w: rq.w}
	cw.Write(buf[:k])
	if cw.err == nil && err == nil && cw.n < n {
		if wt, ok := rc.(io.WriterTo); ok {
			// Straight from the backend's chunk buffers (object.reader),
			// which hold exactly the range asked for.
			_, err = wt.WriteTo(cw)
		} else {
			_, err = io.CopyBuffer(cw, io.LimitReader(rc, n-cw.n), buf)
		}
	}
	if cw.err != nil {
		return nil // client went away
	}
	if cw.n != n {
		// Headers are out; the short body tells the client. Log the cause.
		s.log.Error("s3api: GET body cut short", "op", rq.op, "bucket", rq.bucket, "key", rq.key,
			"req_id", rq.id, "sent", cw.n, "want", n, "err", err)
	}
	return nil
}

// countWriter counts the bytes written through it and keeps the first
// write error (the client went away).
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	k, err := c.w.Write(p)
	c.n += int64(k)
	c.err = err
	return k, err
}

func (s *Server) putObject(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := checkKey(rq.key); err != nil {
		return err
	}
	size, err := bodySize(rq, s.opt.MaxPutSize)
	if err != nil {
		return err
	}
	obj, err := objectFromHeaders(rq.r.Header, b.Name, rq.key)
	if err != nil {
		return err
	}
	d, err := s.newDigestReader(rq, size)
	if err != nil {
		return err
	}
	defer d.close()
	in := &PutInput{
		Object: obj,
		Body:   d,
		Size:   size,
		Seal: func(o *meta.Object) error {
			o.ETag, o.Checksums = d.etag, d.sums
			if len(d.sums) > 0 {
				o.ChecksumType = "FULL_OBJECT"
			}
			return nil
		},
		IfMatch: trimETag(rq.r.Header.Get("If-Match")),
	}
	if err := s.applyObjectLock(ctx, rq, b, &in.Object); err != nil {
		return err
	}
	if in.IfNoneMatch, err = s.checkWriteTarget(ctx, rq, b); err != nil {
		return err
	}
	o, err := s.b.PutObject(ctx, in)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", quoteETag(o.ETag))
	setVersionHeader(h, b, o)
	setChecksumHeaders(h, o.Checksums, o.ChecksumType)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// checkWriteTarget prepares a conditional write. If-Match naming an object
// that does not exist answers NoSuchKey, as AWS does (the backend's commit
// still decides atomically; this only picks the error). The commit takes
// If-None-Match "*" only (as AWS documents it); an ETag list, which MinIO and
// its clients use, is checked here against the current object, not
// atomically, and the value the commit should get is returned.
func (s *Server) checkWriteTarget(ctx context.Context, rq *request, b meta.Bucket) (ifNoneMatch string, err error) {
	im, inm := rq.r.Header.Get("If-Match"), trimETag(rq.r.Header.Get("If-None-Match"))
	if im == "" && (inm == "" || inm == "*") {
		return inm, nil
	}
	cur, err := s.b.HeadObject(ctx, b.Name, rq.key)
	switch {
	case errors.Is(err, meta.ErrNoSuchKey):
		if im != "" {
			return "", err
		}
		return "", nil
	case err != nil:
		return "", err
	case inm != "" && inm != "*" && etagMatches(rq.r.Header.Get("If-None-Match"), cur.ETag):
		return "", fmt.Errorf("%w: If-None-Match", ErrPrecondition)
	case inm == "*":
		return inm, nil
	}
	return "", nil
}

func (s *Server) deleteObject(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := checkKey(rq.key); err != nil {
		return err
	}
	if err := s.b.DeleteObject(ctx, b.Name, rq.key); err != nil && !errors.Is(err, meta.ErrNoSuchKey) {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteObjects is DeleteObjects: up to 1000 keys, the body protected by
// Content-MD5 or an x-amz-checksum-* header.
func (s *Server) deleteObjects(ctx context.Context, rq *request, b meta.Bucket) error {
	hasSum := rq.r.Header.Get("Content-MD5") != ""
	for k := range rq.r.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") || strings.EqualFold(k, "x-amz-sdk-checksum-algorithm") || strings.EqualFold(k, "x-amz-trailer") {
			hasSum = true
		}
	}
	if !hasSum {
		return ErrMissingContentMD5
	}
	size := rq.auth.Size
	if size > maxDeleteXML {
		return fmt.Errorf("%w: Delete body of %d bytes", ErrMalformedXML, size)
	}
	d, err := s.newDigestReader(rq, size)
	if err != nil {
		return err
	}
	defer d.close()
	data, err := io.ReadAll(io.LimitReader(d, maxDeleteXML+1))
	if err != nil {
		return err
	}
	if len(data) > maxDeleteXML {
		return fmt.Errorf("%w: Delete body over %d bytes", ErrMalformedXML, maxDeleteXML)
	}
	req, err := parseDelete(data)
	if err != nil {
		return err
	}
	res := deleteResult{NS: s3NS}
	for _, obj := range req.Objects {
		err := checkKey(obj.Key)
		if err == nil && obj.Key == "" {
			err = meta.ErrInvalidKey
		}
		var dr *meta.DeleteObjectResult
		if err == nil {
			dr, err = s.deleteOne(ctx, b, obj.Key, obj.VersionID, objectlock.BypassGovernance(rq.r.Header))
		}
		if err != nil {
			c := lookupError(err)
			if c.status == http.StatusInternalServerError {
				s.log.Error("s3api: delete failed", "op", rq.op, "bucket", b.Name, "key", obj.Key, "req_id", rq.id, "err", err)
			}
			res.Errors = append(res.Errors, deleteError{Key: obj.Key, VersionID: obj.VersionID, Code: c.code, Message: c.msg})
			continue
		}
		if !req.Quiet {
			d := deletedObject{Key: obj.Key, VersionID: obj.VersionID}
			if dr.DeleteMarker {
				d.DeleteMarker = true
				if obj.VersionID == "" {
					d.DeleteMarkerVersionID = apiVersionID(dr.VersionID)
				}
			}
			res.Deleted = append(res.Deleted, d)
		}
	}
	return s.writeXML(rq, http.StatusOK, res)
}

// parseCopySource splits x-amz-copy-source ("[/]bucket/key[?versionId=v]",
// URL-encoded).
func parseCopySource(v string) (bucket, key string, err error) {
	path, query, _ := strings.Cut(v, "?")
	path, err = url.PathUnescape(path)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrCopySource, err)
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", ErrCopySource
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", fmt.Errorf("%w: %v", ErrCopySource, err)
		}
		if vid := q.Get("versionId"); vid != "" && vid != "null" {
			return "", "", fmt.Errorf("%w: %q", ErrNoSuchVersion, vid)
		}
	}
	if err := checkKey(key); err != nil {
		return "", "", err
	}
	return bucket, key, nil
}

// copySource resolves and authorizes x-amz-copy-source.
func (s *Server) copySource(ctx context.Context, rq *request) (*meta.Object, error) {
	sb, sk, vid, err := parseCopySourceVersion(rq.r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return nil, err
	}
	if _, err := s.authorizeBucket(ctx, rq, sb); err != nil {
		return nil, err
	}
	src, err := s.versionFor(ctx, sb, sk, vid)
	if err != nil {
		return nil, err
	}
	if src.DeleteMarker {
		return nil, withMessage(ErrInvalidRequest, "The source of a copy request may not specifically refer to a delete marker by version id.")
	}
	if vid != "" || src.VersionID != "" {
		rq.w.Header().Set("x-amz-copy-source-version-id", apiVersionID(src.VersionID))
	}
	if err := checkCopyConditions(rq.r.Header, src); err != nil {
		return nil, err
	}
	return src, nil
}

func directive(h http.Header, name string) (string, error) {
	switch v := strings.ToUpper(h.Get(name)); v {
	case "", "COPY":
		return "COPY", nil
	case "REPLACE":
		return v, nil
	default:
		return "", withMessage(ErrInvalidArgument, "Unknown "+name)
	}
}

func (s *Server) copyObject(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := checkKey(rq.key); err != nil {
		return err
	}
	mdDir, err := directive(rq.r.Header, "x-amz-metadata-directive")
	if err != nil {
		return err
	}
	tagDir, err := directive(rq.r.Header, "x-amz-tagging-directive")
	if err != nil {
		return err
	}
	src, err := s.copySource(ctx, rq)
	if err != nil {
		return err
	}
	newClass := rq.r.Header.Get("x-amz-storage-class") != ""
	if src.Bucket == b.Name && src.Key == rq.key && mdDir != "REPLACE" && !newClass {
		return withMessage(ErrInvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if src.Size > s.opt.MaxPutSize {
		return withMessage(ErrInvalidRequest, fmt.Sprintf("The specified copy source is larger than the maximum allowable size for a copy source: %d", s.opt.MaxPutSize))
	}
	hdr, err := objectFromHeaders(rq.r.Header, b.Name, rq.key)
	if err != nil {
		return err
	}
	dst := meta.Object{
		Bucket: b.Name, Key: rq.key, Size: src.Size, ETag: src.ETag,
		ContentType: src.ContentType, Headers: src.Headers, UserMeta: src.UserMeta, Tags: src.Tags,
		Checksums: src.Checksums, ChecksumType: src.ChecksumType, PartSizes: src.PartSizes,
	}
	if mdDir == "REPLACE" {
		dst.ContentType, dst.Headers, dst.UserMeta = hdr.ContentType, hdr.Headers, hdr.UserMeta
	} else if newClass {
		// The storage class is set by the copy whatever the directive.
		dst.Headers = maps.Clone(dst.Headers)
		if dst.Headers == nil {
			dst.Headers = make(map[string]string)
		}
		delete(dst.Headers, storageClassHeader)
		if sc := hdr.Headers[storageClassHeader]; sc != "" {
			dst.Headers[storageClassHeader] = sc
		}
	}
	if tagDir == "REPLACE" {
		dst.Tags = hdr.Tags
	}
	if err := s.applyObjectLock(ctx, rq, b, &dst); err != nil {
		return err
	}
	ifNoneMatch, err := s.checkWriteTarget(ctx, rq, b)
	if err != nil {
		return err
	}
	if dst.Checksums, dst.ChecksumType, err = s.copyChecksums(ctx, rq.r.Header, src); err != nil {
		return err
	}
	o, err := s.b.CopyObject(ctx, src, &dst, trimETag(rq.r.Header.Get("If-Match")), ifNoneMatch)
	if err != nil {
		return err
	}
	setVersionHeader(rq.w.Header(), b, o)
	res := copyObjectResult{NS: s3NS, LastModified: xmlTime(o.Modified), ETag: quoteETag(o.ETag)}
	res.checksumFields = checksumXML(o.Checksums)
	if len(o.Checksums) > 0 {
		res.ChecksumType = o.ChecksumType
	}
	return s.writeXML(rq, http.StatusOK, res)
}

func (s *Server) getObjectTagging(ctx context.Context, rq *request, b meta.Bucket) error {
	o, err := s.objectForRead(ctx, rq, b)
	if err != nil {
		return err
	}
	res := tagging{NS: s3NS, TagSet: []tag{}}
	for k, v := range o.Tags {
		res.TagSet = append(res.TagSet, tag{Key: k, Value: v})
	}
	sort.Slice(res.TagSet, func(i, j int) bool { return res.TagSet[i].Key < res.TagSet[j].Key })
	return s.writeXML(rq, http.StatusOK, res)
}

func (s *Server) putObjectTagging(ctx context.Context, rq *request, b meta.Bucket) error {
	data, err := io.ReadAll(io.LimitReader(rq.auth.Body, maxSmallXML+1))
	if err != nil {
		return err
	}
	if len(data) > maxSmallXML {
		return fmt.Errorf("%w: Tagging over %d bytes", ErrMalformedXML, maxSmallXML)
	}
	tags, err := parseTagging(data)
	if err != nil {
		return err
	}
	if err := s.putTags(ctx, rq, b, tags); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteObjectTagging(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := s.putTags(ctx, rq, b, nil); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
