package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/objectlock"
)

// Versioner is the versioning capability of a Backend (package object
// implements it). It is optional: a Backend without it answers the
// versioning operations with NotImplemented and behaves as an unversioned
// store. Safe for concurrent use.
type Versioner interface {
	// SetBucketVersioning sets meta.VersioningEnabled or
	// meta.VersioningSuspended.
	SetBucketVersioning(ctx context.Context, bucket, state string) error
	// GetObjectVersion returns one version ("null" names the null
	// version), delete markers included (DeleteMarker set);
	// meta.ErrNoSuchVersion if absent.
	GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error)
	// DeleteObjectVersion deletes S3 style: versionID "" creates a delete
	// marker in a versioned bucket; a version ID removes that version.
	DeleteObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.DeleteObjectResult, error)
	ListObjectVersions(ctx context.Context, req *meta.ListVersionsRequest) (*meta.ListVersionsResult, error)
	PutObjectVersionTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) error
	// PutObjectLock changes one version's retention and legal hold.
	PutObjectLock(ctx context.Context, bucket, key, versionID string, u meta.ObjectLockUpdate) error
}

func (s *Server) versioner() (Versioner, error) {
	v, ok := s.b.(Versioner)
	if !ok {
		return nil, fmt.Errorf("%w: versioning", ErrNotImplemented)
	}
	return v, nil
}

// apiVersionID is how S3 names a stored version ID ("" is "null").
func apiVersionID(v string) string {
	if v == "" {
		return meta.NullVersion
	}
	return v
}

// setVersionHeader sets x-amz-version-id for o when its bucket is (or was)
// versioned, as AWS does.
func setVersionHeader(h http.Header, b meta.Bucket, o *meta.Object) {
	if o.VersionID != "" || b.Versioning != "" {
		h.Set("x-amz-version-id", apiVersionID(o.VersionID))
	}
}

// validVersionParam checks a versionId query value: present and not empty.
func validVersionParam(rq *request) (string, error) {
	vid := rq.query("versionId")
	if vid == "" || len(vid) > 1024 {
		return "", withMessage(ErrInvalidArgument, "Invalid version id specified")
	}
	return vid, nil
}

// routeVersions picks the versioning operations; ok is false for requests
// the rest of the router handles.
func (s *Server) routeVersions(rq *request, m string) (op string, h handler, ok bool) {
	if rq.key == "" {
		switch {
		case rq.has("versioning") && m == http.MethodGet:
			return "GetBucketVersioning", s.bucketOp(s.getVersioning), true
		case rq.has("versioning") && m == http.MethodPut:
			return "PutBucketVersioning", s.bucketOp(s.putVersioning), true
		case rq.has("versions") && m == http.MethodGet:
			return "ListObjectVersions", s.bucketOp(s.listVersions), true
		}
		return "", nil, false
	}
	switch {
	case rq.has("retention") && m == http.MethodPut:
		return "PutObjectRetention", s.bucketOp(s.putRetention), true
	case rq.has("retention") && m == http.MethodGet:
		return "GetObjectRetention", s.bucketOp(s.getRetention), true
	case rq.has("legal-hold") && m == http.MethodPut:
		return "PutObjectLegalHold", s.bucketOp(s.putLegalHold), true
	case rq.has("legal-hold") && m == http.MethodGet:
		return "GetObjectLegalHold", s.bucketOp(s.getLegalHold), true
	}
	if m == http.MethodDelete && !rq.has("tagging") && !rq.has("uploadId") {
		if _, other := rq.hasAny(unsupportedObject); !other {
			return "DeleteObject", s.bucketOp(s.deleteObjectVersioned), true
		}
	}
	return "", nil, false
}

type versioningConfig struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	NS        string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

func (s *Server) getVersioning(ctx context.Context, rq *request, b meta.Bucket) error {
	return s.writeXML(rq, http.StatusOK, versioningConfig{NS: s3NS, Status: b.Versioning})
}

// parseVersioning reads a VersioningConfiguration document.
func parseVersioning(data []byte) (string, error) {
	var c versioningConfig
	if err := xml.Unmarshal(data, &c); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformedXML, err)
	}
	switch c.Status {
	case meta.VersioningEnabled, meta.VersioningSuspended:
	default:
		return "", fmt.Errorf("%w: versioning status %.40q", ErrMalformedXML, c.Status)
	}
	if c.MfaDelete != "" && c.MfaDelete != "Disabled" {
		return "", withMessage(ErrNotImplemented, "MFA delete is not supported")
	}
	return c.Status, nil
}

