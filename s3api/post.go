package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/auth"
	"github.com/tessera-store/tessera/s3api/postpolicy"
)

// isPostObject reports a browser form upload: POST to a bucket with a
// multipart/form-data body. It is authenticated by the signed policy in the
// form, not by the request's headers.
func isPostObject(r *http.Request, key string) bool {
	if r.Method != http.MethodPost || key != "" || r.URL.RawQuery != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// postObject serves a POST policy upload: the form's fields before the file
// are parsed, the policy signature and conditions verified, and the file
// part streams into the same write path as PutObject.
func (s *Server) postObject(ctx context.Context, rq *request) error {
	f, err := postpolicy.Parse(ctx, rq.r, 0)
	if err != nil {
		return err
	}
	f.Bucket = rq.bucket
	if f.Anonymous() {
		return fmt.Errorf("%w: anonymous POST upload", ErrAccessDenied)
	}
	slot := &userSlot{}
	ak, err := f.Verify(context.WithValue(ctx, userSlotKey{}, slot), s.credentials, s.opt.Now())
	if err != nil {
		return err
	}
	if slot.user != nil {
		rq.user = *slot.user
	} else if rq.user, _, err = s.b.Secret(ctx, ak); err != nil {
		return err
	}
	b, err := s.authorizeBucket(ctx, rq, rq.bucket)
	if err != nil {
		return err
	}
	rq.key = f.Key
	if err := checkKey(rq.key); err != nil {
		return err
	}
	// The form's fields play the part of a PUT's headers.
	hdr := f.Header()
	r2 := rq.r.Clone(ctx)
	r2.Header = hdr
	rq.r = r2
	rq.auth = &auth.Request{AccessKey: ak, Body: f.File, Size: -1,
		TrailerChecksum: func() (string, string, bool) { return "", "", false }}
	obj, err := objectFromHeaders(hdr, b.Name, rq.key)
	if err != nil {
		return err
	}
	d, err := s.newDigestReader(rq, -1)
	if err != nil {
		return err
	}
	defer d.close()
	o, err := s.b.PutObject(ctx, &PutInput{
		Object: obj,
		Body:   d,
		Size:   -1,
		Seal: func(o *meta.Object) error {
			o.ETag, o.Checksums = d.etag, d.sums
			if len(d.sums) > 0 {
				o.ChecksumType = "FULL_OBJECT"
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", quoteETag(o.ETag))
	setChecksumHeaders(h, o.Checksums, o.ChecksumType)
	loc := (&url.URL{Scheme: "http", Host: rq.r.Host, Path: "/" + b.Name + "/" + o.Key}).String()
	if rq.r.TLS != nil {
		loc = "https" + strings.TrimPrefix(loc, "http")
	}
	h.Set("Location", loc)
	if redirect := f.SuccessActionRedirect; redirect != "" {
		if u, err := url.Parse(redirect); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			q := u.Query()
			q.Set("bucket", b.Name)
			q.Set("key", o.Key)
			q.Set("etag", quoteETag(o.ETag))
			u.RawQuery = q.Encode()
			h.Set("Location", u.String())
			rq.w.WriteHeader(http.StatusSeeOther)
			return nil
		}
	}
	switch f.SuccessActionStatus {
	case http.StatusOK:
		rq.w.WriteHeader(http.StatusOK)
		return nil
	case http.StatusCreated:
		return s.writeXML(rq, http.StatusCreated, postResponse{Location: loc, Bucket: b.Name, Key: o.Key, ETag: quoteETag(o.ETag)})
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// postPolicyMessage gives a policy failure AWS's wording.
func postPolicyMessage(err error) (string, bool) {
	var pe *postpolicy.PolicyError
	if errors.As(err, &pe) {
		return pe.Reason, true
	}
	return "", false
}
