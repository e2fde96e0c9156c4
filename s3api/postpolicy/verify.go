package postpolicy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-store/tessera/s3api/auth"
)

// maxPolicyBytes bounds the decoded policy document (it is a form field, so
// already bounded by maxFormBytes; this keeps the JSON decoder's work small).
const maxPolicyBytes = 64 << 10

// exempt are the fields no condition needs to cover (AWS, plus the SigV2
// credential fields).
func exempt(lname string) bool {
	switch lname {
	case "x-amz-signature", "file", "policy", "awsaccesskeyid", "signature":
		return true
	}
	return strings.HasPrefix(lname, "x-ignore-")
}

// condition is one parsed policy condition.
type condition struct {
	op       string // "eq", "starts-with" or "content-length-range"
	field    string // lowercased, without '$'
	value    string
	min, max int64
	text     string // AWS's rendering, for error messages
}

// Policy is a decoded POST policy document.
type Policy struct {
	Expiration time.Time
	conds      []condition
}

// ParsePolicy decodes a base64 POST policy document. Errors wrap
// ErrInvalidPolicyDocument.
func ParsePolicy(b64 string) (*Policy, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: policy is not base64: %v", ErrInvalidPolicyDocument, err)
	}
	if len(raw) > maxPolicyBytes {
		return nil, fmt.Errorf("%w: policy larger than %d bytes", ErrInvalidPolicyDocument, maxPolicyBytes)
	}
	var doc struct {
		Expiration *string           `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPolicyDocument, err)
	}
	if doc.Expiration == nil {
		return nil, fmt.Errorf("%w: policy missing expiration", ErrInvalidPolicyDocument)
	}
	exp, err := time.Parse(time.RFC3339Nano, *doc.Expiration)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid expiration %q", ErrInvalidPolicyDocument, trunc(*doc.Expiration))
	}
	p := &Policy{Expiration: exp}
	for _, c := range doc.Conditions {
		if err := p.addCondition(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Policy) addCondition(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return fmt.Errorf("%w: condition: %v", ErrInvalidPolicyDocument, err)
		}
		if len(m) != 1 {
			return fmt.Errorf("%w: a condition object must have one entry", ErrInvalidPolicyDocument)
		}
		for k, v := range m {
			s, ok := scalar(v)
			if !ok {
				return fmt.Errorf("%w: condition %q: value is not a string", ErrInvalidPolicyDocument, trunc(k))
			}
			f := strings.ToLower(strings.TrimPrefix(k, "$"))
			p.conds = append(p.conds, condition{op: "eq", field: f, value: s,
				text: fmt.Sprintf(`["eq", "$%s", "%s"]`, k, s)})
		}
		return nil
	}
	var a []any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&a); err != nil || len(a) != 3 {
		return fmt.Errorf("%w: a condition must be an object or a 3-element array: %s", ErrInvalidPolicyDocument, trunc(string(raw)))
	}
	op, ok := a[0].(string)
	if !ok {
		return fmt.Errorf("%w: condition operator is not a string", ErrInvalidPolicyDocument)
	}
	switch strings.ToLower(op) {
	case "eq", "starts-with":
		name, ok1 := a[1].(string)
		val, ok2 := scalar(a[2])
		if !ok1 || !ok2 || !strings.HasPrefix(name, "$") || len(name) < 2 {
			return fmt.Errorf("%w: condition %s: want [op, \"$field\", \"value\"]", ErrInvalidPolicyDocument, trunc(string(raw)))
		}
		p.conds = append(p.conds, condition{op: strings.ToLower(op), field: strings.ToLower(name[1:]), value: val,
			text: fmt.Sprintf(`["%s", "%s", "%s"]`, op, name, val)})
	case "content-length-range":
		lo, ok1 := integer(a[1])
		hi, ok2 := integer(a[2])
		if !ok1 || !ok2 || lo < 0 || hi < lo {
			return fmt.Errorf("%w: invalid content-length-range %s", ErrInvalidPolicyDocument, trunc(string(raw)))
		}
		p.conds = append(p.conds, condition{op: "content-length-range", min: lo, max: hi,
			text: fmt.Sprintf(`["content-length-range", %d, %d]`, lo, hi)})
	default:
		return fmt.Errorf("%w: unknown condition operator %q", ErrInvalidPolicyDocument, trunc(op))
	}
	return nil
}

// scalar accepts a JSON string or number as a condition value.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// integer accepts a JSON number or a decimal string.
func integer(v any) (int64, bool) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > math.MaxInt64/2 {
		return 0, false
	}
	return n, true
}

// Verify authenticates the form's policy signature and checks the policy
// (expiration, conditions, no extra fields) against the fields; on success
// it arms File's content-length-range check and returns the access key.
//
// SigV4 (x-amz-algorithm AWS4-HMAC-SHA256) accepts any region in
// x-amz-credential; the service must be s3 and the credential date must be
// the date of x-amz-date. SigV2 uses AWSAccessKeyId and signature.
//
// Errors: ErrMalformedPOSTRequest (no policy, missing or malformed
// signature fields), auth.ErrInvalidArgument (unsupported x-amz-algorithm),
// auth.ErrInvalidAccessKeyID (from creds), auth.ErrSignatureDoesNotMatch,
// ErrInvalidPolicyDocument, *PolicyError (auth.ErrAccessDenied: expired
// policy, failed condition, extra field). An anonymous form (see Anonymous)
// fails with auth.ErrAccessDenied; the handler decides whether the bucket
// admits it. Any other error of creds is returned wrapped.
func (f *Form) Verify(ctx context.Context, creds auth.Credentials, now time.Time) (accessKey string, err error) {
	if f.Anonymous() {
		return "", fmt.Errorf("postpolicy: %w: anonymous POST", auth.ErrAccessDenied)
	}
	b64, ok := f.fields["policy"]
	if !ok || b64 == "" {
		return "", fmt.Errorf("%w: a signed POST needs a policy field", ErrMalformedPOSTRequest)
	}
	if _, v4 := f.fields["x-amz-algorithm"]; v4 || f.fields["x-amz-signature"] != "" {
		accessKey, err = f.verifyV4(ctx, creds, b64)
	} else {
		accessKey, err = f.verifyV2(ctx, creds, b64)
	}
	if err != nil {
		return "", err
	}
	p, err := ParsePolicy(b64)
	if err != nil {
		return "", err
	}
	if err := f.check(p, now); err != nil {
		return "", err
	}
	return accessKey, nil
}

func (f *Form) secret(ctx context.Context, creds auth.Credentials, ak string) (string, error) {
	secret, err := creds(ctx, ak)
	if err != nil {
		if errors.Is(err, auth.ErrInvalidAccessKeyID) {
			return "", fmt.Errorf("postpolicy: access key %q: %w", trunc(ak), err)
		}
		return "", fmt.Errorf("postpolicy: credentials: %w", err)
	}
	return secret, nil
}

func (f *Form) verifyV4(ctx context.Context, creds auth.Credentials, b64 string) (string, error) {
	if alg := f.fields["x-amz-algorithm"]; alg != "AWS4-HMAC-SHA256" {
		return "", fmt.Errorf("postpolicy: %w: x-amz-algorithm %q, want AWS4-HMAC-SHA256", auth.ErrInvalidArgument, trunc(alg))
	}
	cred, amzDate, sigHex := f.fields["x-amz-credential"], f.fields["x-amz-date"], f.fields["x-amz-signature"]
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] != "s3" || parts[4] != "aws4_request" {
		return "", fmt.Errorf("%w: x-amz-credential %q", ErrMalformedPOSTRequest, trunc(cred))
	}
	if _, err := time.Parse("20060102T150405Z", amzDate); err != nil || parts[1] != amzDate[:8] {
		return "", fmt.Errorf("%w: x-amz-date %q does not match the credential date", ErrMalformedPOSTRequest, trunc(amzDate))
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil || len(got) != sha256.Size {
		return "", fmt.Errorf("postpolicy: %w: x-amz-signature is not 64 hex digits", auth.ErrSignatureDoesNotMatch)
	}
	secret, err := f.secret(ctx, creds, parts[0])
	if err != nil {
		return "", err
	}
	key := hmacSHA256([]byte("AWS4"+secret), parts[1])
	key = hmacSHA256(key, parts[2])
	key = hmacSHA256(key, parts[3])
	key = hmacSHA256(key, parts[4])
	if !hmac.Equal(hmacSHA256(key, b64), got) {
		return "", fmt.Errorf("postpolicy: access key %q: %w", trunc(parts[0]), auth.ErrSignatureDoesNotMatch)
	}
	return parts[0], nil
}

func (f *Form) verifyV2(ctx context.Context, creds auth.Credentials, b64 string) (string, error) {
	ak, sig := f.fields["awsaccesskeyid"], f.fields["signature"]
	if ak == "" || sig == "" {
		return "", fmt.Errorf("%w: a signed POST needs AWSAccessKeyId and signature, or the x-amz-* SigV4 fields", ErrMalformedPOSTRequest)
	}
	secret, err := f.secret(ctx, creds, ak)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(b64))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return "", fmt.Errorf("postpolicy: access key %q: %w", trunc(ak), auth.ErrSignatureDoesNotMatch)
	}
	return ak, nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// value is the form value a condition on field is checked against: the
// bucket the handler set, the key after ${filename}, else the field.
func (f *Form) value(field string) (string, bool) {
	switch field {
	case "bucket":
		return f.Bucket, f.Bucket != ""
	case "key":
		return f.Key, true
	}
	v, ok := f.fields[field]
	return v, ok
}

// check applies p to the form at time now.
func (f *Form) check(p *Policy, now time.Time) error {
	if !now.Before(p.Expiration) {
		return policyErr("Policy expired.")
	}
	covered := make(map[string]bool)
	minLen, maxLen := int64(0), int64(-1)
	for _, c := range p.conds {
		switch c.op {
		case "content-length-range":
			// Several ranges intersect.
			minLen = max(minLen, c.min)
			if maxLen < 0 || c.max < maxLen {
				maxLen = c.max
			}
			continue
		}
		covered[c.field] = true
		v, _ := f.value(c.field)
		ok := false
		switch c.op {
		case "eq":
			ok = v == c.value
		case "starts-with":
			ok = strings.HasPrefix(v, c.value)
			if c.field == "content-type" && strings.Contains(v, ",") {
				ok = true
				for _, part := range strings.Split(v, ",") {
					ok = ok && strings.HasPrefix(strings.TrimSpace(part), c.value)
				}
			}
		}
		if !ok {
			return policyErr("Policy Condition failed: %s", c.text)
		}
	}
	var extra []string
	for _, name := range f.names {
		if l := strings.ToLower(name); !exempt(l) && !covered[l] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		return policyErr("Extra input fields: %s", strings.Join(extra, ", "))
	}
	if maxLen >= 0 && f.file != nil {
		f.file.min, f.file.max = minLen, maxLen
	}
	return nil
}
