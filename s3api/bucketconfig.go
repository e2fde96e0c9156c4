package s3api

// Bucket configuration: policy, CORS, tagging and Object Lock. The documents
// are stored by the Backend as bytes under a name (configPolicy, ...); this
// file validates them on the way in (s3api/policy, s3api/cors,
// s3api/objectlock), answers the Get/Put/Delete sub-resources, enforces the
// policy in authorizeBucket and answers CORS preflight and actual requests.

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/cors"
	"github.com/tessera-store/tessera/s3api/objectlock"
	"github.com/tessera-store/tessera/s3api/policy"
)

// Configuration document names (meta.BucketConfigs).
const (
	configPolicy     = "policy"
	configCORS       = "cors"
	configTagging    = "tagging"
	configObjectLock = "object-lock"
)

// Bucket tagging limits (AWS: 50 tags per bucket).
const maxBucketTags = 50

// Errors of the bucket configuration sub-resources.
var (
	ErrNoSuchBucketPolicy         = errors.New("s3api: no bucket policy")
	ErrNoSuchCORSConfiguration    = errors.New("s3api: no CORS configuration")
	ErrNoSuchTagSet               = errors.New("s3api: no bucket tag set")
	ErrObjectLockConfigNotFound   = errors.New("s3api: no object lock configuration")
	ErrInvalidBucketState         = errors.New("s3api: invalid bucket state")
	errObjectLockNotEnabledBucket = withMessage(ErrInvalidBucketState, "Object Lock configuration cannot be enabled on existing buckets")
)

// routeConfig routes the bucket sub-resources held as configuration
// documents; ok is false for anything else.
func (s *Server) routeConfig(rq *request, m string) (op string, h handler, ok bool) {
	type route struct {
		op string
		h  func(ctx context.Context, rq *request, b meta.Bucket) error
	}
	var r route
	switch {
	case rq.has("policyStatus"):
		if m == http.MethodGet {
			r = route{"GetBucketPolicyStatus", s.getBucketPolicyStatus}
		}
	case rq.has("policy"):
		switch m {
		case http.MethodGet:
			r = route{"GetBucketPolicy", s.getBucketPolicy}
		case http.MethodPut:
			r = route{"PutBucketPolicy", s.putBucketPolicy}
		case http.MethodDelete:
			r = route{"DeleteBucketPolicy", s.deleteBucketPolicy}
		}
	case rq.has("cors"):
		switch m {
		case http.MethodGet:
			r = route{"GetBucketCors", s.getBucketCors}
		case http.MethodPut:
			r = route{"PutBucketCors", s.putBucketCors}
		case http.MethodDelete:
			r = route{"DeleteBucketCors", s.deleteBucketCors}
		}
	case rq.has("tagging"):
		switch m {
		case http.MethodGet:
			r = route{"GetBucketTagging", s.getBucketTagging}
		case http.MethodPut:
			r = route{"PutBucketTagging", s.putBucketTagging}
		case http.MethodDelete:
			r = route{"DeleteBucketTagging", s.deleteBucketTagging}
		}
	case rq.has("object-lock"):
		switch m {
		case http.MethodGet:
			r = route{"GetObjectLockConfiguration", s.getObjectLockConfig}
		case http.MethodPut:
			r = route{"PutObjectLockConfiguration", s.putObjectLockConfig}
		}
	}
	if r.h == nil {
		return "", nil, false
	}
	return r.op, s.bucketOp(r.h), true
}

// readConfigBody reads a configuration document of at most limit bytes;
// tooLarge is returned (wrapped) when the body is longer.
func readConfigBody(rq *request, limit int, tooLarge error) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(rq.auth.Body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%w: document over %d bytes", tooLarge, limit)
	}
	return data, nil
}

// getConfig returns a stored document, or notFound (wrapped) when the bucket
// has none.
func (s *Server) getConfig(ctx context.Context, bucket, name string, notFound error) ([]byte, error) {
	doc, err := s.b.GetBucketConfig(ctx, bucket, name)
	if errors.Is(err, meta.ErrNoSuchConfig) {
		return nil, fmt.Errorf("%w: %s", notFound, bucket)
	}
	return doc, err
}

