package s3api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/auth"
	"github.com/tessera-store/tessera/s3api/sigv2"
)

// AWS limits.
const (
	defaultMaxObjectSize = 5 << 40
	defaultMaxPutSize    = 5 << 30
	maxKeyBytes          = 1024
	maxUserMetaBytes     = 2 << 10
)

// Options configures a Server. The zero value is usable: defaults are filled
// by New.
type Options struct {
	// Region is the region buckets are created in and GetBucketLocation
	// reports; "us-east-1" by default. Requests signed for any region are
	// accepted, as clients differ in what they sign with.
	Region string
	// Domains are the host names for virtual-host-style requests: a request
	// for Host "photos.s3.example.com" with Domains ["s3.example.com"] is for
	// bucket "photos". Requests for any other host are path style.
	Domains []string
	// Logger receives request logs (Debug) and internal errors (Error);
	// nil means slog.Default().
	Logger *slog.Logger
	// MaxObjectSize bounds a whole object (5 TiB by default); MaxPutSize
	// bounds one PutObject, UploadPart or CopyObject (5 GiB by default).
	MaxObjectSize, MaxPutSize int64
	// Registry receives the Prometheus metrics; nil means none.
	Registry prometheus.Registerer
	// Now is the clock for signature skew checks; nil means time.Now.
	Now func() time.Time
	// InlineMD5 hashes every upload's ETag on the request goroutine. By
	// default bodies of 1 MiB or more are hashed on a helper goroutine
	// (md5pipe.go), which pays off only where a core is idle.
	InlineMD5 bool
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	if o.MaxObjectSize < 0 || o.MaxPutSize < 0 {
		return fmt.Errorf("s3api: negative size limit")
	}
	if o.MaxObjectSize != 0 && o.MaxPutSize != 0 && o.MaxPutSize > o.MaxObjectSize {
		return fmt.Errorf("s3api: MaxPutSize %d above MaxObjectSize %d", o.MaxPutSize, o.MaxObjectSize)
	}
	for _, d := range o.Domains {
		if d == "" || strings.ContainsAny(d, "/: ") {
			return fmt.Errorf("s3api: invalid domain %q", d)
		}
	}
	return nil
}

