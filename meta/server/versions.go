package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/tessera-store/tessera/meta"
)

// Object versioning (docs/arch/versioning.md).
//
// The current version of a key lives at o/<bucket>/<key>, so listing and
// GET are unchanged. Older versions, and a delete marker that is the newest
// version, live at v/<bucket>/<E(key)><^seq 8><version id>: a key's
// versions sort newest first. Invariants:
//   - o/ absent: the newest v/ entry, if any, is a delete marker;
//   - o/ present: every v/ entry of the key is older than it;
//   - o/ never holds a delete marker;
//   - seq grows along a key's history: a new v/ entry gets
//     max(its time, newest seq + 1), so clock skew between callers cannot
//     reorder versions.
//
// Every version except delete markers holds its chunk refs and counts in
// Stats.Objects and Stats.LogicalBytes.

func versionBucketPrefix(bucket string) []byte {
	k := make([]byte, 0, len(pfxVersion)+len(bucket)+1)
	return append(append(append(k, pfxVersion...), bucket...), '/')
}

func versionKeyPrefix(bucket, key string) []byte {
	return appendEscaped(versionBucketPrefix(bucket), key)
}

func versionKey(bucket, key string, seq int64, vid string) []byte {
	return append(timeBytes(versionKeyPrefix(bucket, key), ^seq), vid...)
}

// escapedPrefix is the escaped form of p without the terminator: every
// escaped key that starts with p starts with it.
func escapedPrefix(base []byte, p string) []byte {
	e := appendEscaped(append([]byte(nil), base...), p)
	return e[:len(e)-2]
}

// reqVersionID maps an API version ID to the stored one ("null" -> "").
func reqVersionID(v string) string {
	if v == meta.NullVersion {
		return ""
	}
	return v
}

// derivedVersionID is the version ID used when the caller gave none: a
// function of the command, so every replica picks the same.
func derivedVersionID(reqID string, t int64) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", reqID, t))
	return hex.EncodeToString(h[:16])
}

func validVersionID(v string) error {
	if len(v) > maxName || v == meta.NullVersion || strings.ContainsRune(v, 0) {
		return invalid("version ID %.40q", v)
	}
	return nil
}

type version struct {
	k   []byte
	seq int64
	o   *meta.Object
}

// readVersions returns key's v/ entries, newest first (at most limit when
// limit > 0).
func readVersions(r pebble.Reader, bucket, key string, limit int, skipManifest bool) ([]version, error) {
	p := versionKeyPrefix(bucket, key)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []version
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < len(p)+8 {
			return nil, fmt.Errorf("server: version key %q: %w", k, ErrCorrupt)
		}
		o, err := decodeObject(it.Value(), skipManifest)
		if err != nil {
			return nil, fmt.Errorf("server: version of %s/%s: %w", bucket, key, err)
		}
		o.Bucket, o.Key = bucket, key
		out = append(out, version{k: bytes.Clone(k), seq: ^timeFromBytes(k[len(p) : len(p)+8]), o: o})
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, it.Error()
}

func (t *txn) countAdd(o *meta.Object, sign int64) {
	if o.DeleteMarker {
		return
	}
	t.st.Objects += sign
	t.st.LogicalBytes += sign * o.Size
}

// nextSeq returns the seq for a new newest v/ entry of key made at time at.
func (t *txn) nextSeq(bucket, key string, at int64) (int64, error) {
	vs, err := readVersions(t.db, bucket, key, 1, true)
	if err != nil {
		return 0, err
	}
	if len(vs) > 0 && vs[0].seq >= at {
		return vs[0].seq + 1, nil
	}
	return at, nil
}

// pushVersion stores o as the newest v/ entry of its key (seq at least
// min) and returns the seq used.
func (t *txn) pushVersion(o *meta.Object, min int64) (int64, error) {
	seq, err := t.nextSeq(o.Bucket, o.Key, o.Modified)
	if err != nil {
		return 0, err
	}
	if seq < min {
		seq = min
	}
	t.b.Set(versionKey(o.Bucket, o.Key, seq, o.VersionID), EncodeObject(o), nil)
	return seq, nil
}

