package postpolicy

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tessera-store/tessera/s3api/auth"
)

const (
	testAK     = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testBucket = "photos"
)

func testCreds(_ context.Context, ak string) (string, error) {
	if ak == testAK {
		return testSecret, nil
	}
	return "", fmt.Errorf("no user %q: %w", ak, auth.ErrInvalidAccessKeyID)
}

// presign returns minio-go's form data for p, signed with SigV4 or SigV2.
// With Region set the client makes no network call.
func presign(t testing.TB, p *minio.PostPolicy, v2 bool, secret string) map[string]string {
	t.Helper()
	cr := credentials.NewStaticV4(testAK, secret, "")
	if v2 {
		cr = credentials.NewStaticV2(testAK, secret, "")
	}
	c, err := minio.New("127.0.0.1:9000", &minio.Options{Creds: cr, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, form, err := c.PresignedPostPolicy(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return form
}

// basePolicy mirrors testPresignedPostPolicy of the minio-go functional
// tests.
func basePolicy(t testing.TB, key string, file []byte) *minio.PostPolicy {
	t.Helper()
	p := minio.NewPostPolicy()
	must(t, p.SetBucket(testBucket))
	must(t, p.SetKey(key))
	must(t, p.SetExpires(time.Now().UTC().AddDate(0, 0, 10)))
	must(t, p.SetContentType("binary/octet-stream"))
	must(t, p.SetContentLengthRange(10, 1024*1024))
	must(t, p.SetUserMetadata("Color", "blue"))
	must(t, p.SetContentEncoding("gzip"))
	must(t, p.SetChecksum(minio.ChecksumCRC32C.ChecksumBytes(file)))
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// body builds the multipart body the functional tests send: every field,
// then the file part named fileField.
func body(t testing.TB, fields map[string]string, fileField, fileName string, file []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		must(t, w.WriteField(k, v))
	}
	fw, err := w.CreateFormFile(fileField, fileName)
	must(t, err)
	_, err = fw.Write(file)
	must(t, err)
	must(t, w.WriteField("after-file", "ignored"))
	must(t, w.Close())
	return &buf, w.FormDataContentType()
}

func post(t testing.TB, b io.Reader, ctype string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("POST", "http://127.0.0.1:9000/"+testBucket, b)
	must(t, err)
	r.Header.Set("Content-Type", ctype)
	return r
}

func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestMinioPresignedPostPolicy(t *testing.T) {
	file := data(33 << 10)
	for _, v2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v2=%v", v2), func(t *testing.T) {
			form := presign(t, basePolicy(t, "dir/obj name+1.bin", file), v2, testSecret)
			b, ct := body(t, form, "file", "/tmp/datafile-33-kB", file)
			f, err := Parse(context.Background(), post(t, b, ct), 0)
			must(t, err)
			f.Bucket = testBucket
			ak, err := f.Verify(context.Background(), testCreds, time.Now())
			if err != nil || ak != testAK {
				t.Fatalf("Verify = %q, %v", ak, err)
			}
			got, err := io.ReadAll(f.File)
			must(t, err)
			if !bytes.Equal(got, file) {
				t.Fatalf("file: %d bytes, want %d", len(got), len(file))
			}
			want := minio.ChecksumCRC32C.ChecksumBytes(file).Encoded()
			if f.Key != "dir/obj name+1.bin" || f.ContentType != "binary/octet-stream" || f.Metadata["color"] != "blue" ||
				f.ChecksumAlgorithm != "CRC32C" || f.Checksums["crc32c"] != want || f.FileName != "datafile-33-kB" {
				t.Fatalf("form %+v", f)
			}
			h := f.Header()
			if h.Get("Content-Encoding") != "gzip" || h.Get("X-Amz-Meta-Color") != "blue" || h.Get("X-Amz-Checksum-Crc32c") != want {
				t.Fatalf("header %v", h)
			}
			if _, ok := f.Field("after-file"); ok {
				t.Fatal("a field after the file was read")
			}
		})
	}
}

