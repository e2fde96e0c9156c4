// Package cors holds the S3 bucket CORS language: parsing and validating a
// <CORSConfiguration> document as PutBucketCors does, marshalling it back for
// GetBucketCors, and deciding which response headers an actual or a
// preflight (OPTIONS) request gets.
//
// The package is pure: no storage and no HTTP server. The gateway stores the
// document, loads a *Config per bucket and calls Preflight for OPTIONS
// requests and Actual for every other request carrying an Origin header.
//
// Matching follows S3 as observed by minio-go's functional suite (testCors):
// origins match case-sensitively with at most one '*' wildcard, methods
// exactly, request headers case-insensitively against AllowedHeader patterns
// (one '*' each); the first matching rule wins. A rule whose matching origin
// is exactly "*" answers Access-Control-Allow-Origin: * without credentials;
// any other rule echoes the request's origin and allows credentials.
package cors

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Limits from the PutBucketCors documentation.
const (
	// MaxSize bounds a CORS document (64 KiB).
	MaxSize = 64 << 10
	// MaxRules bounds the number of CORSRule elements.
	MaxRules = 100
	// maxIDLen bounds a rule ID (AWS: 255 characters).
	maxIDLen = 255
)

// Sentinels; each maps to one S3 error code. Errors returned by this package
// are *Error values whose Unwrap gives one of them and whose Message is the
// text AWS sends.
var (
	// ErrMalformedXML: 400 MalformedXML.
	ErrMalformedXML = errors.New("cors: malformed XML")
	// ErrInvalidRequest: 400 InvalidRequest.
	ErrInvalidRequest = errors.New("cors: invalid request")
	// ErrBadRequest: 400 BadRequest (a preflight without Origin or with a
	// bad Access-Control-Request-Method).
	ErrBadRequest = errors.New("cors: bad request")
	// ErrForbidden: 403 AccessForbidden (a preflight that no rule allows,
	// or one to a bucket without CORS configuration).
	ErrForbidden = errors.New("cors: CORS request not allowed")
)

// Messages AWS (and MinIO) send.
const (
	msgMalformedXML = "The XML you provided was not well-formed or did not validate against our published schema"
	// MsgNotAllowed is the body message of a refused preflight; minio-go's
	// testCors matches it verbatim (typo included).
	MsgNotAllowed = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
	// MsgNotEnabled answers a preflight to a bucket with no configuration.
	MsgNotEnabled = "CORSResponse: CORS is not enabled for this bucket."
)

// Error is a failure with the message S3 sends. Unwrap gives the sentinel.
type Error struct {
	Err     error
	Message string
}

func (e *Error) Error() string { return e.Err.Error() + ": " + e.Message }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func malformed(format string, args ...any) error {
	msg := msgMalformedXML
	if format != "" {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Err: ErrMalformedXML, Message: msg}
}

func invalid(format string, args ...any) error {
	return &Error{Err: ErrInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

// NotEnabled returns the 403 error for a preflight to a bucket that has no
// CORS configuration (a nil *Config gives the same from Preflight).
func NotEnabled() error { return &Error{Err: ErrForbidden, Message: MsgNotEnabled} }

const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// Config is a bucket's CORS configuration. Immutable after Parse; safe for
// concurrent use by Match, Preflight and Actual.
type Config struct {
	XMLName xml.Name `xml:"CORSConfiguration"`
	Rules   []Rule   `xml:"CORSRule"`
}

// Rule is one CORSRule, in AWS's element order.
type Rule struct {
	ID            string   `xml:"ID,omitempty"`
	AllowedHeader []string `xml:"AllowedHeader,omitempty"`
	AllowedMethod []string `xml:"AllowedMethod"`
	AllowedOrigin []string `xml:"AllowedOrigin"`
	ExposeHeader  []string `xml:"ExposeHeader,omitempty"`
	MaxAgeSeconds int      `xml:"MaxAgeSeconds,omitempty"`
}

var allowedMethods = map[string]bool{"GET": true, "PUT": true, "HEAD": true, "POST": true, "DELETE": true}

// Parse decodes and validates a PutBucketCors body. Documents over MaxSize
// are refused before decoding.
func Parse(doc []byte) (*Config, error) {
	if len(doc) > MaxSize {
		return nil, invalid("The CORS configuration must be less than %d bytes", MaxSize)
	}
	var c Config
	d := xml.NewDecoder(bytes.NewReader(doc))
	if err := d.Decode(&c); err != nil {
		return nil, malformed("")
	}
	// Nothing but whitespace, comments or processing instructions may follow.
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, malformed("")
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) == 0 {
			continue
		}
		switch tok.(type) {
		case xml.Comment, xml.ProcInst:
			continue
		}
		return nil, malformed("")
	}
	if c.XMLName.Local != "CORSConfiguration" || len(c.Rules) == 0 {
		return nil, malformed("")
	}
	if len(c.Rules) > MaxRules {
		return nil, malformed("The CORS configuration must have no more than %d rules", MaxRules)
	}
	for i := range c.Rules {
		if err := c.Rules[i].validate(); err != nil {
			return nil, err
		}
	}
	c.XMLName = xml.Name{Local: "CORSConfiguration"}
	return &c, nil
}