// dropNullVersion removes the null version of key from v/, if any, and
// returns its manifest for release.
func (t *txn) dropNullVersion(bucket, key string) ([]meta.ChunkRef, error) {
	vs, err := readVersions(t.db, bucket, key, 0, false)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.o.VersionID == "" {
			t.b.Delete(v.k, nil)
			t.countAdd(v.o, -1)
			return v.o.Chunks, nil
		}
	}
	return nil, nil
}

// install makes o (Modified set, VersionID chosen for an Enabled bucket)
// the current version of its key, old being the current one or nil, and
// returns the manifests the replaced versions release.
func (t *txn) install(state string, o, old *meta.Object) ([][]meta.ChunkRef, error) {
	var release [][]meta.ChunkRef
	o.DeleteMarker = false
	if state != meta.VersioningEnabled {
		o.VersionID = ""
	}
	if old != nil {
		if state == meta.VersioningEnabled || old.VersionID != "" {
			if _, err := t.pushVersion(old, 0); err != nil {
				return nil, err
			}
		} else {
			release = append(release, old.Chunks)
			t.countAdd(old, -1)
		}
	}
	if state == meta.VersioningSuspended {
		rel, err := t.dropNullVersion(o.Bucket, o.Key)
		if err != nil {
			return nil, err
		}
		release = append(release, rel)
	}
	t.b.Set(objectKey(o.Bucket, o.Key), EncodeObject(o), nil)
	t.countAdd(o, 1)
	return release, nil
}

// newVersionID returns the ID for a new version in a bucket of state.
func newVersionID(state, given, reqID string, t int64) (string, error) {
	if state != meta.VersioningEnabled {
		return "", nil
	}
	if given == "" {
		return derivedVersionID(reqID, t), nil
	}
	return given, validVersionID(given)
}

func (t *txn) setVersioning(bucket, state string) error {
	if state != meta.VersioningEnabled && state != meta.VersioningSuspended {
		return invalid("versioning state %.40q", state)
	}
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	b.Versioning = state
	t.b.Set(bucketKey(bucket), encodeBucketRecord(&b), nil)
	return nil
}

// deleteVersion implements Versions.DeleteObjectVersion (and DeleteObject,
// with vid and marker empty).
func (t *txn) deleteVersion(bucket, key, vid, marker, reqID string) (*meta.DeleteObjectResult, error) {
	b, err := t.bucket(bucket)
	if err != nil {
		return nil, err
	}
	if err := validKey(key); err != nil {
		return nil, err
	}
	cur, err := t.object(bucket, key)
	if err != nil {
		return nil, err
	}
	if vid == "" {
		return t.deleteCurrent(b.Versioning, cur, bucket, key, marker, reqID)
	}
	if len(vid) > maxName {
		return nil, invalid("version ID too long")
	}
	vid = reqVersionID(vid)
	res := &meta.DeleteObjectResult{VersionID: vid}
	if cur != nil && cur.VersionID == vid {
		if err := t.stage(nil, nil, nil, cur.Chunks); err != nil {
			return nil, err
		}
		t.countAdd(cur, -1)
		t.b.Delete(objectKey(bucket, key), nil)
		vs, err := readVersions(t.db, bucket, key, 1, false)
		if err != nil {
			return nil, err
		}
		if len(vs) > 0 && !vs[0].o.DeleteMarker {
			t.b.Set(objectKey(bucket, key), EncodeObject(vs[0].o), nil)
			t.b.Delete(vs[0].k, nil)
		}
		return res, nil
	}
	vs, err := readVersions(t.db, bucket, key, 0, false)
	if err != nil {
		return nil, err
	}
	for i, v := range vs {
		if v.o.VersionID != vid {
			continue
		}
		t.b.Delete(v.k, nil)
		res.DeleteMarker = v.o.DeleteMarker
		if !v.o.DeleteMarker {
			if err := t.stage(nil, nil, nil, v.o.Chunks); err != nil {
				return nil, err
			}
			t.countAdd(v.o, -1)
		}
		// Removing the latest delete marker uncovers the next version.
		if cur == nil && i == 0 && len(vs) > 1 && !vs[1].o.DeleteMarker {
			t.b.Set(objectKey(bucket, key), EncodeObject(vs[1].o), nil)
			t.b.Delete(vs[1].k, nil)
		}
		return res, nil
	}
	return res, nil
}

