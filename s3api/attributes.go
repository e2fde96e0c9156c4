package s3api

import (
	"context"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/tessera-store/tessera/meta"
)

// GetObjectAttributes (GET /bucket/key?attributes) returns the attributes
// named by x-amz-object-attributes in one XML document, without the body:
// ETag (unquoted), Checksum (a COMPOSITE value without its "-N" suffix, as
// AWS returns it), ObjectParts (multipart objects only; paged by
// x-amz-max-parts and x-amz-part-number-marker), StorageClass, ObjectSize.

// objectAttributeNames are the valid x-amz-object-attributes values.
var objectAttributeNames = map[string]bool{
	"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true,
}

type attributesChecksum struct {
	checksumFields
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type attributesPart struct {
	checksumFields
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
}

type attributesParts struct {
	PartsCount           int              `xml:"PartsCount"`
	PartNumberMarker     int              `xml:"PartNumberMarker"`
	NextPartNumberMarker int              `xml:"NextPartNumberMarker"`
	MaxParts             int              `xml:"MaxParts"`
	IsTruncated          bool             `xml:"IsTruncated"`
	Parts                []attributesPart `xml:"Part"`
}

type getObjectAttributesResponse struct {
	XMLName      xml.Name            `xml:"GetObjectAttributesResponse"`
	NS           string              `xml:"xmlns,attr"`
	ETag         string              `xml:"ETag,omitempty"`
	Checksum     *attributesChecksum `xml:"Checksum,omitempty"`
	ObjectParts  *attributesParts    `xml:"ObjectParts,omitempty"`
	StorageClass string              `xml:"StorageClass,omitempty"`
	ObjectSize   *int64              `xml:"ObjectSize,omitempty"`
}

// parseObjectAttributes reads x-amz-object-attributes: a comma-separated
// list (the header may also repeat).
func parseObjectAttributes(h http.Header) (map[string]bool, error) {
	want := make(map[string]bool)
	for _, v := range h.Values("x-amz-object-attributes") {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !objectAttributeNames[name] {
				if len(name) > 64 {
					name = name[:64] + "..."
				}
				return nil, withMessage(ErrInvalidArgument, fmt.Sprintf("Invalid attribute name specified: %s", name))
			}
			want[name] = true
		}
	}
	if len(want) == 0 {
		return nil, withMessage(ErrInvalidArgument, "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
	}
	return want, nil
}

// headerInt parses a non-negative decimal header; "" gives def.
func headerInt(h http.Header, name string, def, limit int) (int, error) {
	v := h.Get(name)
	if v == "" {
		return def, nil
	}
	n, ok := parseDecimal(v)
	if !ok || n > int64(limit) {
		return 0, withMessage(ErrInvalidArgument, fmt.Sprintf("Invalid value for %s: must be an integer between 0 and %d", name, limit))
	}
	return int(n), nil
}

// objectVersionGetter is the optional Backend capability that reads one
// version of an object; without it only the null version ("" or "null")
// can be named.
type objectVersionGetter interface {
	GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error)
}

// headVersion returns the object named by the request's versionId (the
// current version when absent).
func (s *Server) headVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	if versionID == "" {
		return s.b.HeadObject(ctx, bucket, key)
	}
	if vg, ok := s.b.(objectVersionGetter); ok {
		o, err := vg.GetObjectVersion(ctx, bucket, key, versionID)
		if err == nil && o.DeleteMarker {
			return nil, fmt.Errorf("%w: version %s is a delete marker", meta.ErrNoSuchKey, versionID)
		}
		return o, err
	}
	if versionID != meta.NullVersion {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchVersion, versionID)
	}
	o, err := s.b.HeadObject(ctx, bucket, key)
	if err == nil && o.VersionID != "" {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchVersion, versionID)
	}
	return o, err
}

func (s *Server) getObjectAttributes(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := checkKey(rq.key); err != nil {
		return err
	}
	want, err := parseObjectAttributes(rq.r.Header)
	if err != nil {
		return err
	}
	// Above 1000 is capped, as ListParts' max-parts.
	maxP, err := headerInt(rq.r.Header, "x-amz-max-parts", maxListKeys, math.MaxInt32)
	if err != nil {
		return err
	}
	maxP = min(maxP, maxListKeys)
	marker, err := headerInt(rq.r.Header, "x-amz-part-number-marker", 0, maxParts)
	if err != nil {
		return err
	}
	o, err := s.headVersion(ctx, b.Name, rq.key, rq.query("versionId"))
	if err != nil {
		return err
	}
	res := objectAttributes(o, want, marker, maxP)
	h := rq.w.Header()
	h.Set("Last-Modified", lastModified(o).Format(http.TimeFormat))
	if o.VersionID != "" {
		h.Set("x-amz-version-id", o.VersionID)
	}
	return s.writeXML(rq, http.StatusOK, res)
}

// objectAttributes builds the response for o; parts numbered above marker,
// at most maxP of them.
func objectAttributes(o *meta.Object, want map[string]bool, marker, maxP int) *getObjectAttributesResponse {
	res := &getObjectAttributesResponse{NS: s3NS}
	if want["ETag"] {
		res.ETag = o.ETag
	}
	if want["Checksum"] && len(o.Checksums) > 0 {
		sums := make(map[string]string, len(o.Checksums))
		for alg, v := range o.Checksums {
			v, _, _ = strings.Cut(v, "-")
			sums[alg] = v
		}
		res.Checksum = &attributesChecksum{checksumFields: checksumXML(sums), ChecksumType: o.ChecksumType}
	}
	if want["ObjectParts"] && len(o.PartSizes) > 0 {
		op := &attributesParts{PartsCount: len(o.PartSizes), PartNumberMarker: marker, MaxParts: maxP}
		for i := marker; i < len(o.PartSizes); i++ {
			if len(op.Parts) == maxP {
				op.IsTruncated = true
				break
			}
			p := attributesPart{PartNumber: i + 1, Size: o.PartSizes[i]}
			if i < len(o.PartChecksums) {
				p.checksumFields = checksumXML(o.PartChecksums[i])
			}
			op.Parts = append(op.Parts, p)
			op.NextPartNumberMarker = i + 1
		}
		res.ObjectParts = op
	}
	if want["StorageClass"] {
		res.StorageClass = "STANDARD"
		if sc := o.Headers[storageClassHeader]; sc != "" {
			res.StorageClass = sc
		}
	}
	if want["ObjectSize"] {
		size := o.Size
		res.ObjectSize = &size
	}
	return res
}

// partChecksums returns the checksums of part num (1-based) of a multipart
// object, or nil.
func partChecksums(o *meta.Object, num int64) map[string]string {
	if num < 1 || num > int64(len(o.PartChecksums)) {
		return nil
	}
	return o.PartChecksums[num-1]
}

// setGetChecksumHeaders sets the checksums a GET or HEAD with
// x-amz-checksum-mode: ENABLED returns: the object's for the whole object
// (or part 1 of a single-part object), the part's own for ?partNumber=N of a
// multipart object when its checksums are known, none for a Range.
func setGetChecksumHeaders(h http.Header, o *meta.Object, partNumber string, partial bool) {
	if !partial {
		setChecksumHeaders(h, o.Checksums, o.ChecksumType)
		return
	}
	if partNumber == "" {
		return
	}
	num, ok := parseDecimal(partNumber)
	if !ok {
		return
	}
	if len(o.PartSizes) == 0 {
		if num == 1 {
			setChecksumHeaders(h, o.Checksums, o.ChecksumType)
		}
		return
	}
	setChecksumHeaders(h, partChecksums(o, num), "")
}
