package objectlock

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestParseConfig(t *testing.T) {
	wrap := func(rule string) string {
		return `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled>` + rule + `</ObjectLockConfiguration>`
	}
	tests := []struct {
		name    string
		doc     string
		want    Config
		wantErr error
	}{
		{"enabled only (minio-go, no rule)", wrap(""), Config{}, nil},
		{"governance days (minio-go)", wrap(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule>`), Config{Mode: Governance, Days: 1}, nil},
		{"compliance years", wrap(`<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>2</Years></DefaultRetention></Rule>`), Config{Mode: Compliance, Years: 2}, nil},
		{"empty", "", Config{}, ErrMalformedXML},
		{"not enabled", `<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>`, Config{}, ErrMalformedXML},
		{"missing enabled", `<ObjectLockConfiguration></ObjectLockConfiguration>`, Config{}, ErrMalformedXML},
		{"wrong root", `<Foo><ObjectLockEnabled>Enabled</ObjectLockEnabled></Foo>`, Config{}, ErrMalformedXML},
		{"rule without retention", wrap(`<Rule></Rule>`), Config{}, ErrMalformedXML},
		{"bad mode", wrap(`<Rule><DefaultRetention><Mode>governance</Mode><Days>1</Days></DefaultRetention></Rule>`), Config{}, ErrMalformedXML},
		{"days and years", wrap(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule>`), Config{}, ErrMalformedXML},
		{"neither", wrap(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode></DefaultRetention></Rule>`), Config{}, ErrMalformedXML},
		{"zero days", wrap(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule>`), Config{}, ErrInvalidArgument},
		{"negative years", wrap(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Years>-1</Years></DefaultRetention></Rule>`), Config{}, ErrInvalidArgument},
		{"too many years", wrap(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Years>101</Years></DefaultRetention></Rule>`), Config{}, ErrInvalidArgument},
		{"days not a number", wrap(`<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>x</Days></DefaultRetention></Rule>`), Config{}, ErrMalformedXML},
		{"trailing", wrap("") + "<x/>", Config{}, ErrMalformedXML},
		{"too large", wrap("") + strings.Repeat(" ", MaxSize), Config{}, ErrMalformedXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.doc))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseConfig: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Message == "" {
					t.Fatalf("error %v has no S3 message", err)
				}
				return
			}
			if *c != tt.want {
				t.Fatalf("got %+v, want %+v", *c, tt.want)
			}
			out, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := ParseConfig(out)
			if err != nil || *c2 != *c {
				t.Fatalf("round trip %s: %+v, %v", out, c2, err)
			}
		})
	}
}

func TestDefaultUntil(t *testing.T) {
	tests := []struct {
		c     *Config
		mode  Mode
		until time.Time
		ok    bool
	}{
		{nil, "", time.Time{}, false},
		{&Config{}, "", time.Time{}, false},
		{&Config{Mode: Governance, Days: 3}, Governance, now.AddDate(0, 0, 3), true},
		{&Config{Mode: Compliance, Years: 1}, Compliance, now.AddDate(1, 0, 0), true},
	}
	for _, tt := range tests {
		m, u, ok := tt.c.DefaultUntil(now)
		if m != tt.mode || !u.Equal(tt.until) || ok != tt.ok {
			t.Errorf("%+v: got %v %v %v", tt.c, m, u, ok)
		}
	}
}

