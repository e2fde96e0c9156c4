package node

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/shard"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/remote"
)

// ServerOptions configure a Server. The zero value is valid.
type ServerOptions struct {
	// MaxShardSize refuses Puts of larger shards (ErrBadRequest); 0 means
	// 1 GiB, far above a shard of a 16 MiB pack.
	MaxShardSize int64
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Server serves a store.Store over the protocol of package store/remote.
// It is an http.Handler; safe for concurrent use.
type Server struct {
	Store   store.Store
	Options ServerOptions
}

func (s *Server) log() *slog.Logger {
	if s.Options.Logger != nil {
		return s.Options.Logger
	}
	return slog.Default()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/shard/"):
		id, err := parseShardPath(path[len("/shard/"):])
		if err != nil {
			s.fail(w, r, err)
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.read(w, r, id)
		case http.MethodPut:
			s.put(w, r, id)
		case http.MethodHead:
			s.stat(w, r, id)
		case http.MethodDelete:
			s.delete(w, r, id)
		default:
			w.Header().Set("Allow", "GET, PUT, HEAD, DELETE")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	case path == "/shards" && r.Method == http.MethodGet:
		s.walk(w, r)
	case path == "/usage" && r.Method == http.MethodGet:
		s.usage(w, r)
	case path == "/healthz":
		w.WriteHeader(http.StatusOK)
	default:
		http.NotFound(w, r)
	}
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), remote.ErrBadRequest)
}

func parseShardPath(p string) (store.ShardID, error) {
	h, idx, ok := strings.Cut(p, "/")
	if !ok {
		return store.ShardID{}, badRequest("shard path %q", p)
	}
	id, err := pack.ParseID(h)
	if err != nil {
		return store.ShardID{}, badRequest("%v", err)
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 {
		return store.ShardID{}, badRequest("shard index %q", idx)
	}
	return store.ShardID{Pack: id, Index: i}, nil
}

// fail writes err as a protocol error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, status := remote.ErrorCode(err)
	gone := errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.Canceled) || r.Context().Err() != nil
	if status == http.StatusInternalServerError && !gone {
		s.log().Warn("node: request failed", "op", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log().Debug("node: request failed", "op", r.Method, "path", r.URL.Path, "err", err)
	}
	h := w.Header()
	h.Set(remote.ErrorHeader, code)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, err)
}

func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("query %s=%q", name, v)
	}
	return n, nil
}

// readBufs holds *[]byte buffers in power-of-two classes (64 KiB and up)
// for GET responses.
var readBufs [32]sync.Pool

func bufClass(n int) int {
	c := 16
	for 1<<c < n {
		c++
	}
	return c
}

func (s *Server) read(w http.ResponseWriter, r *http.Request, id store.ShardID) {
	q := r.URL.Query()
	off, err := strconv.ParseInt(q.Get("off"), 10, 64)
	if err != nil {
		s.fail(w, r, badRequest("off=%q", q.Get("off")))
		return
	}
	n, err := strconv.Atoi(q.Get("len"))
	if err != nil || n < 0 || n > remote.MaxRead {
		s.fail(w, r, badRequest("len=%q (at most %d)", q.Get("len"), remote.MaxRead))
		return
	}
	c := bufClass(n)
	bp, ok := readBufs[c].Get().(*[]byte)
	if !ok {
		b := make([]byte, 1<<c)
		bp = &b
	}
	defer readBufs[c].Put(bp)
	p := (*bp)[:n]
	if err := s.Store.ReadAt(r.Context(), id, p, off); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h["Content-Length"] = []string{strconv.Itoa(n)}
	h["Content-Type"] = []string{"application/octet-stream"}
	w.WriteHeader(http.StatusOK)
	w.Write(p)
}

func (s *Server) put(w http.ResponseWriter, r *http.Request, id store.ShardID) {
	k, err1 := queryInt(r, "k")
	m, err2 := queryInt(r, "m")
	size, err3 := queryInt(r, "size")
	if err := errors.Join(err1, err2, err3); err != nil {
		s.fail(w, r, err)
		return
	}
	maxSize := s.Options.MaxShardSize
	if maxSize <= 0 {
		maxSize = 1 << 30
	}
	if size > maxSize {
		s.fail(w, r, badRequest("shard of %d bytes, at most %d", size, maxSize))
		return
	}
	if r.ContentLength != size {
		s.fail(w, r, badRequest("Content-Length %d, size %d", r.ContentLength, size))
		return
	}
	info := store.ShardInfo{ID: id, Size: size, K: int(k), M: int(m)}
	if err := s.Store.Put(r.Context(), info, r.Body); err != nil {
		if errors.Is(err, shard.ErrInvalid) {
			err = fmt.Errorf("%w: %w", remote.ErrBadRequest, err)
		}
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) stat(w http.ResponseWriter, r *http.Request, id store.ShardID) {
	info, err := s.Store.Stat(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set(remote.SizeHeader, strconv.FormatInt(info.Size, 10))
	h.Set(remote.KHeader, strconv.Itoa(info.K))
	h.Set(remote.MHeader, strconv.Itoa(info.M))
	w.WriteHeader(http.StatusOK)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, id store.ShardID) {
	if err := s.Store.Delete(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) walk(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	err := s.Store.Walk(r.Context(), func(info store.ShardInfo) error {
		return enc.Encode(remote.WalkLine{Pack: info.ID.Pack.String(), Index: info.ID.Index, Size: info.Size, K: info.K, M: info.M})
	})
	if err != nil {
		code, _ := remote.ErrorCode(err)
		enc.Encode(remote.WalkLine{Error: err.Error(), Code: code})
	} else {
		enc.Encode(remote.WalkLine{End: true})
	}
	bw.Flush()
}

func (s *Server) usage(w http.ResponseWriter, r *http.Request) {
	u, err := usageOf(r.Context(), s.Store)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(u)
}

// usageOf returns st's usage, or the shard count alone for a store without
// store.Usager.
func usageOf(ctx context.Context, st store.Store) (store.Usage, error) {
	if u, ok := st.(store.Usager); ok {
		return u.Usage(ctx)
	}
	var n int64
	err := st.Walk(ctx, func(info store.ShardInfo) error { n++; return nil })
	return store.Usage{Shards: n}, err
}
