// Package sigv2 authenticates S3 requests signed with AWS Signature
// Version 2: the header form
//
//	Authorization: AWS <AccessKeyId>:base64(HMAC-SHA1(secret, StringToSign))
//
// and the presigned query form (?AWSAccessKeyId=..&Expires=..&Signature=..).
//
// StringToSign follows the AWS S3 documentation (RESTAuthentication):
//
//	Method \n Content-MD5 \n Content-Type \n Date \n
//	CanonicalizedAmzHeaders CanonicalizedResource
//
// where Date is the Date header ("" when x-amz-date is sent) or, presigned,
// the Expires query value; CanonicalizedAmzHeaders is every x-amz-* header,
// name lowercased, sorted, values trimmed and comma-joined, one "name:value\n"
// line each; CanonicalizedResource is the request path exactly as sent
// (percent-encoding kept), prefixed by "/bucket" for virtual-host style
// requests, followed by the sub-resources of the query (subResources), sorted,
// with their decoded values.
//
// Errors wrap the sentinels of s3api/auth so that the S3 error table maps
// them; see Verify.
package sigv2

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-store/tessera/s3api/auth"
)

// MaxSkew is the largest accepted difference between the Date (or
// x-amz-date) of a header-signed request and the server's clock.
const MaxSkew = 15 * time.Minute

// Algorithm is the Authorization scheme of Signature Version 2.
const Algorithm = "AWS"

// subResources are the query parameters that are part of the
// CanonicalizedResource, sorted. The AWS list (acl ... website, cors,
// restore, response-*) plus the ones minio-go also signs (encryption,
// legal-hold, replication, retention, select, select-type), so that both
// kinds of clients verify.
var subResources = func() []string {
	s := []string{
		"acl", "cors", "delete", "encryption", "legal-hold", "lifecycle",
		"location", "logging", "notification", "partNumber", "policy",
		"replication", "requestPayment", "response-cache-control",
		"response-content-disposition", "response-content-encoding",
		"response-content-language", "response-content-type",
		"response-expires", "restore", "retention", "select", "select-type",
		"tagging", "torrent", "uploadId", "uploads", "versionId",
		"versioning", "versions", "website",
	}
	slices.Sort(s)
	return s
}()

// IsSigV2 reports whether r carries a Signature Version 2 signature: an
// Authorization header with the "AWS " scheme, or an AWSAccessKeyId or
// Signature query parameter without X-Amz-Algorithm. It lets the router pick
// this package or s3api/auth.
func IsSigV2(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), Algorithm+" ") {
		return true
	}
	q := r.URL.Query()
	return (q.Has("AWSAccessKeyId") || q.Has("Signature")) && !q.Has("X-Amz-Algorithm")
}

// Verify authenticates r, signed with Signature Version 2 in the
// Authorization header or in the query, and returns the access key.
//
// vhostBucket is the bucket taken from the Host header for virtual-host
// style requests ("" for path-style requests, whose path already starts with
// the bucket); it prefixes the CanonicalizedResource as "/" + vhostBucket.
//
// now is the server's clock. Verify does not read the body (Content-MD5 is
// signed as a header; the handler checks it against the body).
//
// Errors wrap, from s3api/auth: ErrInvalidArgument (malformed header, both
// header and query authentication, repeated or unparsable query),
// ErrAccessDenied (missing query parameters, no usable date, bad Expires),
// ErrRequestTimeTooSkewed, ErrExpiredRequest (presigned URL past Expires),
// ErrInvalidAccessKeyID (from creds), ErrSignatureDoesNotMatch. Any other
// error of creds is returned wrapped as it is.
func Verify(ctx context.Context, r *http.Request, creds auth.Credentials, now time.Time, vhostBucket string) (accessKey string, err error) {
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	authz, hasHeader := r.Header["Authorization"]
	presigned := q.Has("AWSAccessKeyId") || q.Has("Signature")
	switch {
	case qerr != nil:
		return "", fmt.Errorf("sigv2: query: %w: %v", auth.ErrInvalidArgument, qerr)
	case hasHeader && presigned:
		return "", fmt.Errorf("sigv2: %w: only one auth mechanism allowed", auth.ErrInvalidArgument)
	case hasHeader:
		if len(authz) != 1 {
			return "", fmt.Errorf("sigv2: %w: repeated Authorization header", auth.ErrInvalidArgument)
		}
		return verifyHeader(ctx, r, q, authz[0], creds, now, vhostBucket)
	case presigned:
		return verifyQuery(ctx, r, q, creds, now, vhostBucket)
	}
	return "", fmt.Errorf("sigv2: %w: no signature", auth.ErrAccessDenied)
}

