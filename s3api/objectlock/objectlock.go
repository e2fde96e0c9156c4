// Package objectlock is S3 Object Lock: the bucket's
// <ObjectLockConfiguration> (default retention), an object version's
// <Retention> and <LegalHold>, the x-amz-object-lock-* request headers, and
// the rule that decides whether a locked version may be deleted or
// overwritten.
//
// The package is pure. The gateway stores the bucket configuration and each
// version's retention and legal hold, and calls Check before it deletes or
// replaces a version. Object Lock protects versions: in a versioned bucket a
// plain DELETE only adds a delete marker and needs no Check; deleting a
// specific version, or overwriting in place where no versions are kept, does.
package objectlock

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MaxSize bounds every document this package parses. The real documents
// are a few hundred bytes.
const MaxSize = 16 << 10

// Retention bounds for the default rule (AWS: up to 100 years).
const (
	maxDays  = 36500
	maxYears = 100
)

// Sentinels. Errors are *Error values whose Unwrap gives one of them and
// whose Message is what AWS sends.
var (
	// ErrMalformedXML: 400 MalformedXML.
	ErrMalformedXML = errors.New("objectlock: malformed XML")
	// ErrInvalidArgument: 400 InvalidArgument.
	ErrInvalidArgument = errors.New("objectlock: invalid argument")
	// ErrLocked: 403 AccessDenied "Access Denied because object protected
	// by object lock."
	ErrLocked = errors.New("objectlock: object protected by object lock")
)

// Error is a failure with the message S3 sends.
type Error struct {
	Err     error
	Message string
}

func (e *Error) Error() string { return e.Err.Error() + ": " + e.Message }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

const (
	msgMalformedXML = "The XML you provided was not well-formed or did not validate against our published schema"
	msgLocked       = "Access Denied because object protected by object lock."
	msgPast         = "The retain until date must be in the future!"
	xmlns           = "http://s3.amazonaws.com/doc/2006-03-01/"
)

func malformed() error { return &Error{Err: ErrMalformedXML, Message: msgMalformedXML} }

func invalidArg(msg string) error { return &Error{Err: ErrInvalidArgument, Message: msg} }

func locked() error { return &Error{Err: ErrLocked, Message: msgLocked} }

// Mode is a retention mode.
type Mode string

// Retention modes.
const (
	Governance Mode = "GOVERNANCE"
	Compliance Mode = "COMPLIANCE"
)

// Valid reports whether m is GOVERNANCE or COMPLIANCE.
func (m Mode) Valid() bool { return m == Governance || m == Compliance }

// decode parses a bounded document into v (the caller checks the root) and
// refuses anything but whitespace, comments and processing instructions
// after it.
func decode(doc []byte, v any) error {
	if len(doc) > MaxSize {
		return malformed()
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	if err := d.Decode(v); err != nil {
		return malformed()
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return malformed()
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst:
			continue
		}
		return malformed()
	}
}

