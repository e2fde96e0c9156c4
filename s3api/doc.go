// Package s3api is Tessera's S3 REST surface: the only package that knows S3
// wire formats. New(backend, Options) returns an http.Handler that serves
// path-style and virtual-host-style requests over a Backend (the object
// layer; see backend.go for the contract).
//
// A request flows through ServeHTTP as follows:
//
//  1. A request ID is assigned and sent as x-amz-request-id on every
//     response; a recover guard turns a panic into 500 InternalError.
//  2. splitTarget finds bucket and key (Host "<bucket>.<domain>" for a
//     configured domain, else the first path segment); route picks the
//     operation from method, sub-resource query and headers. Unsupported
//     S3 features answer 501 NotImplemented; GETs of unconfigured bucket
//     sub-resources (policy, lifecycle, cors, ...) answer AWS's 404 code.
//  3. auth.Verifier checks the SigV4 header or presigned query and returns
//     the decoded body (aws-chunked, trailers). Anonymous requests are
//     denied. The caller's user comes from Backend.Secret.
//  4. Bucket operations check ownership: the bucket's owner or a root user.
//  5. Handlers stream: an upload body is wrapped in a digestReader that
//     computes the ETag (MD5; on its own goroutine for bodies of 1 MiB or
//     more) and the declared x-amz-checksum-*, and fails at EOF on a
//     length, Content-MD5 or checksum mismatch, so the backend commits
//     nothing. PutInput.Seal / PartInput.Seal then fill ETag and Checksums.
//  6. Errors are mapped once, by the s3Codes table in errors.go, to AWS's
//     code, status and message, written as the XML <Error> document (no
//     body for HEAD and 304).
//
// Metrics (requests by op and status, bytes in and out, latency) go to the
// Prometheus registry in Options, when one is given.
package s3api
