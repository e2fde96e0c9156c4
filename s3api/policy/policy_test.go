package policy

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

const bucket = "minio-go-test-abc"

// Documents minio-go v7.4.1's functional tests send (testFunctional,
// testCors, testGetObjectClosedTwice...).
var minioPolicies = []string{
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::` + bucket + `"]}]}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:ListBucketMultipartUploads"],"Resource":["arn:aws:s3:::` + bucket + `"]}]}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":["arn:aws:s3:::` + bucket + `"]}]}`,
	`{"Version": "2012-10-17","Statement": [{"Action": ["s3:ListBucketMultipartUploads", "s3:ListBucket"],"Effect": "Allow","Principal": {"AWS": ["*"]},"Resource": ["arn:aws:s3:::` + bucket + `"],"Sid": ""}]}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":["arn:aws:s3:::` + bucket + `", "arn:aws:s3:::` + bucket + `/*"]}]}`,
}

func TestParseMinio(t *testing.T) {
	for _, doc := range minioPolicies {
		p, err := Parse([]byte(doc), bucket)
		if err != nil {
			t.Fatalf("Parse(%s): %v", doc, err)
		}
		if !bytes.Equal(p.Bytes(), []byte(doc)) {
			t.Fatal("Bytes does not return the document as put")
		}
	}
}

func stmt(s string) string {
	return `{"Version":"2012-10-17","Statement":` + s + `}`
}