// packageError keeps the message a validating package chose for S3.
func packageError(err error) error {
	var pe *policy.Error
	var ce *cors.Error
	var oe *objectlock.Error
	switch {
	case errors.As(err, &pe):
		return withMessage(err, pe.Message)
	case errors.As(err, &ce):
		return withMessage(err, ce.Message)
	case errors.As(err, &oe):
		return withMessage(err, oe.Message)
	}
	return err
}

func (s *Server) writeDoc(rq *request, contentType string, doc []byte) error {
	h := rq.w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method != http.MethodHead {
		_, _ = rq.w.Write(doc)
	}
	return nil
}

// ---- policy ----

func (s *Server) putBucketPolicy(ctx context.Context, rq *request, b meta.Bucket) error {
	doc, err := readConfigBody(rq, policy.MaxSize, policy.ErrPolicyTooLarge)
	if err != nil {
		return err
	}
	p, err := policy.Parse(doc, b.Name)
	if err != nil {
		return packageError(err)
	}
	if err := s.b.PutBucketConfig(ctx, b.Name, configPolicy, p.Bytes()); err != nil {
		return err
	}
	s.configs.forget(b.Name, configPolicy)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getBucketPolicy(ctx context.Context, rq *request, b meta.Bucket) error {
	doc, err := s.getConfig(ctx, b.Name, configPolicy, ErrNoSuchBucketPolicy)
	if err != nil {
		return err
	}
	return s.writeDoc(rq, "application/json", doc)
}

func (s *Server) deleteBucketPolicy(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := s.b.PutBucketConfig(ctx, b.Name, configPolicy, nil); err != nil {
		return err
	}
	s.configs.forget(b.Name, configPolicy)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

type policyStatus struct {
	XMLName  xml.Name `xml:"PolicyStatus"`
	NS       string   `xml:"xmlns,attr,omitempty"`
	IsPublic bool     `xml:"IsPublic"`
}

// getBucketPolicyStatus reports a policy public when one of its Allow
// statements applies to every principal without conditions (AWS's rule
// also weighs some condition keys; any condition counts as non-public here).
func (s *Server) getBucketPolicyStatus(ctx context.Context, rq *request, b meta.Bucket) error {
	p, err := s.bucketPolicy(ctx, b.Name)
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("%w: %s", ErrNoSuchBucketPolicy, b.Name)
	}
	public := false
	for _, st := range p.Statements {
		if st.Effect == policy.Allow && len(st.Conditions) == 0 && st.NotPrincipal == nil && matchesAll(st.Principal) {
			public = true
		}
	}
	return s.writeXML(rq, http.StatusOK, policyStatus{NS: s3NS, IsPublic: public})
}

func matchesAll(ps []string) bool {
	for _, p := range ps {
		if p == "*" {
			return true
		}
	}
	return false
}

// configTTL bounds how stale a cached configuration document may be on
// this gateway: changes made here are seen at once, changes made through
// another gateway within configTTL (as object.Layer's bucket cache).
const configTTL = 2 * time.Second

// maxCachedConfigs bounds the cache; it is cleared when full.
const maxCachedConfigs = 4096

// configCache keeps parsed policy and CORS documents per bucket so that a
// request pays neither a metadata read nor a parse (every request reads the
// policy: an explicit Deny binds the owner too).
type configCache struct {
	mu sync.Mutex
	// m maps (bucket, document name) to the parsed document, nil when the
	// bucket has none.
	m map[configKey]configEntry
}

type configKey struct{ bucket, name string }

type configEntry struct {
	parsed  any // *policy.Policy or *cors.Config; nil: no document
	fetched time.Time
}

func (c *configCache) get(k configKey) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || time.Since(e.fetched) >= configTTL {
		return nil, false
	}
	return e.parsed, true
}

func (c *configCache) put(k configKey, parsed any, fetched time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedConfigs {
		c.m = make(map[configKey]configEntry)
	}
	c.m[k] = configEntry{parsed: parsed, fetched: fetched}
}

func (c *configCache) forget(bucket, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, configKey{bucket, name})
}

// loadConfig returns document name of bucket parsed by parse, nil when the
// bucket has none, from the cache when fresh. Errors (a missing bucket)
// are not cached.
func (s *Server) loadConfig(ctx context.Context, bucket, name string, parse func([]byte) (any, error)) (any, error) {
	k := configKey{bucket, name}
	if v, ok := s.configs.get(k); ok {
		return v, nil
	}
	fetched := time.Now()
	doc, err := s.b.GetBucketConfig(ctx, bucket, name)
	var parsed any
	switch {
	case errors.Is(err, meta.ErrNoSuchConfig):
	case err != nil:
		return nil, err
	default:
		if parsed, err = parse(doc); err != nil {
			return nil, err
		}
	}
	s.configs.put(k, parsed, fetched)
	return parsed, nil
}