// ParseHeader splits an Authorization header "AWS <AccessKeyId>:<Signature>".
// Neither part may be empty or contain white space; the access key ends at
// the last ':'. Errors wrap auth.ErrInvalidArgument.
func ParseHeader(h string) (accessKey, signature string, err error) {
	rest, ok := strings.CutPrefix(h, Algorithm+" ")
	if !ok {
		return "", "", fmt.Errorf("sigv2: %w: authorization scheme is not %q", auth.ErrInvalidArgument, Algorithm)
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 || i == len(rest)-1 || strings.ContainsAny(rest, " \t\r\n") {
		return "", "", fmt.Errorf("sigv2: %w: AWS authorization header is invalid, expected AwsAccessKeyId:signature", auth.ErrInvalidArgument)
	}
	return rest[:i], rest[i+1:], nil
}

func verifyHeader(ctx context.Context, r *http.Request, q url.Values, authz string, creds auth.Credentials, now time.Time, vhostBucket string) (string, error) {
	ak, sig, err := ParseHeader(authz)
	if err != nil {
		return "", err
	}
	dateLine := r.Header.Get("Date")
	raw := dateLine
	if v, ok := r.Header["X-Amz-Date"]; ok {
		dateLine = ""
		raw = strings.Join(v, ",")
	}
	t, ok := parseDate(raw)
	if !ok {
		return "", fmt.Errorf("sigv2: %w: AWS authentication requires a valid Date or x-amz-date header", auth.ErrAccessDenied)
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return "", fmt.Errorf("sigv2: %w: request time %v, server time %v", auth.ErrRequestTimeTooSkewed, t.UTC(), now.UTC())
	}
	return check(ctx, r, q, ak, sig, dateLine, creds, vhostBucket)
}

func verifyQuery(ctx context.Context, r *http.Request, q url.Values, creds auth.Credentials, now time.Time, vhostBucket string) (string, error) {
	for _, k := range []string{"AWSAccessKeyId", "Signature", "Expires"} {
		switch len(q[k]) {
		case 0:
			return "", fmt.Errorf("sigv2: %w: query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters", auth.ErrAccessDenied)
		case 1:
		default:
			return "", fmt.Errorf("sigv2: %w: repeated %s parameter", auth.ErrInvalidArgument, k)
		}
	}
	ak, sig, exp := q.Get("AWSAccessKeyId"), q.Get("Signature"), q.Get("Expires")
	if ak == "" || sig == "" {
		return "", fmt.Errorf("sigv2: %w: empty AWSAccessKeyId or Signature", auth.ErrAccessDenied)
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || e < 0 || exp[0] == '+' {
		return "", fmt.Errorf("sigv2: %w: invalid Expires %q", auth.ErrAccessDenied, trunc(exp))
	}
	if now.Unix() > e {
		return "", fmt.Errorf("sigv2: %w: expired at %v", auth.ErrExpiredRequest, time.Unix(e, 0).UTC())
	}
	// A '+' sent unencoded in the query decodes to a space; base64 has no
	// space, so restoring it cannot make a wrong signature match.
	sig = strings.ReplaceAll(sig, " ", "+")
	return check(ctx, r, q, ak, sig, exp, creds, vhostBucket)
}

// check looks up the secret of ak and compares sig in constant time.
func check(ctx context.Context, r *http.Request, q url.Values, ak, sig, dateLine string, creds auth.Credentials, vhostBucket string) (string, error) {
	secret, err := creds(ctx, ak)
	if err != nil {
		if errors.Is(err, auth.ErrInvalidAccessKeyID) {
			return "", fmt.Errorf("sigv2: access key %q: %w", trunc(ak), err)
		}
		return "", fmt.Errorf("sigv2: credentials: %w", err)
	}
	want := Sign(secret, StringToSign(r, q, dateLine, vhostBucket))
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return "", fmt.Errorf("sigv2: access key %q: %w", trunc(ak), auth.ErrSignatureDoesNotMatch)
	}
	return ak, nil
}

// Sign returns base64(HMAC-SHA1(secret, stringToSign)).
func Sign(secret string, stringToSign []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(stringToSign)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// StringToSign builds the Signature Version 2 string to sign of r. q is r's
// parsed query; dateLine is the fourth line (the Date header, "" when
// x-amz-date is sent, or the Expires parameter of a presigned request).
func StringToSign(r *http.Request, q url.Values, dateLine, vhostBucket string) []byte {
	b := make([]byte, 0, 256)
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, r.Header.Get("Content-Md5")...)
	b = append(b, '\n')
	b = append(b, r.Header.Get("Content-Type")...)
	b = append(b, '\n')
	b = append(b, dateLine...)
	b = append(b, '\n')
	b = appendAmzHeaders(b, r.Header)
	return appendResource(b, r, q, vhostBucket)
}

// appendAmzHeaders appends the CanonicalizedAmzHeaders. http.Header keys
// are canonical, so names differing only in case are already merged.
func appendAmzHeaders(b []byte, h http.Header) []byte {
	var names []string
	for k := range h {
		if len(k) > 6 && strings.EqualFold(k[:6], "x-amz-") {
			names = append(names, k)
		}
	}
	lower := make([]string, len(names))
	for i, k := range names {
		lower[i] = strings.ToLower(k)
	}
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, c int) int { return strings.Compare(lower[a], lower[c]) })
	for _, i := range idx {
		b = append(b, lower[i]...)
		b = append(b, ':')
		for j, v := range h[names[i]] {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, strings.Trim(v, " \t")...)
		}
		b = append(b, '\n')
	}
	return b
}

// appendResource appends the CanonicalizedResource.
func appendResource(b []byte, r *http.Request, q url.Values, vhostBucket string) []byte {
	if vhostBucket != "" {
		b = append(b, '/')
		b = append(b, vhostBucket...)
	}
	b = append(b, rawPath(r)...)
	sep := byte('?')
	for _, k := range subResources {
		vv, ok := q[k]
		if !ok {
			continue
		}
		b = append(b, sep)
		sep = '&'
		b = append(b, k...)
		if len(vv) > 0 && vv[0] != "" {
			b = append(b, '=')
			b = append(b, vv[0]...)
		}
	}
	return b
}

// rawPath is the request path as the client sent it: from RequestURI for a
// server request, else the URL's escaped path; "/" when empty.
func rawPath(r *http.Request) string {
	p := ""
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ = strings.Cut(r.RequestURI, "?")
	} else {
		p = r.URL.EscapedPath()
	}
	if p == "" {
		return "/"
	}
	return p
}

// parseDate parses a Date or x-amz-date value: the HTTP formats
// (RFC 1123, RFC 850, ANSI C) or ISO 8601 basic (20060102T150405Z).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	if t, err := time.Parse("20060102T150405Z", s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC1123Z, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// trunc bounds client-supplied text quoted in errors.
func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
