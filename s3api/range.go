package s3api

import (
	"errors"
	"strconv"
	"strings"
)

// errRangeSyntax reports a Range header S3 ignores (malformed, several
// ranges, other units): the whole object is served with 200.
var errRangeSyntax = errors.New("s3api: unsupported range syntax")

// parseRange parses a single-range "bytes=" header against an object of size
// bytes and returns the byte span to serve. Forms: "bytes=a-b" (b clamped to
// the end), "bytes=a-" and the suffix "bytes=-n" (the last n bytes, all of a
// shorter object). A syntactically valid range that selects nothing returns
// ErrInvalidRange (416); anything else S3 does not understand returns
// errRangeSyntax, which callers ignore.
func parseRange(hdr string, size int64) (off, n int64, err error) {
	spec, ok := strings.CutPrefix(hdr, "bytes=")
	if !ok {
		return 0, 0, errRangeSyntax
	}
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, ",") {
		return 0, 0, errRangeSyntax
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, errRangeSyntax
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// Suffix range: the last n bytes.
		sfx, ok := parseDecimal(last)
		if !ok {
			return 0, 0, errRangeSyntax
		}
		if sfx == 0 || size == 0 {
			return 0, 0, ErrInvalidRange
		}
		sfx = min(sfx, size)
		return size - sfx, sfx, nil
	}
	start, ok := parseDecimal(first)
	if !ok {
		return 0, 0, errRangeSyntax
	}
	end := size - 1
	if last != "" {
		e, ok := parseDecimal(last)
		if !ok || e < start {
			return 0, 0, errRangeSyntax
		}
		end = min(e, size-1)
	}
	if start >= size {
		return 0, 0, ErrInvalidRange
	}
	return start, end - start + 1, nil
}

// parseDecimal parses a non-negative decimal that fits in int64, digits only.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}
