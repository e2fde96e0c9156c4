package server

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

// Reads. Each runs against the current Pebble generation, which holds every
// command applied so far; linearizability is the Service's job (it calls
// Proposer.ReadBarrier first).

const defaultMaxKeys = 1000

func (s *State) view(fn func(r pebble.Reader) error) error {
	h, err := s.reader()
	if err != nil {
		return err
	}
	defer h.release()
	return fn(h.db)
}

func prefixIter(r pebble.Reader, p []byte) (*pebble.Iterator, error) {
	return r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
}

// GetBucket returns a bucket or an error matching meta.ErrNoSuchBucket.
func (s *State) GetBucket(name string) (b meta.Bucket, err error) {
	err = s.view(func(r pebble.Reader) error {
		v, ok, err := get(r, bucketKey(name))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, name)
		}
		b, err = decodeBucket(v)
		return err
	})
	return b, err
}

// ListBuckets returns all buckets by name.
func (s *State) ListBuckets() (bs []meta.Bucket, err error) {
	err = s.view(func(r pebble.Reader) error {
		it, err := prefixIter(r, []byte(pfxBucket))
		if err != nil {
			return err
		}
		defer it.Close()
		for it.First(); it.Valid(); it.Next() {
			b, err := decodeBucket(it.Value())
			if err != nil {
				return fmt.Errorf("server: bucket %q: %w", it.Key(), err)
			}
			bs = append(bs, b)
		}
		return it.Error()
	})
	return bs, err
}

func bucketExists(r pebble.Reader, name string) error {
	_, ok, err := get(r, bucketKey(name))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, name)
	}
	return nil
}

// GetObject returns an object with its manifest.
func (s *State) GetObject(bucket, key string) (o *meta.Object, err error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	err = s.view(func(r pebble.Reader) error {
		v, ok, err := get(r, objectKey(bucket, key))
		if err != nil {
			return err
		}
		if !ok {
			if err := bucketExists(r, bucket); err != nil {
				return err
			}
			return fmt.Errorf("%w: %s/%s", meta.ErrNoSuchKey, bucket, key)
		}
		if o, err = DecodeObject(v); err != nil {
			return fmt.Errorf("server: object %s/%s: %w", bucket, key, err)
		}
		o.Bucket, o.Key = bucket, key
		return nil
	})
	return o, err
}

// lister walks keys under a fixed prefix S3 style: names after the prefix,
// strictly after marker, rolling names that contain delim after the list
// prefix into common prefixes. Each common prefix counts once toward max
// and the walk seeks past all of its names.
type lister struct {
	it       *pebble.Iterator
	base     []byte // key prefix that precedes every name
	prefix   string // S3 prefix
	delim    string
	marker   string
	max      int
	name     func(k []byte) (string, bool) // key -> name; false to skip the key
	seekPast func(name string) []byte      // key that sorts after every key of names with this prefix
	// skip, if set, returns where to continue after a key name rejected
	// (ListUploads: past all the parts of an upload).
	skip func(k []byte) []byte
	// emitted after each call to run:
	truncated bool
	next      string
}

func (l *lister) run(obj func(name string, k, v []byte) error, cp func(p string)) error {
	n := 0
	last := ""
	for valid := l.it.First(); valid; {
		name, ok := l.name(l.it.Key())
		if !ok {
			if l.skip != nil {
				if sk := l.skip(l.it.Key()); sk != nil {
					valid = l.it.SeekGE(sk)
					continue
				}
			}
			valid = l.it.Next()
			continue
		}
		if !strings.HasPrefix(name, l.prefix) {
			// The iterator bounds keep us inside the prefix; names outside
			// it only come from a malformed key.
			valid = l.it.Next()
			continue
		}
		if l.delim != "" {
			if i := strings.Index(name[len(l.prefix):], l.delim); i >= 0 {
				p := name[:len(l.prefix)+i+len(l.delim)]
				if p > l.marker {
					if n == l.max {
						l.truncated, l.next = true, last
						return nil
					}
					cp(p)
					n++
					last = p
				}
				sk := l.seekPast(p)
				if sk == nil {
					break
				}
				valid = l.it.SeekGE(sk)
				continue
			}
		}
		if name > l.marker {
			if n == l.max {
				l.truncated, l.next = true, last
				return nil
			}
			if err := obj(name, l.it.Key(), l.it.Value()); err != nil {
				return err
			}
			n++
			last = name
			if l.skip != nil {
				if sk := l.skip(l.it.Key()); sk != nil {
					valid = l.it.SeekGE(sk)
					continue
				}
			}
		}
		valid = l.it.Next()
	}
	return l.it.Error()
}

