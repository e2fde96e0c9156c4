// Package policy is the bucket policy language: the subset of the AWS IAM
// JSON policy grammar that S3 accepts on PutBucketPolicy, and its evaluator.
//
// Parse validates a document against one bucket (every Resource must name
// that bucket or objects in it) and keeps the original bytes, which
// GetBucketPolicy returns unchanged. Evaluate applies AWS's logic to one
// request: an applicable Deny statement wins; otherwise an applicable Allow
// allows; otherwise there is no decision and the caller falls back to its
// default (owner access, ACLs).
//
// The package is pure: the gateway stores documents and builds Requests.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxSize bounds a bucket policy document (AWS: 20 KB).
const MaxSize = 20 << 10

// Sentinels. Errors from Parse are *Error values whose Unwrap gives one of
// them and whose Message is what AWS sends.
var (
	// ErrMalformedPolicy: 400 MalformedPolicy.
	ErrMalformedPolicy = errors.New("policy: malformed policy")
	// ErrPolicyTooLarge: 400 PolicyTooLarge.
	ErrPolicyTooLarge = errors.New("policy: policy too large")
)

// Error is a parse failure with the message S3 sends.
type Error struct {
	Err     error
	Message string
}

func (e *Error) Error() string { return e.Err.Error() + ": " + e.Message }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func malformed(format string, args ...any) error {
	return &Error{Err: ErrMalformedPolicy, Message: fmt.Sprintf(format, args...)}
}

// Effect is a statement's effect.
type Effect string

// Effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed bucket policy. Immutable; safe for concurrent use.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
	raw        []byte
}

// Bytes returns the document as it was put. The caller must not modify it.
func (p *Policy) Bytes() []byte { return p.raw }

// Statement is one parsed statement. Patterns are lowercased for actions;
// resources are kept as the part after "arn:aws:s3:::".
type Statement struct {
	Sid    string
	Effect Effect
	// Exactly one of Principal and NotPrincipal is set; "*" is everyone.
	Principal, NotPrincipal []string
	// Exactly one of Actions and NotActions is set (lowercased patterns).
	Actions, NotActions []string
	// Exactly one of Resources and NotResources is set ("bucket" or
	// "bucket/key-pattern", with * and ? wildcards).
	Resources, NotResources []string
	Conditions              []Condition
}

// stringOrSlice decodes "x" or ["x", ...].
type stringOrSlice []string

func (s *stringOrSlice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var v []string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = v
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = []string{v}
	return nil
}

// condValues decodes a condition's value list: a string, number or boolean,
// or an array of them (AWS accepts "Bool": {"aws:SecureTransport": false}).
type condValues []string

func (c *condValues) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var items []json.RawMessage
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
	} else {
		items = []json.RawMessage{b}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var v any
		d := json.NewDecoder(bytes.NewReader(it))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return err
		}
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case json.Number:
			out = append(out, v.String())
		case bool:
			out = append(out, strconv.FormatBool(v))
		default:
			return errors.New("condition value is not a string, number or boolean")
		}
	}
	*c = out
	return nil
}

type rawStatement struct {
	Sid          *string                          `json:"Sid"`
	Effect       *string                          `json:"Effect"`
	Principal    json.RawMessage                  `json:"Principal"`
	NotPrincipal json.RawMessage                  `json:"NotPrincipal"`
	Action       *stringOrSlice                   `json:"Action"`
	NotAction    *stringOrSlice                   `json:"NotAction"`
	Resource     *stringOrSlice                   `json:"Resource"`
	NotResource  *stringOrSlice                   `json:"NotResource"`
	Condition    map[string]map[string]condValues `json:"Condition"`
}

type rawPolicy struct {
	Version   *string         `json:"Version"`
	ID        *string         `json:"Id"`
	Statement json.RawMessage `json:"Statement"`
}

// strictDecode decodes the JSON object b into v. Field names must be
// exactly those in fields (encoding/json alone would accept unknown ones
// and match names case-insensitively; AWS does neither), and nothing may
// follow the object.
func strictDecode(b []byte, v any, fields ...string) error {
	d := json.NewDecoder(bytes.NewReader(b))
	var m map[string]json.RawMessage
	if err := d.Decode(&m); err != nil || m == nil {
		return malformed("This policy contains invalid Json")
	}
	if len(bytes.TrimSpace(b[d.InputOffset():])) != 0 {
		return malformed("This policy contains invalid Json")
	}
next:
	for k := range m {
		for _, f := range fields {
			if k == f {
				continue next
			}
		}
		return malformed("Unknown field %s", k)
	}
	if err := json.Unmarshal(b, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return malformed("Policy has an invalid value for field %s", ute.Field)
		}
		return malformed("This policy contains invalid Json")
	}
	return nil
}

