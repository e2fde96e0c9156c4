package auth

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// maxAuthHeader bounds the Authorization header we parse.
const maxAuthHeader = 8 << 10

// parseAuthorization parses
//
//	AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// Components are separated by commas with optional spaces, in any order,
// each exactly once.
func parseAuthorization(h string) (*authParams, error) {
	bad := ErrAuthorizationHeaderMalformed
	if len(h) > maxAuthHeader {
		return nil, fmt.Errorf("%w: header longer than %d bytes", bad, maxAuthHeader)
	}
	rest, ok := strings.CutPrefix(h, algorithm)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		if strings.HasPrefix(h, "AWS ") {
			return nil, fmt.Errorf("%w: signature version 2; please use %s", ErrUnsupportedAlgorithm, algorithm)
		}
		alg, _, _ := strings.Cut(h, " ")
		if len(alg) > 64 {
			alg = alg[:64]
		}
		return nil, fmt.Errorf("%w: authorization type %q; please use %s", ErrUnsupportedAlgorithm, alg, algorithm)
	}
	var p authParams
	var haveCred, haveSH, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%w: component %q is not key=value", bad, trunc(part))
		}
		var err error
		switch k {
		case "Credential":
			if haveCred {
				return nil, fmt.Errorf("%w: Credential given twice", bad)
			}
			haveCred = true
			err = parseCredential(&p, v, bad)
		case "SignedHeaders":
			if haveSH {
				return nil, fmt.Errorf("%w: SignedHeaders given twice", bad)
			}
			haveSH = true
			err = parseSignedHeaders(&p, v, bad)
		case "Signature":
			if haveSig {
				return nil, fmt.Errorf("%w: Signature given twice", bad)
			}
			haveSig = true
			err = parseSig(&p, v, bad)
		default:
			return nil, fmt.Errorf("%w: unknown component %q", bad, trunc(k))
		}
		if err != nil {
			return nil, err
		}
	}
	if !haveCred || !haveSH || !haveSig {
		return nil, fmt.Errorf("%w: Credential, SignedHeaders and Signature are required", bad)
	}
	return &p, nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// parseCredential parses "<access key>/<date>/<region>/<service>/aws4_request".
// The access key is everything before the last four components.
func parseCredential(p *authParams, v string, bad error) error {
	parts := strings.Split(v, "/")
	if len(parts) < 5 {
		return fmt.Errorf("%w: credential %q must be <key>/<date>/<region>/<service>/aws4_request", bad, trunc(v))
	}
	n := len(parts)
	p.accessKey = strings.Join(parts[:n-4], "/")
	p.date, p.region, p.service, p.term = parts[n-4], parts[n-3], parts[n-2], parts[n-1]
	if p.accessKey == "" {
		return fmt.Errorf("%w: empty access key in credential", bad)
	}
	if len(p.date) != 8 || !isDigits(p.date) {
		return fmt.Errorf("%w: credential date %q is not yyyymmdd", bad, trunc(p.date))
	}
	if p.region == "" {
		return fmt.Errorf("%w: empty region in credential", bad)
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseSignedHeaders parses a ';'-separated list of lower-case header names
// that must include host. The list is used verbatim in the canonical request.
func parseSignedHeaders(p *authParams, v string, bad error) error {
	if v == "" {
		return fmt.Errorf("%w: empty SignedHeaders", bad)
	}
	p.signedList = v
	p.signedHeaders = strings.Split(v, ";")
	host := false
	for _, h := range p.signedHeaders {
		if h == "" {
			return fmt.Errorf("%w: empty name in SignedHeaders", bad)
		}
		for i := 0; i < len(h); i++ {
			c := h[i]
			if c <= ' ' || c >= 0x7f || c == ':' || ('A' <= c && c <= 'Z') {
				return fmt.Errorf("%w: SignedHeaders name %q must be lower-case token", bad, trunc(h))
			}
		}
		if h == "host" {
			host = true
		}
	}
	if !host {
		return fmt.Errorf("%w: SignedHeaders must include host", bad)
	}
	return nil
}

func parseSig(p *authParams, v string, bad error) error {
	if len(v) != 64 || !isLowerHex(v) {
		return fmt.Errorf("%w: signature must be 64 lower-case hex digits", bad)
	}
	if _, err := hex.Decode(p.sig[:], []byte(v)); err != nil {
		return fmt.Errorf("%w: signature: %v", bad, err)
	}
	return nil
}