func (s *Server) putVersioning(ctx context.Context, rq *request, b meta.Bucket) error {
	v, err := s.versioner()
	if err != nil {
		return err
	}
	data, err := readConfigBody(rq, maxSmallXML, ErrMalformedXML)
	if err != nil {
		return err
	}
	state, err := parseVersioning(data)
	if err != nil {
		return err
	}
	if err := v.SetBucketVersioning(ctx, b.Name, state); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// versionEntry is a <Version> or a <DeleteMarker> of ListVersionsResult
// (XMLName picks which, so that both kinds keep their listing order).
type versionEntry struct {
	XMLName      xml.Name
	Key          string `xml:"Key"`
	VersionID    string `xml:"VersionId"`
	IsLatest     bool   `xml:"IsLatest"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag,omitempty"`
	Size         *int64 `xml:"Size,omitempty"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass,omitempty"`
}

type listVersionsResult struct {
	XMLName             xml.Name       `xml:"ListVersionsResult"`
	NS                  string         `xml:"xmlns,attr"`
	Name                string         `xml:"Name"`
	Prefix              string         `xml:"Prefix"`
	KeyMarker           string         `xml:"KeyMarker"`
	VersionIDMarker     string         `xml:"VersionIdMarker"`
	NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int            `xml:"MaxKeys"`
	Delimiter           string         `xml:"Delimiter,omitempty"`
	IsTruncated         bool           `xml:"IsTruncated"`
	Entries             []versionEntry // Version and DeleteMarker elements
	CommonPrefixes      []commonPrefix `xml:"CommonPrefixes"`
	EncodingType        string         `xml:"EncodingType,omitempty"`
}

func (s *Server) listVersions(ctx context.Context, rq *request, b meta.Bucket) error {
	v, err := s.versioner()
	if err != nil {
		return err
	}
	enc, et, err := encoder(rq)
	if err != nil {
		return err
	}
	max, err := maxKeysParam(rq, "max-keys")
	if err != nil {
		return err
	}
	req := &meta.ListVersionsRequest{
		Bucket: b.Name, Prefix: rq.query("prefix"), Delimiter: rq.query("delimiter"),
		KeyMarker: rq.query("key-marker"), VersionIDMarker: rq.query("version-id-marker"), MaxKeys: max,
	}
	if req.VersionIDMarker != "" && req.KeyMarker == "" {
		return withMessage(ErrInvalidArgument, "A version-id marker cannot be specified without a key marker.")
	}
	res := listVersionsResult{
		NS: s3NS, Name: b.Name, Prefix: enc(req.Prefix), KeyMarker: enc(req.KeyMarker), VersionIDMarker: req.VersionIDMarker,
		MaxKeys: max, Delimiter: enc(req.Delimiter), EncodingType: et,
	}
	if max > 0 {
		lr, err := v.ListObjectVersions(ctx, req)
		if err != nil {
			return err
		}
		res.IsTruncated = lr.IsTruncated
		if lr.IsTruncated {
			res.NextKeyMarker, res.NextVersionIDMarker = enc(lr.NextKeyMarker), lr.NextVersionIDMarker
		}
		own := ownerOf(b)
		for i := range lr.Versions {
			o := &lr.Versions[i]
			e := versionEntry{Key: enc(o.Key), VersionID: apiVersionID(o.VersionID), IsLatest: o.IsLatest,
				LastModified: xmlTime(o.Modified), Owner: own}
			if o.DeleteMarker {
				e.XMLName.Local = "DeleteMarker"
			} else {
				e.XMLName.Local = "Version"
				e.ETag, e.Size = quoteETag(o.ETag), &o.Size
				e.StorageClass = "STANDARD"
				if sc := o.Headers[storageClassHeader]; sc != "" {
					e.StorageClass = sc
				}
			}
			res.Entries = append(res.Entries, e)
		}
		for _, p := range lr.CommonPrefixes {
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: enc(p)})
		}
	}
	return s.writeXML(rq, http.StatusOK, res)
}

