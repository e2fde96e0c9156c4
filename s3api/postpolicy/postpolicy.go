// Package postpolicy handles browser-based S3 POST object uploads: an HTML
// form sent as multipart/form-data, authorized by a signed POST policy.
//
// Parse streams the body: the form fields before the "file" field are read
// into memory (bounded), the file is returned as an io.Reader that is never
// buffered, and fields after the file are ignored, as AWS does. Verify then
// checks the policy signature (SigV4: x-amz-signature = hex(HMAC-SHA256(
// signing key, policy)); SigV2: signature = base64(HMAC-SHA1(secret,
// policy))), the policy's expiration and its conditions against the fields,
// and arms the content-length-range check of the file reader.
//
// Policy conditions supported: exact-match objects {"field": "value"},
// ["eq", "$field", "value"], ["starts-with", "$field", "prefix"] (for
// $Content-Type, each comma-separated value must match), and
// ["content-length-range", min, max]. Field names are matched without
// regard to case. Every form field other than x-amz-signature, file,
// policy, AWSAccessKeyId, signature and x-ignore-* must be covered by a
// condition, or Verify fails ("Extra input fields").
package postpolicy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/tessera-store/tessera/s3api/auth"
)

// Sentinel errors; the comments give the S3 error each maps to. Policy
// failures are *PolicyError values, which match auth.ErrAccessDenied.
var (
	// ErrMalformedPOSTRequest: 400 MalformedPOSTRequest "The body of your
	// POST request is not well-formed multipart/form-data."
	ErrMalformedPOSTRequest = errors.New("postpolicy: malformed POST request")
	// ErrMaxPreDataLengthExceeded: 400 MaxPostPreDataLengthExceededError
	// "Your POST request fields preceding the upload file were too large."
	ErrMaxPreDataLengthExceeded = errors.New("postpolicy: form fields before the file too large")
	// ErrInvalidPolicyDocument: 400 InvalidPolicyDocument "The content of
	// the form does not meet the conditions specified in the policy document."
	ErrInvalidPolicyDocument = errors.New("postpolicy: invalid policy document")
	// ErrEntityTooLarge: 400 EntityTooLarge "Your proposed upload exceeds
	// the maximum allowed size" (content-length-range).
	ErrEntityTooLarge = errors.New("postpolicy: entity too large")
	// ErrEntityTooSmall: 400 EntityTooSmall "Your proposed upload is smaller
	// than the minimum allowed size" (content-length-range).
	ErrEntityTooSmall = errors.New("postpolicy: entity too small")
)

// PolicyError is a request the policy does not allow. It matches
// auth.ErrAccessDenied; Reason is the text AWS puts in the Message of its
// 403 AccessDenied answer, e.g.
// `Invalid according to Policy: Policy Condition failed: ["eq", "$key", "a"]`.
type PolicyError struct {
	Reason string
}

func (e *PolicyError) Error() string { return "postpolicy: " + e.Reason }

// Unwrap returns auth.ErrAccessDenied.
func (e *PolicyError) Unwrap() error { return auth.ErrAccessDenied }

func policyErr(format string, a ...any) error {
	return &PolicyError{Reason: "Invalid according to Policy: " + fmt.Sprintf(format, a...)}
}

// DefaultMaxFormBytes bounds the form fields before the file when Parse is
// given maxFormBytes <= 0 (AWS allows 20 KiB).
const DefaultMaxFormBytes = 20 << 10

// headerSlack is the raw body read ahead of the fields that Parse accepts on
// top of maxFormBytes: part headers, boundaries and the multipart reader's
// look-ahead buffer.
const headerSlack = 64 << 10

