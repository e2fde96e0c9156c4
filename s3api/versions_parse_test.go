package s3api

import (
	"errors"
	"testing"
)

func TestParseVersioning(t *testing.T) {
	for _, tc := range []struct {
		doc, want string
		err       error
	}{
		{`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`, "Enabled", nil},
		{`<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`, "Suspended", nil},
		{`<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>`, "", ErrMalformedXML},
		{`<VersioningConfiguration></VersioningConfiguration>`, "", ErrMalformedXML},
		{`<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`, "", ErrNotImplemented},
		{`<Versioning`, "", ErrMalformedXML},
	} {
		got, err := parseVersioning([]byte(tc.doc))
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: %q, %v", tc.doc, got, err)
		}
	}
}

func TestParseCopySourceVersion(t *testing.T) {
	for _, tc := range []struct {
		v, bucket, key, vid string
		err                 error
	}{
		{"bkt/a/b", "bkt", "a/b", "", nil},
		{"/bkt/k?versionId=null", "bkt", "k", "null", nil},
		{"bkt/k?versionId=3f2a-B_c.~", "bkt", "k", "3f2a-B_c.~", nil},
		{"bkt/k?versionId=", "", "", "", ErrInvalidArgument},
		{"bkt/k?versionId=a%2Fb", "", "", "", ErrInvalidArgument},
		{"bkt/k?%zz", "", "", "", ErrCopySource},
		{"bkt", "", "", "", ErrCopySource},
	} {
		b, k, v, err := parseCopySourceVersion(tc.v)
		if b != tc.bucket || k != tc.key || v != tc.vid || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%q: %q %q %q %v", tc.v, b, k, v, err)
		}
	}
}

func FuzzVersionParsers(f *testing.F) {
	f.Add([]byte(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`), "bkt/k?versionId=abc")
	f.Add([]byte(`<a>`), "/b/%00?versionId=null&x")
	f.Fuzz(func(t *testing.T, doc []byte, src string) {
		if s, err := parseVersioning(doc); err == nil && s != "Enabled" && s != "Suspended" {
			t.Fatalf("accepted state %q", s)
		}
		b, k, v, err := parseCopySourceVersion(src)
		if err == nil && (b == "" || k == "" || (v != "" && !validVersionID(v))) {
			t.Fatalf("accepted %q -> %q %q %q", src, b, k, v)
		}
	})
}
