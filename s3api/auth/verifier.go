package auth

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Credentials returns the secret key for an access key, or an error wrapping
// ErrInvalidAccessKeyID. It must be safe for concurrent use.
type Credentials func(ctx context.Context, accessKey string) (secret string, err error)

// Options configures a Verifier. The zero value is usable: region us-east-1,
// 15 minutes of clock skew, time.Now.
type Options struct {
	// Region accepted in the credential scope ("us-east-1" when empty).
	Region string
	// AnyRegion accepts any region in the credential scope.
	AnyRegion bool
	// MaxSkew is the largest accepted difference between the request date
	// and Now for header signatures, and how far in the future a presigned
	// URL may be dated (15m when zero).
	MaxSkew time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Validate reports whether the options are usable.
func (o Options) Validate() error {
	if o.MaxSkew < 0 {
		return fmt.Errorf("auth: negative MaxSkew %v", o.MaxSkew)
	}
	if strings.ContainsAny(o.Region, "/ \n") {
		return fmt.Errorf("auth: invalid region %q", o.Region)
	}
	return nil
}

func (o *Options) defaults() {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.MaxSkew == 0 {
		o.MaxSkew = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Verifier authenticates requests. Safe for concurrent use.
type Verifier struct {
	creds Credentials
	opt   Options
	keys  keyCache
}

// NewVerifier returns a Verifier that looks secrets up with creds. Invalid
// options (see Options.Validate) are replaced by their defaults.
func NewVerifier(creds Credentials, opt Options) *Verifier {
	if opt.Validate() != nil {
		opt.MaxSkew = 0
		opt.Region = ""
	}
	opt.defaults()
	return &Verifier{creds: creds, opt: opt}
}

// Request is an authenticated request.
type Request struct {
	AccessKey string // "" when Anonymous
	Anonymous bool
	Presigned bool
	// Body is the decoded payload; never nil (http.NoBody when empty). It
	// returns io.EOF only when the payload rules held; see the package doc.
	Body io.Reader
	// Size is the decoded length when known, else -1.
	Size int64
	// TrailerChecksum reports the trailing checksum (algorithm like
	// "CRC32C", base64 value) once Body has returned io.EOF; ok=false if
	// none was sent.
	TrailerChecksum func() (alg, value string, ok bool)
}

func noTrailer() (string, string, bool) { return "", "", false }

// authParams is what a header or query signature declares.
type authParams struct {
	accessKey                   string
	date, region, service, term string // credential scope
	signedHeaders               []string
	signedList                  string
	sig                         [32]byte
}

// Verify authenticates r: a SigV4 Authorization header, a presigned query,
// or anonymous when neither is present. It does not read the body; the
// returned Request's Body does, enforcing the payload rules.
func (v *Verifier) Verify(r *http.Request) (*Request, error) {
	authz := r.Header.Get("Authorization")
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	if qerr != nil && strings.Contains(r.URL.RawQuery, "X-Amz-") {
		return nil, fmt.Errorf("%w: query: %v", ErrInvalidArgument, qerr)
	}
	presign := q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential")
	switch {
	case authz != "" && presign:
		return nil, fmt.Errorf("%w: only one auth mechanism allowed", ErrInvalidArgument)
	case authz != "":
		if qerr != nil {
			return nil, fmt.Errorf("%w: query: %v", ErrInvalidArgument, qerr)
		}
		return v.verifyHeader(r, authz, q)
	case presign:
		return v.verifyPresigned(r, q)
	case q.Has("AWSAccessKeyId") && q.Has("Signature"):
		return nil, fmt.Errorf("%w: query signature version 2; please use AWS4-HMAC-SHA256", ErrUnsupportedAlgorithm)
	}
	return &Request{Anonymous: true, Body: plainBody(r), Size: r.ContentLength, TrailerChecksum: noTrailer}, nil
}

// plainBody wraps r.Body so that a truncated body reports ErrIncompleteBody.
func plainBody(r *http.Request) io.Reader {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return http.NoBody
	}
	return &lengthReader{r: r.Body, want: r.ContentLength}
}

func (v *Verifier) verifyHeader(r *http.Request, authz string, q url.Values) (*Request, error) {
	p, err := parseAuthorization(authz)
	if err != nil {
		return nil, err
	}
	amzDate, t, err := requestDate(r)
	if err != nil {
		return nil, err
	}
	if err := v.checkScope(p, t, ErrAuthorizationHeaderMalformed); err != nil {
		return nil, err
	}
	now := v.opt.Now()
	if d := now.Sub(t); d > v.opt.MaxSkew || d < -v.opt.MaxSkew {
		return nil, fmt.Errorf("%w: request time %s, server time %s", ErrRequestTimeTooSkewed, t.Format(iso8601Format), now.UTC().Format(iso8601Format))
	}
	payload := emptySHA256Hex
	if vs := r.Header.Values("X-Amz-Content-Sha256"); len(vs) > 0 {
		payload = vs[0]
	}
	if err := checkPayloadHash(payload, false); err != nil {
		return nil, err
	}
	key, err := v.signingKey(r, p)
	if err != nil {
		return nil, err
	}
	sc := scope(p.date, p.region, p.service)
	sig, ok := checkSignature(r, q, "", p, payload, key, amzDate, sc)
	if !ok {
		return nil, fmt.Errorf("%w: access key %s", ErrSignatureDoesNotMatch, p.accessKey)
	}
	req := &Request{AccessKey: p.accessKey, Size: r.ContentLength, TrailerChecksum: noTrailer}
	if err := v.payload(r, req, payload, key, amzDate, sc, sig); err != nil {
		return nil, err
	}
	return req, nil
}

func (v *Verifier) verifyPresigned(r *http.Request, q url.Values) (*Request, error) {
	bad := ErrAuthorizationQueryParametersError
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if vs := q[k]; len(vs) != 1 {
			return nil, fmt.Errorf("%w: %s must be given once", bad, k)
		}
	}
	if a := q.Get("X-Amz-Algorithm"); a != algorithm {
		return nil, fmt.Errorf("%w: X-Amz-Algorithm only supports %s, not %q", bad, algorithm, a)
	}
	var p authParams
	if err := parseCredential(&p, q.Get("X-Amz-Credential"), bad); err != nil {
		return nil, err
	}
	if err := parseSignedHeaders(&p, q.Get("X-Amz-SignedHeaders"), bad); err != nil {
		return nil, err
	}
	if err := parseSig(&p, q.Get("X-Amz-Signature"), bad); err != nil {
		return nil, err
	}
	amzDate := q.Get("X-Amz-Date")
	t, ok := parseAmzDate(amzDate)
	if !ok {
		return nil, fmt.Errorf("%w: X-Amz-Date %q is not in ISO8601 basic format", bad, amzDate)
	}
	exp, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || exp < 1 || exp > 604800 {
		return nil, fmt.Errorf("%w: X-Amz-Expires must be 1..604800 seconds, got %q", bad, q.Get("X-Amz-Expires"))
	}
	if err := v.checkScope(&p, t, bad); err != nil {
		return nil, err
	}
	now := v.opt.Now()
	if t.Sub(now) > v.opt.MaxSkew {
		return nil, fmt.Errorf("%w: request is not valid yet (dated %s)", ErrAccessDenied, amzDate)
	}
	if now.After(t.Add(time.Duration(exp) * time.Second)) {
		return nil, fmt.Errorf("%w: presigned at %s for %ds", ErrExpiredRequest, amzDate, exp)
	}
	payload := UnsignedPayload
	if vs := q["X-Amz-Content-Sha256"]; len(vs) > 0 {
		payload = vs[0]
	} else if vs := r.Header.Values("X-Amz-Content-Sha256"); len(vs) > 0 {
		payload = vs[0]
	}
	if err := checkPayloadHash(payload, true); err != nil {
		return nil, err
	}
	key, err := v.signingKey(r, &p)
	if err != nil {
		return nil, err
	}
	sc := scope(p.date, p.region, p.service)
	sig, ok := checkSignature(r, q, "X-Amz-Signature", &p, payload, key, amzDate, sc)
	if !ok {
		return nil, fmt.Errorf("%w: presigned, access key %s", ErrSignatureDoesNotMatch, p.accessKey)
	}
	req := &Request{AccessKey: p.accessKey, Presigned: true, Size: r.ContentLength, TrailerChecksum: noTrailer}
	if err := v.payload(r, req, payload, key, amzDate, sc, sig); err != nil {
		return nil, err
	}
	return req, nil
}

// checkSignature computes the request signature and compares it with the
// declared one in constant time. Clients disagree on two details of the
// canonical request: the order of a repeated query key's values (AWS SDKs
// sort them, minio-go keeps them as sent) and white space other than ' ' in
// header values (AWS SDKs keep it, minio-go folds it). Only when the request
// has such a detail are the other variants tried.
func checkSignature(r *http.Request, q url.Values, skip string, p *authParams, payload string, key []byte, amzDate, sc string) ([32]byte, bool) {
	variants := []canonOptions{{}}
	repeated, spaces := hasRepeatedKey(q, skip), otherSpaceInSigned(r, p.signedHeaders)
	if repeated {
		variants = append(variants, canonOptions{keyOnly: true})
	}
	if spaces {
		variants = append(variants, canonOptions{fields: true})
	}
	if repeated && spaces {
		variants = append(variants, canonOptions{keyOnly: true, fields: true})
	}
	var sig [32]byte
	for _, co := range variants {
		canon := canonicalRequest(r, q, skip, co, p.signedHeaders, p.signedList, payload)
		sig = signature(key, stringToSign(amzDate, sc, canon))
		if subtle.ConstantTimeCompare(sig[:], p.sig[:]) == 1 {
			return sig, true
		}
	}
	return sig, false
}

func (v *Verifier) signingKey(r *http.Request, p *authParams) ([]byte, error) {
	secret, err := v.creds(r.Context(), p.accessKey)
	if err != nil {
		if errors.Is(err, ErrInvalidAccessKeyID) {
			return nil, err
		}
		return nil, fmt.Errorf("auth: credentials for %s: %w", p.accessKey, err)
	}
	return v.keys.get(p.accessKey, secret, p.date, p.region, p.service), nil
}

// checkScope checks the credential scope against the request date and the
// configured region.
func (v *Verifier) checkScope(p *authParams, t time.Time, bad error) error {
	if d := t.UTC().Format(yyyymmdd); p.date != d {
		return fmt.Errorf("%w: credential date %q is not the request date %q", bad, p.date, d)
	}
	if !v.opt.AnyRegion && p.region != v.opt.Region {
		return fmt.Errorf("%w: the region %q is wrong; expecting %q", bad, p.region, v.opt.Region)
	}
	if p.service != serviceS3 {
		return fmt.Errorf("%w: service %q is not s3", bad, p.service)
	}
	if p.term != scopeTerm {
		return fmt.Errorf("%w: credential scope must end in aws4_request, not %q", bad, p.term)
	}
	return nil
}

// requestDate returns the date string used in the string to sign and its
// time, from x-amz-date or else Date.
func requestDate(r *http.Request) (string, time.Time, error) {
	if s := r.Header.Get("X-Amz-Date"); s != "" {
		t, ok := parseAmzDate(s)
		if !ok {
			return "", time.Time{}, fmt.Errorf("%w: x-amz-date %q is not in ISO8601 basic format", ErrMissingSecurityHeader, s)
		}
		return s, t, nil
	}
	if s := r.Header.Get("Date"); s != "" {
		t, err := http.ParseTime(s)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("%w: Date %q: %v", ErrMissingSecurityHeader, s, err)
		}
		return t.UTC().Format(iso8601Format), t.UTC(), nil
	}
	return "", time.Time{}, fmt.Errorf("%w: a valid Date or x-amz-date header is required", ErrMissingSecurityHeader)
}