func clampMax(n int) int {
	if n <= 0 || n > defaultMaxKeys {
		return defaultMaxKeys
	}
	return n
}

// ListObjects returns one page of a bucket's listing. It streams from a
// Pebble iterator: the cost is the page, not the bucket.
func (s *State) ListObjects(req *meta.ListRequest) (res *meta.ListResult, err error) {
	res = &meta.ListResult{}
	err = s.view(func(r pebble.Reader) error {
		if err := bucketExists(r, req.Bucket); err != nil {
			return err
		}
		base := objectPrefix(req.Bucket)
		lo := append(append([]byte(nil), base...), req.Prefix...)
		if m := append(append([]byte(nil), base...), req.Marker...); string(m) > string(lo) {
			lo = m
		}
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(append(append([]byte(nil), base...), req.Prefix...))})
		if err != nil {
			return err
		}
		defer it.Close()
		l := &lister{
			it: it, base: base, prefix: req.Prefix, delim: req.Delimiter, marker: req.Marker, max: clampMax(req.MaxKeys),
			name: func(k []byte) (string, bool) { return string(k[len(base):]), true },
			seekPast: func(p string) []byte {
				return prefixEnd(append(append([]byte(nil), base...), p...))
			},
		}
		err = l.run(func(name string, _, v []byte) error {
			o, err := decodeObject(v, true)
			if err != nil {
				return fmt.Errorf("server: object %s/%s: %w", req.Bucket, name, err)
			}
			o.Bucket, o.Key = req.Bucket, name
			res.Objects = append(res.Objects, *o)
			return nil
		}, func(p string) { res.CommonPrefixes = append(res.CommonPrefixes, p) })
		res.IsTruncated, res.NextMarker = l.truncated, l.next
		return err
	})
	return res, err
}

// LookupChunks answers for each addr, in order.
func (s *State) LookupChunks(addrs []chunk.Addr) (out []meta.ChunkInfo, err error) {
	out = make([]meta.ChunkInfo, len(addrs))
	err = s.view(func(r pebble.Reader) error {
		k := make([]byte, 0, len(pfxChunk)+32)
		for i, a := range addrs {
			out[i].Addr = a
			k = append(append(k[:0], pfxChunk...), a[:]...)
			v, c, err := r.Get(k)
			if err == pebble.ErrNotFound {
				continue
			}
			if err != nil {
				return fmt.Errorf("server: lookup %v: %w", a, err)
			}
			rec, err := decodeChunk(v)
			c.Close()
			if err != nil {
				return fmt.Errorf("server: chunk %v: %w", a, err)
			}
			out[i] = meta.ChunkInfo{Addr: a, Pack: rec.Pack, Offset: rec.Offset, Length: rec.Length, Size: rec.Size, Refs: rec.Refs, Found: true}
		}
		return nil
	})
	return out, err
}

// GetPacks returns packs by ID; missing ones have a zero ID.
func (s *State) GetPacks(ids []pack.ID) (out []meta.Pack, err error) {
	out = make([]meta.Pack, len(ids))
	err = s.view(func(r pebble.Reader) error {
		for i, id := range ids {
			v, ok, err := get(r, packKey(id))
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if out[i], err = decodePack(v); err != nil {
				return fmt.Errorf("server: pack %v: %w", id, err)
			}
		}
		return nil
	})
	return out, err
}

// Stats returns the counters as of the last applied command.
func (s *State) Stats() (st meta.Stats, err error) {
	err = s.view(func(r pebble.Reader) error {
		v, ok, err := get(r, []byte(keyStats))
		if err != nil || !ok {
			return err
		}
		st, err = decodeStats(v)
		return err
	})
	return st, err
}