func (t *txn) deleteCurrent(state string, cur *meta.Object, bucket, key, marker, reqID string) (*meta.DeleteObjectResult, error) {
	if state == "" {
		if cur == nil {
			return &meta.DeleteObjectResult{}, nil
		}
		if err := t.stage(nil, nil, nil, cur.Chunks); err != nil {
			return nil, err
		}
		t.countAdd(cur, -1)
		t.b.Delete(objectKey(bucket, key), nil)
		return &meta.DeleteObjectResult{}, nil
	}
	vid, err := newVersionID(state, marker, reqID, t.t)
	if err != nil {
		return nil, err
	}
	var release [][]meta.ChunkRef
	var minSeq int64
	if cur != nil {
		t.b.Delete(objectKey(bucket, key), nil)
		if state == meta.VersioningEnabled || cur.VersionID != "" {
			seq, err := t.pushVersion(cur, 0)
			if err != nil {
				return nil, err
			}
			minSeq = seq + 1
		} else {
			release = append(release, cur.Chunks)
			t.countAdd(cur, -1)
		}
	}
	if state == meta.VersioningSuspended {
		rel, err := t.dropNullVersion(bucket, key)
		if err != nil {
			return nil, err
		}
		release = append(release, rel)
	}
	if err := t.stage(nil, nil, nil, release...); err != nil {
		return nil, err
	}
	m := &meta.Object{Bucket: bucket, Key: key, Modified: t.t, VersionID: vid, DeleteMarker: true}
	if _, err := t.pushVersion(m, minSeq); err != nil {
		return nil, err
	}
	return &meta.DeleteObjectResult{VersionID: vid, DeleteMarker: true}, nil
}

func (t *txn) putVersionTags(bucket, key, vid string, tags map[string]string) error {
	if err := validTags(tags); err != nil {
		return err
	}
	if len(tags) == 0 {
		tags = nil
	}
	return t.updateVersion(bucket, key, reqVersionID(vid), false, func(o *meta.Object) { o.Tags = tags })
}

func (t *txn) putLock(bucket, key, vid string, u meta.ObjectLockUpdate) error {
	if len(u.RetentionMode) > 64 {
		return invalid("retention mode too long")
	}
	return t.updateVersion(bucket, key, reqVersionID(vid), vid == "", func(o *meta.Object) {
		if u.SetRetention {
			o.RetentionMode, o.RetainUntil = u.RetentionMode, u.RetainUntil
			if u.RetentionMode == "" {
				o.RetainUntil = 0
			}
		}
		if u.SetLegalHold {
			o.LegalHold = u.LegalHold
		}
	})
}

// updateVersion applies fn to version vid of key (the current version when
// current) and stores it. Delete markers cannot be updated.
func (t *txn) updateVersion(bucket, key, vid string, current bool, fn func(o *meta.Object)) error {
	if _, err := t.bucket(bucket); err != nil {
		return err
	}
	if err := validKey(key); err != nil {
		return err
	}
	if len(vid) > maxName {
		return invalid("version ID too long")
	}
	cur, err := t.object(bucket, key)
	if err != nil {
		return err
	}
	if current && cur == nil {
		return fmt.Errorf("%w: %s/%s", meta.ErrNoSuchKey, bucket, key)
	}
	if cur != nil && (current || cur.VersionID == vid) {
		fn(cur)
		t.b.Set(objectKey(bucket, key), EncodeObject(cur), nil)
		return nil
	}
	vs, err := readVersions(t.db, bucket, key, 0, false)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.o.VersionID != vid {
			continue
		}
		if v.o.DeleteMarker {
			return invalid("update of a delete marker")
		}
		fn(v.o)
		t.b.Set(v.k, EncodeObject(v.o), nil)
		return nil
	}
	return fmt.Errorf("%w: %s/%s version %q", meta.ErrNoSuchVersion, bucket, key, vid)
}

