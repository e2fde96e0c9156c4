package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"

	"github.com/tessera-store/tessera/erasure"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/auth"
	"github.com/tessera-store/tessera/s3api/checksum"
	"github.com/tessera-store/tessera/s3api/cors"
	"github.com/tessera-store/tessera/s3api/objectlock"
	"github.com/tessera-store/tessera/s3api/policy"
	"github.com/tessera-store/tessera/s3api/postpolicy"
	"github.com/tessera-store/tessera/store"
)

// Errors raised by the S3 surface itself. Each maps to one AWS error code in
// s3Codes; handlers wrap them with detail using %w.
var (
	// ErrBadBody marks a request body that could not be read to its end
	// (client gone, truncated). Backends pass it through; it maps to
	// IncompleteBody unless a more specific cause is in the chain.
	ErrBadBody = errors.New("s3api: bad request body")

	ErrAccessDenied         = errors.New("s3api: access denied")
	ErrBadDigest            = errors.New("s3api: content-md5 mismatch")
	ErrChecksumMismatch     = errors.New("s3api: checksum mismatch")
	ErrEntityTooLarge       = errors.New("s3api: entity too large")
	ErrIncompleteBody       = errors.New("s3api: incomplete body")
	ErrInvalidArgument      = errors.New("s3api: invalid argument")
	ErrInvalidBucketName    = errors.New("s3api: invalid bucket name")
	ErrInvalidDigest        = errors.New("s3api: invalid content-md5")
	ErrInvalidPartNumber    = errors.New("s3api: invalid part number")
	ErrInvalidRange         = errors.New("s3api: invalid range")
	ErrInvalidRequest       = errors.New("s3api: invalid request")
	ErrInvalidStorageClass  = errors.New("s3api: invalid storage class")
	ErrInvalidTag           = errors.New("s3api: invalid tag")
	ErrKeyTooLong           = errors.New("s3api: key too long")
	ErrLocationConstraint   = errors.New("s3api: illegal location constraint")
	ErrMalformedXML         = errors.New("s3api: malformed XML")
	ErrMetadataTooLarge     = errors.New("s3api: metadata too large")
	ErrMethodNotAllowed     = errors.New("s3api: method not allowed")
	ErrMissingContentLength = errors.New("s3api: missing content length")
	ErrMissingContentMD5    = errors.New("s3api: missing content-md5")
	ErrNoSuchVersion        = errors.New("s3api: no such version")
	ErrNotImplemented       = errors.New("s3api: not implemented")
	ErrPrecondition         = errors.New("s3api: precondition failed")
	ErrCopySource           = errors.New("s3api: invalid copy source")
	// errNotModified is not an error to the client: it answers 304.
	errNotModified = errors.New("s3api: not modified")
)

// notFoundConfigError answers GETs of bucket sub-resources that exist in S3
// but are never configured here (policy, lifecycle, cors, ...).
type notFoundConfigError struct{ code, msg string }

func (e *notFoundConfigError) Error() string { return "s3api: " + e.code }

// messageError overrides the table's message for one response.
type messageError struct {
	err error
	msg string
}

func (e *messageError) Error() string { return e.err.Error() + ": " + e.msg }
func (e *messageError) Unwrap() error { return e.err }

func withMessage(err error, msg string) error { return &messageError{err: err, msg: msg} }

// s3Code is one row of the error table.
type s3Code struct {
	err    error
	code   string
	status int
	msg    string
}