func marshal(v any) ([]byte, error) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("objectlock: marshal: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

// Config is a bucket's Object Lock configuration. Mode is empty when there
// is no default retention rule; otherwise exactly one of Days and Years is
// positive.
type Config struct {
	Mode  Mode
	Days  int
	Years int
}

type xmlConfig struct {
	XMLName           xml.Name `xml:"ObjectLockConfiguration"`
	XMLNS             string   `xml:"xmlns,attr,omitempty"`
	ObjectLockEnabled string   `xml:"ObjectLockEnabled"`
	Rule              *struct {
		DefaultRetention *struct {
			Mode  string `xml:"Mode"`
			Days  *int   `xml:"Days"`
			Years *int   `xml:"Years"`
		} `xml:"DefaultRetention"`
	} `xml:"Rule"`
}

// ParseConfig parses a PutObjectLockConfiguration body.
func ParseConfig(doc []byte) (*Config, error) {
	var x xmlConfig
	if err := decode(doc, &x); err != nil {
		return nil, err
	}
	if x.XMLName.Local != "ObjectLockConfiguration" || strings.TrimSpace(x.ObjectLockEnabled) != "Enabled" {
		return nil, malformed()
	}
	c := &Config{}
	if x.Rule == nil {
		return c, nil
	}
	dr := x.Rule.DefaultRetention
	if dr == nil {
		return nil, malformed()
	}
	c.Mode = Mode(strings.TrimSpace(dr.Mode))
	if !c.Mode.Valid() {
		return nil, malformed()
	}
	switch {
	case dr.Days != nil && dr.Years != nil, dr.Days == nil && dr.Years == nil:
		return nil, malformed()
	case dr.Days != nil:
		c.Days = *dr.Days
		if c.Days <= 0 {
			return nil, invalidArg("Default retention period must be a positive integer value.")
		}
		if c.Days > maxDays {
			return nil, invalidArg("Default retention period too large.")
		}
	default:
		c.Years = *dr.Years
		if c.Years <= 0 {
			return nil, invalidArg("Default retention period must be a positive integer value.")
		}
		if c.Years > maxYears {
			return nil, invalidArg("Default retention period too large.")
		}
	}
	return c, nil
}

// Marshal renders c as GetObjectLockConfiguration returns it.
func (c *Config) Marshal() ([]byte, error) {
	x := xmlConfig{XMLNS: xmlns, ObjectLockEnabled: "Enabled"}
	if c.Mode != "" {
		x.Rule = &struct {
			DefaultRetention *struct {
				Mode  string `xml:"Mode"`
				Days  *int   `xml:"Days"`
				Years *int   `xml:"Years"`
			} `xml:"DefaultRetention"`
		}{DefaultRetention: &struct {
			Mode  string `xml:"Mode"`
			Days  *int   `xml:"Days"`
			Years *int   `xml:"Years"`
		}{Mode: string(c.Mode)}}
		if c.Years > 0 {
			x.Rule.DefaultRetention.Years = &c.Years
		} else {
			x.Rule.DefaultRetention.Days = &c.Days
		}
	}
	return marshal(&x)
}

// DefaultUntil returns the retention a new object version created at now
// gets from the bucket's default rule; ok is false when there is none (or
// c is nil).
func (c *Config) DefaultUntil(now time.Time) (mode Mode, until time.Time, ok bool) {
	if c == nil || c.Mode == "" {
		return "", time.Time{}, false
	}
	if c.Years > 0 {
		return c.Mode, now.AddDate(c.Years, 0, 0), true
	}
	return c.Mode, now.AddDate(0, 0, c.Days), true
}

// Retention is a version's retention. The zero value means none.
type Retention struct {
	Mode  Mode
	Until time.Time
}

// IsZero reports whether r sets no retention.
func (r *Retention) IsZero() bool { return r == nil || r.Mode == "" }

// Active reports whether r protects its version at now.
func (r *Retention) Active(now time.Time) bool {
	return !r.IsZero() && now.Before(r.Until)
}

type xmlRetention struct {
	XMLName         xml.Name `xml:"Retention"`
	XMLNS           string   `xml:"xmlns,attr,omitempty"`
	Mode            string   `xml:"Mode,omitempty"`
	RetainUntilDate string   `xml:"RetainUntilDate,omitempty"`
}

// timeFormat is how S3 renders retain-until dates (RFC 3339, milliseconds).
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// ParseRetention parses a PutObjectRetention body. A document with neither
// Mode nor RetainUntilDate gives the zero Retention (a request to remove
// retention, which CheckChange governs); otherwise both are required and
// the date must be after now.
func ParseRetention(doc []byte, now time.Time) (*Retention, error) {
	var x xmlRetention
	if err := decode(doc, &x); err != nil {
		return nil, err
	}
	if x.XMLName.Local != "Retention" {
		return nil, malformed()
	}
	mode, date := strings.TrimSpace(x.Mode), strings.TrimSpace(x.RetainUntilDate)
	if mode == "" && date == "" {
		return &Retention{}, nil
	}
	r := &Retention{Mode: Mode(mode)}
	if !r.Mode.Valid() || date == "" {
		return nil, malformed()
	}
	t, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return nil, invalidArg("The retain until date must be provided in ISO 8601 format")
	}
	if !t.After(now) {
		return nil, invalidArg(msgPast)
	}
	r.Until = t.UTC()
	return r, nil
}

// Marshal renders r as GetObjectRetention returns it.
func (r *Retention) Marshal() ([]byte, error) {
	x := xmlRetention{XMLNS: xmlns}
	if !r.IsZero() {
		x.Mode, x.RetainUntilDate = string(r.Mode), r.Until.UTC().Format(timeFormat)
	}
	return marshal(&x)
}