// ---- reads ----

// GetObjectVersion returns one version of key with its manifest.
func (s *State) GetObjectVersion(bucket, key, vid string) (o *meta.Object, err error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	if len(vid) > maxName {
		return nil, fmt.Errorf("%w: %s/%s version too long", meta.ErrNoSuchVersion, bucket, key)
	}
	vid = reqVersionID(vid)
	err = s.view(func(r pebble.Reader) error {
		if err := bucketExists(r, bucket); err != nil {
			return err
		}
		v, ok, err := get(r, objectKey(bucket, key))
		if err != nil {
			return err
		}
		if ok {
			cur, err := DecodeObject(v)
			if err != nil {
				return fmt.Errorf("server: object %s/%s: %w", bucket, key, err)
			}
			if cur.VersionID == vid {
				cur.Bucket, cur.Key, cur.IsLatest = bucket, key, true
				o = cur
				return nil
			}
		}
		vs, err := readVersions(r, bucket, key, 0, false)
		if err != nil {
			return err
		}
		for i, v := range vs {
			if v.o.VersionID == vid {
				o = v.o
				o.IsLatest = !ok && i == 0
				return nil
			}
		}
		return fmt.Errorf("%w: %s/%s version %q", meta.ErrNoSuchVersion, bucket, key, vid)
	})
	return o, err
}

// ListObjectVersions returns one page of a bucket's versions: keys in
// order, each key's current version first, then its v/ entries.
func (s *State) ListObjectVersions(req *meta.ListVersionsRequest) (res *meta.ListVersionsResult, err error) {
	res = &meta.ListVersionsResult{}
	max := clampMax(req.MaxKeys)
	err = s.view(func(r pebble.Reader) error {
		if err := bucketExists(r, req.Bucket); err != nil {
			return err
		}
		oBase := objectPrefix(req.Bucket)
		vBase := versionBucketPrefix(req.Bucket)
		oLo := append(append([]byte(nil), oBase...), req.Prefix...)
		vLo := escapedPrefix(vBase, req.Prefix)
		oIt, err := r.NewIter(&pebble.IterOptions{LowerBound: oLo, UpperBound: prefixEnd(oLo)})
		if err != nil {
			return err
		}
		defer oIt.Close()
		vIt, err := r.NewIter(&pebble.IterOptions{LowerBound: vLo, UpperBound: prefixEnd(vLo)})
		if err != nil {
			return err
		}
		defer vIt.Close()
		seek := func(oTo, vTo []byte) {
			if bytes.Compare(oTo, oLo) < 0 {
				oTo = oLo
			}
			if bytes.Compare(vTo, vLo) < 0 {
				vTo = vLo
			}
			oIt.SeekGE(oTo)
			vIt.SeekGE(vTo)
		}
		start := req.KeyMarker
		seek(append(append([]byte(nil), oBase...), start...), escapedPrefix(vBase, start))
		n := 0
		var lastKey, lastVID string
		truncate := func() {
			res.IsTruncated = true
			res.NextKeyMarker, res.NextVersionIDMarker = lastKey, lastVID
		}
		for {
			var key string
			haveO, haveV := oIt.Valid(), vIt.Valid()
			var oKey, vKey string
			if haveO {
				oKey = string(oIt.Key()[len(oBase):])
			}
			if haveV {
				k, _, ok := unescape(vIt.Key()[len(vBase):])
				if !ok {
					return fmt.Errorf("server: version key %q: %w", vIt.Key(), ErrCorrupt)
				}
				vKey = k
			}
			switch {
			case haveO && haveV:
				key = min(oKey, vKey)
			case haveO:
				key = oKey
			case haveV:
				key = vKey
			default:
				return errors2(oIt.Error(), vIt.Error())
			}
			skipKey := key < req.KeyMarker || (key == req.KeyMarker && req.VersionIDMarker == "")
			if !skipKey && req.Delimiter != "" {
				if i := strings.Index(key[len(req.Prefix):], req.Delimiter); i >= 0 {
					p := key[:len(req.Prefix)+i+len(req.Delimiter)]
					if p > req.KeyMarker {
						if n == max {
							truncate()
							return nil
						}
						res.CommonPrefixes = append(res.CommonPrefixes, p)
						n++
						lastKey, lastVID = p, ""
					}
					seek(prefixEnd(append(append([]byte(nil), oBase...), p...)), prefixEnd(escapedPrefix(vBase, p)))
					continue
				}
			}
			if skipKey {
				if haveO && oKey == key {
					oIt.Next()
				}
				if haveV && vKey == key {
					vIt.SeekGE(prefixEnd(versionKeyPrefix(req.Bucket, key)))
				}
				continue
			}
			var vers []meta.Object
			if haveO && oKey == key {
				o, err := decodeObject(oIt.Value(), true)
				if err != nil {
					return fmt.Errorf("server: object %s/%s: %w", req.Bucket, key, err)
				}
				o.IsLatest = true
				vers = append(vers, *o)
				oIt.Next()
			}
			if haveV && vKey == key {
				p := versionKeyPrefix(req.Bucket, key)
				for ; vIt.Valid() && bytes.HasPrefix(vIt.Key(), p); vIt.Next() {
					o, err := decodeObject(vIt.Value(), true)
					if err != nil {
						return fmt.Errorf("server: version of %s/%s: %w", req.Bucket, key, err)
					}
					o.IsLatest = len(vers) == 0
					vers = append(vers, *o)
				}
			}
			if key == req.KeyMarker {
				// Continue after VersionIDMarker.
				drop := len(vers)
				for i := range vers {
					if apiVersionID(vers[i].VersionID) == req.VersionIDMarker {
						drop = i + 1
						break
					}
				}
				vers = vers[drop:]
			}
			for i := range vers {
				if n == max {
					truncate()
					return nil
				}
				o := vers[i]
				o.Bucket, o.Key = req.Bucket, key
				res.Versions = append(res.Versions, o)
				n++
				lastKey, lastVID = key, apiVersionID(o.VersionID)
			}
		}
	})
	return res, err
}

