package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tessera-store/tessera/gateway"
	"github.com/tessera-store/tessera/s3api/auth"
)

// Fixed root credentials, passed through ServerConfig.Getenv.
const (
	rootKey    = "E2EROOTACCESSKEY0001"
	rootSecret = "e2e-root-secret-key-0123456789abcdefghij"
	region     = "us-east-1"
)

// shared is the package's server, started by TestMain.
var shared *server

type server struct {
	addr   string // host:port of the S3 listener
	data   string
	drives []string
	cancel context.CancelFunc
	done   chan error
	roots  *x509.CertPool // non-nil: the server speaks TLS with a cert these roots trust
}

type serverOpts struct {
	gcGrace, gcEvery time.Duration
	domains          []string
	tlsCert, tlsKey  string // PEM files; "" = plain HTTP
	roots            *x509.CertPool
	// logHook, if set, sees every log record of Info level and above: the
	// way a test learns that a background pass (GC) did something.
	logHook func(slog.Record)
}

// hookHandler passes records to hook, then to the inner handler.
type hookHandler struct {
	slog.Handler
	hook func(slog.Record)
}

func (h hookHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.Handler.Enabled(ctx, l)
}

func (h hookHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		h.hook(r)
	}
	if h.Handler.Enabled(ctx, r.Level) {
		return h.Handler.Handle(ctx, r)
	}
	return nil
}

func (h hookHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return hookHandler{h.Handler.WithAttrs(as), h.hook}
}

func (h hookHandler) WithGroup(name string) slog.Handler {
	return hookHandler{h.Handler.WithGroup(name), h.hook}
}

