package s3api

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/tessera-store/tessera/meta"
)

const maxListKeys = 1000

// s3URLEncode encodes a name for encoding-type=url: every byte but the
// unreserved characters and '/' is percent-encoded, space as '+', the form
// clients undo with a query unescape.
func s3URLEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// encoder returns the name encoder for encoding-type.
func encoder(rq *request) (func(string) string, string, error) {
	switch et := rq.query("encoding-type"); et {
	case "":
		return func(s string) string { return s }, "", nil
	case "url":
		return s3URLEncode, "url", nil
	default:
		return nil, "", withMessage(ErrInvalidArgument, "Invalid Encoding Method specified in Request")
	}
}

// maxKeysParam parses a max-keys style parameter: absent means 1000, above
// 1000 is capped, negative or non-numeric is InvalidArgument.
func maxKeysParam(rq *request, name string) (int, error) {
	v := rq.query(name)
	if v == "" {
		return maxListKeys, nil
	}
	n, ok := parseDecimal(v)
	if !ok {
		return 0, withMessage(ErrInvalidArgument, fmt.Sprintf("Provided %s not an integer or within integer range", name))
	}
	return int(min(n, maxListKeys)), nil
}

func (s *Server) list(ctx context.Context, b meta.Bucket, prefix, delim, marker string, maxKeys int) (*meta.ListResult, error) {
	if maxKeys == 0 {
		return &meta.ListResult{}, nil // meta reads 0 as the default page
	}
	return s.b.ListObjects(ctx, &meta.ListRequest{Bucket: b.Name, Prefix: prefix, Delimiter: delim, Marker: marker, MaxKeys: maxKeys})
}

func contents(res *meta.ListResult, enc func(string) string, own *owner) ([]objectInfo, []commonPrefix) {
	objs := make([]objectInfo, 0, len(res.Objects))
	for _, o := range res.Objects {
		oi := objectInfo{
			Key: enc(o.Key), LastModified: xmlTime(o.Modified), ETag: quoteETag(o.ETag),
			Size: o.Size, StorageClass: "STANDARD", Owner: own, VersionID: o.VersionID,
		}
		if sc := o.Headers[storageClassHeader]; sc != "" {
			oi.StorageClass = sc
		}
		for alg := range o.Checksums {
			oi.ChecksumAlgorithm = append(oi.ChecksumAlgorithm, alg)
		}
		sort.Strings(oi.ChecksumAlgorithm)
		if len(oi.ChecksumAlgorithm) > 0 {
			oi.ChecksumType = o.ChecksumType
		}
		objs = append(objs, oi)
	}
	var cps []commonPrefix
	for _, p := range res.CommonPrefixes {
		cps = append(cps, commonPrefix{Prefix: enc(p)})
	}
	return objs, cps
}

func (s *Server) listObjectsV1(ctx context.Context, rq *request, b meta.Bucket) error {
	enc, et, err := encoder(rq)
	if err != nil {
		return err
	}
	maxKeys, err := maxKeysParam(rq, "max-keys")
	if err != nil {
		return err
	}
	prefix, delim, marker := rq.query("prefix"), rq.query("delimiter"), rq.query("marker")
	res, err := s.list(ctx, b, prefix, delim, marker, maxKeys)
	if err != nil {
		return err
	}
	own := ownerOf(b)
	out := listBucketResult{
		NS: s3NS, Name: b.Name, Prefix: enc(prefix), Marker: new(string), MaxKeys: maxKeys,
		Delimiter: enc(delim), IsTruncated: res.IsTruncated, EncodingType: et,
	}
	*out.Marker = enc(marker)
	out.Contents, out.CommonPrefixes = contents(res, enc, &own)
	if res.IsTruncated {
		out.NextMarker = enc(res.NextMarker)
	}
	return s.writeXML(rq, http.StatusOK, out)
}