func TestParse(t *testing.T) {
	res := `"Resource":"arn:aws:s3:::` + bucket + `/*"`
	tests := []struct {
		name    string
		doc     string
		wantErr error
	}{
		{"single statement object", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `}`), nil},
		{"2008 version", `{"Version":"2008-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:Get*",` + res + `}}`, nil},
		{"id and sid", `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:user/alice"]},"Action":["S3:GETOBJECT"],` + res + `}]}`, nil},
		{"not fields", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"alice"},"NotAction":"s3:GetObject","NotResource":"arn:aws:s3:::` + bucket + `/public/*"}`), nil},
		{"wildcard bucket", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::*"}`), nil},
		{"conditions", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + bucket + `","Condition":{"StringLike":{"s3:prefix":["home/*",""]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"Bool":{"aws:SecureTransport":"true"},"NumericLessThanEquals":{"s3:max-keys":"10"},"Null":{"aws:Referer":"true"},"ForAnyValue:StringEqualsIfExists":{"aws:UserAgent":"x"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`), nil},
		{"scalar condition values", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*",` + res + `,"Condition":{"Bool":{"aws:SecureTransport":false},"NumericGreaterThan":{"s3:max-keys":[100, 2.5]}}}`), nil},
		{"object condition value", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*",` + res + `,"Condition":{"Bool":{"aws:SecureTransport":{}}}}`), ErrMalformedPolicy},
		{"null condition value", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*",` + res + `,"Condition":{"Bool":{"aws:SecureTransport":null}}}`), ErrMalformedPolicy},
		{"trailing brace", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",`+res+`}`) + `}`, ErrMalformedPolicy},
		{"lowercase field", stmt(`{"effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `}`), ErrMalformedPolicy},
		{"null statement item", stmt(`[null]`), ErrMalformedPolicy},
		{"empty", ``, ErrMalformedPolicy},
		{"not object", `[]`, ErrMalformedPolicy},
		{"invalid json", `{"Version":`, ErrMalformedPolicy},
		{"trailing", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",`+res+`}`) + `{}`, ErrMalformedPolicy},
		{"unknown top field", `{"Version":"2012-10-17","Foo":1,"Statement":[]}`, ErrMalformedPolicy},
		{"no version", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `}}`, ErrMalformedPolicy},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `}}`, ErrMalformedPolicy},
		{"no statement", `{"Version":"2012-10-17"}`, ErrMalformedPolicy},
		{"empty statements", stmt(`[]`), ErrMalformedPolicy},
		{"statement not object", stmt(`["x"]`), ErrMalformedPolicy},
		{"unknown statement field", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `,"Foo":1}`), ErrMalformedPolicy},
		{"no effect", stmt(`{"Principal":"*","Action":"s3:GetObject",` + res + `}`), ErrMalformedPolicy},
		{"bad effect", stmt(`{"Effect":"allow","Principal":"*","Action":"s3:GetObject",` + res + `}`), ErrMalformedPolicy},
		{"no principal", stmt(`{"Effect":"Allow","Action":"s3:GetObject",` + res + `}`), ErrMalformedPolicy},
		{"bad principal", stmt(`{"Effect":"Allow","Principal":"alice","Action":"s3:GetObject",` + res + `}`), ErrMalformedPolicy},
		{"bad principal kind", stmt(`{"Effect":"Allow","Principal":{"Foo":"*"},"Action":"s3:GetObject",` + res + `}`), ErrMalformedPolicy},
		{"principal and not", stmt(`{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"s3:GetObject",` + res + `}`), ErrMalformedPolicy},
		{"no action", stmt(`{"Effect":"Allow","Principal":"*",` + res + `}`), ErrMalformedPolicy},
		{"empty action", stmt(`{"Effect":"Allow","Principal":"*","Action":[],` + res + `}`), ErrMalformedPolicy},
		{"bad action", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:Fly",` + res + `}`), ErrMalformedPolicy},
		{"bad action service", stmt(`{"Effect":"Allow","Principal":"*","Action":"iam:GetUser",` + res + `}`), ErrMalformedPolicy},
		{"wildcard action matching nothing", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:Fly*",` + res + `}`), ErrMalformedPolicy},
		{"action number", stmt(`{"Effect":"Allow","Principal":"*","Action":1,` + res + `}`), ErrMalformedPolicy},
		{"no resource", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}`), ErrMalformedPolicy},
		{"other bucket", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}`), ErrMalformedPolicy},
		{"not an arn", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), ErrMalformedPolicy},
		{"action resource mismatch", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `"}`), ErrMalformedPolicy},
		{"action resource mismatch 2", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket",` + res + `}`), ErrMalformedPolicy},
		{"duplicate sid", stmt(`[{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `},{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `}]`), ErrMalformedPolicy},
		{"unknown operator", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `,"Condition":{"StringSortOf":{"aws:Referer":"x"}}}`), ErrMalformedPolicy},
		{"unknown key", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `,"Condition":{"StringEquals":{"s3:color":"x"}}}`), ErrMalformedPolicy},
		{"bad ip", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300/8"}}}`), ErrMalformedPolicy},
		{"bad bool", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}}`), ErrMalformedPolicy},
		{"bad number", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `,"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}`), ErrMalformedPolicy},
		{"empty condition values", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` + res + `,"Condition":{"StringEquals":{"aws:Referer":[]}}}`), ErrMalformedPolicy},
		{"too large", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",`+res+`}`) + strings.Repeat(" ", MaxSize), ErrPolicyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), bucket)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse: %v, want %v", err, tt.wantErr)
			}
			var e *Error
			if err != nil && (!errors.As(err, &e) || e.Message == "") {
				t.Fatalf("error %v has no S3 message", err)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	pub := minioPolicies[4]
	readOnly := minioPolicies[0]
	mixed := stmt(`[
{"Sid":"read","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::` + bucket + `/pub/*"},
{"Sid":"list","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + bucket + `","Condition":{"StringLike":{"s3:prefix":"pub/*"}}},
{"Sid":"alice","Effect":"Allow","Principal":{"AWS":"alice"},"Action":"s3:*","Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]},
{"Sid":"nosecret","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::` + bucket + `/pub/secret?"},
{"Sid":"tls","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
{"Sid":"net","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}},
{"Sid":"notact","Effect":"Deny","NotPrincipal":{"AWS":"alice"},"NotAction":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::` + bucket + `/ro/*"},
{"Sid":"maxkeys","Effect":"Deny","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + bucket + `","Condition":{"NumericGreaterThan":{"s3:max-keys":"100"}}},
{"Sid":"ua","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"StringEqualsIgnoreCase":{"aws:UserAgent":"BadBot"}}},
{"Sid":"ref","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/ref/*","Condition":{"StringNotEquals":{"aws:Referer":"http://evil"},"Null":{"aws:Referer":"false"}}}
]`)
	cond := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	tests := []struct {
		name string
		doc  string
		req  Request
		want Decision
	}{
		{"public get", pub, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "a/b"}, Allowed},
		{"public list", pub, Request{Principal: "*", Action: "s3:ListBucket", Bucket: bucket}, Allowed},
		{"public other bucket", pub, Request{Principal: "*", Action: "s3:GetObject", Bucket: "other", Key: "a"}, NoDecision},
		{"readonly list", readOnly, Request{Principal: "*", Action: "s3:ListBucket", Bucket: bucket}, Allowed},
		{"readonly get", readOnly, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "a"}, NoDecision},
		{"readonly case", readOnly, Request{Principal: "*", Action: "S3:LISTBUCKET", Bucket: bucket}, Allowed},
		{"pub read", mixed, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "pub/x"}, Allowed},
		{"private read", mixed, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "priv/x"}, NoDecision},
		{"secret deny wins", mixed, Request{Principal: "alice", Action: "s3:GetObject", Bucket: bucket, Key: "pub/secret1"}, Denied},
		{"question mark one char", mixed, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "pub/secret12"}, Allowed},
		{"list with prefix", mixed, Request{Principal: "*", Action: "s3:ListBucket", Bucket: bucket, Conditions: cond("s3:prefix", "pub/a")}, Allowed},
		{"list other prefix", mixed, Request{Principal: "*", Action: "s3:ListBucket", Bucket: bucket, Conditions: cond("s3:prefix", "priv/")}, NoDecision},
		{"list no prefix", mixed, Request{Principal: "*", Action: "s3:ListBucket", Bucket: bucket}, NoDecision},
		{"list max keys deny", mixed, Request{Principal: "alice", Action: "s3:ListBucket", Bucket: bucket, Conditions: cond("s3:max-keys", "1000")}, Denied},
		{"list max keys ok", mixed, Request{Principal: "alice", Action: "s3:ListBucket", Bucket: bucket, Conditions: cond("S3:Max-Keys", "100")}, Allowed},
		{"alice put tls", mixed, Request{Principal: "alice", Action: "s3:PutObject", Bucket: bucket, Key: "x", Conditions: cond("aws:SecureTransport", "true")}, Allowed},
		{"alice put plain", mixed, Request{Principal: "alice", Action: "s3:PutObject", Bucket: bucket, Key: "x", Conditions: cond("aws:SecureTransport", "false")}, Denied},
		{"alice delete inside", mixed, Request{Principal: "alice", Action: "s3:DeleteObject", Bucket: bucket, Key: "x", Conditions: cond("aws:SourceIp", "10.1.2.3")}, Allowed},
		{"alice delete v6 inside", mixed, Request{Principal: "alice", Action: "s3:DeleteObject", Bucket: bucket, Key: "x", Conditions: cond("aws:SourceIp", "2001:db8::1")}, Allowed},
		{"alice delete outside", mixed, Request{Principal: "alice", Action: "s3:DeleteObject", Bucket: bucket, Key: "x", Conditions: cond("aws:SourceIp", "192.168.1.1")}, Denied},
		{"alice delete no ip", mixed, Request{Principal: "alice", Action: "s3:DeleteObject", Bucket: bucket, Key: "x"}, Denied},
		{"notaction ro put bob", mixed, Request{Principal: "bob", Action: "s3:PutObject", Bucket: bucket, Key: "ro/x"}, Denied},
		{"notaction ro get bob", mixed, Request{Principal: "bob", Action: "s3:GetObject", Bucket: bucket, Key: "ro/x"}, NoDecision},
		{"notaction ro put alice", mixed, Request{Principal: "alice", Action: "s3:PutObject", Bucket: bucket, Key: "ro/x", Conditions: cond("aws:SecureTransport", "true")}, Allowed},
		{"bad bot", mixed, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "pub/x", Conditions: cond("aws:UserAgent", "badbot")}, Denied},
		{"referer good", mixed, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "ref/x", Conditions: cond("aws:Referer", "http://good")}, Allowed},
		{"referer evil", mixed, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "ref/x", Conditions: cond("aws:Referer", "http://evil")}, NoDecision},
		{"referer absent", mixed, Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "ref/x"}, NoDecision},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc), bucket)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Evaluate(tt.req); got != tt.want {
				t.Fatalf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
	var nilp *Policy
	if nilp.Evaluate(Request{}) != NoDecision {
		t.Fatal("nil policy decided")
	}
}

func TestConditionSets(t *testing.T) {
	doc := func(op string) string {
		return stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"` + op + `":{"s3:RequestObjectTagKeys":["a","b"]}}}`)
	}
	tests := []struct {
		op   string
		vals []string
		want Decision
	}{
		{"ForAllValues:StringEquals", []string{"a"}, Allowed},
		{"ForAllValues:StringEquals", []string{"a", "c"}, NoDecision},
		{"ForAllValues:StringEquals", nil, Allowed},
		{"ForAnyValue:StringEquals", []string{"c", "b"}, Allowed},
		{"ForAnyValue:StringEquals", []string{"c"}, NoDecision},
		{"ForAnyValue:StringEquals", nil, NoDecision},
		{"StringEqualsIfExists", nil, Allowed},
		{"StringEqualsIfExists", []string{"z"}, NoDecision},
		{"StringNotLike", nil, Allowed},
		{"StringNotLike", []string{"a"}, NoDecision},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			p, err := Parse([]byte(doc(tt.op)), bucket)
			if err != nil {
				t.Fatal(err)
			}
			req := Request{Principal: "*", Action: "s3:PutObject", Bucket: bucket, Key: "k"}
			if tt.vals != nil {
				req.Conditions = map[string][]string{"s3:RequestObjectTagKeys": tt.vals}
			}
			if got := p.Evaluate(req); got != tt.want {
				t.Fatalf("%v: %v, want %v", tt.vals, got, tt.want)
			}
		})
	}
}

func TestActionFor(t *testing.T) {
	tests := map[string]string{
		"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "ListObjects": "s3:ListBucket",
		"ListObjectsV2": "s3:ListBucket", "ListObjectVersions": "s3:ListBucketVersions",
		"PutObject": "s3:PutObject", "CopyObject": "s3:PutObject", "UploadPart": "s3:PutObject",
		"CompleteMultipartUpload": "s3:PutObject", "DeleteObject": "s3:DeleteObject", "DeleteObjects": "s3:DeleteObject",
		"ListMultipartUploads": "s3:ListBucketMultipartUploads", "ListParts": "s3:ListMultipartUploadParts",
		"AbortMultipartUpload": "s3:AbortMultipartUpload", "GetObjectTagging": "s3:GetObjectTagging", "Fly": "",
	}
	for op, want := range tests {
		if got := ActionFor(op); got != want {
			t.Errorf("ActionFor(%s) = %q, want %q", op, got, want)
		}
	}
	// Every action the table names is one a policy may grant.
	for op, a := range ops {
		if _, ok := knownAction(strings.ToLower(a)); !ok {
			t.Errorf("ActionFor(%s) = %s is not a known action", op, a)
		}
	}
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "a/b", true}, {"a*", "a", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*b*", "xxaxxbxx", true}, {"*a*b", "ba", false},
		{"", "", true}, {"", "a", false}, {"a/*/c", "a/b/x/c", true},
		{"a*", "a*b", true}, {"a*c", "a*c", true}, {"a?", "aé", true}, {"a??", "aé", false}, {"*é", "xxé", true},
		{"*?", "", false}, {"**", "", true},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 200), false},
	}
	for _, tt := range tests {
		if got := wildcard(tt.p, tt.s); got != tt.want {
			t.Errorf("wildcard(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, d := range minioPolicies {
		f.Add([]byte(d))
	}
	f.Add([]byte(stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"alice"},"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::` + bucket + `/p/*","Condition":{"ForAnyValue:StringLikeIfExists":{"s3:prefix":["a*"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Null":{"aws:Referer":"true"}}}`)))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc, bucket)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !bytes.Equal(p.Bytes(), doc) {
			t.Fatal("Bytes differs")
		}
		for _, a := range []string{"s3:GetObject", "s3:ListBucket"} {
			p.Evaluate(Request{Principal: "*", Action: a, Bucket: bucket, Key: "p/x",
				Conditions: map[string][]string{"aws:SourceIp": {"10.0.0.1"}, "s3:prefix": {"ab"}, "aws:CurrentTime": {"2020-01-01T00:00:00Z"}}})
		}
	})
}

func TestScalarConditionValues(t *testing.T) {
	p, err := Parse([]byte(stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::`+bucket+`/*","Condition":{"Bool":{"aws:SecureTransport":false}}}`)), bucket)
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]Decision{"false": Denied, "true": NoDecision} {
		req := Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "k", Conditions: map[string][]string{"aws:SecureTransport": {v}}}
		if got := p.Evaluate(req); got != want {
			t.Errorf("SecureTransport=%s: %v, want %v", v, got, want)
		}
	}
}

// FuzzWildcard compares wildcard with a regexp translation of the pattern.
func FuzzWildcard(f *testing.F) {
	f.Add("a*c", "abbbc")
	f.Add("a?*", "aé")
	f.Add("*a*b", "ba")
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 64 || len(s) > 256 || !utf8.ValidString(p) || !utf8.ValidString(s) {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		for _, r := range p {
			switch r {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`\z`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := wildcard(p, s); got != want {
			t.Fatalf("wildcard(%q, %q) = %v, regexp says %v", p, s, got, want)
		}
	})
}