func (r *Rule) validate() error {
	r.ID = strings.TrimSpace(r.ID)
	if len(r.ID) > maxIDLen {
		return malformed("")
	}
	if len(r.AllowedMethod) == 0 || len(r.AllowedOrigin) == 0 || r.MaxAgeSeconds < 0 {
		return malformed("")
	}
	for i, m := range r.AllowedMethod {
		m = strings.TrimSpace(m)
		r.AllowedMethod[i] = m
		if !allowedMethods[m] {
			return invalid("Found unsupported HTTP method in CORS config. Unsupported method is %s", m)
		}
	}
	for i, o := range r.AllowedOrigin {
		o = strings.TrimSpace(o)
		r.AllowedOrigin[i] = o
		if o == "" {
			return malformed("")
		}
		if strings.Count(o, "*") > 1 {
			return invalid("AllowedOrigin %q can not have more than one wildcard.", o)
		}
	}
	r.AllowedHeader = nonEmpty(r.AllowedHeader)
	for _, h := range r.AllowedHeader {
		if strings.Count(h, "*") > 1 {
			return invalid("AllowedHeader %q can not have more than one wildcard.", h)
		}
	}
	r.ExposeHeader = nonEmpty(r.ExposeHeader)
	for _, h := range r.ExposeHeader {
		if strings.Contains(h, "*") {
			return invalid("ExposeHeader %q contains wildcard. We currently do not support wildcard for ExposeHeader.", h)
		}
	}
	return nil
}