// s3Codes maps every sentinel the S3 surface can see to AWS's code, status
// and message. The first match wins, so specific rows come before classes.
var s3Codes = []s3Code{
	{errNotModified, "NotModified", http.StatusNotModified, "Not Modified"},
	// s3api
	{ErrAccessDenied, "AccessDenied", http.StatusForbidden, "Access Denied"},
	{ErrBadDigest, "BadDigest", http.StatusBadRequest, "The Content-MD5 you specified did not match what we received."},
	{ErrChecksumMismatch, "BadDigest", http.StatusBadRequest, "The checksum you specified did not match the calculated checksum."},
	{ErrEntityTooLarge, "EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size."},
	{ErrIncompleteBody, "IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."},
	{ErrInvalidArgument, "InvalidArgument", http.StatusBadRequest, "Invalid Argument"},
	{ErrInvalidBucketName, "InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid."},
	{ErrInvalidDigest, "InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid."},
	{ErrInvalidPartNumber, "InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable"},
	{ErrInvalidRange, "InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable"},
	{ErrInvalidRequest, "InvalidRequest", http.StatusBadRequest, "Invalid Request"},
	{ErrInvalidStorageClass, "InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid"},
	{ErrInvalidTag, "InvalidTag", http.StatusBadRequest, "The TagSet is not valid."},
	{ErrKeyTooLong, "KeyTooLongError", http.StatusBadRequest, "Your key is too long"},
	{ErrLocationConstraint, "IllegalLocationConstraintException", http.StatusBadRequest, "The specified location-constraint is not valid for this endpoint."},
	{ErrMalformedXML, "MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."},
	{ErrMetadataTooLarge, "MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size."},
	{ErrMethodNotAllowed, "MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."},
	{ErrMissingContentLength, "MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header."},
	{ErrMissingContentMD5, "InvalidRequest", http.StatusBadRequest, "Missing required header for this request: Content-MD5 or x-amz-checksum-*."},
	{ErrNoSuchVersion, "NoSuchVersion", http.StatusNotFound, "The specified version does not exist."},
	{ErrNotImplemented, "NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented."},
	{ErrPrecondition, "PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold"},
	{ErrCopySource, "InvalidArgument", http.StatusBadRequest, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"},
	// bucket configuration (bucketconfig.go)
	{ErrNoSuchBucketPolicy, "NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist"},
	{ErrNoSuchCORSConfiguration, "NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist"},
	{ErrNoSuchTagSet, "NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist"},
	{ErrObjectLockConfigNotFound, "ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket"},
	{ErrInvalidBucketState, "InvalidBucketState", http.StatusConflict, "The request is not valid with the current state of the bucket."},
	{policy.ErrMalformedPolicy, "MalformedPolicy", http.StatusBadRequest, "Policies must be valid JSON and the first byte must be '{'"},
	{policy.ErrPolicyTooLarge, "PolicyTooLarge", http.StatusBadRequest, "Policy exceeds the maximum allowed document size."},
	{cors.ErrForbidden, "AccessForbidden", http.StatusForbidden, cors.MsgNotAllowed},
	{cors.ErrBadRequest, "BadRequest", http.StatusBadRequest, "Insufficient information. Origin request header needed."},
	{cors.ErrMalformedXML, "MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."},
	{cors.ErrInvalidRequest, "InvalidRequest", http.StatusBadRequest, "Invalid Request"},
	{objectlock.ErrMalformedXML, "MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."},
	{objectlock.ErrInvalidArgument, "InvalidArgument", http.StatusBadRequest, "Invalid Argument"},
	// POST policy uploads
	{postpolicy.ErrMalformedPOSTRequest, "MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data."},
	{postpolicy.ErrMaxPreDataLengthExceeded, "MaxPostPreDataLengthExceededError", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large."},
	{postpolicy.ErrInvalidPolicyDocument, "InvalidPolicyDocument", http.StatusBadRequest, "The content of the form does not meet the conditions specified in the policy document."},
	{postpolicy.ErrEntityTooLarge, "EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size"},
	{postpolicy.ErrEntityTooSmall, "EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed size"},
	// auth
	{auth.ErrAccessDenied, "AccessDenied", http.StatusForbidden, "Access Denied"},
	{auth.ErrSignatureDoesNotMatch, "SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
	{auth.ErrInvalidAccessKeyID, "InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records."},
	{meta.ErrNoSuchUser, "InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records."},
	{auth.ErrRequestTimeTooSkewed, "RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large."},
	{auth.ErrExpiredRequest, "AccessDenied", http.StatusForbidden, "Request has expired"},
	{auth.ErrAuthorizationHeaderMalformed, "AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed."},
	{auth.ErrAuthorizationQueryParametersError, "AuthorizationQueryParametersError", http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter."},
	{auth.ErrMissingSecurityHeader, "MissingSecurityHeader", http.StatusBadRequest, "Your request was missing a required header."},
	{auth.ErrContentSHA256Mismatch, "XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed."},
	{auth.ErrInvalidDigest, "InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid."},
	{auth.ErrIncompleteBody, "IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."},
	{auth.ErrMalformedChunk, "IncompleteBody", http.StatusBadRequest, "The request body is not a valid aws-chunked encoding."},
	{auth.ErrUnsupportedAlgorithm, "InvalidRequest", http.StatusBadRequest, "Please use AWS4-HMAC-SHA256."},
	{auth.ErrInvalidArgument, "InvalidArgument", http.StatusBadRequest, "Invalid Argument"},
	// checksum
	{checksum.ErrBadDigest, "BadDigest", http.StatusBadRequest, "The checksum you specified did not match the calculated checksum."},
	{checksum.ErrInvalidChecksum, "InvalidRequest", http.StatusBadRequest, "The value specified in the x-amz-checksum header is invalid."},
	// meta
	{meta.ErrNoSuchBucket, "NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist"},
	{meta.ErrBucketExists, "BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."},
	{meta.ErrBucketOwnedByYou, "BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it."},
	{meta.ErrBucketNotEmpty, "BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty"},
	{meta.ErrInvalidBucketName, "InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid."},
	{meta.ErrInvalidKey, "InvalidArgument", http.StatusBadRequest, "The specified object key is not valid."},
	{meta.ErrNoSuchKey, "NoSuchKey", http.StatusNotFound, "The specified key does not exist."},
	{meta.ErrNoSuchVersion, "NoSuchVersion", http.StatusNotFound, "The specified version does not exist."},
	{ErrNoSuchObjectLockConfiguration, "NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have a ObjectLock configuration"},
	{objectlock.ErrLocked, "AccessDenied", http.StatusForbidden, "Access Denied because object protected by object lock."},
	{meta.ErrNoSuchUpload, "NoSuchUpload", http.StatusNotFound, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
	{meta.ErrInvalidPart, "InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
	{meta.ErrInvalidPartOrder, "InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. Parts must be ordered by part number."},
	{meta.ErrEntityTooSmall, "EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."},
	{meta.ErrPrecondition, "PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold"},
	{meta.ErrInvalidArgument, "InvalidArgument", http.StatusBadRequest, "Invalid Argument"},
	{meta.ErrMissingChunks, "ServiceUnavailable", http.StatusServiceUnavailable, "Please retry the request."},
	{meta.ErrNotLeader, "ServiceUnavailable", http.StatusServiceUnavailable, "Please retry the request."},
	{meta.ErrUnavailable, "ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate."},
	// storage: too few shards readable is transient (nodes down): clients retry
	{erasure.ErrTooFewShards, "ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate."},
	{store.ErrUnavailable, "ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate."},
	{store.ErrNoSpace, "ServiceUnavailable", http.StatusServiceUnavailable, "The storage is full."},
	{store.ErrDriveFailed, "ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate."},
	// body and transport classes, after every specific cause
	{ErrBadBody, "IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."},
	{io.ErrUnexpectedEOF, "IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."},
	{context.DeadlineExceeded, "RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period."},
	{context.Canceled, "RequestCancelled", 499, "The request was cancelled by the client."},
}

// errInternal is the answer to everything the table does not know.
var errInternal = s3Code{nil, "InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."}

// lookupError finds err's row in the table.
func lookupError(err error) s3Code {
	var nf *notFoundConfigError
	if errors.As(err, &nf) {
		return s3Code{err, nf.code, http.StatusNotFound, nf.msg}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return s3Code{err, "MalformedXML", http.StatusBadRequest, "The XML you provided was too large."}
	}
	for _, c := range s3Codes {
		if errors.Is(err, c.err) {
			var me *messageError
			if errors.As(err, &me) {
				c.msg = me.msg
			} else if msg, ok := postPolicyMessage(err); ok {
				c.msg = msg
			}
			return c
		}
	}
	return errInternal
}

// errorResponse is AWS's XML error body.
type errorResponse struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	BucketName string   `xml:"BucketName,omitempty"`
	Key        string   `xml:"Key,omitempty"`
	Resource   string   `xml:"Resource"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
}