// Form is a parsed POST upload. Fields are read-only after Parse except
// Bucket, which the handler sets.
type Form struct {
	// Bucket is the "bucket" field. The handler sets it to the bucket the
	// URL addresses before Verify; the policy's $bucket condition is checked
	// against it.
	Bucket string
	// Key is the "key" field with ${filename} replaced by FileName.
	Key string
	// FileName is the file part's file name, without directories (as
	// mime/multipart.Part.FileName returns it); "" if none was sent.
	FileName string
	// ContentType is the "Content-Type" field; the file part's own
	// Content-Type header is ignored, as AWS does.
	ContentType string
	// Metadata holds the x-amz-meta-* fields, names lowercased without the
	// prefix.
	Metadata map[string]string
	// SuccessActionStatus is 200, 201 or 204 from the success_action_status
	// field, 0 when absent or another value (AWS then answers 204).
	SuccessActionStatus int
	// SuccessActionRedirect is the success_action_redirect (or legacy
	// redirect) field.
	SuccessActionRedirect string
	// Tagging is the "tagging" field (a Tagging XML document).
	Tagging string
	// ChecksumAlgorithm is the x-amz-checksum-algorithm field (e.g.
	// "CRC32C"); Checksums maps lowercased algorithm names ("crc32c") to the
	// base64 values of the x-amz-checksum-<alg> fields.
	ChecksumAlgorithm string
	Checksums         map[string]string
	// File streams the file part. It fails with ErrEntityTooLarge as soon as
	// more than the policy's maximum is read, with ErrEntityTooSmall at the
	// end if fewer than the minimum were read (once Verify has passed), and
	// with a non-EOF error if the body is truncated: commit only at io.EOF.
	File io.Reader

	// fields maps lowercased field names to values, in arrival order in names.
	fields map[string]string
	names  []string
	file   *fileReader
}

// Field returns the value of the form field name (any case) and whether it
// was sent.
func (f *Form) Field(name string) (string, bool) {
	v, ok := f.fields[strings.ToLower(name)]
	return v, ok
}

// objectHeaders are the fields AWS stores as object headers.
var objectHeaders = []string{
	"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language",
	"Content-Type", "Expires", "x-amz-storage-class", "x-amz-website-redirect-location",
	"x-amz-checksum-algorithm", "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
	"x-amz-checksum-crc64nvme", "x-amz-checksum-sha1", "x-amz-checksum-sha256",
	"x-amz-server-side-encryption", "x-amz-object-lock-mode",
	"x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold", "x-amz-acl",
}

// Header returns the fields that a PUT would carry as headers
// (Content-Type, Cache-Control, Content-Disposition, Content-Encoding,
// Expires, x-amz-meta-*, x-amz-checksum-*, ...), so that the handler can
// reuse its PUT path. The tagging field is not included: use Tagging.
func (f *Form) Header() http.Header {
	h := make(http.Header)
	for _, k := range objectHeaders {
		if v, ok := f.fields[strings.ToLower(k)]; ok {
			h.Set(k, v)
		}
	}
	for k, v := range f.Metadata {
		h.Set("X-Amz-Meta-"+k, v)
	}
	return h
}

// Anonymous reports whether the form carries no policy and no signature: an
// unauthenticated upload, allowed only to a public-write bucket.
func (f *Form) Anonymous() bool {
	for _, k := range []string{"policy", "x-amz-signature", "signature", "awsaccesskeyid", "x-amz-credential"} {
		if _, ok := f.fields[k]; ok {
			return false
		}
	}
	return true
}