func logger() *slog.Logger {
	if os.Getenv("TESSERA_E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 1}))
}

// launch starts a server on data and waits (bounded) until it serves.
func launch(data string, o serverOpts) (*server, error) {
	s := &server{data: data, done: make(chan error, 1), roots: o.roots}
	for i := 1; i <= 6; i++ {
		s.drives = append(s.drives, filepath.Join(data, fmt.Sprintf("drive%d", i)))
	}
	log := logger()
	if o.logHook != nil {
		log = slog.New(hookHandler{log.Handler(), o.logHook})
	}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	cfg := gateway.ServerConfig{
		Listen:  "127.0.0.1:0",
		Data:    data,
		Drives:  s.drives,
		Region:  region,
		Domains: o.domains,
		GCGrace: o.gcGrace,
		GCEvery: o.gcEvery,
		TLSCert: o.tlsCert,
		TLSKey:  o.tlsKey,
		Logger:  log,
		Stdout:  io.Discard,
		Getenv: func(k string) string {
			switch k {
			case "TESSERA_ACCESS_KEY":
				return rootKey
			case "TESSERA_SECRET_KEY":
				return rootSecret
			}
			return ""
		},
		Ready: func(addr string) { ready <- addr },
	}
	go func() { s.done <- gateway.RunServer(ctx, cfg) }()
	select {
	case s.addr = <-ready:
		return s, nil
	case err := <-s.done:
		cancel()
		return nil, fmt.Errorf("server exited before ready: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		return nil, errors.New("server not ready after 30s")
	}
}

// stop cancels the server and waits (bounded) for RunServer to return.
func (s *server) stop() error {
	s.cancel()
	select {
	case err := <-s.done:
		return err
	case <-time.After(20 * time.Second):
		return errors.New("server did not stop within 20s")
	}
}

// newServer starts a server private to t.
func newServer(t *testing.T, o serverOpts) *server {
	t.Helper()
	s, err := launch(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
	})
	return s
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tessera-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared, err = launch(dir, serverOpts{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if err := shared.stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func (s *server) url() string {
	if s.roots != nil {
		return "https://" + s.addr
	}
	return "http://" + s.addr
}

// transport is transport(t) set up to trust the server's certificate.
func (s *server) transport(t testing.TB) *http.Transport {
	tr := transport(t)
	if s.roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.roots}
	}
	return tr
}

// transport is a fresh transport whose idle connections are closed when t
// ends, so that goroutine counts of later tests are not inflated.
func transport(t testing.TB) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func (s *server) minio(t testing.TB, access, secret string) *minio.Client {
	t.Helper()
	c, err := minio.New(s.addr, &minio.Options{
		Creds:        credentials.NewStaticV4(access, secret, ""),
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
		Secure:       s.roots != nil,
		Transport:    s.transport(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *server) aws(t testing.TB, access, secret string, opts ...func(*s3.Options)) *s3.Client {
	t.Helper()
	o := s3.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.url()),
		UsePathStyle:     true,
		Credentials:      awscreds.NewStaticCredentialsProvider(access, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: s.transport(t)},
		// What config.LoadDefaultConfig sets: checksums on by default.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	for _, f := range opts {
		f(&o)
	}
	return s3.New(o)
}

func (s *server) rootMinio(t testing.TB) *minio.Client { return s.minio(t, rootKey, rootSecret) }
func (s *server) rootAWS(t testing.TB) *s3.Client      { return s.aws(t, rootKey, rootSecret) }

var emptySHA256 = func() string { h := sha256.Sum256(nil); return hex.EncodeToString(h[:]) }()

// admin calls the admin API signed with the root credentials, as
// internal/admincmd does, and decodes the JSON answer into out.
func (s *server) admin(t testing.TB, method, op string, q url.Values, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := s.url() + gateway.AdminPrefix + op
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	auth.SignRequest(req, rootKey, rootSecret, region, emptySHA256, time.Now())
	resp, err := (&http.Client{Transport: s.transport(t)}).Do(req)
	if err != nil {
		t.Fatalf("admin %s %s: %v", method, op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("admin %s %s: %s %s %v", method, op, resp.Status, body, err)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("admin %s %s: decode %q: %v", method, op, body, err)
		}
	}
}

func (s *server) stats(t testing.TB) gateway.StatsReport {
	t.Helper()
	var st gateway.StatsReport
	s.admin(t, http.MethodGet, "stats", nil, &st)
	return st
}

// addUser creates a user through the admin API and returns its keys.
func (s *server) addUser(t testing.TB, name string) gateway.UserReport {
	t.Helper()
	var u gateway.UserReport
	s.admin(t, http.MethodPost, "users", url.Values{"name": {name}}, &u)
	if u.AccessKey == "" || u.SecretKey == "" {
		t.Fatalf("add user %s: no keys in %+v", name, u)
	}
	return u
}

// countShards counts the shard files under every drive's shards/ folder.
func (s *server) countShards(t testing.TB) int {
	t.Helper()
	n := 0
	for _, d := range s.drives {
		root := filepath.Join(d, "shards")
		err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil
				}
				return err
			}
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !strings.Contains(e.Name(), ".tmp") {
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// ctx returns a context bounded by d and cancelled when t ends.
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// randBytes returns n seeded pseudo-random bytes.
func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	r.Read(b)
	return b
}

// seeded is a reader of n seeded pseudo-random bytes that never holds them
// all; flip, if >= 0, is the offset of a byte that is inverted (a 1-byte
// edit of the same content).
type seeded struct {
	r       *rand.ChaCha8
	off, n  int64
	flip    int64
	started bool
}

func newSeeded(seed uint64, n, flip int64) *seeded {
	return &seeded{r: rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'e', '2', 'e'}), n: n, flip: flip}
}

func (s *seeded) Read(p []byte) (int, error) {
	if s.off >= s.n {
		return 0, io.EOF
	}
	if int64(len(p)) > s.n-s.off {
		p = p[:s.n-s.off]
	}
	s.r.Read(p)
	if s.flip >= s.off && s.flip < s.off+int64(len(p)) {
		p[s.flip-s.off] ^= 0xff
	}
	s.off += int64(len(p))
	return len(p), nil
}

// sha256Of hashes r to EOF.
func sha256Of(t testing.TB, r io.Reader) (string, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read after %d bytes: %v", n, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// awsCode is the S3 error code of an aws-sdk-go-v2 error.
func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

// minioCode is the S3 error code of a minio-go error.
func minioCode(err error) string {
	if err == nil {
		return ""
	}
	return minio.ToErrorResponse(err).Code
}

// bucketName returns a bucket name unique to the test.
func bucketName(t testing.TB, suffix string) string {
	n := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if suffix != "" {
		n += "-" + suffix
	}
	if len(n) > 63 {
		n = fmt.Sprintf("%s-%x", n[:50], sha256.Sum256([]byte(n)))[:63]
	}
	return strings.Trim(n, "-")
}

// mkBucket creates bucket with root's aws client.
func mkBucket(t testing.TB, s *server, bucket string) {
	t.Helper()
	if _, err := s.rootAWS(t).CreateBucket(ctxFor(t, 30*time.Second), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// rawDo sends a request signed by root (or unsigned when access is "").
func (s *server) rawDo(t testing.TB, access, secret, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t, time.Minute), method, s.url()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if access != "" {
		h := sha256.Sum256(body)
		auth.SignRequest(req, access, secret, region, hex.EncodeToString(h[:]), time.Now())
	}
	resp, err := (&http.Client{Transport: s.transport(t)}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}