func (o *Options) setDefaults() {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxObjectSize == 0 {
		o.MaxObjectSize = defaultMaxObjectSize
	}
	if o.MaxPutSize == 0 {
		o.MaxPutSize = min(defaultMaxPutSize, o.MaxObjectSize)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Server is the S3 REST surface over a Backend. It is an http.Handler and is
// safe for concurrent use.
type Server struct {
	b      Backend
	opt    Options
	log    *slog.Logger
	verify *auth.Verifier
	m      *metrics
	// reqSeq numbers requests; reqBase makes IDs unique across restarts.
	reqSeq  atomic.Uint64
	reqBase uint64
	// configs caches parsed bucket policies and CORS configurations
	// (bucketconfig.go).
	configs configCache
}

// New returns a Server for b. Invalid options are a programmer error (call
// Options.Validate at startup): New panics on them.
func New(b Backend, opt Options) *Server {
	if err := opt.Validate(); err != nil {
		panic(err)
	}
	opt.setDefaults()
	s := &Server{b: b, opt: opt, log: opt.Logger}
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	s.reqBase = binary.BigEndian.Uint64(seed[:])
	s.verify = auth.NewVerifier(s.credentials, auth.Options{Region: opt.Region, AnyRegion: true, Now: opt.Now})
	s.m = newMetrics(opt.Registry)
	return s
}

// userSlot carries the user found by the credentials lookup back to the
// request, so that one Backend.Secret call serves both.
type userSlot struct{ user *meta.User }

type userSlotKey struct{}

func (s *Server) credentials(ctx context.Context, accessKey string) (string, error) {
	u, secret, err := s.b.Secret(ctx, accessKey)
	if errors.Is(err, meta.ErrNoSuchUser) {
		return "", fmt.Errorf("%w: %w", auth.ErrInvalidAccessKeyID, err)
	}
	if err != nil {
		return "", err
	}
	if slot, ok := ctx.Value(userSlotKey{}).(*userSlot); ok {
		slot.user = &u
	}
	return secret, nil
}

// request is one S3 request being served.
type request struct {
	id          string
	op          string
	bucket, key string
	user        meta.User
	auth        *auth.Request
	w           *responseWriter
	r           *http.Request
	q           map[string][]string
}

func (rq *request) query(k string) string {
	if v := rq.q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (rq *request) has(k string) bool {
	_, ok := rq.q[k]
	return ok
}

type handler func(ctx context.Context, rq *request) error

// responseWriter records the status and the bytes sent.
type responseWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// countingReader counts request body bytes for the metrics.
type countingReader struct {
	io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}

func (s *Server) newRequestID() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.reqBase+s.reqSeq.Add(1))
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// ServeHTTP serves one S3 request.
func (s *Server) ServeHTTP(hw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &responseWriter{ResponseWriter: hw}
	rq := &request{id: s.newRequestID(), w: w, r: r, op: "Unknown"}
	h := w.Header()
	h.Set("x-amz-request-id", rq.id)
	h.Set("x-amz-id-2", rq.id)
	h.Set("Server", "Tessera")
	var body *countingReader
	if r.Body != nil {
		body = &countingReader{ReadCloser: r.Body}
		r.Body = body
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("s3api: panic", "op", rq.op, "req_id", rq.id, "err", fmt.Sprint(p), "stack", string(debug.Stack()))
			if w.status == 0 {
				s.writeError(rq, fmt.Errorf("s3api: panic: %v", p))
			}
		}
		var in int64
		if body != nil {
			in = body.n
		}
		s.m.observe(rq.op, w.status, in, w.n, time.Since(start))
		s.log.Debug("s3 request", "op", rq.op, "bucket", rq.bucket, "key", rq.key, "req_id", rq.id,
			"status", w.status, "in", in, "out", w.n, "dur", time.Since(start))
	}()
	if err := s.serve(r.Context(), rq); err != nil {
		s.writeError(rq, err)
	}
}

func (s *Server) serve(ctx context.Context, rq *request) error {
	r := rq.r
	var err error
	rq.bucket, rq.key, err = s.splitTarget(r)
	if err != nil {
		return err
	}
	if rq.q, err = parseQuery(r.URL.RawQuery); err != nil {
		return err
	}
	if r.Method == http.MethodOptions {
		return s.preflight(ctx, rq)
	}
	s.corsActual(ctx, rq)
	if isPostObject(r, rq.key) {
		rq.op = "PostObject"
		return s.postObject(ctx, rq)
	}
	op, h := s.route(rq)
	rq.op = op
	slot := &userSlot{}
	actx := context.WithValue(ctx, userSlotKey{}, slot)
	areq, err := s.authenticate(actx, r)
	if err != nil {
		return err
	}
	rq.auth = areq
	if areq.Anonymous {
		// Allowed only where a bucket policy says so (authorizeBucket).
		if err := checkAnonymous(rq); err != nil {
			return err
		}
	} else if slot.user != nil {
		rq.user = *slot.user
	} else {
		u, _, err := s.b.Secret(ctx, areq.AccessKey)
		if err != nil {
			return err
		}
		rq.user = u
	}
	if h == nil {
		return ErrMethodNotAllowed
	}
	if len(rq.key) > maxKeyBytes {
		return ErrKeyTooLong
	}
	return h(ctx, rq)
}

// authenticate verifies a request signed with SigV4 (s3api/auth) or, for
// older clients, SigV2 (s3api/sigv2). A SigV2 body is the plain HTTP body:
// its integrity rests on Content-MD5 when the client sends one (checked by
// the digest wrapper), as in AWS.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (*auth.Request, error) {
	if !sigv2.IsSigV2(r) {
		return s.verify.Verify(r.WithContext(ctx))
	}
	vhost := ""
	if b, _, _ := s.splitTarget(r); b != "" && s.isVirtualHost(r) {
		vhost = b
	}
	ak, err := sigv2.Verify(ctx, r, s.credentials, s.opt.Now(), vhost)
	if err != nil {
		return nil, err
	}
	var body io.Reader = r.Body
	if body == nil {
		body = http.NoBody
	}
	return &auth.Request{
		AccessKey:       ak,
		Body:            body,
		Size:            r.ContentLength,
		TrailerChecksum: func() (string, string, bool) { return "", "", false },
	}, nil
}