// objectForRead returns the object a GET, HEAD or GetObjectTagging names:
// the current version, or the versionId query's. A delete marker answers
// NoSuchKey (current) or MethodNotAllowed (named), with
// x-amz-delete-marker; x-amz-version-id is set as AWS does.
func (s *Server) objectForRead(ctx context.Context, rq *request, b meta.Bucket) (*meta.Object, error) {
	h := rq.w.Header()
	if !rq.has("versionId") {
		o, err := s.b.HeadObject(ctx, b.Name, rq.key)
		if errors.Is(err, meta.ErrNoSuchKey) && b.Versioning != "" {
			s.markDeleted(ctx, h, b, rq.key)
		}
		if err != nil {
			return nil, err
		}
		setVersionHeader(h, b, o)
		setLockHeaders(h, o)
		return o, nil
	}
	vid, err := validVersionParam(rq)
	if err != nil {
		return nil, err
	}
	o, err := s.versionFor(ctx, b.Name, rq.key, vid)
	if err != nil {
		return nil, err
	}
	if o.DeleteMarker {
		h.Set("x-amz-delete-marker", "true")
		h.Set("x-amz-version-id", apiVersionID(o.VersionID))
		return nil, fmt.Errorf("%w: version %s is a delete marker", ErrMethodNotAllowed, vid)
	}
	h.Set("x-amz-version-id", apiVersionID(o.VersionID))
	setLockHeaders(h, o)
	return o, nil
}

// markDeleted sets x-amz-delete-marker and x-amz-version-id when the
// latest version of key is a delete marker (GET/HEAD answering NoSuchKey).
func (s *Server) markDeleted(ctx context.Context, h http.Header, b meta.Bucket, key string) {
	v, ok := s.b.(Versioner)
	if !ok {
		return
	}
	lr, err := v.ListObjectVersions(ctx, &meta.ListVersionsRequest{Bucket: b.Name, Prefix: key, MaxKeys: 1})
	if err != nil || len(lr.Versions) != 1 {
		return
	}
	if o := lr.Versions[0]; o.Key == key && o.DeleteMarker && o.IsLatest {
		h.Set("x-amz-delete-marker", "true")
		h.Set("x-amz-version-id", apiVersionID(o.VersionID))
	}
}

// versionFor returns one version (vid "" for the current one) of
// bucket/key; meta.ErrNoSuchVersion maps to NoSuchVersion.
func (s *Server) versionFor(ctx context.Context, bucket, key, vid string) (*meta.Object, error) {
	if vid == "" {
		return s.b.HeadObject(ctx, bucket, key)
	}
	v, ok := s.b.(Versioner)
	if !ok {
		if vid == meta.NullVersion {
			return s.b.HeadObject(ctx, bucket, key)
		}
		return nil, fmt.Errorf("%w: %q", ErrNoSuchVersion, vid)
	}
	o, err := v.GetObjectVersion(ctx, bucket, key, vid)
	if errors.Is(err, meta.ErrNoSuchVersion) {
		if !validVersionID(vid) {
			return nil, withMessage(ErrInvalidArgument, "Invalid version id specified")
		}
		return nil, fmt.Errorf("%w: %v", ErrNoSuchVersion, err)
	}
	return o, err
}

