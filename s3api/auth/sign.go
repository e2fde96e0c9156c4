package auth

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// unsignedHeaders are never signed by SignRequest: they are changed by
// proxies or by net/http itself.
var unsignedHeaders = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"accept-encoding":   true,
	"connection":        true,
	"expect":            true,
	"transfer-encoding": true,
	"content-length":    true,
}

// SignRequest signs r in place with a SigV4 Authorization header for service
// s3: it sets X-Amz-Date (t) and X-Amz-Content-Sha256 (payloadHash, or
// UNSIGNED-PAYLOAD when empty) and signs host and every header present except
// hop-by-hop ones. For tests and the admin client.
func SignRequest(r *http.Request, accessKey, secret, region string, payloadHash string, t time.Time) {
	if payloadHash == "" {
		payloadHash = UnsignedPayload
	}
	t = t.UTC()
	amzDate := t.Format(iso8601Format)
	r.Header.Set("X-Amz-Date", amzDate)
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signed := []string{"host"}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if !unsignedHeaders[lk] && lk != "host" {
			signed = append(signed, lk)
		}
	}
	sort.Strings(signed)
	list := strings.Join(signed, ";")
	date := t.Format(yyyymmdd)
	sc := scope(date, region, serviceS3)
	q, _ := url.ParseQuery(r.URL.RawQuery)
	canon := canonicalRequest(r, q, "", canonOptions{}, signed, list, payloadHash)
	sig := signature(deriveKey(secret, date, region, serviceS3), stringToSign(amzDate, sc, canon))
	r.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%x",
		algorithm, accessKey, sc, list, sig))
}

// Presign returns r's URL presigned with SigV4 query parameters for service
// s3, valid from t for expires, signing only the host header. r is not
// modified. For tests and the admin client.
func Presign(r *http.Request, accessKey, secret, region string, t time.Time, expires time.Duration) (url string) {
	t = t.UTC()
	amzDate := t.Format(iso8601Format)
	date := t.Format(yyyymmdd)
	sc := scope(date, region, serviceS3)
	q := r.URL.Query()
	q.Set("X-Amz-Algorithm", algorithm)
	q.Set("X-Amz-Credential", accessKey+"/"+sc)
	q.Set("X-Amz-Date", amzDate)
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	q.Set("X-Amz-SignedHeaders", "host")
	canon := canonicalRequest(r, q, "", canonOptions{}, []string{"host"}, "host", UnsignedPayload)
	sig := signature(deriveKey(secret, date, region, serviceS3), stringToSign(amzDate, sc, canon))
	u := *r.URL
	raw := canonicalQuery(nil, q, "", false)
	raw = append(raw, "&X-Amz-Signature="...)
	raw = hex.AppendEncode(raw, sig[:])
	u.RawQuery = string(raw)
	u.Path, u.RawPath = r.URL.Path, string(canonicalURI(nil, r.URL.Path))
	if u.Host == "" {
		u.Host = r.Host
	}
	return u.String()
}

// ParseContentMD5 decodes a Content-MD5 header value: base64 of 16 bytes
// (ErrInvalidDigest otherwise).
func ParseContentMD5(h string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(h))
	if err != nil || len(b) != 16 {
		return nil, fmt.Errorf("%w: Content-MD5 %q is not base64 of 16 bytes", ErrInvalidDigest, trunc(h))
	}
	return b, nil
}