func readUpload(r pebble.Reader, bucket, key, id string) (*meta.Upload, error) {
	if err := bucketExists(r, bucket); err != nil {
		return nil, err
	}
	v, ok, err := get(r, uploadKey(bucket, key, id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s/%s %q", meta.ErrNoSuchUpload, bucket, key, id)
	}
	u, err := decodeUpload(v)
	if err != nil {
		return nil, fmt.Errorf("server: upload %q: %w", id, err)
	}
	return &u, nil
}

// GetUpload returns a multipart upload.
func (s *State) GetUpload(bucket, key, id string) (u *meta.Upload, err error) {
	err = s.view(func(r pebble.Reader) error {
		u, err = readUpload(r, bucket, key, id)
		return err
	})
	return u, err
}

// GetPart returns one part with its manifest; an unknown part matches
// meta.ErrInvalidPart.
func (s *State) GetPart(bucket, key, id string, n int) (p *meta.Part, err error) {
	err = s.view(func(r pebble.Reader) error {
		if _, err := readUpload(r, bucket, key, id); err != nil {
			return err
		}
		if n < 1 || n > maxPartNumber {
			return fmt.Errorf("%w: part number %d", meta.ErrInvalidPart, n)
		}
		v, ok, err := get(r, partKey(bucket, key, id, n))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: part %d not uploaded", meta.ErrInvalidPart, n)
		}
		pt, err := decodePart(v)
		p = &pt
		return err
	})
	return p, err
}

// ListParts returns parts after Marker, without manifests.
func (s *State) ListParts(req *meta.ListPartsRequest) (res *meta.ListPartsResult, err error) {
	res = &meta.ListPartsResult{}
	err = s.view(func(r pebble.Reader) error {
		u, err := readUpload(r, req.Bucket, req.Key, req.UploadID)
		if err != nil {
			return err
		}
		res.Upload = *u
		if req.Marker < 0 {
			return invalid("part marker %d", req.Marker)
		}
		max := clampMax(req.MaxParts)
		lo := partKey(req.Bucket, req.Key, req.UploadID, min(req.Marker, maxPartNumber)+1)
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(uploadKey(req.Bucket, req.Key, req.UploadID))})
		if err != nil {
			return err
		}
		defer it.Close()
		for it.First(); it.Valid(); it.Next() {
			if len(res.Parts) == max {
				res.IsTruncated = true
				res.NextMarker = res.Parts[len(res.Parts)-1].Number
				break
			}
			p, err := decodePart(it.Value())
			if err != nil {
				return fmt.Errorf("server: part of %q: %w", req.UploadID, err)
			}
			p.Chunks, p.Inline = nil, nil
			res.Parts = append(res.Parts, p)
		}
		return it.Error()
	})
	return res, err
}

// splitUploadKey decodes the (key, upload ID) of an upload record key after
// the bucket prefix; ok is false for part keys and malformed keys.
func splitUploadKey(k []byte) (key, id string, ok bool) {
	key, rest, ok := unescape(k)
	if !ok {
		return "", "", false
	}
	id, rest, ok = unescape(rest)
	if !ok || len(rest) != 0 {
		return "", "", false
	}
	return key, id, true
}