// Parse validates doc as the policy of bucket. The returned Policy keeps a
// copy of doc for Bytes.
func Parse(doc []byte, bucket string) (*Policy, error) {
	if len(doc) > MaxSize {
		return nil, &Error{Err: ErrPolicyTooLarge, Message: "Policy exceeds the maximum allowed document size."}
	}
	t := bytes.TrimSpace(doc)
	if len(t) == 0 || t[0] != '{' {
		return nil, malformed("Policies must be valid JSON and the first byte must be '{'")
	}
	var rp rawPolicy
	if err := strictDecode(t, &rp, "Version", "Id", "Statement"); err != nil {
		return nil, err
	}
	p := &Policy{raw: bytes.Clone(doc)}
	if rp.Version == nil || (*rp.Version != "2012-10-17" && *rp.Version != "2008-10-17") {
		return nil, malformed("The policy must contain a valid version string")
	}
	p.Version = *rp.Version
	if rp.ID != nil {
		p.ID = *rp.ID
	}
	st := bytes.TrimSpace(rp.Statement)
	if len(st) == 0 || bytes.Equal(st, []byte("null")) {
		return nil, malformed("Missing required field Statement")
	}
	var raws []json.RawMessage
	if st[0] == '[' {
		if err := json.Unmarshal(st, &raws); err != nil {
			return nil, malformed("This policy contains invalid Json")
		}
	} else {
		raws = []json.RawMessage{st}
	}
	if len(raws) == 0 {
		return nil, malformed("Could not parse the policy: Statement is empty!")
	}
	sids := map[string]bool{}
	for _, r := range raws {
		s, err := parseStatement(r, bucket)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, malformed("Statement IDs (SID) in a single policy must be unique.")
			}
			sids[s.Sid] = true
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(b []byte, bucket string) (Statement, error) {
	var s Statement
	var rs rawStatement
	if err := strictDecode(b, &rs, "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
		"Resource", "NotResource", "Condition"); err != nil {
		return s, err
	}
	if rs.Sid != nil {
		s.Sid = *rs.Sid
	}
	if rs.Effect == nil {
		return s, malformed("Missing required field Effect")
	}
	switch Effect(*rs.Effect) {
	case Allow, Deny:
		s.Effect = Effect(*rs.Effect)
	default:
		return s, malformed("Invalid effect: %s", *rs.Effect)
	}

	var err error
	switch {
	case rs.Principal != nil && rs.NotPrincipal != nil:
		return s, malformed("Policy has both Principal and NotPrincipal")
	case rs.Principal != nil:
		s.Principal, err = parsePrincipal(rs.Principal)
	case rs.NotPrincipal != nil:
		s.NotPrincipal, err = parsePrincipal(rs.NotPrincipal)
	default:
		return s, malformed("Missing required field Principal")
	}
	if err != nil {
		return s, err
	}

	var kinds int
	switch {
	case rs.Action != nil && rs.NotAction != nil:
		return s, malformed("Policy has both Action and NotAction")
	case rs.Action != nil:
		s.Actions, kinds, err = parseActions(*rs.Action)
	case rs.NotAction != nil:
		s.NotActions, _, err = parseActions(*rs.NotAction)
		kinds = bucketLevel | objectLevel
	default:
		return s, malformed("Missing required field Action")
	}
	if err != nil {
		return s, err
	}

	var rkinds int
	switch {
	case rs.Resource != nil && rs.NotResource != nil:
		return s, malformed("Policy has both Resource and NotResource")
	case rs.Resource != nil:
		s.Resources, rkinds, err = parseResources(*rs.Resource, bucket)
	case rs.NotResource != nil:
		s.NotResources, _, err = parseResources(*rs.NotResource, bucket)
		rkinds = bucketLevel | objectLevel
	default:
		return s, malformed("Missing required field Resource")
	}
	if err != nil {
		return s, err
	}
	if kinds&rkinds == 0 {
		return s, malformed("Action does not apply to any resource(s) in statement")
	}

	s.Conditions, err = parseConditions(rs.Condition)
	return s, err
}

func parsePrincipal(b json.RawMessage) ([]string, error) {
	bad := malformed("Invalid principal in policy")
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil || v != "*" {
			return nil, bad
		}
		return []string{"*"}, nil
	}
	var m map[string]stringOrSlice
	if err := json.Unmarshal(b, &m); err != nil || len(m) == 0 {
		return nil, bad
	}
	var out []string
	for k, vs := range m {
		switch k {
		case "AWS", "CanonicalUser", "Service", "Federated":
		default:
			return nil, bad
		}
		if len(vs) == 0 {
			return nil, bad
		}
		for _, v := range vs {
			if v == "" || (strings.Contains(v, "*") && v != "*") {
				return nil, bad
			}
			out = append(out, v)
		}
	}
	return out, nil
}

func parseActions(as []string) ([]string, int, error) {
	if len(as) == 0 {
		return nil, 0, malformed("Missing required field Action")
	}
	var kinds int
	out := make([]string, 0, len(as))
	for _, a := range as {
		la := strings.ToLower(a)
		k, ok := knownAction(la)
		if !ok {
			return nil, 0, malformed("Policy has invalid action")
		}
		kinds |= k
		out = append(out, la)
	}
	return out, kinds, nil
}

const arnPrefix = "arn:aws:s3:::"

func parseResources(rs []string, bucket string) ([]string, int, error) {
	if len(rs) == 0 {
		return nil, 0, malformed("Missing required field Resource")
	}
	var kinds int
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		rest, ok := strings.CutPrefix(r, arnPrefix)
		if !ok || rest == "" {
			return nil, 0, malformed("Policy has invalid resource")
		}
		bpat, _, hasKey := strings.Cut(rest, "/")
		// The bucket part must designate this bucket. A pattern such as
		// "*" or "buck*" does; one that cannot match it is outside.
		if !wildcard(bpat, bucket) {
			return nil, 0, malformed("Policy has invalid resource")
		}
		switch {
		case hasKey:
			kinds |= objectLevel
		case strings.HasSuffix(bpat, "*"):
			kinds |= bucketLevel | objectLevel // "bucket*" also covers bucket/...
		default:
			kinds |= bucketLevel
		}
		out = append(out, rest)
	}
	return out, kinds, nil
}

// wildcard matches s against p, where '*' matches any run of characters
// (including '/') and '?' any one character (rune). Greedy matching that
// backtracks only to the last star: O(len(p)*len(s)) at worst, so hostile
// patterns cannot blow up.
func wildcard(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				star, mark = pi, si
				pi++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				pi++
				si += n
				continue
			default:
				if p[pi] == s[si] {
					pi++
					si++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		pi, si = star+1, mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