// TestMinioPresignedPostPolicyWrongFile mirrors the functional test: a
// checksum field other than the policy's fails with AWS's message.
func TestMinioPresignedPostPolicyWrongFile(t *testing.T) {
	p := basePolicy(t, "k", []byte{1, 2, 3})
	form := presign(t, p, false, testSecret)
	file := data(10 << 10)
	form["x-amz-checksum-crc32c"] = minio.ChecksumCRC32C.ChecksumBytes(file).Encoded()
	b, ct := body(t, form, "file", "f", file)
	f, err := Parse(context.Background(), post(t, b, ct), 0)
	must(t, err)
	f.Bucket = testBucket
	_, err = f.Verify(context.Background(), testCreds, time.Now())
	var pe *PolicyError
	if !errors.As(err, &pe) || !errors.Is(err, auth.ErrAccessDenied) {
		t.Fatalf("err = %v, want a PolicyError", err)
	}
	msg := strings.ReplaceAll(pe.Reason, `"`, "")
	if !strings.Contains(msg, "Policy Condition failed: [eq, $x-amz-checksum-crc32c, 8TDyHg=") {
		t.Fatalf("reason %q", pe.Reason)
	}
}

// TestMinioPresignedPostPolicyEmptyFileName mirrors the functional test:
// the file part has an empty field name.
func TestMinioPresignedPostPolicyEmptyFileName(t *testing.T) {
	file := data(33 << 10)
	form := presign(t, basePolicy(t, "k", file), false, testSecret)
	b, ct := body(t, form, "", "/tmp/datafile-33-kB", file)
	_, err := Parse(context.Background(), post(t, b, ct), 0)
	if !errors.Is(err, ErrMalformedPOSTRequest) {
		t.Fatalf("err = %v, want ErrMalformedPOSTRequest", err)
	}
}

func TestContentLengthRange(t *testing.T) {
	for _, tc := range []struct {
		size    int
		wantErr error
	}{
		{10, nil},
		{1 << 20, nil},
		{9, ErrEntityTooSmall},
		{0, ErrEntityTooSmall},
		{1<<20 + 1, ErrEntityTooLarge},
		{3 << 20, ErrEntityTooLarge},
	} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			file := data(tc.size)
			form := presign(t, basePolicy(t, "k", file), false, testSecret)
			b, ct := body(t, form, "file", "f", file)
			f, err := Parse(context.Background(), post(t, b, ct), 0)
			must(t, err)
			f.Bucket = testBucket
			_, err = f.Verify(context.Background(), testCreds, time.Now())
			must(t, err)
			n, err := io.Copy(io.Discard, iotest.OneByteReader(f.File))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("read %d bytes, err = %v, want %v", n, err, tc.wantErr)
			}
			if errors.Is(err, ErrEntityTooLarge) && n > 1<<20 {
				t.Fatalf("read %d bytes past the maximum", n)
			}
			// The error sticks.
			if _, err2 := f.File.Read(make([]byte, 1)); tc.wantErr != nil && !errors.Is(err2, tc.wantErr) {
				t.Fatalf("second read: %v", err2)
			}
		})
	}
}

// form builds a hand-made form signed with SigV4 for policy.
func signedForm(t testing.TB, policy string, fields map[string]string, secret string, now time.Time) map[string]string {
	t.Helper()
	out := map[string]string{}
	b64 := base64.StdEncoding.EncodeToString([]byte(policy))
	date := now.UTC().Format("20060102")
	out["policy"] = b64
	out["x-amz-algorithm"] = "AWS4-HMAC-SHA256"
	out["x-amz-credential"] = testAK + "/" + date + "/eu-west-3/s3/aws4_request"
	out["x-amz-date"] = now.UTC().Format("20060102T150405Z")
	key := hmacSHA256([]byte("AWS4"+secret), date)
	key = hmacSHA256(key, "eu-west-3")
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	out["x-amz-signature"] = fmt.Sprintf("%x", hmacSHA256(key, b64))
	for k, v := range fields {
		out[k] = v
	}
	return out
}

