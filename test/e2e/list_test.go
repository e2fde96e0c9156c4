package e2e

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"
)

// listKeys is the 2,500-key set: 5 top folders x 10 subfolders x 50 keys.
func listKeys() []string {
	var keys []string
	for a := range 5 {
		for b := range 10 {
			for c := range 50 {
				keys = append(keys, fmt.Sprintf("top%d/sub%02d/obj%03d", a, b, c))
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// awkwardKeys need encoding-type=url in XML listings.
var awkwardKeys = []string{"with space", "caf\u00e9/\u65e5\u672c", "plus+sign", "per%cent", "amp&lt", "q?mark", "tab\tkey", "ctl\x01char", "a/b/../c", "trailing/"}

// expected computes the ListObjects answer for prefix/delimiter over keys.
func expected(keys []string, prefix, delim string) (objs, prefixes []string) {
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				p := k[:len(prefix)+i+len(delim)]
				if !seen[p] {
					seen[p] = true
					prefixes = append(prefixes, p)
				}
				continue
			}
		}
		objs = append(objs, k)
	}
	return objs, prefixes
}

func TestListObjects(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, 3*time.Minute)
	c := shared.rootAWS(t)
	keys := listKeys()
	start := time.Now()
	var g errgroup.Group
	g.SetLimit(8)
	for _, k := range append(slices.Clone(keys), awkwardKeys...) {
		g.Go(func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader(k)})
			if err != nil {
				return fmt.Errorf("put %q: %w", k, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d PUTs in %v", len(keys)+len(awkwardKeys), time.Since(start))
	all := append(slices.Clone(keys), awkwardKeys...)
	sort.Strings(all)

	unescape := func(t *testing.T, s string) string {
		u, err := url.QueryUnescape(s)
		if err != nil {
			t.Fatalf("unescape %q: %v", s, err)
		}
		return u
	}

	cases := []struct {
		name, prefix, delim, startAfter string
		maxKeys                         int32
	}{
		{"all", "", "", "", 1000},
		{"all-pages-333", "", "", "", 333},
		{"delim-root", "", "/", "", 1000},
		{"delim-top2", "top2/", "/", "", 3},
		{"prefix-sub", "top3/sub07/", "", "", 7},
		{"prefix-partial", "top1/sub0", "", "", 100},
		{"start-after", "", "", "top2/sub05/obj020", 500},
		{"start-after-delim", "top4/", "/", "top4/sub03", 4},
		{"prefix-none", "zzz", "/", "", 10},
		{"awkward", "", "", "a", 40},
	}
	for _, tc := range cases {
		wantObjs, wantPrefixes := expected(all, tc.prefix, tc.delim)
		if tc.startAfter != "" {
			// start-after applies to both keys and common prefixes.
			var o, p []string
			for _, k := range wantObjs {
				if k > tc.startAfter {
					o = append(o, k)
				}
			}
			for _, k := range wantPrefixes {
				if k > tc.startAfter {
					p = append(p, k)
				}
			}
			wantObjs, wantPrefixes = o, p
		}
		t.Run("v2/"+tc.name, func(t *testing.T) {
			var gotObjs, gotPrefixes []string
			var token *string
			pages := 0
			for {
				out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String(tc.prefix),
					Delimiter: aws.String(tc.delim), StartAfter: aws.String(tc.startAfter), MaxKeys: aws.Int32(tc.maxKeys),
					ContinuationToken: token, EncodingType: types.EncodingTypeUrl})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if n := len(out.Contents) + len(out.CommonPrefixes); n > int(tc.maxKeys) || int(aws.ToInt32(out.KeyCount)) != n {
					t.Fatalf("page %d: %d entries, KeyCount %d, max %d", pages, n, aws.ToInt32(out.KeyCount), tc.maxKeys)
				}
				for _, o := range out.Contents {
					gotObjs = append(gotObjs, unescape(t, aws.ToString(o.Key)))
				}
				for _, p := range out.CommonPrefixes {
					gotPrefixes = append(gotPrefixes, unescape(t, aws.ToString(p.Prefix)))
				}
				if !aws.ToBool(out.IsTruncated) {
					break
				}
				token = out.NextContinuationToken
				if token == nil || pages > 200 {
					t.Fatalf("truncated page %d without a continuation token", pages)
				}
			}
			if !slices.Equal(gotObjs, wantObjs) || !slices.Equal(gotPrefixes, wantPrefixes) {
				t.Errorf("got %d keys %d prefixes (%.5q %.5q); want %d keys %d prefixes (%.5q %.5q)",
					len(gotObjs), len(gotPrefixes), gotObjs, gotPrefixes, len(wantObjs), len(wantPrefixes), wantObjs, wantPrefixes)
			}
		})
		if tc.startAfter != "" {
			continue // V1 has Marker; covered below
		}
		t.Run("v1/"+tc.name, func(t *testing.T) {
			var gotObjs, gotPrefixes []string
			var marker *string
			pages := 0
			for {
				out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Prefix: aws.String(tc.prefix),
					Delimiter: aws.String(tc.delim), MaxKeys: aws.Int32(tc.maxKeys), Marker: marker, EncodingType: types.EncodingTypeUrl})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				var last string
				for _, o := range out.Contents {
					last = unescape(t, aws.ToString(o.Key))
					gotObjs = append(gotObjs, last)
				}
				for _, p := range out.CommonPrefixes {
					pp := unescape(t, aws.ToString(p.Prefix))
					gotPrefixes = append(gotPrefixes, pp)
					last = max(last, pp)
				}
				if !aws.ToBool(out.IsTruncated) {
					break
				}
				// NextMarker is returned only with a delimiter; else use the last key.
				next := last
				if out.NextMarker != nil {
					next = unescape(t, aws.ToString(out.NextMarker))
				}
				marker = aws.String(next)
				if pages > 100 {
					t.Fatal("too many pages")
				}
			}
			if !slices.Equal(gotObjs, wantObjs) || !slices.Equal(gotPrefixes, wantPrefixes) {
				t.Errorf("got %d keys %d prefixes; want %d keys %d prefixes", len(gotObjs), len(gotPrefixes), len(wantObjs), len(wantPrefixes))
			}
		})
	}
	// minio-go pages transparently (V2 by default, V1 on request) and decodes
	// encoding-type=url itself.
	mc := shared.rootMinio(t)
	for _, v1 := range []bool{false, true} {
		var got []string
		for o := range mc.ListObjects(ctx, b, minio.ListObjectsOptions{Recursive: true, UseV1: v1, MaxKeys: 700}) {
			if o.Err != nil {
				t.Fatalf("minio list v1=%v: %v", v1, o.Err)
			}
			got = append(got, o.Key)
		}
		if !slices.Equal(got, all) {
			t.Errorf("minio list v1=%v: %d keys, want %d", v1, len(got), len(all))
		}
	}
	var tops []string
	for o := range mc.ListObjects(ctx, b, minio.ListObjectsOptions{Prefix: "top", Recursive: false}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		tops = append(tops, o.Key)
	}
	if want := []string{"top0/", "top1/", "top2/", "top3/", "top4/"}; !slices.Equal(tops, want) {
		t.Errorf("minio delimiter listing = %q, want %q", tops, want)
	}
	// The awkward keys read back by their exact names.
	for _, k := range awkwardKeys {
		obj, err := mc.GetObject(ctx, b, k, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := obj.Stat()
		obj.Close()
		if err != nil || st.Size != int64(len(k)) {
			t.Errorf("GET %q: size %d, %v", k, st.Size, err)
		}
	}
	// Bad continuation token.
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), ContinuationToken: aws.String("!!garbage!!")}); awsCode(err) != "InvalidArgument" {
		t.Errorf("bad continuation token: got %q, want InvalidArgument", awsCode(err))
	}
}