type xmlLegalHold struct {
	XMLName xml.Name `xml:"LegalHold"`
	XMLNS   string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:"Status"`
}

// ParseLegalHold parses a PutObjectLegalHold body: Status ON or OFF.
func ParseLegalHold(doc []byte) (on bool, err error) {
	var x xmlLegalHold
	if err := decode(doc, &x); err != nil {
		return false, err
	}
	if x.XMLName.Local != "LegalHold" {
		return false, malformed()
	}
	switch strings.TrimSpace(x.Status) {
	case "ON":
		return true, nil
	case "OFF":
		return false, nil
	}
	return false, malformed()
}

// MarshalLegalHold renders a GetObjectLegalHold answer.
func MarshalLegalHold(on bool) ([]byte, error) {
	return marshal(&xmlLegalHold{XMLNS: xmlns, Status: holdStatus(on)})
}

func holdStatus(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}

// Check decides whether a version with retention r and legal hold
// legalHold may be deleted or overwritten at now. bypassGovernance is true
// only when the request carried x-amz-bypass-governance-retention: true AND
// the caller holds s3:BypassGovernanceRetention (the gateway checks the
// permission). A legal hold blocks always; COMPLIANCE blocks until its
// date; GOVERNANCE blocks until its date unless bypassed. The error wraps
// ErrLocked.
func Check(now time.Time, r *Retention, legalHold, bypassGovernance bool) error {
	if legalHold {
		return locked()
	}
	if !r.Active(now) {
		return nil
	}
	if r.Mode == Governance && bypassGovernance {
		return nil
	}
	return locked()
}

// CheckChange decides whether PutObjectRetention may replace retention old
// with next (the zero Retention removes it) at now. Under COMPLIANCE the
// mode stays and the date may only move later; under GOVERNANCE the same
// holds unless bypassGovernance (see Check). Expired retention may be
// replaced freely. The error wraps ErrLocked.
func CheckChange(now time.Time, old, next *Retention, bypassGovernance bool) error {
	if !old.Active(now) {
		return nil
	}
	if !next.IsZero() && next.Mode == old.Mode && !next.Until.Before(old.Until) {
		return nil
	}
	if old.Mode == Governance && bypassGovernance {
		return nil
	}
	return locked()
}

// Request and response headers.
const (
	HeaderMode             = "X-Amz-Object-Lock-Mode"
	HeaderRetainUntil      = "X-Amz-Object-Lock-Retain-Until-Date"
	HeaderLegalHold        = "X-Amz-Object-Lock-Legal-Hold"
	HeaderBypassGovernance = "X-Amz-Bypass-Governance-Retention"
)

// FromHeaders reads the Object Lock headers of a PutObject, CopyObject or
// CreateMultipartUpload at now. ret is nil when no retention was asked for;
// hold is nil when no legal hold header was sent. Errors wrap
// ErrInvalidArgument with AWS's messages. (A bucket without Object Lock
// must refuse any of these headers: InvalidRequest "Bucket is missing
// Object Lock Configuration"; that is the caller's check.)
func FromHeaders(h http.Header, now time.Time) (ret *Retention, hold *bool, err error) {
	mode, date := h.Get(HeaderMode), h.Get(HeaderRetainUntil)
	switch {
	case mode == "" && date == "":
	case mode == "" || date == "":
		return nil, nil, invalidArg("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
	default:
		m := Mode(mode)
		if !m.Valid() {
			return nil, nil, invalidArg("Unknown wormMode directive.")
		}
		t, perr := time.Parse(time.RFC3339, date)
		if perr != nil {
			return nil, nil, invalidArg("The retain until date must be provided in ISO 8601 format")
		}
		if !t.After(now) {
			return nil, nil, invalidArg(msgPast)
		}
		ret = &Retention{Mode: m, Until: t.UTC()}
	}
	if v := h.Get(HeaderLegalHold); v != "" {
		var on bool
		switch v {
		case "ON":
			on = true
		case "OFF":
		default:
			return nil, nil, invalidArg("Legal Hold must be either of 'ON' or 'OFF'")
		}
		hold = &on
	}
	return ret, hold, nil
}

// SetHeaders writes a version's lock state into GET/HEAD response headers:
// mode and date when r is set, legal hold when hold is non-nil.
func SetHeaders(h http.Header, r *Retention, hold *bool) {
	if !r.IsZero() {
		h.Set(HeaderMode, string(r.Mode))
		h.Set(HeaderRetainUntil, r.Until.UTC().Format(timeFormat))
	}
	if hold != nil {
		h.Set(HeaderLegalHold, holdStatus(*hold))
	}
}

// BypassGovernance reports whether the request asked to bypass GOVERNANCE
// retention (x-amz-bypass-governance-retention: true). The caller must also
// check the s3:BypassGovernanceRetention permission before honouring it.
func BypassGovernance(h http.Header) bool {
	return strings.EqualFold(strings.TrimSpace(h.Get(HeaderBypassGovernance)), "true")
}