const credConds = `["eq", "$x-amz-algorithm", "AWS4-HMAC-SHA256"], ["starts-with", "$x-amz-credential", ""], ["starts-with", "$x-amz-date", ""]`

func TestVerifyPolicy(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	exp := `"expiration": "2026-11-27T13:00:00.000Z"`
	tests := []struct {
		name     string
		policy   string
		fields   map[string]string
		secret   string
		fileName string
		at       time.Time
		wantErr  error
		wantKey  string
	}{
		{"ok", `{` + exp + `, "conditions": [{"bucket": "photos"}, ["starts-with", "$key", "user/"], ` + credConds + `]}`,
			map[string]string{"key": "user/a.txt", "bucket": "photos"}, testSecret, "f", now, nil, "user/a.txt"},
		{"filename", `{` + exp + `, "conditions": [{"bucket": "photos"}, ["starts-with", "$key", "user/"], ` + credConds + `]}`,
			map[string]string{"key": "user/${filename}"}, testSecret, "cat.jpg", now, nil, "user/cat.jpg"},
		{"filename-outside-prefix", `{` + exp + `, "conditions": [["starts-with", "$key", "user/"], ` + credConds + `]}`,
			map[string]string{"key": "${filename}"}, testSecret, "cat.jpg", now, auth.ErrAccessDenied, ""},
		{"expired", `{"expiration": "2026-11-27T11:59:59Z", "conditions": [["starts-with", "$key", ""], ` + credConds + `]}`,
			map[string]string{"key": "k"}, testSecret, "f", now, auth.ErrAccessDenied, ""},
		{"extra-field", `{` + exp + `, "conditions": [["starts-with", "$key", ""], ` + credConds + `]}`,
			map[string]string{"key": "k", "acl": "public-read"}, testSecret, "f", now, auth.ErrAccessDenied, ""},
		{"x-ignore", `{` + exp + `, "conditions": [["starts-with", "$key", ""], ` + credConds + `]}`,
			map[string]string{"key": "k", "x-ignore-me": "1", "X-Ignore-Too": "2"}, testSecret, "f", now, nil, "k"},
		{"case-insensitive-names", `{` + exp + `, "conditions": [["starts-with", "$Key", ""], ["eq", "$content-type", "text/plain"], ` + credConds + `]}`,
			map[string]string{"key": "k", "Content-Type": "text/plain"}, testSecret, "f", now, nil, "k"},
		{"eq-fails", `{` + exp + `, "conditions": [["eq", "$key", "a"], ` + credConds + `]}`,
			map[string]string{"key": "b"}, testSecret, "f", now, auth.ErrAccessDenied, ""},
		{"exact-map-fails", `{` + exp + `, "conditions": [{"key": "a"}, ` + credConds + `]}`,
			map[string]string{"key": "b"}, testSecret, "f", now, auth.ErrAccessDenied, ""},
		{"bucket-mismatch", `{` + exp + `, "conditions": [{"bucket": "other"}, ["starts-with", "$key", ""], ` + credConds + `]}`,
			map[string]string{"key": "k"}, testSecret, "f", now, auth.ErrAccessDenied, ""},
		{"content-type-multi", `{` + exp + `, "conditions": [["starts-with", "$key", ""], ["starts-with", "$Content-Type", "image/"], ` + credConds + `]}`,
			map[string]string{"key": "k", "Content-Type": "image/jpeg, image/png"}, testSecret, "f", now, nil, "k"},
		{"content-type-multi-fails", `{` + exp + `, "conditions": [["starts-with", "$key", ""], ["starts-with", "$Content-Type", "image/"], ` + credConds + `]}`,
			map[string]string{"key": "k", "Content-Type": "image/jpeg, text/html"}, testSecret, "f", now, auth.ErrAccessDenied, ""},
		{"meta-starts-with", `{` + exp + `, "conditions": [["starts-with", "$key", ""], ["starts-with", "$x-amz-meta-tag", "v"], ["eq", "$success_action_status", "201"], ` + credConds + `]}`,
			map[string]string{"key": "k", "x-amz-meta-tag": "v1", "success_action_status": "201"}, testSecret, "f", now, nil, "k"},
		{"wrong-secret", `{` + exp + `, "conditions": [["starts-with", "$key", ""], ` + credConds + `]}`,
			map[string]string{"key": "k"}, "nope", "f", now, auth.ErrSignatureDoesNotMatch, ""},
		{"bad-json", `{` + exp + `, "conditions": [["starts-with", "$key"]]}`,
			map[string]string{"key": "k"}, testSecret, "f", now, ErrInvalidPolicyDocument, ""},
		{"no-expiration", `{"conditions": []}`,
			map[string]string{"key": "k"}, testSecret, "f", now, ErrInvalidPolicyDocument, ""},
		{"unknown-op", `{` + exp + `, "conditions": [["matches", "$key", "k"]]}`,
			map[string]string{"key": "k"}, testSecret, "f", now, ErrInvalidPolicyDocument, ""},
		{"bad-range", `{` + exp + `, "conditions": [["content-length-range", 10, 5]]}`,
			map[string]string{"key": "k"}, testSecret, "f", now, ErrInvalidPolicyDocument, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := signedForm(t, tt.policy, tt.fields, tt.secret, now)
			b, ct := body(t, fields, "file", tt.fileName, []byte("hello"))
			f, err := Parse(context.Background(), post(t, b, ct), 0)
			must(t, err)
			f.Bucket = testBucket
			ak, err := f.Verify(context.Background(), testCreds, tt.at)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (ak != testAK || f.Key != tt.wantKey) {
				t.Fatalf("ak %q key %q", ak, f.Key)
			}
		})
	}
}