func apiVersionID(v string) string {
	if v == "" {
		return meta.NullVersion
	}
	return v
}

func errors2(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ---- service ----

func (s *Service) SetBucketVersioning(ctx context.Context, reqID string, t int64, bucket, state string) error {
	return s.exec(ctx, &Command{Op: OpSetBucketVersioning, ReqID: reqID, Time: t, Bucket: bucket, Name: state})
}

func (s *Service) GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.GetObjectVersion(bucket, key, versionID)
}

func (s *Service) DeleteObjectVersion(ctx context.Context, req *meta.DeleteObjectRequest) (*meta.DeleteObjectResult, error) {
	v, err := s.propose(ctx, &Command{Op: OpDeleteObjectVersion, ReqID: req.ReqID, Time: req.Time,
		Bucket: req.Bucket, Key: req.Key, VersionID: req.VersionID, MarkerVersionID: req.MarkerVersionID})
	if err != nil {
		return nil, err
	}
	r, ok := v.(*meta.DeleteObjectResult)
	if !ok {
		return nil, fmt.Errorf("server: delete result of type %T", v)
	}
	return r, nil
}

func (s *Service) ListObjectVersions(ctx context.Context, req *meta.ListVersionsRequest) (*meta.ListVersionsResult, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.st.ListObjectVersions(req)
}

func (s *Service) PutObjectVersionTags(ctx context.Context, reqID string, t int64, bucket, key, versionID string, tags map[string]string) error {
	return s.exec(ctx, &Command{Op: OpPutObjectVersionTags, ReqID: reqID, Time: t, Bucket: bucket, Key: key, VersionID: versionID, Tags: tags})
}

func (s *Service) PutObjectLock(ctx context.Context, reqID string, t int64, bucket, key, versionID string, u meta.ObjectLockUpdate) error {
	return s.exec(ctx, &Command{Op: OpPutObjectLock, ReqID: reqID, Time: t, Bucket: bucket, Key: key, VersionID: versionID, Lock: u})
}
