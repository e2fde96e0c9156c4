package s3api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sort"

	"github.com/tessera-store/tessera/meta"
)

// validBucketName applies S3's naming rules for new buckets: 3 to 63
// characters of lower-case letters, digits, '-' and '.', starting and ending
// with a letter or digit, no "..", not an IP address, none of the reserved
// prefixes and suffixes.
func validBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' || c == '.':
			if i == 0 || i == len(name)-1 {
				return false
			}
			if c == '.' && (name[i-1] == '.' || name[i-1] == '-' || name[i+1] == '-') {
				return false
			}
		default:
			return false
		}
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if len(name) >= len(p) && name[:len(p)] == p {
			return false
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", "--x-s3", "--table-s3"} {
		if len(name) >= len(sfx) && name[len(name)-len(sfx):] == sfx {
			return false
		}
	}
	return true
}

func (s *Server) listBuckets(ctx context.Context, rq *request) error {
	all, err := s.b.ListBuckets(ctx)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{NS: s3NS, Owner: rq.owner(), Buckets: []bucketInfo{}}
	for _, b := range all {
		if b.Owner != rq.user.Name {
			continue
		}
		res.Buckets = append(res.Buckets, bucketInfo{Name: b.Name, CreationDate: xmlTime(b.Created), BucketRegion: b.Region})
	}
	sort.Slice(res.Buckets, func(i, j int) bool { return res.Buckets[i].Name < res.Buckets[j].Name })
	return s.writeXML(rq, http.StatusOK, res)
}

func (s *Server) createBucket(ctx context.Context, rq *request) error {
	if !validBucketName(rq.bucket) {
		return fmt.Errorf("%w: %q", ErrInvalidBucketName, rq.bucket)
	}
	data, err := io.ReadAll(io.LimitReader(rq.auth.Body, maxSmallXML+1))
	if err != nil {
		return err
	}
	if len(data) > maxSmallXML {
		return fmt.Errorf("%w: CreateBucketConfiguration too large", ErrMalformedXML)
	}
	cfg, err := parseCreateBucketConfiguration(data)
	if err != nil {
		return err
	}
	// Any well-formed region is accepted and recorded (GetBucketLocation
	// reports it; clients then sign for it, which auth accepts): one Tessera
	// cluster answers for whatever region its clients are configured with.
	// "US" and "EU" are the legacy names s3cmd still sends.
	region := s.opt.Region
	switch lc := cfg.LocationConstraint; {
	case lc == "" || lc == "US":
	case lc == "EU":
		region = "eu-west-1"
	case validRegion(lc):
		region = lc
	default:
		return fmt.Errorf("%w: %q", ErrLocationConstraint, lc)
	}
	lock, err := objectLockRequested(rq.r)
	if err != nil {
		return err
	}
	if err := s.b.CreateBucket(ctx, rq.user.Name, rq.bucket, region); err != nil {
		return err
	}
	if lock {
		if err := s.enableObjectLock(ctx, rq.bucket); err != nil {
			// Undo: a bucket asked for with Object Lock must not exist
			// without it. The bucket is new and empty.
			if derr := s.b.DeleteBucket(context.WithoutCancel(ctx), rq.bucket); derr != nil {
				s.log.Error("s3api: undo CreateBucket", "bucket", rq.bucket, "req_id", rq.id, "err", derr)
			}
			return err
		}
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteBucket(ctx context.Context, rq *request, b meta.Bucket) error {
	if err := s.b.DeleteBucket(ctx, b.Name); err != nil {
		return err
	}
	s.configs.forget(b.Name, configPolicy)
	s.configs.forget(b.Name, configCORS)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) headBucket(ctx context.Context, rq *request, b meta.Bucket) error {
	rq.w.Header().Set("x-amz-bucket-region", regionOf(b, s.opt.Region))
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func regionOf(b meta.Bucket, def string) string {
	if b.Region != "" {
		return b.Region
	}
	return def
}

func (s *Server) getBucketLocation(ctx context.Context, rq *request, b meta.Bucket) error {
	region := regionOf(b, s.opt.Region)
	if region == "us-east-1" {
		region = "" // AWS reports us-east-1 as an empty constraint
	}
	return s.writeXML(rq, http.StatusOK, locationConstraint{NS: s3NS, Region: region})
}

func (s *Server) getBucketVersioning(ctx context.Context, rq *request, b meta.Bucket) error {
	return s.writeXML(rq, http.StatusOK, versioningConfiguration{NS: s3NS})
}

func (s *Server) getBucketACL(ctx context.Context, rq *request, b meta.Bucket) error {
	return s.writeXML(rq, http.StatusOK, fullControl(ownerOf(b)))
}

func (s *Server) getObjectACL(ctx context.Context, rq *request, b meta.Bucket) error {
	if _, err := s.b.HeadObject(ctx, b.Name, rq.key); err != nil {
		return err
	}
	return s.writeXML(rq, http.StatusOK, fullControl(ownerOf(b)))
}

// validRegion accepts region names like "us-east-1" or "eu-central-2":
// lower-case letters, digits and dashes, at most 32 characters.
func validRegion(r string) bool {
	if r == "" || len(r) > 32 || r[0] == '-' || r[len(r)-1] == '-' {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