// nonEmpty trims the items of s and drops the empty ones (an empty
// <AllowedHeader/> allows nothing and would not survive Marshal).
func nonEmpty(s []string) []string {
	var out []string
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Marshal renders c as GetBucketCors returns it (with the S3 namespace).
func (c *Config) Marshal() ([]byte, error) {
	out := struct {
		XMLName xml.Name `xml:"CORSConfiguration"`
		XMLNS   string   `xml:"xmlns,attr"`
		Rules   []Rule   `xml:"CORSRule"`
	}{XMLNS: xmlns, Rules: c.Rules}
	b, err := xml.Marshal(&out)
	if err != nil {
		return nil, fmt.Errorf("cors: marshal: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

// wildcardMatch reports whether s matches pattern p containing at most one
// '*' (any run of characters, possibly empty).
func wildcardMatch(p, s string) bool {
	before, after, ok := strings.Cut(p, "*")
	if !ok {
		return p == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

// matchOrigin returns whether o matches one of r's origins, and whether the
// matching pattern is exactly "*" (then the answer is "*", no credentials).
func (r *Rule) matchOrigin(o string) (ok, star bool) {
	for _, p := range r.AllowedOrigin {
		if wildcardMatch(p, o) {
			return true, p == "*"
		}
	}
	return false, false
}

func (r *Rule) allowsMethod(m string) bool {
	for _, a := range r.AllowedMethod {
		if a == m {
			return true
		}
	}
	return false
}

// allowsHeader matches a lowercased request header name.
func (r *Rule) allowsHeader(h string) bool {
	for _, p := range r.AllowedHeader {
		if wildcardMatch(strings.ToLower(p), h) {
			return true
		}
	}
	return false
}

// Match returns the first rule that allows origin, method and every one of
// requestHeaders (names compared case-insensitively). A nil Config matches
// nothing.
func (c *Config) Match(origin, method string, requestHeaders []string) (*Rule, bool) {
	r, _, ok := c.match(origin, method, requestHeaders)
	return r, ok
}

func (c *Config) match(origin, method string, hdrs []string) (*Rule, bool, bool) {
	if c == nil || origin == "" {
		return nil, false, false
	}
next:
	for i := range c.Rules {
		r := &c.Rules[i]
		ok, star := r.matchOrigin(origin)
		if !ok || !r.allowsMethod(method) {
			continue
		}
		for _, h := range hdrs {
			if !r.allowsHeader(strings.ToLower(h)) {
				continue next
			}
		}
		return r, star, true
	}
	return nil, false, false
}

// RequestHeaders splits an Access-Control-Request-Headers value into
// lowercased names, dropping empty items.
func RequestHeaders(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, strings.ToLower(f))
		}
	}
	return out
}

// Response header names.
const (
	hdrOrigin         = "Origin"
	hdrReqMethod      = "Access-Control-Request-Method"
	hdrReqHeaders     = "Access-Control-Request-Headers"
	hdrAllowOrigin    = "Access-Control-Allow-Origin"
	hdrAllowMethods   = "Access-Control-Allow-Methods"
	hdrAllowHeaders   = "Access-Control-Allow-Headers"
	hdrExposeHeaders  = "Access-Control-Expose-Headers"
	hdrMaxAge         = "Access-Control-Max-Age"
	hdrAllowCreds     = "Access-Control-Allow-Credentials"
	hdrVary           = "Vary"
	varyValue         = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
	maxRequestHeaders = 8 << 10
)

func setOrigin(out http.Header, origin string, star bool) {
	if star {
		out.Set(hdrAllowOrigin, "*")
		return
	}
	out.Set(hdrAllowOrigin, origin)
	out.Set(hdrAllowCreds, "true")
}

// Preflight answers an OPTIONS request with request headers req, writing the
// Access-Control-* response headers into out. On success the handler sends
// 200 with an empty body. Errors: ErrBadRequest when Origin or
// Access-Control-Request-Method is missing or invalid, ErrForbidden when no
// rule allows the request (or c is nil: no configuration).
func (c *Config) Preflight(req, out http.Header) error {
	origin := req.Get(hdrOrigin)
	if origin == "" {
		return &Error{Err: ErrBadRequest, Message: "Insufficient information. Origin request header needed."}
	}
	method := req.Get(hdrReqMethod)
	if !allowedMethods[method] {
		return &Error{Err: ErrBadRequest, Message: "Invalid Access-Control-Request-Method: " + method}
	}
	if c == nil {
		return NotEnabled()
	}
	rh := req.Get(hdrReqHeaders)
	if len(rh) > maxRequestHeaders {
		return &Error{Err: ErrForbidden, Message: MsgNotAllowed}
	}
	hdrs := RequestHeaders(rh)
	out.Set(hdrVary, varyValue)
	r, star, ok := c.match(origin, method, hdrs)
	if !ok {
		return &Error{Err: ErrForbidden, Message: MsgNotAllowed}
	}
	setOrigin(out, origin, star)
	out.Set(hdrAllowMethods, method)
	if len(hdrs) > 0 {
		out.Set(hdrAllowHeaders, strings.Join(hdrs, ","))
	}
	if r.MaxAgeSeconds > 0 {
		out.Set(hdrMaxAge, strconv.Itoa(r.MaxAgeSeconds))
	}
	return nil
}

// Actual writes the CORS response headers of a non-OPTIONS request with
// method and request headers req into out, and reports whether a rule
// matched. CORS never blocks the request itself. As S3 does, a request that
// carries Access-Control-Request-Method / -Headers is matched with those in
// place of its own method; the answer follows the fetch standard (origin,
// credentials, exposed headers; no methods or max-age). A nil Config or a
// request without Origin writes nothing.
func (c *Config) Actual(method string, req, out http.Header) bool {
	origin := req.Get(hdrOrigin)
	if c == nil || origin == "" {
		return false
	}
	if m := req.Get(hdrReqMethod); m != "" {
		method = m
	}
	var hdrs []string
	if rh := req.Get(hdrReqHeaders); rh != "" && len(rh) <= maxRequestHeaders {
		hdrs = RequestHeaders(rh)
	}
	out.Set(hdrVary, varyValue)
	r, star, ok := c.match(origin, method, hdrs)
	if !ok {
		return false
	}
	setOrigin(out, origin, star)
	if len(r.ExposeHeader) > 0 {
		out.Set(hdrExposeHeaders, strings.Join(r.ExposeHeader, ","))
	}
	return true
}