// isVirtualHost reports whether r names its bucket in the Host header.
func (s *Server) isVirtualHost(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	for _, d := range s.opt.Domains {
		if b, ok := strings.CutSuffix(host, "."+d); ok && b != "" {
			return true
		}
	}
	return false
}

// parseQuery is url.ParseQuery that tells bad escapes apart.
func parseQuery(raw string) (map[string][]string, error) {
	q := make(map[string][]string)
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err1 := urlUnescape(k)
		v, err2 := urlUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, withMessage(ErrInvalidArgument, "The query string is not valid URL encoding.")
		}
		q[k] = append(q[k], v)
	}
	return q, nil
}

// splitTarget finds the bucket and key of r, virtual-host style when the Host
// is a subdomain of a configured domain, path style otherwise.
func (s *Server) splitTarget(r *http.Request) (bucket, key string, err error) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	path := r.URL.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	for _, d := range s.opt.Domains {
		if b, ok := strings.CutSuffix(host, "."+d); ok && b != "" {
			return b, path[1:], nil
		}
	}
	bucket, key, _ = strings.Cut(path[1:], "/")
	return bucket, key, nil
}

// Sub-resources S3 has that Tessera does not configure. GETs of those with a
// "not configured" answer in AWS get it; everything else is NotImplemented.
// (policy, cors, tagging and object-lock are stored: see bucketconfig.go.)
var notConfigured = map[string]notFoundConfigError{
	"lifecycle":         {"NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"},
	"encryption":        {"ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"},
	"website":           {"NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"},
	"replication":       {"ReplicationConfigurationNotFoundError", "The replication configuration was not found"},
	"ownershipControls": {"OwnershipControlsNotFoundError", "The bucket ownership controls were not found"},
	"publicAccessBlock": {"NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"},
}

var unsupportedBucket = []string{
	"policy", "lifecycle", "cors", "encryption", "object-lock", "tagging", "website", "replication",
	"ownershipControls", "publicAccessBlock", "versioning", "acl", "logging", "notification",
	"accelerate", "requestPayment", "analytics", "metrics", "inventory", "intelligent-tiering",
	"policyStatus", "versions", "location", "uploads", "delete", "metadataTable", "session",
}

var unsupportedObject = []string{
	"acl", "retention", "legal-hold", "torrent", "select", "restore", "attributes", "renameObject",
}

func (rq *request) hasAny(keys []string) (string, bool) {
	for _, k := range keys {
		if rq.has(k) {
			return k, true
		}
	}
	return "", false
}

func notImplemented(op string) handler {
	return func(context.Context, *request) error {
		return fmt.Errorf("%w: %s", ErrNotImplemented, op)
	}
}

// route picks the operation. A nil handler means MethodNotAllowed.
func (s *Server) route(rq *request) (string, handler) {
	m := rq.r.Method
	switch {
	case rq.bucket == "":
		if m == http.MethodGet {
			return "ListBuckets", s.listBuckets
		}
		return "Unknown", nil
	case rq.key == "":
		return s.routeBucket(rq, m)
	default:
		return s.routeObject(rq, m)
	}
}