// bucketPolicy returns the bucket's parsed policy, nil if it has none.
func (s *Server) bucketPolicy(ctx context.Context, bucket string) (*policy.Policy, error) {
	v, err := s.loadConfig(ctx, bucket, configPolicy, func(doc []byte) (any, error) {
		p, err := policy.Parse(doc, bucket)
		if err != nil {
			// Stored documents were validated on put; one that no longer
			// parses (a stricter parser) denies rather than fails open.
			return nil, fmt.Errorf("%w: stored policy of %s: %v", ErrAccessDenied, bucket, err)
		}
		return p, nil
	})
	p, _ := v.(*policy.Policy)
	return p, err
}

// anonymous reports whether the request carries no credentials.
func (rq *request) anonymous() bool { return rq.auth != nil && rq.auth.Anonymous }

// checkAnonymous refuses anonymous requests that no bucket policy can
// allow: the service (ListBuckets) and CreateBucket.
func checkAnonymous(rq *request) error {
	if rq.bucket == "" || rq.op == "CreateBucket" {
		return fmt.Errorf("%w: anonymous %s", ErrAccessDenied, rq.op)
	}
	return nil
}

// authorize decides whether rq may act on bucket b, following AWS for a
// bucket policy without IAM: a root user may do anything; an explicit Deny
// in the bucket policy refuses everyone else, the owner included; the
// owner may otherwise do anything; anonymous requests and other users need
// an Allow. name is the bucket authorized: rq.bucket, or a copy source.
func (s *Server) authorize(ctx context.Context, rq *request, b meta.Bucket) error {
	if rq.user.Root && !rq.anonymous() {
		return nil
	}
	owner := !rq.anonymous() && b.Owner == rq.user.Name
	p, err := s.bucketPolicy(ctx, b.Name)
	if err != nil {
		return err
	}
	if p == nil {
		if owner {
			return nil
		}
		return fmt.Errorf("%w: bucket %s owned by another user", ErrAccessDenied, b.Name)
	}
	req := s.policyRequest(rq, b.Name, hasConditions(p))
	switch p.Evaluate(req) {
	case policy.Denied:
		return fmt.Errorf("%w: %s on %s denied by the bucket policy", ErrAccessDenied, req.Action, b.Name)
	case policy.Allowed:
		return nil
	}
	if owner {
		return nil
	}
	return fmt.Errorf("%w: %s on %s not allowed by the bucket policy", ErrAccessDenied, req.Action, b.Name)
}

func hasConditions(p *policy.Policy) bool {
	for i := range p.Statements {
		if len(p.Statements[i].Conditions) > 0 {
			return true
		}
	}
	return false
}

// policyRequest builds the evaluation context of rq against bucket; the
// condition keys only when conds (no statement reads them otherwise).
func (s *Server) policyRequest(rq *request, bucket string, conds bool) policy.Request {
	req := policy.Request{Principal: "*", Action: policy.ActionFor(rq.op), Bucket: bucket, Key: rq.key}
	if !rq.anonymous() {
		req.Principal = rq.user.Name
	}
	if bucket != rq.bucket {
		// A copy source: the request reads it.
		req.Action = "s3:GetObject"
		req.Key = ""
		if _, sk, err := parseCopySource(rq.r.Header.Get("x-amz-copy-source")); err == nil {
			req.Key = sk
		}
	}
	if req.Action == "" {
		req.Action = "s3:" + rq.op // unknown to the table: matches only "s3:*"
	}
	if !conds {
		return req
	}
	r := rq.r
	c := map[string][]string{
		"aws:SecureTransport": {strconv.FormatBool(r.TLS != nil)},
		"aws:CurrentTime":     {s.opt.Now().UTC().Format(time.RFC3339)},
		"aws:EpochTime":       {strconv.FormatInt(s.opt.Now().Unix(), 10)},
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		c["aws:SourceIp"] = []string{host}
	}
	if v := r.Header.Get("Referer"); v != "" {
		c["aws:Referer"] = []string{v}
	}
	if v := r.Header.Get("User-Agent"); v != "" {
		c["aws:UserAgent"] = []string{v}
	}
	if !rq.anonymous() {
		c["aws:username"] = []string{rq.user.Name}
	}
	for _, h := range []string{"x-amz-acl", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-server-side-encryption", "x-amz-storage-class", "x-amz-content-sha256"} {
		if v := r.Header.Get(h); v != "" {
			c["s3:"+h] = []string{v}
		}
	}
	if rq.key == "" && bucket == rq.bucket && r.Method == http.MethodGet {
		// Listing keys; AWS sets s3:prefix to "" when the request has none.
		c["s3:prefix"] = []string{rq.query("prefix")}
		if rq.has("delimiter") {
			c["s3:delimiter"] = []string{rq.query("delimiter")}
		}
		if rq.has("max-keys") {
			c["s3:max-keys"] = []string{rq.query("max-keys")}
		}
	}
	if v := rq.query("versionId"); v != "" {
		c["s3:VersionId"] = []string{v}
	}
	req.Conditions = c
	return req
}

