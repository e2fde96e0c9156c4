package remote

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/metapb"
)

// notLeaderError is ErrNotLeader with the leader's API address, when the
// answering member knows it. The client follows Leader.
type notLeaderError struct {
	err    error
	Leader string
}

func (e *notLeaderError) Error() string { return e.err.Error() }
func (e *notLeaderError) Unwrap() error { return e.err }

// grpcCode picks the gRPC status code shown to generic gRPC tooling; the
// meta code in the details is what the client decodes.
func grpcCode(err error) codes.Code {
	switch {
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, meta.ErrNotLeader), errors.Is(err, meta.ErrUnavailable):
		return codes.Unavailable
	case errors.Is(err, meta.ErrInvalidArgument), errors.Is(err, meta.ErrInvalidBucketName),
		errors.Is(err, meta.ErrInvalidKey), errors.Is(err, meta.ErrInvalidPart),
		errors.Is(err, meta.ErrInvalidPartOrder), errors.Is(err, meta.ErrEntityTooSmall):
		return codes.InvalidArgument
	case errors.Is(err, meta.ErrNoSuchBucket), errors.Is(err, meta.ErrNoSuchKey),
		errors.Is(err, meta.ErrNoSuchUpload), errors.Is(err, meta.ErrNoSuchUser),
		errors.Is(err, meta.ErrNoSuchPool), errors.Is(err, meta.ErrNoSuchNode):
		return codes.NotFound
	case errors.Is(err, meta.ErrBucketExists), errors.Is(err, meta.ErrBucketOwnedByYou),
		errors.Is(err, meta.ErrUserExists):
		return codes.AlreadyExists
	case errors.Is(err, meta.ErrPrecondition), errors.Is(err, meta.ErrMissingChunks),
		errors.Is(err, meta.ErrBucketNotEmpty):
		return codes.FailedPrecondition
	}
	return codes.Unknown
}

// toStatus encodes err for the wire; leader is the leader's API address
// (sent with ErrNotLeader).
func toStatus(err error, leader string) error {
	if err == nil {
		return nil
	}
	detail := &metapb.Error{Code: meta.Code(err), Message: err.Error()}
	var mce *meta.MissingChunksError
	if errors.As(err, &mce) {
		detail.MissingAddrs = addrsToWire(mce.Addrs)
	}
	if errors.Is(err, meta.ErrNotLeader) {
		detail.LeaderApi = leader
	}
	st, derr := status.New(grpcCode(err), err.Error()).WithDetails(detail)
	if derr != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return st.Err()
}

// fromStatus decodes an RPC error back into meta's sentinels. Errors
// without details come from gRPC itself: transport failures become
// meta.ErrUnavailable (retryable), oversize and undecodable requests
// meta.ErrInvalidArgument.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		e, ok := d.(*metapb.Error)
		if !ok {
			continue
		}
		if e.GetCode() == meta.Code(meta.ErrMissingChunks) {
			addrs, aerr := addrsFromWire(e.GetMissingAddrs())
			if aerr == nil && len(addrs) > 0 {
				return &meta.MissingChunksError{Addrs: addrs}
			}
		}
		out := meta.FromCode(e.GetCode(), e.GetMessage())
		if errors.Is(out, meta.ErrNotLeader) {
			return &notLeaderError{err: out, Leader: e.GetLeaderApi()}
		}
		return out
	}
	switch st.Code() {
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	case codes.Unavailable:
		return &wireError{sentinel: meta.ErrUnavailable, msg: st.Message()}
	case codes.ResourceExhausted, codes.InvalidArgument, codes.Internal:
		return &wireError{sentinel: meta.ErrInvalidArgument, msg: st.Message()}
	}
	return &wireError{sentinel: errors.New("meta/remote: rpc failed"), msg: st.Code().String() + ": " + st.Message()}
}

// wireError is a gRPC-level failure matched to a meta sentinel.
type wireError struct {
	sentinel error
	msg      string
}

func (e *wireError) Error() string { return e.sentinel.Error() + ": " + e.msg }
func (e *wireError) Unwrap() error { return e.sentinel }
