package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

const (
	algorithm      = "AWS4-HMAC-SHA256"
	iso8601Format  = "20060102T150405Z"
	yyyymmdd       = "20060102"
	serviceS3      = "s3"
	scopeTerm      = "aws4_request"
	emptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// Payload hash values of x-amz-content-sha256 other than a hex digest.
	UnsignedPayload          = "UNSIGNED-PAYLOAD"
	StreamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// uriEncode appends s to dst encoded as AWS SigV4 requires: every byte except
// the unreserved characters A-Z a-z 0-9 - . _ ~ becomes %XY with upper-case
// hex; '/' is kept when keepSlash (object key paths are not double-encoded
// and not normalized).
func uriEncode(dst []byte, s string, keepSlash bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/' && keepSlash:
			dst = append(dst, c)
		default:
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

// canonicalURI is the decoded request path, AWS-encoded segment by segment.
func canonicalURI(dst []byte, path string) []byte {
	if path == "" {
		return append(dst, '/')
	}
	if path[0] != '/' {
		dst = append(dst, '/')
	}
	return uriEncode(dst, path, true)
}

// canonicalQuery encodes q sorted by key then value, skipping the key skip.
// With keyOnly, values of a repeated key keep the order they were sent in
// (minio-go and the MinIO server sort by key only).
func canonicalQuery(dst []byte, q url.Values, skip string, keyOnly bool) []byte {
	type kv struct{ k, v string }
	pairs := make([]kv, 0, len(q))
	for k, vs := range q {
		if k == skip {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, kv{k, v})
		}
	}
	enc := make([]kv, len(pairs))
	var buf []byte
	for i, p := range pairs {
		buf = uriEncode(buf[:0], p.k, false)
		k := string(buf)
		buf = uriEncode(buf[:0], p.v, false)
		enc[i] = kv{k, string(buf)}
	}
	// Sorting happens on the encoded form, as AWS specifies.
	sort.SliceStable(enc, func(i, j int) bool {
		if enc[i].k != enc[j].k {
			return enc[i].k < enc[j].k
		}
		return !keyOnly && enc[i].v < enc[j].v
	})
	for i, p := range enc {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.k...)
		dst = append(dst, '=')
		dst = append(dst, p.v...)
	}
	return dst
}

// appendTrimmed appends v as the AWS SDKs canonicalize a header value:
// runs of spaces collapsed to one, surrounding white space removed.
func appendTrimmed(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// appendFields appends v as minio-go (and the MinIO server) canonicalize a
// header value: every run of Unicode white space becomes one space.
func appendFields(dst []byte, v string) []byte {
	for i, f := range strings.Fields(v) {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, f...)
	}
	return dst
}

// hasOtherSpace reports whether v has white space other than ' ', the only
// case where appendTrimmed and appendFields differ.
func hasOtherSpace(v string) bool {
	for _, c := range strings.TrimSpace(v) {
		if c != ' ' && unicode.IsSpace(c) {
			return true
		}
	}
	return false
}

// canonOptions selects between the canonicalization variants clients use.
type canonOptions struct {
	keyOnly bool // query values of a repeated key in the order sent
	fields  bool // header values canonicalized as by appendFields
}

// headerValues returns the values of a signed header as the server sees them,
// undoing what net/http moved out of the header map.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		if r.Host != "" {
			return []string{r.Host}
		}
		return []string{r.URL.Host}
	}
	vs := r.Header.Values(name)
	if len(vs) > 0 {
		return vs
	}
	switch name {
	case "content-length":
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		return r.TransferEncoding
	case "expect":
		// net/http consumes "Expect: 100-continue"; a client that signed it sent it.
		return []string{"100-continue"}
	}
	return nil
}

// canonicalRequest builds the SigV4 canonical request.
func canonicalRequest(r *http.Request, q url.Values, skipQuery string, co canonOptions, signed []string, signedList, payloadHash string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = canonicalURI(b, r.URL.Path)
	b = append(b, '\n')
	b = canonicalQuery(b, q, skipQuery, co.keyOnly)
	b = append(b, '\n')
	for _, h := range signed {
		b = append(b, h...)
		b = append(b, ':')
		for i, v := range headerValues(r, h) {
			if i > 0 {
				b = append(b, ',')
			}
			if co.fields {
				b = appendFields(b, v)
			} else {
				b = appendTrimmed(b, v)
			}
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, signedList...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b
}

// stringToSign is "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256(canonical)>".
func stringToSign(amzDate, scope string, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	b := make([]byte, 0, len(algorithm)+len(amzDate)+len(scope)+3+64)
	b = append(b, algorithm...)
	b = append(b, '\n')
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, sum[:])
	return b
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// deriveKey computes the SigV4 signing key for secret and a credential scope.
func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerm)
}

// keyCache caches derived signing keys per access key, date, region and
// service. Entries remember the secret they came from, so a rotated secret
// never reuses a stale key. Safe for concurrent use.
type keyCache struct {
	mu sync.Mutex
	// m is guarded by mu; it is cleared when it reaches maxKeyCache entries
	// (keys change daily, so the working set is one entry per active key).
	m map[keyCacheKey]keyCacheEntry
}

const maxKeyCache = 4096

type keyCacheKey struct{ accessKey, date, region, service string }

type keyCacheEntry struct {
	secret string
	key    []byte
}

func (c *keyCache) get(accessKey, secret, date, region, service string) []byte {
	ck := keyCacheKey{accessKey, date, region, service}
	c.mu.Lock()
	e, ok := c.m[ck]
	c.mu.Unlock()
	if ok && hmac.Equal([]byte(e.secret), []byte(secret)) {
		return e.key
	}
	key := deriveKey(secret, date, region, service)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxKeyCache {
		c.m = make(map[keyCacheKey]keyCacheEntry)
	}
	c.m[ck] = keyCacheEntry{secret: secret, key: key}
	c.mu.Unlock()
	return key
}

// signature returns HMAC-SHA256(key, sts).
func signature(key, sts []byte) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write(sts)
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// scope is "<date>/<region>/<service>/aws4_request".
func scope(date, region, service string) string {
	return date + "/" + region + "/" + service + "/" + scopeTerm
}

// parseAmzDate parses the ISO 8601 basic form used by x-amz-date.
func parseAmzDate(s string) (time.Time, bool) {
	t, err := time.Parse(iso8601Format, s)
	return t, err == nil
}

// hasRepeatedKey reports whether a query key other than skip has more than
// one value, the only case where value ordering matters.
func hasRepeatedKey(q url.Values, skip string) bool {
	for k, vs := range q {
		if k != skip && len(vs) > 1 {
			return true
		}
	}
	return false
}

// otherSpaceInSigned reports whether a signed header value has white space
// other than ' '.
func otherSpaceInSigned(r *http.Request, signed []string) bool {
	for _, h := range signed {
		for _, v := range headerValues(r, h) {
			if hasOtherSpace(v) {
				return true
			}
		}
	}
	return false
}