func unescape(b []byte) (string, []byte, bool) {
	var sb strings.Builder
	for i := 0; i+1 < len(b); i++ {
		if b[i] != 0 {
			sb.WriteByte(b[i])
			continue
		}
		switch b[i+1] {
		case 0xFF:
			sb.WriteByte(0)
			i++
		case 1:
			return sb.String(), b[i+2:], true
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// ListUploads lists uploads in (key, upload ID) order, S3 style.
func (s *State) ListUploads(req *meta.ListUploadsRequest) (res *meta.ListUploadsResult, err error) {
	res = &meta.ListUploadsResult{}
	err = s.view(func(r pebble.Reader) error {
		if err := bucketExists(r, req.Bucket); err != nil {
			return err
		}
		base := uploadBucketPrefix(req.Bucket)
		// Names are escaped keys; the prefix is a prefix of the escaped key
		// minus its terminator.
		pfx := appendEscaped(append([]byte(nil), base...), req.Prefix)
		pfx = pfx[:len(pfx)-2]
		lo := pfx
		// KeyMarker alone: start after every upload of that key. With
		// UploadIDMarker: start after that upload of that key.
		marker := ""
		if req.KeyMarker != "" {
			m := appendEscaped(append([]byte(nil), base...), req.KeyMarker)
			if req.UploadIDMarker != "" {
				m = appendEscaped(m, req.UploadIDMarker)
			} else {
				marker = req.KeyMarker
			}
			m[len(m)-1] = 2
			if string(m) > string(lo) {
				lo = m
			}
		}
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(pfx)})
		if err != nil {
			return err
		}
		defer it.Close()
		l := &lister{
			it: it, base: base, prefix: req.Prefix, delim: req.Delimiter, marker: marker, max: clampMax(req.MaxUploads),
			name: func(k []byte) (string, bool) {
				key, _, ok := splitUploadKey(k[len(base):])
				return key, ok
			},
			seekPast: func(p string) []byte {
				e := appendEscaped(append([]byte(nil), base...), p)
				return prefixEnd(e[:len(e)-2])
			},
			// After an upload record (or a stray part key), skip the
			// upload's parts: they share its key as a prefix.
			skip: func(k []byte) []byte {
				if len(k) > 4 && k[len(k)-2] == 0 && k[len(k)-1] == 1 {
					return prefixEnd(k)
				}
				if len(k) > 6 && k[len(k)-6] == 0 && k[len(k)-5] == 1 {
					return prefixEnd(k[:len(k)-4])
				}
				return nil
			},
		}
		var last meta.Upload
		err = l.run(func(name string, k, v []byte) error {
			u, err := decodeUpload(v)
			if err != nil {
				return fmt.Errorf("server: upload %q: %w", name, err)
			}
			u.Object.Chunks, u.Object.Inline = nil, nil
			res.Uploads = append(res.Uploads, u)
			last = u
			return nil
		}, func(p string) { res.CommonPrefixes = append(res.CommonPrefixes, p) })
		if l.truncated {
			res.IsTruncated = true
			if len(res.Uploads) > 0 && l.next == last.Key {
				res.NextKeyMarker, res.NextUploadIDMarker = last.Key, last.UploadID
			} else {
				res.NextKeyMarker = l.next
			}
		}
		return err
	})
	return res, err
}

// ListNodes returns all nodes by ID.
func (s *State) ListNodes() (ns []meta.Node, err error) {
	err = s.scan(pfxNode, func(v []byte) error {
		n, err := decodeNode(v)
		ns = append(ns, n)
		return err
	})
	return ns, err
}

// ListPools returns all pools by name.
func (s *State) ListPools() (ps []meta.Pool, err error) {
	err = s.scan(pfxPool, func(v []byte) error {
		p, err := decodePool(v)
		ps = append(ps, p)
		return err
	})
	return ps, err
}

// ListUsers returns all users by access key.
func (s *State) ListUsers() (us []meta.User, err error) {
	err = s.scan(pfxUserKey, func(v []byte) error {
		u, err := decodeUser(v)
		us = append(us, u)
		return err
	})
	return us, err
}

// GetUserByKey returns the user with an access key.
func (s *State) GetUserByKey(accessKey string) (u meta.User, err error) {
	err = s.view(func(r pebble.Reader) error {
		v, ok, err := get(r, key2(pfxUserKey, accessKey))
		if err != nil {
			return err
		}
		if !ok || accessKey == "" {
			return fmt.Errorf("%w: access key %q", meta.ErrNoSuchUser, accessKey)
		}
		u, err = decodeUser(v)
		return err
	})
	return u, err
}

func (s *State) scan(pfx string, fn func(v []byte) error) error {
	return s.view(func(r pebble.Reader) error {
		it, err := prefixIter(r, []byte(pfx))
		if err != nil {
			return err
		}
		defer it.Close()
		for it.First(); it.Valid(); it.Next() {
			if err := fn(it.Value()); err != nil {
				return fmt.Errorf("server: record %q: %w", it.Key(), err)
			}
		}
		return it.Error()
	})
}