func (s *Server) routeBucket(rq *request, m string) (string, handler) {
	if op, h, ok := s.routeConfig(rq, m); ok {
		return op, h
	}
	if op, h, ok := s.routeVersions(rq, m); ok {
		return op, h
	}
	switch m {
	case http.MethodGet:
		switch {
		case rq.has("location"):
			return "GetBucketLocation", s.bucketOp(s.getBucketLocation)
		case rq.has("versioning"):
			return "GetBucketVersioning", s.bucketOp(s.getBucketVersioning)
		case rq.has("acl"):
			return "GetBucketAcl", s.bucketOp(s.getBucketACL)
		case rq.has("uploads"):
			return "ListMultipartUploads", s.bucketOp(s.listUploads)
		}
		for k, e := range notConfigured {
			if rq.has(k) {
				e := e
				return "GetBucket" + k, s.bucketOp(func(context.Context, *request, meta.Bucket) error { return &e })
			}
		}
		if k, ok := rq.hasAny(unsupportedBucket); ok {
			return "GetBucket" + k, notImplemented("GET ?" + k)
		}
		if rq.query("list-type") == "2" {
			return "ListObjectsV2", s.bucketOp(s.listObjectsV2)
		}
		return "ListObjects", s.bucketOp(s.listObjectsV1)
	case http.MethodHead:
		return "HeadBucket", s.bucketOp(s.headBucket)
	case http.MethodPut:
		if k, ok := rq.hasAny(unsupportedBucket); ok {
			return "PutBucket" + k, notImplemented("PUT ?" + k)
		}
		return "CreateBucket", s.createBucket
	case http.MethodDelete:
		if k, ok := rq.hasAny(unsupportedBucket); ok {
			return "DeleteBucket" + k, notImplemented("DELETE ?" + k)
		}
		return "DeleteBucket", s.bucketOp(s.deleteBucket)
	case http.MethodPost:
		if rq.has("delete") {
			return "DeleteObjects", s.bucketOp(s.deleteObjects)
		}
		return "PostBucket", notImplemented("POST bucket")
	}
	return "Unknown", nil
}

func (s *Server) routeObject(rq *request, m string) (string, handler) {
	if op, h, ok := s.routeVersions(rq, m); ok {
		return op, h
	}
	switch m {
	case http.MethodGet:
		switch {
		case rq.has("acl"):
			return "GetObjectAcl", s.bucketOp(s.getObjectACL)
		case rq.has("tagging"):
			return "GetObjectTagging", s.bucketOp(s.getObjectTagging)
		case rq.has("uploadId"):
			return "ListParts", s.bucketOp(s.listParts)
		case rq.has("attributes"):
			return "GetObjectAttributes", s.bucketOp(s.getObjectAttributes)
		}
		if k, ok := rq.hasAny(unsupportedObject); ok {
			return "GetObject" + k, notImplemented("GET object ?" + k)
		}
		return "GetObject", s.bucketOp(s.getObject)
	case http.MethodHead:
		return "HeadObject", s.bucketOp(s.getObject)
	case http.MethodPut:
		switch {
		case rq.has("tagging"):
			return "PutObjectTagging", s.bucketOp(s.putObjectTagging)
		case rq.has("partNumber") && rq.has("uploadId"):
			if rq.r.Header.Get("x-amz-copy-source") != "" {
				return "UploadPartCopy", s.bucketOp(s.uploadPartCopy)
			}
			return "UploadPart", s.bucketOp(s.uploadPart)
		}
		if k, ok := rq.hasAny(unsupportedObject); ok {
			return "PutObject" + k, notImplemented("PUT object ?" + k)
		}
		if rq.r.Header.Get("x-amz-copy-source") != "" {
			return "CopyObject", s.bucketOp(s.copyObject)
		}
		return "PutObject", s.bucketOp(s.putObject)
	case http.MethodDelete:
		switch {
		case rq.has("tagging"):
			return "DeleteObjectTagging", s.bucketOp(s.deleteObjectTagging)
		case rq.has("uploadId"):
			return "AbortMultipartUpload", s.bucketOp(s.abortUpload)
		}
		if k, ok := rq.hasAny(unsupportedObject); ok {
			return "DeleteObject" + k, notImplemented("DELETE object ?" + k)
		}
		return "DeleteObject", s.bucketOp(s.deleteObject)
	case http.MethodPost:
		switch {
		case rq.has("uploads"):
			return "CreateMultipartUpload", s.bucketOp(s.createUpload)
		case rq.has("uploadId"):
			return "CompleteMultipartUpload", s.bucketOp(s.completeUpload)
		}
		return "PostObject", notImplemented("POST object")
	}
	return "Unknown", nil
}