// validVersionID reports whether vid could name a version: "null" or
// URL-safe characters.
func validVersionID(vid string) bool {
	if vid == "" || len(vid) > 1024 {
		return false
	}
	for i := 0; i < len(vid); i++ {
		c := vid[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}

// putTags replaces the tags of the current version or of the versionId
// query's.
func (s *Server) putTags(ctx context.Context, rq *request, b meta.Bucket, tags map[string]string) error {
	if !rq.has("versionId") {
		o, err := s.b.HeadObject(ctx, b.Name, rq.key)
		if err != nil {
			return err
		}
		if err := s.b.PutObjectTags(ctx, b.Name, rq.key, tags); err != nil {
			return err
		}
		setVersionHeader(rq.w.Header(), b, o)
		return nil
	}
	vid, err := validVersionParam(rq)
	if err != nil {
		return err
	}
	o, err := s.versionFor(ctx, b.Name, rq.key, vid)
	if err != nil {
		return err
	}
	if o.DeleteMarker {
		rq.w.Header().Set("x-amz-delete-marker", "true")
		return fmt.Errorf("%w: version %s is a delete marker", ErrMethodNotAllowed, vid)
	}
	v, err := s.versioner()
	if err != nil {
		return err
	}
	if err := v.PutObjectVersionTags(ctx, b.Name, rq.key, vid, tags); err != nil {
		if errors.Is(err, meta.ErrNoSuchVersion) {
			return fmt.Errorf("%w: %v", ErrNoSuchVersion, err)
		}
		return err
	}
	rq.w.Header().Set("x-amz-version-id", apiVersionID(o.VersionID))
	return nil
}

// deleteOne deletes key (version vid, "" for none) and reports what
// happened. A Backend without versioning deletes the object.
func (s *Server) deleteOne(ctx context.Context, b meta.Bucket, key, vid string, bypass bool) (*meta.DeleteObjectResult, error) {
	v, ok := s.b.(Versioner)
	if !ok || (vid == "" && b.Versioning == "") {
		if vid != "" && vid != meta.NullVersion {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchVersion, vid)
		}
		if err := s.b.DeleteObject(ctx, b.Name, key); err != nil && !errors.Is(err, meta.ErrNoSuchKey) {
			return nil, err
		}
		return &meta.DeleteObjectResult{}, nil
	}
	if vid != "" && !validVersionID(vid) {
		return nil, withMessage(ErrInvalidArgument, "Invalid version id specified")
	}
	if vid != "" {
		if err := s.checkLock(ctx, v, b, key, vid, bypass); err != nil {
			return nil, err
		}
	}
	return v.DeleteObjectVersion(ctx, b.Name, key, vid)
}

// deleteObjectVersioned is DeleteObject with or without versionId.
func (s *Server) deleteObjectVersioned(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := checkKey(rq.key); err != nil {
		return err
	}
	vid := ""
	if rq.has("versionId") {
		var err error
		if vid, err = validVersionParam(rq); err != nil {
			return err
		}
	}
	res, err := s.deleteOne(ctx, b, rq.key, vid, objectlock.BypassGovernance(rq.r.Header))
	if err != nil {
		return err
	}
	h := rq.w.Header()
	if res.DeleteMarker {
		h.Set("x-amz-delete-marker", "true")
	}
	if vid != "" || b.Versioning != "" {
		h.Set("x-amz-version-id", apiVersionID(res.VersionID))
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseCopySourceVersion splits x-amz-copy-source ("[/]bucket/key[?versionId=v]",
// URL-encoded) into bucket, key and version ID ("" for none).
func parseCopySourceVersion(v string) (bucket, key, vid string, err error) {
	path, query, _ := strings.Cut(v, "?")
	path, err = url.PathUnescape(path)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: %v", ErrCopySource, err)
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", ErrCopySource
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", fmt.Errorf("%w: %v", ErrCopySource, err)
		}
		if q.Has("versionId") {
			vid = q.Get("versionId")
			if !validVersionID(vid) {
				return "", "", "", withMessage(ErrInvalidArgument, "Invalid version id specified")
			}
		}
	}
	if err := checkKey(key); err != nil {
		return "", "", "", err
	}
	return bucket, key, vid, nil
}

// ---- Object Lock of versions (retention, legal hold) ----

// ErrNoSuchObjectLockConfiguration: a version without retention (404).
var ErrNoSuchObjectLockConfiguration = errors.New("s3api: no object lock configuration on the object")

// errLockNotEnabled answers lock requests on a bucket without Object Lock.
func errLockNotEnabled() error {
	return withMessage(ErrInvalidRequest, "Bucket is missing Object Lock Configuration")
}

// lockRetention is o's retention as objectlock sees it.
func lockRetention(o *meta.Object) *objectlock.Retention {
	if o.RetentionMode == "" {
		return nil
	}
	return &objectlock.Retention{Mode: objectlock.Mode(o.RetentionMode), Until: time.Unix(0, o.RetainUntil).UTC()}
}

// lockConfig returns the bucket's Object Lock configuration, or
// errLockNotEnabled.
func (s *Server) lockConfig(ctx context.Context, b meta.Bucket) (*objectlock.Config, error) {
	doc, err := s.b.GetBucketConfig(ctx, b.Name, "object-lock")
	if errors.Is(err, meta.ErrNoSuchConfig) {
		return nil, errLockNotEnabled()
	}
	if err != nil {
		return nil, err
	}
	c, err := objectlock.ParseConfig(doc)
	if err != nil {
		return nil, fmt.Errorf("s3api: stored object-lock configuration of %s: %w", b.Name, err)
	}
	return c, nil
}

// applyObjectLock sets o's retention and legal hold for a new version from
// the x-amz-object-lock-* headers or the bucket's default retention (o is
// the upload's template for CreateMultipartUpload).
func (s *Server) applyObjectLock(ctx context.Context, rq *request, b meta.Bucket, o *meta.Object) error {
	now := s.opt.Now()
	ret, hold, err := objectlock.FromHeaders(rq.r.Header, now)
	if err != nil {
		return packageError(err)
	}
	if b.Versioning != meta.VersioningEnabled && ret == nil && hold == nil {
		return nil // Object Lock requires versioning: no default to apply
	}
	if _, ok := s.b.(Versioner); !ok {
		if ret != nil || hold != nil {
			return errLockNotEnabled()
		}
		return nil
	}
	c, err := s.lockConfig(ctx, b)
	if err != nil {
		if ret == nil && hold == nil && errors.Is(err, ErrInvalidRequest) {
			return nil
		}
		return err
	}
	if ret == nil {
		if mode, until, ok := c.DefaultUntil(now); ok {
			ret = &objectlock.Retention{Mode: mode, Until: until}
		}
	}
	if ret != nil {
		o.RetentionMode, o.RetainUntil = string(ret.Mode), ret.Until.UnixNano()
	}
	if hold != nil {
		o.LegalHold = *hold
	}
	return nil
}

// setLockHeaders writes o's Object Lock state into GET/HEAD headers.
func setLockHeaders(h http.Header, o *meta.Object) {
	var hold *bool
	if o.LegalHold {
		hold = &o.LegalHold
	}
	objectlock.SetHeaders(h, lockRetention(o), hold)
}

// lockTarget resolves the version a retention or legal hold request names
// (the current one without versionId) on an Object Lock bucket.
func (s *Server) lockTarget(ctx context.Context, rq *request, b meta.Bucket) (Versioner, *meta.Object, error) {
	v, err := s.versioner()
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.lockConfig(ctx, b); err != nil {
		return nil, nil, err
	}
	vid := ""
	if rq.has("versionId") {
		if vid, err = validVersionParam(rq); err != nil {
			return nil, nil, err
		}
	}
	o, err := s.versionFor(ctx, b.Name, rq.key, vid)
	if err != nil {
		return nil, nil, err
	}
	if o.DeleteMarker {
		rq.w.Header().Set("x-amz-delete-marker", "true")
		return nil, nil, fmt.Errorf("%w: version %s is a delete marker", ErrMethodNotAllowed, vid)
	}
	return v, o, nil
}

func (s *Server) putRetention(ctx context.Context, rq *request, b meta.Bucket) error {
	v, o, err := s.lockTarget(ctx, rq, b)
	if err != nil {
		return err
	}
	data, err := readConfigBody(rq, objectlock.MaxSize, ErrMalformedXML)
	if err != nil {
		return err
	}
	now := s.opt.Now()
	next, err := objectlock.ParseRetention(data, now)
	if err != nil {
		return packageError(err)
	}
	if err := objectlock.CheckChange(now, lockRetention(o), next, objectlock.BypassGovernance(rq.r.Header)); err != nil {
		return packageError(err)
	}
	u := meta.ObjectLockUpdate{SetRetention: true}
	if !next.IsZero() {
		u.RetentionMode, u.RetainUntil = string(next.Mode), next.Until.UnixNano()
	}
	if err := v.PutObjectLock(ctx, b.Name, rq.key, apiVersionID(o.VersionID), u); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getRetention(ctx context.Context, rq *request, b meta.Bucket) error {
	_, o, err := s.lockTarget(ctx, rq, b)
	if err != nil {
		return err
	}
	r := lockRetention(o)
	if r == nil {
		return ErrNoSuchObjectLockConfiguration
	}
	doc, err := r.Marshal()
	if err != nil {
		return err
	}
	return s.writeDoc(rq, "application/xml", doc)
}

func (s *Server) putLegalHold(ctx context.Context, rq *request, b meta.Bucket) error {
	v, o, err := s.lockTarget(ctx, rq, b)
	if err != nil {
		return err
	}
	data, err := readConfigBody(rq, objectlock.MaxSize, ErrMalformedXML)
	if err != nil {
		return err
	}
	on, err := objectlock.ParseLegalHold(data)
	if err != nil {
		return packageError(err)
	}
	if err := v.PutObjectLock(ctx, b.Name, rq.key, apiVersionID(o.VersionID), meta.ObjectLockUpdate{SetLegalHold: true, LegalHold: on}); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getLegalHold(ctx context.Context, rq *request, b meta.Bucket) error {
	_, o, err := s.lockTarget(ctx, rq, b)
	if err != nil {
		return err
	}
	doc, err := objectlock.MarshalLegalHold(o.LegalHold)
	if err != nil {
		return err
	}
	return s.writeDoc(rq, "application/xml", doc)
}

// checkLock refuses to remove version vid of key while Object Lock
// protects it. The check and the removal are two steps: a retention set in
// between is not seen (docs/arch/versioning.md).
func (s *Server) checkLock(ctx context.Context, v Versioner, b meta.Bucket, key, vid string, bypass bool) error {
	o, err := v.GetObjectVersion(ctx, b.Name, key, vid)
	if errors.Is(err, meta.ErrNoSuchVersion) || errors.Is(err, meta.ErrNoSuchKey) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.DeleteMarker || (o.RetentionMode == "" && !o.LegalHold) {
		return nil
	}
	return packageError(objectlock.Check(s.opt.Now(), lockRetention(o), o.LegalHold, bypass))
}
