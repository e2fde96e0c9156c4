package auth

import "errors"

// Sentinel errors. Verify and Request.Body wrap them with detail; match them
// with errors.Is. The comments give the S3 error each maps to.
var (
	// ErrAccessDenied: 403 AccessDenied (also a presigned URL dated in the future).
	ErrAccessDenied = errors.New("auth: access denied")
	// ErrSignatureDoesNotMatch: 403 SignatureDoesNotMatch (request, chunk or trailer signature).
	ErrSignatureDoesNotMatch = errors.New("auth: signature does not match")
	// ErrInvalidAccessKeyID: 403 InvalidAccessKeyId.
	ErrInvalidAccessKeyID = errors.New("auth: invalid access key id")
	// ErrRequestTimeTooSkewed: 403 RequestTimeTooSkewed.
	ErrRequestTimeTooSkewed = errors.New("auth: request time too skewed")
	// ErrExpiredRequest: a presigned URL has expired; AWS answers 403
	// AccessDenied "Request has expired".
	ErrExpiredRequest = errors.New("auth: request has expired")
	// ErrAuthorizationHeaderMalformed: 400 AuthorizationHeaderMalformed
	// (syntax, wrong region, service, terminator or credential date).
	ErrAuthorizationHeaderMalformed = errors.New("auth: authorization header malformed")
	// ErrAuthorizationQueryParametersError: 400 AuthorizationQueryParametersError.
	ErrAuthorizationQueryParametersError = errors.New("auth: authorization query parameters error")
	// ErrMissingSecurityHeader: 400 MissingSecurityHeader (no x-amz-date or
	// Date, no x-amz-decoded-content-length on a streaming upload).
	ErrMissingSecurityHeader = errors.New("auth: missing security header")
	// ErrContentSHA256Mismatch: 400 XAmzContentSHA256Mismatch.
	ErrContentSHA256Mismatch = errors.New("auth: x-amz-content-sha256 does not match the body")
	// ErrInvalidDigest: 400 InvalidDigest (malformed Content-MD5).
	ErrInvalidDigest = errors.New("auth: invalid digest")
	// ErrIncompleteBody: 400 IncompleteBody (body shorter than declared).
	ErrIncompleteBody = errors.New("auth: incomplete body")
	// ErrMalformedChunk: 400 InvalidRequest (bad aws-chunked framing or trailer).
	ErrMalformedChunk = errors.New("auth: malformed aws-chunked body")
	// ErrUnsupportedAlgorithm: 400 InvalidRequest "Please use AWS4-HMAC-SHA256"
	// (SigV2 or another scheme).
	ErrUnsupportedAlgorithm = errors.New("auth: unsupported authorization algorithm")
	// ErrInvalidArgument: 400 InvalidArgument (bad x-amz-content-sha256 value,
	// both header and query authentication, bad query encoding).
	ErrInvalidArgument = errors.New("auth: invalid argument")
)