// ---- CORS ----

func (s *Server) putBucketCors(ctx context.Context, rq *request, b meta.Bucket) error {
	doc, err := readConfigBody(rq, cors.MaxSize, cors.ErrMalformedXML)
	if err != nil {
		return err
	}
	c, err := cors.Parse(doc)
	if err != nil {
		return packageError(err)
	}
	out, err := c.Marshal()
	if err != nil {
		return err
	}
	if err := s.b.PutBucketConfig(ctx, b.Name, configCORS, out); err != nil {
		return err
	}
	s.configs.forget(b.Name, configCORS)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketCors(ctx context.Context, rq *request, b meta.Bucket) error {
	doc, err := s.getConfig(ctx, b.Name, configCORS, ErrNoSuchCORSConfiguration)
	if err != nil {
		return err
	}
	return s.writeDoc(rq, "application/xml", doc)
}

func (s *Server) deleteBucketCors(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := s.b.PutBucketConfig(ctx, b.Name, configCORS, nil); err != nil {
		return err
	}
	s.configs.forget(b.Name, configCORS)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// bucketCORS returns the bucket's CORS configuration, nil if it has none.
func (s *Server) bucketCORS(ctx context.Context, bucket string) (*cors.Config, error) {
	v, err := s.loadConfig(ctx, bucket, configCORS, func(doc []byte) (any, error) {
		c, err := cors.Parse(doc)
		if err != nil {
			return nil, fmt.Errorf("s3api: stored CORS configuration of %s: %w", bucket, err)
		}
		return c, nil
	})
	c, _ := v.(*cors.Config)
	return c, err
}

// preflight answers an OPTIONS request, before and without authentication
// (browsers send no credentials on preflights), from the bucket's CORS
// configuration.
func (s *Server) preflight(ctx context.Context, rq *request) error {
	rq.op = "PreflightRequest"
	if rq.bucket == "" {
		return ErrMethodNotAllowed
	}
	c, err := s.bucketCORS(ctx, rq.bucket)
	if err != nil {
		return err
	}
	if err := c.Preflight(rq.r.Header, rq.w.Header()); err != nil {
		return packageError(err)
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// corsActual sets the CORS response headers of a request carrying Origin.
// CORS never blocks a request on the server side: a missing bucket or
// configuration, or a lookup failure, just sends no headers.
func (s *Server) corsActual(ctx context.Context, rq *request) {
	if rq.bucket == "" || rq.r.Header.Get("Origin") == "" {
		return
	}
	c, err := s.bucketCORS(ctx, rq.bucket)
	if err != nil || c == nil {
		return
	}
	c.Actual(rq.r.Method, rq.r.Header, rq.w.Header())
}

// ---- tagging ----

func (s *Server) putBucketTagging(ctx context.Context, rq *request, b meta.Bucket) error {
	data, err := readConfigBody(rq, maxSmallXML, ErrMalformedXML)
	if err != nil {
		return err
	}
	doc, err := parseBucketTagging(data)
	if err != nil {
		return err
	}
	if err := s.b.PutBucketConfig(ctx, b.Name, configTagging, doc); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseBucketTagging validates a PutBucketTagging body and returns the
// document GetBucketTagging will send: the tags sorted by key, with the S3
// namespace. At most 50 tags, keys of 1..128 characters not starting with
// "aws:", values of at most 256, no duplicate keys.
func parseBucketTagging(data []byte) ([]byte, error) {
	var t tagging
	if err := unmarshalXML(data, &t); err != nil {
		return nil, err
	}
	if t.XMLName.Local != "Tagging" {
		return nil, fmt.Errorf("%w: root element %q", ErrMalformedXML, t.XMLName.Local)
	}
	if len(t.TagSet) > maxBucketTags {
		return nil, withMessage(ErrInvalidTag, "Bucket tag count cannot be greater than 50")
	}
	seen := make(map[string]bool, len(t.TagSet))
	for _, tg := range t.TagSet {
		if seen[tg.Key] {
			return nil, withMessage(ErrInvalidTag, "Cannot provide multiple Tags with the same key")
		}
		seen[tg.Key] = true
		if tg.Key == "" || utf8.RuneCountInString(tg.Key) > 128 || strings.HasPrefix(strings.ToLower(tg.Key), "aws:") {
			return nil, withMessage(ErrInvalidTag, "The TagKey you have provided is invalid")
		}
		if utf8.RuneCountInString(tg.Value) > 256 {
			return nil, withMessage(ErrInvalidTag, "The TagValue you have provided is invalid")
		}
	}
	sort.Slice(t.TagSet, func(i, j int) bool { return t.TagSet[i].Key < t.TagSet[j].Key })
	out, err := xml.Marshal(tagging{NS: s3NS, TagSet: t.TagSet})
	if err != nil {
		return nil, fmt.Errorf("s3api: marshal tagging: %w", err)
	}
	return append([]byte(xml.Header), out...), nil
}

func (s *Server) getBucketTagging(ctx context.Context, rq *request, b meta.Bucket) error {
	doc, err := s.getConfig(ctx, b.Name, configTagging, ErrNoSuchTagSet)
	if err != nil {
		return err
	}
	return s.writeDoc(rq, "application/xml", doc)
}

func (s *Server) deleteBucketTagging(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := s.b.PutBucketConfig(ctx, b.Name, configTagging, nil); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Object Lock ----

// objectLockRequested reports whether a CreateBucket asks for Object Lock.
func objectLockRequested(r *http.Request) (bool, error) {
	v := r.Header.Get("x-amz-bucket-object-lock-enabled")
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, withMessage(ErrInvalidArgument, "x-amz-bucket-object-lock-enabled must be true or false")
}

// enableObjectLock records that a new bucket was created with Object Lock:
// its "object-lock" document says ObjectLockEnabled with no default rule.
// Versioning, which Object Lock implies in S3, is enabled first when the
// Backend supports it (versioningSetter, a subset of Versioner).
func (s *Server) enableObjectLock(ctx context.Context, bucket string) error {
	doc, err := (&objectlock.Config{}).Marshal()
	if err != nil {
		return err
	}
	if v, ok := s.b.(versioningSetter); ok {
		if err := v.SetBucketVersioning(ctx, bucket, meta.VersioningEnabled); err != nil {
			return err
		}
	}
	return s.b.PutBucketConfig(ctx, bucket, configObjectLock, doc)
}

// versioningSetter is the optional Backend capability of turning on a
// bucket's versioning; without it, Object Lock buckets keep one version
// per key.
type versioningSetter interface {
	SetBucketVersioning(ctx context.Context, bucket, state string) error
}

func (s *Server) putObjectLockConfig(ctx context.Context, rq *request, b meta.Bucket) error {
	data, err := readConfigBody(rq, objectlock.MaxSize, ErrMalformedXML)
	if err != nil {
		return err
	}
	if _, err := s.getConfig(ctx, b.Name, configObjectLock, errObjectLockNotEnabledBucket); err != nil {
		return err
	}
	c, err := objectlock.ParseConfig(data)
	if err != nil {
		return packageError(err)
	}
	out, err := c.Marshal()
	if err != nil {
		return err
	}
	if err := s.b.PutBucketConfig(ctx, b.Name, configObjectLock, out); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getObjectLockConfig(ctx context.Context, rq *request, b meta.Bucket) error {
	doc, err := s.getConfig(ctx, b.Name, configObjectLock, ErrObjectLockConfigNotFound)
	if err != nil {
		return err
	}
	return s.writeDoc(rq, "application/xml", doc)
}
