package policy

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Decision is the outcome of evaluating a policy for one request.
type Decision int

// Decisions. NoDecision means no statement applied: the caller falls back
// to its default rule (the owner may, others may not).
const (
	NoDecision Decision = iota
	Allowed
	Denied
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allow"
	case Denied:
		return "Deny"
	}
	return "NoDecision"
}

// Request is what a policy is evaluated against.
type Request struct {
	// Principal is "*" for an anonymous request, otherwise the user's
	// name or ARN as written in policies (matched exactly).
	Principal string
	// Action is the policy action, e.g. "s3:GetObject" (see ActionFor).
	Action string
	Bucket string
	// Key is empty for bucket-level actions.
	Key string
	// Conditions holds the request's condition context: "aws:SourceIp",
	// "aws:SecureTransport" ("true"/"false"), "aws:Referer",
	// "aws:UserAgent", "aws:CurrentTime" (RFC 3339), "s3:prefix",
	// "s3:delimiter", "s3:max-keys", "s3:x-amz-acl", ... Keys compare
	// case-insensitively. An absent key is not the same as an empty value.
	Conditions map[string][]string
}

// lookup finds a condition key case-insensitively.
func (r *Request) lookup(key string) ([]string, bool) {
	if v, ok := r.Conditions[key]; ok {
		return v, true
	}
	for k, v := range r.Conditions {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// Evaluate decides req under p: Denied if an applicable statement denies,
// else Allowed if one allows, else NoDecision. A nil Policy gives
// NoDecision.
func (p *Policy) Evaluate(req Request) Decision {
	if p == nil {
		return NoDecision
	}
	action := strings.ToLower(req.Action)
	resource := req.Bucket
	if req.Key != "" {
		resource += "/" + req.Key
	}
	d := NoDecision
	for i := range p.Statements {
		s := &p.Statements[i]
		if !s.applies(&req, action, resource) {
			continue
		}
		if s.Effect == Deny {
			return Denied
		}
		d = Allowed
	}
	return d
}

func (s *Statement) applies(req *Request, action, resource string) bool {
	if s.Principal != nil && !matchPrincipal(s.Principal, req.Principal) {
		return false
	}
	if s.NotPrincipal != nil && matchPrincipal(s.NotPrincipal, req.Principal) {
		return false
	}
	if s.Actions != nil && !anyMatch(s.Actions, action) {
		return false
	}
	if s.NotActions != nil && anyMatch(s.NotActions, action) {
		return false
	}
	if s.Resources != nil && !anyMatch(s.Resources, resource) {
		return false
	}
	if s.NotResources != nil && anyMatch(s.NotResources, resource) {
		return false
	}
	for i := range s.Conditions {
		if !s.Conditions[i].eval(req) {
			return false
		}
	}
	return true
}

func matchPrincipal(ps []string, who string) bool {
	for _, p := range ps {
		if p == "*" || p == who {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcard(p, s) {
			return true
		}
	}
	return false
}

// Condition is one (operator, key, values) test of a statement.
type Condition struct {
	// Operator as written, e.g. "StringLike" or "ForAnyValue:StringEqualsIfExists".
	Operator string
	Key      string
	Values   []string

	op       opFunc
	negate   bool
	ifExists bool
	set      setMode
	ips      []netip.Prefix
	nums     []float64
	times    []time.Time
}

type setMode int

const (
	setDefault setMode = iota
	setAny
	setAll
)

// opFunc reports whether request value v matches policy value i of c.
type opFunc func(c *Condition, i int, v string) bool

type opSpec struct {
	fn     opFunc
	negate bool
	kind   byte // 's' string, 'i' ip, 'n' numeric, 'd' date, 'b' bool
}

var operators = map[string]opSpec{
	"StringEquals":              {strEq, false, 's'},
	"StringNotEquals":           {strEq, true, 's'},
	"StringEqualsIgnoreCase":    {strEqFold, false, 's'},
	"StringNotEqualsIgnoreCase": {strEqFold, true, 's'},
	"StringLike":                {strLike, false, 's'},
	"StringNotLike":             {strLike, true, 's'},
	"ArnEquals":                 {strEq, false, 's'},
	"ArnNotEquals":              {strEq, true, 's'},
	"ArnLike":                   {strLike, false, 's'},
	"ArnNotLike":                {strLike, true, 's'},
	"IpAddress":                 {ipIn, false, 'i'},
	"NotIpAddress":              {ipIn, true, 'i'},
	"Bool":                      {boolEq, false, 'b'},
	"NumericEquals":             {numCmp(func(a, b float64) bool { return a == b }), false, 'n'},
	"NumericNotEquals":          {numCmp(func(a, b float64) bool { return a == b }), true, 'n'},
	"NumericLessThan":           {numCmp(func(a, b float64) bool { return a < b }), false, 'n'},
	"NumericLessThanEquals":     {numCmp(func(a, b float64) bool { return a <= b }), false, 'n'},
	"NumericGreaterThan":        {numCmp(func(a, b float64) bool { return a > b }), false, 'n'},
	"NumericGreaterThanEquals":  {numCmp(func(a, b float64) bool { return a >= b }), false, 'n'},
	"DateEquals":                {dateCmp(func(a, b time.Time) bool { return a.Equal(b) }), false, 'd'},
	"DateNotEquals":             {dateCmp(func(a, b time.Time) bool { return a.Equal(b) }), true, 'd'},
	"DateLessThan":              {dateCmp(func(a, b time.Time) bool { return a.Before(b) }), false, 'd'},
	"DateLessThanEquals":        {dateCmp(func(a, b time.Time) bool { return !a.After(b) }), false, 'd'},
	"DateGreaterThan":           {dateCmp(func(a, b time.Time) bool { return a.After(b) }), false, 'd'},
	"DateGreaterThanEquals":     {dateCmp(func(a, b time.Time) bool { return !a.Before(b) }), false, 'd'},
}

// s3Keys are the S3-specific condition keys a bucket policy may use
// (lowercased). Any "aws:" global key is accepted.
var s3Keys = map[string]bool{
	"s3:prefix": true, "s3:delimiter": true, "s3:max-keys": true,
	"s3:x-amz-acl": true, "s3:x-amz-copy-source": true, "s3:x-amz-metadata-directive": true,
	"s3:x-amz-server-side-encryption": true, "s3:x-amz-server-side-encryption-aws-kms-key-id": true,
	"s3:x-amz-storage-class": true, "s3:x-amz-content-sha256": true, "s3:versionid": true,
	"s3:locationconstraint": true, "s3:existingobjecttag": true, "s3:requestobjecttagkeys": true,
	"s3:requestobjecttag": true, "s3:object-lock-mode": true, "s3:object-lock-retain-until-date": true,
	"s3:object-lock-remaining-retention-days": true, "s3:object-lock-legal-hold": true,
	"s3:signatureversion": true, "s3:authtype": true, "s3:signatureage": true,
	"s3:x-amz-grant-read": true, "s3:x-amz-grant-write": true, "s3:x-amz-grant-read-acp": true,
	"s3:x-amz-grant-write-acp": true, "s3:x-amz-grant-full-control": true, "s3:tlsversion": true,
	"s3:resourceaccount": true, "s3:x-amz-website-redirect-location": true,
}

func validKey(k string) bool {
	lk := strings.ToLower(k)
	if strings.HasPrefix(lk, "aws:") && len(lk) > 4 {
		return true
	}
	if s3Keys[lk] {
		return true
	}
	// Tag keys: s3:ExistingObjectTag/<key>, s3:RequestObjectTag/<key>.
	base, tag, ok := strings.Cut(lk, "/")
	return ok && tag != "" && (base == "s3:existingobjecttag" || base == "s3:requestobjecttag")
}

func parseConditions(m map[string]map[string]condValues) ([]Condition, error) {
	var out []Condition
	for opName, keys := range m {
		name := opName
		c := Condition{Operator: opName}
		if rest, ok := strings.CutPrefix(name, "ForAnyValue:"); ok {
			name, c.set = rest, setAny
		} else if rest, ok := strings.CutPrefix(name, "ForAllValues:"); ok {
			name, c.set = rest, setAll
		}
		isNull := name == "Null"
		if !isNull {
			if rest, ok := strings.CutSuffix(name, "IfExists"); ok {
				name, c.ifExists = rest, true
			}
		}
		spec, ok := operators[name]
		if !ok && !isNull {
			return nil, malformed("Invalid Condition type : %s", opName)
		}
		if len(keys) == 0 {
			return nil, malformed("Invalid Condition: %s has no keys", opName)
		}
		for key, vals := range keys {
			if !validKey(key) {
				return nil, malformed("Policy has an invalid condition key")
			}
			if len(vals) == 0 {
				return nil, malformed("Invalid Condition: %s %s has no values", opName, key)
			}
			cc := c
			cc.Key, cc.Values = key, []string(vals)
			cc.op, cc.negate = spec.fn, spec.negate
			if isNull {
				cc.op = nil
				for _, v := range vals {
					if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
						return nil, malformed("Invalid Condition value for Null: %s", v)
					}
				}
			} else if err := cc.compile(spec.kind); err != nil {
				return nil, err
			}
			out = append(out, cc)
		}
	}
	return out, nil
}

func (c *Condition) compile(kind byte) error {
	for _, v := range c.Values {
		switch kind {
		case 'i':
			p, err := netip.ParsePrefix(v)
			if err != nil {
				a, err2 := netip.ParseAddr(v)
				if err2 != nil {
					return malformed("Invalid IP address or CIDR: %s", v)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.ips = append(c.ips, p.Masked())
		case 'n':
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) {
				return malformed("Invalid numeric value in condition: %s", v)
			}
			c.nums = append(c.nums, f)
		case 'd':
			t, ok := parseDate(v)
			if !ok {
				return malformed("Invalid date value in condition: %s", v)
			}
			c.times = append(c.times, t)
		case 'b':
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				return malformed("Invalid boolean value in condition: %s", v)
			}
		}
	}
	return nil
}

func parseDate(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n < 1<<40 {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func strEq(c *Condition, i int, v string) bool     { return c.Values[i] == v }
func strEqFold(c *Condition, i int, v string) bool { return strings.EqualFold(c.Values[i], v) }
func strLike(c *Condition, i int, v string) bool   { return wildcard(c.Values[i], v) }
func boolEq(c *Condition, i int, v string) bool    { return strings.EqualFold(c.Values[i], v) }

func ipIn(c *Condition, i int, v string) bool {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	return c.ips[i].Contains(a.Unmap()) || c.ips[i].Contains(a)
}

func numCmp(cmp func(a, b float64) bool) opFunc {
	return func(c *Condition, i int, v string) bool {
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && cmp(f, c.nums[i])
	}
}

func dateCmp(cmp func(a, b time.Time) bool) opFunc {
	return func(c *Condition, i int, v string) bool {
		t, ok := parseDate(v)
		return ok && cmp(t, c.times[i])
	}
}

// matchOne reports whether request value v matches any policy value.
func (c *Condition) matchOne(v string) bool {
	for i := range c.Values {
		if c.op(c, i, v) {
			return true
		}
	}
	return false
}

// eval applies the condition to a request, following IAM semantics: a
// missing key fails a positive operator and passes a negated one (and
// passes any ...IfExists); Null tests presence.
func (c *Condition) eval(req *Request) bool {
	vals, present := req.lookup(c.Key)
	if c.op == nil { // Null
		want := strings.EqualFold(c.Values[0], "true")
		return want == (!present || len(vals) == 0)
	}
	if !present || len(vals) == 0 {
		switch {
		case c.ifExists:
			return true
		case c.set == setAll:
			return true
		case c.set == setAny:
			return false
		}
		return c.negate
	}
	switch c.set {
	case setAll:
		for _, v := range vals {
			if c.matchOne(v) == c.negate {
				return false
			}
		}
		return true
	case setAny:
		for _, v := range vals {
			if c.matchOne(v) != c.negate {
				return true
			}
		}
		return false
	default: // single-valued semantics: any request value matches
		any := false
		for _, v := range vals {
			if c.matchOne(v) {
				any = true
				break
			}
		}
		return any != c.negate
	}
}