func TestParseRetention(t *testing.T) {
	doc := func(mode, date string) string {
		s := `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`
		if mode != "" {
			s += "<Mode>" + mode + "</Mode>"
		}
		if date != "" {
			s += "<RetainUntilDate>" + date + "</RetainUntilDate>"
		}
		return s + "</Retention>"
	}
	future := now.Add(time.Hour)
	tests := []struct {
		name    string
		doc     string
		want    Retention
		wantErr error
	}{
		{"governance (minio-go RFC3339Nano)", doc("GOVERNANCE", future.Format(time.RFC3339Nano)), Retention{Governance, future}, nil},
		{"compliance millis", doc("COMPLIANCE", "2026-11-28T00:00:00.000Z"), Retention{Compliance, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, nil},
		{"offset", doc("COMPLIANCE", "2026-11-28T02:00:00+02:00"), Retention{Compliance, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, nil},
		{"empty removes", doc("", ""), Retention{}, nil},
		{"past", doc("GOVERNANCE", "2020-01-01T00:00:00Z"), Retention{}, ErrInvalidArgument},
		{"now is not future", doc("GOVERNANCE", now.Format(time.RFC3339)), Retention{}, ErrInvalidArgument},
		{"bad date", doc("GOVERNANCE", "tomorrow"), Retention{}, ErrInvalidArgument},
		{"no date", doc("GOVERNANCE", ""), Retention{}, ErrMalformedXML},
		{"no mode", doc("", future.Format(time.RFC3339)), Retention{}, ErrMalformedXML},
		{"bad mode", doc("FOREVER", future.Format(time.RFC3339)), Retention{}, ErrMalformedXML},
		{"wrong root", `<LegalHold><Status>ON</Status></LegalHold>`, Retention{}, ErrMalformedXML},
		{"garbage", `<Retention`, Retention{}, ErrMalformedXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRetention([]byte(tt.doc), now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseRetention: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.Mode != tt.want.Mode || !r.Until.Equal(tt.want.Until) {
				t.Fatalf("got %+v, want %+v", *r, tt.want)
			}
			out, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			// What minio-go decodes GetObjectRetention into.
			var mc struct {
				XMLName         xml.Name   `xml:"Retention"`
				Mode            string     `xml:"Mode,omitempty"`
				RetainUntilDate *time.Time `xml:"RetainUntilDate,omitempty"`
			}
			if err := xml.Unmarshal(out, &mc); err != nil {
				t.Fatalf("minio-go decode of %s: %v", out, err)
			}
			if mc.Mode != string(r.Mode) || (mc.RetainUntilDate != nil) != !r.IsZero() ||
				(mc.RetainUntilDate != nil && !mc.RetainUntilDate.Equal(r.Until.Truncate(time.Millisecond))) {
				t.Fatalf("minio-go sees %+v for %+v", mc, *r)
			}
		})
	}
}

func TestLegalHold(t *testing.T) {
	tests := []struct {
		doc     string
		want    bool
		wantErr error
	}{
		{`<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>`, true, nil},
		{`<LegalHold><Status>OFF</Status></LegalHold>`, false, nil},
		{`<LegalHold><Status>on</Status></LegalHold>`, false, ErrMalformedXML},
		{`<LegalHold></LegalHold>`, false, ErrMalformedXML},
		{`<Retention><Status>ON</Status></Retention>`, false, ErrMalformedXML},
		{``, false, ErrMalformedXML},
	}
	for _, tt := range tests {
		on, err := ParseLegalHold([]byte(tt.doc))
		if !errors.Is(err, tt.wantErr) || on != tt.want {
			t.Errorf("%s: %v %v, want %v %v", tt.doc, on, err, tt.want, tt.wantErr)
		}
	}
	for _, on := range []bool{true, false} {
		out, err := MarshalLegalHold(on)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseLegalHold(out)
		if err != nil || got != on {
			t.Errorf("round trip %v: %v %v", on, got, err)
		}
	}
}

func TestCheck(t *testing.T) {
	gov := &Retention{Governance, now.Add(time.Hour)}
	comp := &Retention{Compliance, now.Add(time.Hour)}
	expired := &Retention{Compliance, now.Add(-time.Hour)}
	tests := []struct {
		name   string
		r      *Retention
		hold   bool
		bypass bool
		locked bool
	}{
		{"none", nil, false, false, false},
		{"zero", &Retention{}, false, false, false},
		{"hold", nil, true, false, true},
		{"hold bypass", gov, true, true, true},
		{"governance", gov, false, false, true},
		{"governance bypass", gov, false, true, false},
		{"compliance", comp, false, false, true},
		{"compliance bypass", comp, false, true, true},
		{"expired compliance", expired, false, false, false},
		{"at the date", &Retention{Compliance, now}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(now, tt.r, tt.hold, tt.bypass)
			if errors.Is(err, ErrLocked) != tt.locked || (err != nil && !errors.Is(err, ErrLocked)) {
				t.Fatalf("Check = %v, want locked=%v", err, tt.locked)
			}
		})
	}
}

func TestCheckChange(t *testing.T) {
	h1, h2 := now.Add(time.Hour), now.Add(2*time.Hour)
	tests := []struct {
		name      string
		old, next *Retention
		bypass    bool
		locked    bool
	}{
		{"none to gov", nil, &Retention{Governance, h1}, false, false},
		{"expired to none", &Retention{Compliance, now.Add(-time.Second)}, &Retention{}, false, false},
		{"comp extend", &Retention{Compliance, h1}, &Retention{Compliance, h2}, false, false},
		{"comp same", &Retention{Compliance, h1}, &Retention{Compliance, h1}, false, false},
		{"comp shorten", &Retention{Compliance, h2}, &Retention{Compliance, h1}, true, true},
		{"comp to gov", &Retention{Compliance, h1}, &Retention{Governance, h2}, true, true},
		{"comp remove", &Retention{Compliance, h1}, &Retention{}, true, true},
		{"gov extend", &Retention{Governance, h1}, &Retention{Governance, h2}, false, false},
		{"gov shorten", &Retention{Governance, h2}, &Retention{Governance, h1}, false, true},
		{"gov shorten bypass", &Retention{Governance, h2}, &Retention{Governance, h1}, true, false},
		{"gov remove", &Retention{Governance, h1}, &Retention{}, false, true},
		{"gov remove bypass", &Retention{Governance, h1}, nil, true, false},
		{"gov to comp", &Retention{Governance, h1}, &Retention{Compliance, h2}, false, true},
		{"gov to comp bypass", &Retention{Governance, h1}, &Retention{Compliance, h2}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckChange(now, tt.old, tt.next, tt.bypass)
			if (err != nil) != tt.locked || (err != nil && !errors.Is(err, ErrLocked)) {
				t.Fatalf("CheckChange = %v, want locked=%v", err, tt.locked)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	future := now.Add(24 * time.Hour).Format(time.RFC3339)
	tests := []struct {
		name    string
		hdr     map[string]string
		ret     *Retention
		hold    string // "", "ON", "OFF"
		wantErr error
	}{
		{"none", nil, nil, "", nil},
		{"mode and date", map[string]string{HeaderMode: "GOVERNANCE", HeaderRetainUntil: future}, &Retention{Governance, now.Add(24 * time.Hour)}, "", nil},
		{"hold on", map[string]string{HeaderLegalHold: "ON"}, nil, "ON", nil},
		{"all", map[string]string{HeaderMode: "COMPLIANCE", HeaderRetainUntil: future, HeaderLegalHold: "OFF"}, &Retention{Compliance, now.Add(24 * time.Hour)}, "OFF", nil},
		{"mode only", map[string]string{HeaderMode: "GOVERNANCE"}, nil, "", ErrInvalidArgument},
		{"date only", map[string]string{HeaderRetainUntil: future}, nil, "", ErrInvalidArgument},
		{"bad mode", map[string]string{HeaderMode: "governance", HeaderRetainUntil: future}, nil, "", ErrInvalidArgument},
		{"bad date", map[string]string{HeaderMode: "GOVERNANCE", HeaderRetainUntil: "2026-13-01"}, nil, "", ErrInvalidArgument},
		{"past date", map[string]string{HeaderMode: "GOVERNANCE", HeaderRetainUntil: "2020-01-01T00:00:00Z"}, nil, "", ErrInvalidArgument},
		{"bad hold", map[string]string{HeaderLegalHold: "yes"}, nil, "", ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.hdr {
				h.Set(k, v)
			}
			ret, hold, err := FromHeaders(h, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("FromHeaders: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if (ret == nil) != (tt.ret == nil) || (ret != nil && (ret.Mode != tt.ret.Mode || !ret.Until.Equal(tt.ret.Until))) {
				t.Fatalf("retention %+v, want %+v", ret, tt.ret)
			}
			gotHold := ""
			if hold != nil {
				gotHold = holdStatus(*hold)
			}
			if gotHold != tt.hold {
				t.Fatalf("hold %q, want %q", gotHold, tt.hold)
			}
			// Response headers carry the same state back.
			out := http.Header{}
			SetHeaders(out, ret, hold)
			ret2, hold2, err := FromHeaders(out, now)
			if err != nil || (ret2 == nil) != (ret == nil) || (hold2 == nil) != (hold == nil) {
				t.Fatalf("SetHeaders round trip: %v %v %v (%v)", ret2, hold2, err, out)
			}
		})
	}
	if !BypassGovernance(http.Header{HeaderBypassGovernance: {"True"}}) || BypassGovernance(http.Header{}) {
		t.Fatal("BypassGovernance")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>`))
	f.Add([]byte(`<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>`))
	f.Add([]byte(`<LegalHold><Status>ON</Status></LegalHold>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		check := func(err error) {
			var e *Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
		}
		if c, err := ParseConfig(doc); err == nil {
			out, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := ParseConfig(out)
			if err != nil || *c2 != *c {
				t.Fatalf("config round trip: %+v %+v %v", c, c2, err)
			}
			c.DefaultUntil(now)
		} else {
			check(err)
		}
		if r, err := ParseRetention(doc, now); err == nil {
			out, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			// Marshal renders milliseconds, as S3 does.
			if want := r.Until.Truncate(time.Millisecond); r.IsZero() || want.After(now) {
				r2, err := ParseRetention(out, now)
				if err != nil || r2.Mode != r.Mode || (!r.IsZero() && !r2.Until.Equal(want)) {
					t.Fatalf("retention round trip: %+v %+v %v\n%s", r, r2, err, out)
				}
			}
			_ = Check(now, r, false, false)
		} else {
			check(err)
		}
		if _, err := ParseLegalHold(doc); err != nil {
			check(err)
		}
	})
}
