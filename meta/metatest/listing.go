package metatest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tessera-store/tessera/meta"
)

// refList is the reference listing: a plain scan over sorted keys.
func refList(keys []string, req meta.ListRequest) meta.ListResult {
	max := req.MaxKeys
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var res meta.ListResult
	n, last, lastCP := 0, "", ""
	for _, k := range keys {
		if !strings.HasPrefix(k, req.Prefix) || k <= req.Marker {
			continue
		}
		if req.Delimiter != "" {
			if i := strings.Index(k[len(req.Prefix):], req.Delimiter); i >= 0 {
				cp := k[:len(req.Prefix)+i+len(req.Delimiter)]
				if cp <= req.Marker || cp == lastCP {
					continue
				}
				if n == max {
					res.IsTruncated, res.NextMarker = true, last
					return res
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				lastCP, last = cp, cp
				n++
				continue
			}
		}
		if n == max {
			res.IsTruncated, res.NextMarker = true, last
			return res
		}
		res.Objects = append(res.Objects, meta.Object{Key: k})
		last = k
		n++
	}
	return res
}

func keysOf(r *meta.ListResult) []string {
	var ks []string
	for _, o := range r.Objects {
		ks = append(ks, o.Key)
	}
	return ks
}

func (e *env) checkList(keys []string, req meta.ListRequest) {
	e.t.Helper()
	got, err := e.s.ListObjects(e.ctx, &req)
	if err != nil {
		e.t.Fatalf("ListObjects(%+v) = %v", req, err)
	}
	want := refList(keys, req)
	if !slices.Equal(keysOf(got), keysOf(&want)) || !slices.Equal(got.CommonPrefixes, want.CommonPrefixes) ||
		got.IsTruncated != want.IsTruncated || got.NextMarker != want.NextMarker {
		e.t.Fatalf("ListObjects(%+v)\n got keys=%q cps=%q trunc=%v next=%q\nwant keys=%q cps=%q trunc=%v next=%q",
			req, keysOf(got), got.CommonPrefixes, got.IsTruncated, got.NextMarker,
			keysOf(&want), want.CommonPrefixes, want.IsTruncated, want.NextMarker)
	}
	for _, o := range got.Objects {
		if o.Bucket != req.Bucket || len(o.Chunks) != 0 || len(o.Inline) != 0 || o.ETag == "" {
			e.t.Fatalf("listed object %+v: want bucket, ETag and no manifest", o)
		}
	}
}

// paginate lists everything page by page and compares with one reference
// scan of all pages.
func (e *env) paginate(keys []string, req meta.ListRequest) {
	e.t.Helper()
	var gotKeys, gotCPs []string
	for pages := 0; ; pages++ {
		if pages > len(keys)+2 {
			e.t.Fatalf("pagination of %+v does not end", req)
		}
		got, err := e.s.ListObjects(e.ctx, &req)
		if err != nil {
			e.t.Fatal(err)
		}
		gotKeys = append(gotKeys, keysOf(got)...)
		gotCPs = append(gotCPs, got.CommonPrefixes...)
		if !got.IsTruncated {
			break
		}
		req.Marker = got.NextMarker
	}
	all := req
	all.Marker, all.MaxKeys = "", 0
	want := refListAll(keys, all)
	if !slices.Equal(gotKeys, keysOf(&want)) || !slices.Equal(gotCPs, want.CommonPrefixes) {
		e.t.Fatalf("paginated %+v: got %d keys %d cps, want %d keys %d cps", req, len(gotKeys), len(gotCPs), len(want.Objects), len(want.CommonPrefixes))
	}
}

func refListAll(keys []string, req meta.ListRequest) meta.ListResult {
	var res meta.ListResult
	for {
		r := refList(keys, req)
		res.Objects = append(res.Objects, r.Objects...)
		res.CommonPrefixes = append(res.CommonPrefixes, r.CommonPrefixes...)
		if !r.IsTruncated {
			return res
		}
		req.Marker = r.NextMarker
	}
}

func testListing(t *testing.T, e *env) {
	e.mkBucket("bkt")
	e.mkBucket("bkt2") // a neighbour whose keys must never show
	keys := []string{"a", "a/", "a//b", "a/b", "a/b/c", "a/b/d", "a/c", "a-b", "a0", "ab", "b", "b/x/y",
		"é", "日本/語", "z~", "zz/", "photos/2024/01/a.jpg", "photos/2024/02/b.jpg", "photos/2025/x.jpg", "photos/readme"}
	for _, k := range keys {
		e.putInline("bkt", k, "v")
		e.putInline("bkt2", k+"2", "v")
	}
	slices.Sort(keys)
	for _, prefix := range []string{"", "a", "a/", "photos/", "photos/2024/", "nope", "é"} {
		for _, delim := range []string{"", "/", "b", "//", "/2"} {
			for _, marker := range []string{"", "a", "a/", "a/b", "photos/2024/", "photos/2024/01/a.jpg", "zzz"} {
				for _, max := range []int{0, 1, 2, 3, 1001} {
					e.checkList(keys, meta.ListRequest{Bucket: "bkt", Prefix: prefix, Delimiter: delim, Marker: marker, MaxKeys: max})
				}
			}
			for _, max := range []int{1, 2, 5} {
				e.paginate(keys, meta.ListRequest{Bucket: "bkt", Prefix: prefix, Delimiter: delim, MaxKeys: max})
			}
		}
	}
	if _, err := e.s.ListObjects(e.ctx, &meta.ListRequest{Bucket: "nope"}); err == nil {
		t.Fatal("ListObjects on a missing bucket succeeded")
	}
}

// testListingLarge lists a few thousand keys: pages of 1000, delimiter
// rollups over large prefixes, random prefixes and markers.
func testListingLarge(t *testing.T, e *env) {
	e.mkBucket("big")
	var keys []string
	for d := 0; d < 30; d++ {
		for f := 0; f < 100; f++ {
			keys = append(keys, fmt.Sprintf("dir%02d/sub%d/file%03d", d, f%3, f))
		}
	}
	for i := 0; i < 500; i++ {
		keys = append(keys, fmt.Sprintf("top%04d", i))
	}
	for _, k := range keys {
		e.putInline("big", k, "v")
	}
	slices.Sort(keys)
	e.paginate(keys, meta.ListRequest{Bucket: "big"})
	e.paginate(keys, meta.ListRequest{Bucket: "big", MaxKeys: 999})
	e.paginate(keys, meta.ListRequest{Bucket: "big", Delimiter: "/"})
	e.paginate(keys, meta.ListRequest{Bucket: "big", Delimiter: "/", MaxKeys: 7})
	e.paginate(keys, meta.ListRequest{Bucket: "big", Prefix: "dir1", Delimiter: "/", MaxKeys: 3})
	e.paginate(keys, meta.ListRequest{Bucket: "big", Prefix: "dir05/", Delimiter: "/", MaxKeys: 2})
	r, err := e.s.ListObjects(e.ctx, &meta.ListRequest{Bucket: "big", MaxKeys: 5000})
	if err != nil || len(r.Objects) != 1000 || !r.IsTruncated {
		t.Fatalf("MaxKeys 5000: %d objects, truncated %v, %v", len(r.Objects), r.IsTruncated, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		k := keys[rng.IntN(len(keys))]
		req := meta.ListRequest{Bucket: "big", Prefix: k[:rng.IntN(len(k)+1)], Marker: keys[rng.IntN(len(keys))][:rng.IntN(8)],
			MaxKeys: rng.IntN(50)}
		if rng.IntN(2) == 0 {
			req.Delimiter = "/"
		}
		e.checkList(keys, req)
	}
	want := meta.ListResult{}
	got, err := e.s.ListObjects(e.ctx, &meta.ListRequest{Bucket: "big", Prefix: "dir", Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	for d := 0; d < 30; d++ {
		want.CommonPrefixes = append(want.CommonPrefixes, fmt.Sprintf("dir%02d/", d))
	}
	if !reflect.DeepEqual(got.CommonPrefixes, want.CommonPrefixes) || len(got.Objects) != 0 {
		t.Fatalf("rollup = %q", got.CommonPrefixes)
	}
}