func TestExtraFieldsMessage(t *testing.T) {
	now := time.Now()
	pol := `{"expiration": "` + now.Add(time.Hour).UTC().Format(time.RFC3339) + `", "conditions": [["starts-with", "$key", ""], ` + credConds + `]}`
	fields := signedForm(t, pol, map[string]string{"key": "k", "Acl": "private"}, testSecret, now)
	b, ct := body(t, fields, "file", "f", nil)
	f, err := Parse(context.Background(), post(t, b, ct), 0)
	must(t, err)
	_, err = f.Verify(context.Background(), testCreds, now)
	var pe *PolicyError
	if !errors.As(err, &pe) || pe.Reason != "Invalid according to Policy: Extra input fields: Acl" {
		t.Fatalf("err = %v", err)
	}
}

func TestVerifySignatureForms(t *testing.T) {
	now := time.Now()
	pol := `{"expiration": "` + now.Add(time.Hour).UTC().Format(time.RFC3339) + `", "conditions": [["starts-with", "$key", ""], ` + credConds + `]}`
	good := signedForm(t, pol, map[string]string{"key": "k"}, testSecret, now)
	tests := []struct {
		name    string
		edit    func(m map[string]string)
		wantErr error
	}{
		{"ok", func(map[string]string) {}, nil},
		{"tampered-policy", func(m map[string]string) {
			m["policy"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(pol, `"$key", ""`, `"$key", "x"`, 1)))
		}, auth.ErrSignatureDoesNotMatch},
		{"flipped-signature", func(m map[string]string) {
			s := []byte(m["x-amz-signature"])
			s[3] ^= 1
			m["x-amz-signature"] = string(s)
		}, auth.ErrSignatureDoesNotMatch},
		{"short-signature", func(m map[string]string) { m["x-amz-signature"] = "abcd" }, auth.ErrSignatureDoesNotMatch},
		{"unknown-key", func(m map[string]string) {
			m["x-amz-credential"] = strings.Replace(m["x-amz-credential"], testAK, "NOBODY", 1)
		}, auth.ErrInvalidAccessKeyID},
		{"bad-credential", func(m map[string]string) { m["x-amz-credential"] = "x/y" }, ErrMalformedPOSTRequest},
		{"date-mismatch", func(m map[string]string) { m["x-amz-date"] = "19990101T000000Z" }, ErrMalformedPOSTRequest},
		{"bad-algorithm", func(m map[string]string) { m["x-amz-algorithm"] = "AWS4-HMAC-SHA1" }, auth.ErrInvalidArgument},
		{"no-policy", func(m map[string]string) { delete(m, "policy") }, ErrMalformedPOSTRequest},
		{"bad-base64", func(m map[string]string) { m["policy"] = "%%%" }, auth.ErrSignatureDoesNotMatch},
		{"anonymous", func(m map[string]string) {
			for _, k := range []string{"policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"} {
				delete(m, k)
			}
		}, auth.ErrAccessDenied},
		{"v2-missing-signature", func(m map[string]string) {
			for _, k := range []string{"x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"} {
				delete(m, k)
			}
			m["AWSAccessKeyId"] = testAK
		}, ErrMalformedPOSTRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range good {
				m[k] = v
			}
			tt.edit(m)
			b, ct := body(t, m, "file", "f", nil)
			f, err := Parse(context.Background(), post(t, b, ct), 0)
			must(t, err)
			_, err = f.Verify(context.Background(), testCreds, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestCredentialsInternalError(t *testing.T) {
	now := time.Now()
	pol := `{"expiration": "` + now.Add(time.Hour).UTC().Format(time.RFC3339) + `", "conditions": []}`
	b, ct := body(t, signedForm(t, pol, map[string]string{"key": "k"}, testSecret, now), "file", "f", nil)
	f, err := Parse(context.Background(), post(t, b, ct), 0)
	must(t, err)
	boom := errors.New("meta down")
	_, err = f.Verify(context.Background(), func(context.Context, string) (string, error) { return "", boom }, now)
	if !errors.Is(err, boom) || errors.Is(err, auth.ErrAccessDenied) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	mk := func(parts func(w *multipart.Writer)) (*bytes.Buffer, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		parts(w)
		must(t, w.Close())
		return &buf, w.FormDataContentType()
	}
	big := strings.Repeat("x", 11<<10)
	tests := []struct {
		name    string
		build   func() (io.Reader, string)
		wantErr error
	}{
		{"not-multipart", func() (io.Reader, string) { return strings.NewReader("a=b"), "application/x-www-form-urlencoded" }, ErrMalformedPOSTRequest},
		{"no-boundary", func() (io.Reader, string) { return strings.NewReader(""), "multipart/form-data" }, ErrMalformedPOSTRequest},
		{"no-file", func() (io.Reader, string) {
			return mk(func(w *multipart.Writer) { w.WriteField("key", "k") })
		}, ErrMalformedPOSTRequest},
		{"no-key", func() (io.Reader, string) {
			return mk(func(w *multipart.Writer) { w.WriteField("acl", "x"); w.CreateFormFile("file", "f") })
		}, ErrMalformedPOSTRequest},
		{"repeated-field", func() (io.Reader, string) {
			return mk(func(w *multipart.Writer) {
				w.WriteField("key", "a")
				w.WriteField("Key", "b")
				w.CreateFormFile("file", "f")
			})
		}, ErrMalformedPOSTRequest},
		{"fields-too-large", func() (io.Reader, string) {
			return mk(func(w *multipart.Writer) {
				w.WriteField("key", "k")
				w.WriteField("x-ignore-a", big)
				w.WriteField("x-ignore-b", big)
				w.CreateFormFile("file", "f")
			})
		}, ErrMaxPreDataLengthExceeded},
		{"one-huge-field", func() (io.Reader, string) {
			return mk(func(w *multipart.Writer) {
				w.WriteField("key", "k")
				w.WriteField("x-ignore-a", strings.Repeat("y", 1<<20))
				w.CreateFormFile("file", "f")
			})
		}, ErrMaxPreDataLengthExceeded},
		{"truncated", func() (io.Reader, string) {
			b, ct := mk(func(w *multipart.Writer) { w.WriteField("key", "k") })
			return io.LimitReader(b, int64(b.Len()/2)), ct
		}, ErrMalformedPOSTRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ct := tt.build()
			_, err := Parse(context.Background(), post(t, b, ct), 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTruncatedFile(t *testing.T) {
	file := data(100 << 10)
	form := presign(t, basePolicy(t, "k", file), false, testSecret)
	b, ct := body(t, form, "file", "f", file)
	f, err := Parse(context.Background(), post(t, io.LimitReader(b, int64(b.Len()-5000)), ct), 0)
	must(t, err)
	f.Bucket = testBucket
	_, err = f.Verify(context.Background(), testCreds, time.Now())
	must(t, err)
	if _, err := io.Copy(io.Discard, f.File); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated file read: %v", err)
	}
}

// TestStreaming shows that Parse returns before the file has been sent:
// the writer only sends the rest of the file after Parse returned.
func TestStreaming(t *testing.T) {
	file := data(4 << 20)
	form := presign(t, basePolicy(t, "k", file[:1<<20]), false, testSecret)
	b, ct := body(t, form, "file", "f", file)
	raw := b.Bytes()
	head := bytes.Index(raw, file[:64]) + 64<<10 // fields, file header, 64 KiB
	pr, pw := io.Pipe()
	parsed := make(chan struct{})
	go func() {
		pw.Write(raw[:head])
		<-parsed
		pw.Write(raw[head:])
		pw.Close()
	}()
	f, err := Parse(context.Background(), post(t, pr, ct), 0)
	close(parsed)
	must(t, err)
	f.Bucket = testBucket
	_, err = f.Verify(context.Background(), testCreds, time.Now())
	must(t, err)
	// The policy allows 1 MiB; the 4 MiB file fails while streaming.
	n, err := io.Copy(io.Discard, f.File)
	if !errors.Is(err, ErrEntityTooLarge) || n > 1<<20 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	pr.CloseWithError(errors.New("done"))
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b, ct := body(t, map[string]string{"key": "k"}, "file", "f", nil)
	if _, err := Parse(ctx, post(t, b, ct), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	pol := `{"expiration": "2026-11-28T00:00:00Z", "conditions": [["starts-with", "$key", ""], ["content-length-range", 1, 10], ` + credConds + `]}`
	seed, _ := body(f, signedForm(f, pol, map[string]string{"key": "k/${filename}"}, testSecret, now), "file", "f.txt", []byte("hello"))
	f.Add(seed.Bytes())
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--B--\r\n"))
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n--B--\r\n"))
	f.Add([]byte("--B\r\n\r\n--B--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ct := "multipart/form-data; boundary=B"
		if i := bytes.Index(raw, []byte("\r\n")); i > 2 && raw[0] == '-' && raw[1] == '-' {
			ct = "multipart/form-data; boundary=" + string(raw[2:i])
		}
		r := post(t, bytes.NewReader(raw), ct)
		form, err := Parse(context.Background(), r, 4096)
		if err != nil {
			if !errors.Is(err, ErrMalformedPOSTRequest) && !errors.Is(err, ErrMaxPreDataLengthExceeded) {
				t.Fatalf("untyped Parse error %v", err)
			}
			return
		}
		form.Bucket = testBucket
		if _, err := form.Verify(context.Background(), testCreds, now); err != nil {
			for _, s := range []error{ErrMalformedPOSTRequest, ErrInvalidPolicyDocument, auth.ErrAccessDenied,
				auth.ErrSignatureDoesNotMatch, auth.ErrInvalidAccessKeyID, auth.ErrInvalidArgument} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("untyped Verify error %v", err)
		}
		n, err := io.Copy(io.Discard, form.File)
		if err != nil && !errors.Is(err, ErrEntityTooLarge) && !errors.Is(err, ErrEntityTooSmall) && !errors.Is(err, ErrMalformedPOSTRequest) {
			t.Fatalf("untyped File error %v", err)
		}
		if err == nil && (n < 1 || n > 10) {
			t.Fatalf("file of %d bytes passed content-length-range [1, 10]", n)
		}
	})
}
