// Package auth authenticates S3 requests: AWS Signature Version 4 in the
// Authorization header or in a presigned query string, and the request
// payload rules that come with it.
//
// Verify checks the signature of a request's head (method, path, query,
// signed headers, payload hash) and returns a Request whose Body enforces the
// payload rules while the body streams through, without buffering it:
//
//   - a hex x-amz-content-sha256: the body's SHA-256 is checked at EOF
//     (ErrContentSHA256Mismatch);
//   - UNSIGNED-PAYLOAD: the body passes through;
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: aws-chunked framing, each
//     chunk's signature chained from the seed signature of the Authorization
//     header, and the trailer signature when trailers are sent;
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked framing without
//     signatures, followed by a trailing x-amz-checksum-* header.
//
// A Body returns io.EOF only when every rule held; any violation is returned
// as a non-EOF error, so a consumer that commits only after io.EOF never
// commits a tampered or truncated body.
//
// Errors are sentinels of this package (ErrSignatureDoesNotMatch, ...), wrapped
// with detail; s3api maps them to S3 error codes. An error from Credentials
// that does not wrap ErrInvalidAccessKeyID is returned wrapped as it is (an
// internal failure, not the client's fault).
package auth
