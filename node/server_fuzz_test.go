package node

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/mem"
	"github.com/tessera-store/tessera/store/remote"
	"github.com/tessera-store/tessera/store/storetest"
)

// FuzzServer sends arbitrary requests to a node serving a mem store holding
// one shard: the server never panics, answers failures with a protocol
// error code, and a 200 GET carries exactly the requested length of the
// shard's bytes.
func FuzzServer(f *testing.F) {
	id := store.ShardID{Pack: pack.ID{0xab, 0xcd}, Index: 1}
	data := storetest.Data(1, 100000)
	shardPath := "/shard/" + id.Pack.String() + "/1"
	f.Add(uint8(0), shardPath+"?off=5&len=100", []byte(nil))
	f.Add(uint8(1), "/shard/"+pack.ID{1}.String()+"/0?k=1&m=0&size=3", []byte("abc"))
	f.Add(uint8(2), shardPath, []byte(nil))
	f.Add(uint8(3), shardPath, []byte(nil))
	f.Add(uint8(0), "/shards", []byte(nil))
	f.Add(uint8(0), "/usage", []byte(nil))
	f.Add(uint8(0), shardPath+"?off=99999&len=2", []byte(nil))
	f.Fuzz(func(t *testing.T, method uint8, target string, body []byte) {
		m, _ := mem.New(mem.Options{MaxBytes: 1 << 20})
		storetest.Put(t, m, id, data)
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		methods := []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete, "POST"}
		req := &http.Request{
			Method:        methods[int(method)%len(methods)],
			URL:           u,
			Header:        http.Header{},
			Body:          httpBody(body),
			ContentLength: int64(len(body)),
		}
		req = req.WithContext(t.Context())
		rec := httptest.NewRecorder()
		(&Server{Store: m, Options: ServerOptions{Logger: testLogger(t)}}).ServeHTTP(rec, req)
		code := rec.Header().Get(remote.ErrorHeader)
		switch {
		case rec.Code >= 400 && rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound && code == "":
			t.Fatalf("%s %s: %d without error code", req.Method, target, rec.Code)
		case rec.Code == http.StatusOK && req.Method == http.MethodGet && u.Path == shardPath:
			off, _ := strconv.ParseInt(u.Query().Get("off"), 10, 64)
			n, _ := strconv.Atoi(u.Query().Get("len"))
			if !bytes.Equal(rec.Body.Bytes(), data[off:off+int64(n)]) {
				t.Fatalf("GET %s: wrong bytes", target)
			}
		}
	})
}

func httpBody(b []byte) *bodyCloser { return &bodyCloser{bytes.NewReader(b)} }

type bodyCloser struct{ *bytes.Reader }

func (bodyCloser) Close() error { return nil }
