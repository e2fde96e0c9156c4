package cors

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func rule(body string) string {
	return "<CORSConfiguration><CORSRule>" + body + "</CORSRule></CORSConfiguration>"
}

func TestParse(t *testing.T) {
	many := "<CORSConfiguration>" + strings.Repeat("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>", MaxRules+1) + "</CORSConfiguration>"
	tests := []struct {
		name    string
		doc     string
		wantErr error
	}{
		{"minimal", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), nil},
		{"namespace", `<?xml version="1.0"?><CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><ID>a</ID><AllowedOrigin>http://*.x.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>10</MaxAgeSeconds></CORSRule></CORSConfiguration>`, nil},
		{"empty", "", ErrMalformedXML},
		{"not xml", "{}", ErrMalformedXML},
		{"wrong root", "<Foo><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></Foo>", ErrMalformedXML},
		{"no rules", "<CORSConfiguration></CORSConfiguration>", ErrMalformedXML},
		{"no origin", rule("<AllowedMethod>GET</AllowedMethod>"), ErrMalformedXML},
		{"no method", rule("<AllowedOrigin>*</AllowedOrigin>"), ErrMalformedXML},
		{"empty origin", rule("<AllowedOrigin> </AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), ErrMalformedXML},
		{"bad method", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"), ErrInvalidRequest},
		{"lowercase method", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>"), ErrInvalidRequest},
		{"two wildcards origin", rule("<AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), ErrInvalidRequest},
		{"two wildcards header", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-*-*</AllowedHeader>"), ErrInvalidRequest},
		{"wildcard expose", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>*</ExposeHeader>"), ErrInvalidRequest},
		{"negative max age", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds>"), ErrMalformedXML},
		{"bad max age", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>x</MaxAgeSeconds>"), ErrMalformedXML},
		{"long id", rule("<ID>" + strings.Repeat("a", 256) + "</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), ErrMalformedXML},
		{"trailing garbage", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>") + "<x/>", ErrMalformedXML},
		{"truncated", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>")[:40], ErrMalformedXML},
		{"too many rules", many, ErrMalformedXML},
		{"too large", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>" + strings.Repeat(" ", MaxSize)), ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Message == "" {
					t.Fatalf("error %v carries no S3 message", err)
				}
				return
			}
			out, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := Parse(out)
			if err != nil {
				t.Fatalf("reparse of %s: %v", out, err)
			}
			if fmt.Sprint(c2.Rules) != fmt.Sprint(c.Rules) {
				t.Fatalf("round trip %v != %v", c2.Rules, c.Rules)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	c, err := Parse([]byte(`<CORSConfiguration>
<CORSRule><AllowedOrigin>http://a.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>X-Foo</AllowedHeader></CORSRule>
<CORSRule><AllowedOrigin>http://*.b.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule>
</CORSConfiguration>`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		origin, method string
		hdrs           []string
		want           int // rule index, -1 for none
	}{
		{"http://a.com", "GET", nil, 0},
		{"http://a.com", "GET", []string{"x-foo"}, 0},
		{"http://a.com", "GET", []string{"X-FOO"}, 0},
		{"http://a.com", "GET", []string{"x-bar"}, -1},
		{"http://a.com", "PUT", nil, -1},
		{"http://A.com", "GET", nil, -1},
		{"http://x.b.com", "PUT", []string{"anything"}, 1},
		{"http://.b.com", "GET", nil, 1},
		{"http://b.com", "GET", nil, -1},
		{"", "GET", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.origin+"/"+tt.method, func(t *testing.T) {
			r, ok := c.Match(tt.origin, tt.method, tt.hdrs)
			got := -1
			if ok {
				for i := range c.Rules {
					if r == &c.Rules[i] {
						got = i
					}
				}
			}
			if got != tt.want {
				t.Fatalf("Match = %d, want %d", got, tt.want)
			}
		})
	}
	var nilc *Config
	if _, ok := nilc.Match("http://a.com", "GET", nil); ok {
		t.Fatal("nil config matched")
	}
}

func TestPreflightErrors(t *testing.T) {
	c, err := Parse([]byte(rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		c       *Config
		hdr     map[string]string
		wantErr error
	}{
		{"ok", c, map[string]string{"Origin": "http://x", "Access-Control-Request-Method": "GET"}, nil},
		{"no origin", c, map[string]string{"Access-Control-Request-Method": "GET"}, ErrBadRequest},
		{"no method", c, map[string]string{"Origin": "http://x"}, ErrBadRequest},
		{"bad method", c, map[string]string{"Origin": "http://x", "Access-Control-Request-Method": "TRACE"}, ErrBadRequest},
		{"no config", nil, map[string]string{"Origin": "http://x", "Access-Control-Request-Method": "GET"}, ErrForbidden},
		{"no rule", c, map[string]string{"Origin": "http://x", "Access-Control-Request-Method": "PUT"}, ErrForbidden},
		{"huge headers", c, map[string]string{"Origin": "http://x", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": strings.Repeat("a,", 5000)}, ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, out := http.Header{}, http.Header{}
			for k, v := range tt.hdr {
				req.Set(k, v)
			}
			err := tt.c.Preflight(req, out)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Preflight: %v, want %v", err, tt.wantErr)
			}
			if err == nil && out.Get("Vary") == "" {
				t.Fatal("no Vary header")
			}
		})
	}
	var nilc *Config
	if nilc.Actual("GET", http.Header{"Origin": {"http://x"}}, http.Header{}) {
		t.Fatal("nil config matched an actual request")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>")))
	f.Add([]byte(`<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><ID>a</ID><AllowedOrigin>http://*.x.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>10</MaxAgeSeconds></CORSRule></CORSConfiguration>`))
	f.Add([]byte("<CORSConfiguration><CORSRule></CORSRule></CORSConfiguration>"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := Parse(doc)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c2.Rules, c.Rules) {
			t.Fatalf("round trip:\n%#v\n%#v", c.Rules, c2.Rules)
		}
		c.Match("http://a", "GET", []string{"x"})
	})
}