// checkPayloadHash validates an x-amz-content-sha256 value.
func checkPayloadHash(v string, presigned bool) error {
	switch v {
	case UnsignedPayload:
		return nil
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer:
		if presigned {
			return fmt.Errorf("%w: x-amz-content-sha256 %s is not allowed in a presigned request", ErrInvalidArgument, v)
		}
		return nil
	}
	if len(v) != 64 || !isLowerHex(v) {
		return fmt.Errorf("%w: x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-*, or a lower-case hex sha256, not %q", ErrInvalidArgument, v)
	}
	return nil
}

func isLowerHex[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// payload sets req.Body and req.Size for the payload kind.
func (v *Verifier) payload(r *http.Request, req *Request, payload string, key []byte, amzDate, sc string, seed [32]byte) error {
	switch payload {
	case UnsignedPayload:
		req.Body = plainBody(r)
		return nil
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer:
		s := r.Header.Get("X-Amz-Decoded-Content-Length")
		if s == "" {
			return fmt.Errorf("%w: x-amz-decoded-content-length is required with %s", ErrMissingSecurityHeader, payload)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: x-amz-decoded-content-length %q", ErrInvalidArgument, s)
		}
		var declared []string
		for _, v := range r.Header.Values("X-Amz-Trailer") {
			for _, name := range strings.Split(v, ",") {
				if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
					declared = append(declared, name)
				}
			}
		}
		body := io.Reader(r.Body)
		if body == nil {
			body = http.NoBody
		}
		cr := newChunkedReader(body, chunkedOptions{
			signed:   payload != StreamingUnsignedTrailer,
			trailer:  payload != StreamingPayload,
			declared: declared,
			size:     n,
			key:      key,
			amzDate:  amzDate,
			scope:    sc,
			seed:     seed,
		})
		req.Body = cr
		req.Size = n
		req.TrailerChecksum = cr.trailerChecksum
		return nil
	}
	want, err := hex.DecodeString(payload)
	if err != nil || len(want) != 32 {
		return fmt.Errorf("%w: x-amz-content-sha256 %q", ErrInvalidArgument, payload)
	}
	sr := &sha256Reader{want: [32]byte(want), size: r.ContentLength}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		sr.r = http.NoBody
	} else {
		sr.r = &lengthReader{r: r.Body, want: r.ContentLength}
	}
	req.Body = sr
	return nil
}