func (s *Server) listObjectsV2(ctx context.Context, rq *request, b meta.Bucket) error {
	enc, et, err := encoder(rq)
	if err != nil {
		return err
	}
	maxKeys, err := maxKeysParam(rq, "max-keys")
	if err != nil {
		return err
	}
	prefix, delim, startAfter := rq.query("prefix"), rq.query("delimiter"), rq.query("start-after")
	marker := startAfter
	token := rq.query("continuation-token")
	if rq.has("continuation-token") {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || token == "" {
			return withMessage(ErrInvalidArgument, "The continuation token provided is incorrect")
		}
		marker = string(raw)
	}
	res, err := s.list(ctx, b, prefix, delim, marker, maxKeys)
	if err != nil {
		return err
	}
	var own *owner
	if rq.query("fetch-owner") == "true" {
		o := ownerOf(b)
		own = &o
	}
	out := listBucketResultV2{
		NS: s3NS, Name: b.Name, Prefix: enc(prefix), MaxKeys: maxKeys, Delimiter: enc(delim),
		IsTruncated: res.IsTruncated, ContinuationToken: token, StartAfter: enc(startAfter), EncodingType: et,
	}
	out.Contents, out.CommonPrefixes = contents(res, enc, own)
	if rq.query("metadata") == "true" {
		for i := range out.Contents {
			out.Contents[i].UserMetadata = newListMetadata(&res.Objects[i])
		}
	}
	out.KeyCount = len(out.Contents) + len(out.CommonPrefixes)
	if res.IsTruncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.NextMarker))
	}
	return s.writeXML(rq, http.StatusOK, out)
}

func (s *Server) listUploads(ctx context.Context, rq *request, b meta.Bucket) error {
	enc, et, err := encoder(rq)
	if err != nil {
		return err
	}
	maxUploads, err := maxKeysParam(rq, "max-uploads")
	if err != nil {
		return err
	}
	req := &meta.ListUploadsRequest{
		Bucket: b.Name, Prefix: rq.query("prefix"), Delimiter: rq.query("delimiter"),
		KeyMarker: rq.query("key-marker"), UploadIDMarker: rq.query("upload-id-marker"), MaxUploads: maxUploads,
	}
	res := &meta.ListUploadsResult{}
	if maxUploads > 0 {
		if res, err = s.b.ListUploads(ctx, req); err != nil {
			return err
		}
	}
	own := ownerOf(b)
	out := listMultipartUploadsResult{
		NS: s3NS, Bucket: b.Name, KeyMarker: enc(req.KeyMarker), UploadIDMarker: req.UploadIDMarker,
		Delimiter: enc(req.Delimiter), Prefix: enc(req.Prefix), MaxUploads: maxUploads,
		IsTruncated: res.IsTruncated, EncodingType: et,
	}
	if res.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = enc(res.NextKeyMarker), res.NextUploadIDMarker
	}
	for _, u := range res.Uploads {
		out.Uploads = append(out.Uploads, uploadInfo{
			Key: enc(u.Key), UploadID: u.UploadID, Initiator: own, Owner: own,
			StorageClass: "STANDARD", Initiated: xmlTime(u.Initiated),
		})
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: enc(p)})
	}
	return s.writeXML(rq, http.StatusOK, out)
}

// listMetadata is MinIO's ListObjectsV2 extension metadata=true: each
// <Contents> carries <UserMetadata> with one element per stored header, named
// by the header (X-Amz-Meta-Name for user metadata, Content-Type, ...), the
// form minio-go's StringMap decodes. Names that are not valid XML names are
// left out rather than producing a malformed document.
type listMetadata struct {
	names, values []string
}

// newListMetadata collects o's content type, stored headers and user
// metadata in name order; nil when there is nothing to show.
func newListMetadata(o *meta.Object) *listMetadata {
	m := make(map[string]string, len(o.UserMeta)+len(o.Headers)+1)
	if o.ContentType != "" {
		m["content-type"] = o.ContentType
	}
	for k, v := range o.Headers {
		if k != storageClassHeader {
			m[k] = v
		}
	}
	for k, v := range o.UserMeta {
		m[http.CanonicalHeaderKey("x-amz-meta-"+k)] = v
	}
	lm := &listMetadata{}
	for k := range m {
		if xmlName(k) {
			lm.names = append(lm.names, k)
		}
	}
	if len(lm.names) == 0 {
		return nil
	}
	sort.Strings(lm.names)
	for _, k := range lm.names {
		lm.values = append(lm.values, m[k])
	}
	return lm
}

func (lm *listMetadata) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for i, k := range lm.names {
		if err := e.EncodeElement(lm.values[i], xml.StartElement{Name: xml.Name{Local: k}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// xmlName reports whether s is a valid XML element name made of ASCII
// letters, digits, '-', '_' and '.', starting with a letter or '_'.
func xmlName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return !strings.HasPrefix(strings.ToLower(s), "xml")
}