// Parse reads the form fields of a POST upload up to the "file" field and
// returns the Form whose File streams the file. maxFormBytes bounds the
// total size of the field values before the file (DefaultMaxFormBytes when
// <= 0); the raw bytes read before the file part are bounded too. The body
// is read only through Form.File after Parse returns.
//
// Errors: ErrMalformedPOSTRequest (not multipart/form-data, no file field,
// no key field, a part without a name, a repeated field, truncated body),
// ErrMaxPreDataLengthExceeded, or ctx's error.
func Parse(ctx context.Context, r *http.Request, maxFormBytes int64) (*Form, error) {
	if maxFormBytes <= 0 {
		maxFormBytes = DefaultMaxFormBytes
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("%w: content type is not multipart/form-data with a boundary", ErrMalformedPOSTRequest)
	}
	if r.Body == nil {
		return nil, fmt.Errorf("%w: no body", ErrMalformedPOSTRequest)
	}
	body := &boundedReader{r: r.Body, n: maxFormBytes + headerSlack}
	mr := multipart.NewReader(body, params["boundary"])
	f := &Form{fields: make(map[string]string), Metadata: make(map[string]string), Checksums: make(map[string]string)}
	left := maxFormBytes
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := mr.NextPart()
		if err != nil {
			if errors.Is(err, errPreData) {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrMaxPreDataLengthExceeded, maxFormBytes)
			}
			if err == io.EOF {
				return nil, fmt.Errorf("%w: no file field", ErrMalformedPOSTRequest)
			}
			return nil, fmt.Errorf("%w: %w", ErrMalformedPOSTRequest, err)
		}
		name := p.FormName()
		if name == "" {
			return nil, fmt.Errorf("%w: a part has no field name", ErrMalformedPOSTRequest)
		}
		if strings.EqualFold(name, "file") {
			body.n = -1 // the file is not bounded here
			f.FileName = p.FileName()
			f.file = &fileReader{r: p, max: -1}
			f.File = f.file
			break
		}
		v, err := io.ReadAll(io.LimitReader(p, left+1))
		if err != nil {
			if errors.Is(err, errPreData) {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrMaxPreDataLengthExceeded, maxFormBytes)
			}
			return nil, fmt.Errorf("%w: field %q: %v", ErrMalformedPOSTRequest, trunc(name), err)
		}
		if left -= int64(len(v)); left < 0 {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrMaxPreDataLengthExceeded, maxFormBytes)
		}
		lname := strings.ToLower(name)
		if _, dup := f.fields[lname]; dup {
			return nil, fmt.Errorf("%w: repeated field %q", ErrMalformedPOSTRequest, trunc(name))
		}
		f.fields[lname] = string(v)
		f.names = append(f.names, name)
	}
	key, ok := f.fields["key"]
	if !ok {
		return nil, fmt.Errorf("%w: Bucket POST must contain a field named 'key'", ErrMalformedPOSTRequest)
	}
	f.Key = strings.ReplaceAll(key, "${filename}", f.FileName)
	f.Bucket = f.fields["bucket"]
	f.ContentType = f.fields["content-type"]
	f.Tagging = f.fields["tagging"]
	f.SuccessActionRedirect = f.fields["success_action_redirect"]
	if f.SuccessActionRedirect == "" {
		f.SuccessActionRedirect = f.fields["redirect"]
	}
	switch s := f.fields["success_action_status"]; s {
	case "200", "201", "204":
		f.SuccessActionStatus, _ = strconv.Atoi(s)
	}
	f.ChecksumAlgorithm = f.fields["x-amz-checksum-algorithm"]
	for k, v := range f.fields {
		if m, ok := strings.CutPrefix(k, "x-amz-meta-"); ok && m != "" {
			f.Metadata[m] = v
		} else if alg, ok := strings.CutPrefix(k, "x-amz-checksum-"); ok && alg != "algorithm" && alg != "" {
			f.Checksums[alg] = v
		}
	}
	return f, nil
}

// errPreData is returned by boundedReader when the raw bytes before the
// file part exceed the bound.
var errPreData = errors.New("postpolicy: pre-data bound")

// boundedReader fails with errPreData after n bytes; n < 0 means unbounded.
type boundedReader struct {
	r io.Reader
	n int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n < 0 {
		return b.r.Read(p)
	}
	if b.n == 0 {
		return 0, errPreData
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// fileReader streams the file part, enforcing content-length-range once
// Verify has armed it (max >= 0).
type fileReader struct {
	r        io.Reader
	n        int64
	min, max int64
	err      error
}

func (fr *fileReader) Read(p []byte) (int, error) {
	if fr.err != nil {
		return 0, fr.err
	}
	n, err := fr.r.Read(p)
	fr.n += int64(n)
	if fr.max >= 0 && fr.n > fr.max {
		fr.err = fmt.Errorf("%w: more than %d bytes, the policy's maximum", ErrEntityTooLarge, fr.max)
		return 0, fr.err
	}
	if err == io.EOF && fr.n < fr.min {
		fr.err = fmt.Errorf("%w: %d bytes, the policy's minimum is %d", ErrEntityTooSmall, fr.n, fr.min)
		return n, fr.err
	}
	if err != nil && err != io.EOF {
		fr.err = fmt.Errorf("%w: file: %w", ErrMalformedPOSTRequest, err)
		return n, fr.err
	}
	return n, err
}

// trunc bounds client-supplied text quoted in errors.
func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