// bucketOp wraps a handler that needs the bucket, authorized by
// authorizeBucket: its owner or a root user, or anyone (anonymous
// included) the bucket policy allows; an explicit Deny refuses all but
// root users (bucketconfig.go).
func (s *Server) bucketOp(h func(ctx context.Context, rq *request, b meta.Bucket) error) handler {
	return func(ctx context.Context, rq *request) error {
		b, err := s.authorizeBucket(ctx, rq, rq.bucket)
		if err != nil {
			return err
		}
		return h(ctx, rq, b)
	}
}

func (s *Server) authorizeBucket(ctx context.Context, rq *request, name string) (meta.Bucket, error) {
	b, err := s.b.GetBucket(ctx, name)
	if err != nil {
		if rq.anonymous() && errors.Is(err, meta.ErrNoSuchBucket) {
			return b, fmt.Errorf("%w: %v", ErrAccessDenied, err)
		}
		return b, err
	}
	return b, s.authorize(ctx, rq, b)
}

// owner returns the requesting user as S3 shows owners.
func (rq *request) owner() owner {
	return owner{ID: rq.user.Name, DisplayName: rq.user.Name}
}

func ownerOf(b meta.Bucket) owner { return owner{ID: b.Owner, DisplayName: b.Owner} }

// writeXML sends a 200 (or status) response with an XML document.
func (s *Server) writeXML(rq *request, status int, v any) error {
	out, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("s3api: marshal %T: %w", v, err)
	}
	h := rq.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(out)))
	rq.w.WriteHeader(status)
	if rq.r.Method == http.MethodHead {
		return nil
	}
	_, _ = io.WriteString(rq.w, xml.Header)
	_, _ = rq.w.Write(out)
	return nil
}

// writeError answers err with AWS's error document, once, if nothing was
// sent yet.
func (s *Server) writeError(rq *request, err error) {
	c := lookupError(err)
	if c.status == http.StatusInternalServerError {
		s.log.Error("s3api: internal error", "op", rq.op, "bucket", rq.bucket, "key", rq.key, "req_id", rq.id, "err", err)
	} else {
		s.log.Debug("s3api: request failed", "op", rq.op, "bucket", rq.bucket, "key", rq.key, "req_id", rq.id, "code", c.code, "err", err)
	}
	if rq.w.status != 0 {
		return // the response is under way; the client sees a short body
	}
	h := rq.w.Header()
	// Drop what a handler set for the success it did not reach; keep what
	// the error itself needs (ETag on 304, Content-Range on 416).
	for _, k := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "Content-Type", "x-amz-mp-parts-count"} {
		keep := (c.status == http.StatusNotModified && (k == "ETag" || k == "Last-Modified")) ||
			(c.status == http.StatusRequestedRangeNotSatisfiable && k == "Content-Range")
		if !keep {
			h.Del(k)
		}
	}
	if c.status == http.StatusNotModified || rq.r.Method == http.MethodHead {
		if rq.r.Method == http.MethodHead && c.status != http.StatusNotModified {
			h.Set("x-amz-error-code", c.code)
		}
		rq.w.WriteHeader(c.status)
		return
	}
	resource := rq.r.URL.Path
	e := errorResponse{Code: c.code, Message: c.msg, Resource: resource, RequestID: rq.id, HostID: rq.id}
	switch {
	case errors.Is(err, meta.ErrNoSuchBucket):
		e.BucketName = rq.bucket
	case errors.Is(err, meta.ErrNoSuchKey):
		e.Key = rq.key
	}
	out, _ := xml.Marshal(e)
	// encoding/xml escapes quotes in text as &#34; and &#39;; AWS (and
	// clients that match messages) use them literally, which is valid XML
	// in element text (the error document has no attributes).
	out = bytes.ReplaceAll(bytes.ReplaceAll(out, []byte("&#34;"), []byte(`"`)), []byte("&#39;"), []byte("'"))
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(out)))
	if c.status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	rq.w.WriteHeader(c.status)
	_, _ = io.WriteString(rq.w, xml.Header)
	_, _ = rq.w.Write(out)
}
