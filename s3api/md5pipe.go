package s3api

import (
	"errors"
	"hash"
	"sync"

	md5simd "github.com/minio/md5-simd"
)

// MD5 runs at about 635 MB/s per core and cannot be parallelised within one
// stream, so for large uploads the ETag is hashed on its own goroutine while
// the request goroutine chunks, hashes (BLAKE3) and compresses: md5Pipe
// copies the body into a few fixed buffers and hands them over. Bodies below
// pipeMinSize are hashed inline (the goroutine and copies would cost more).
const (
	pipeBufSize = 128 << 10
	pipeBufs    = 4 // in flight: bounds the pipe's memory to 512 KiB per upload
	pipeMinSize = 1 << 20
)

var errPipeClosed = errors.New("s3api: md5 pipe closed")

// md5Lanes hashes the MD5s of concurrent uploads side by side in SIMD lanes
// (github.com/minio/md5-simd: 16 streams per AVX-512 core, 8 with AVX2;
// the standard library elsewhere). MD5 cannot be split within one stream,
// but a gateway serves many at once: profiles of 16 concurrent PUTs showed
// crypto/md5 at 20-27% of all CPU. One server for the process, like a
// buffer pool: it holds no configuration.
var md5Lanes = sync.OnceValue(md5simd.NewServer)

// md5Pipe is a write-only MD5 whose hashing runs on a goroutine. Close must
// be called whatever happens (it stops the hasher); Sum flushes and closes.
// Safe for concurrent use, so that a backend still reading the body on
// another goroutine cannot race with the handler's Close.
type md5Pipe struct {
	h    hash.Hash   // owned by the hasher goroutine
	sum  []byte      // set by the hasher goroutine before done is closed
	full chan []byte // filled buffers, to the hasher
	free chan []byte // hashed buffers, back to the writer
	done chan struct{}

	mu   sync.Mutex // guards cur and shut
	cur  []byte
	shut bool
}

func newMD5Pipe() *md5Pipe {
	h := md5Lanes().NewHash()
	return newMD5PipeOf(h, func() { h.Close() }) // Close gives the lane back
}

// newMD5PipeOf pipes into h; release runs when the hasher is done.
func newMD5PipeOf(h hash.Hash, release func()) *md5Pipe {
	p := &md5Pipe{
		h:    h,
		full: make(chan []byte, pipeBufs),
		free: make(chan []byte, pipeBufs),
		done: make(chan struct{}),
	}
	for range pipeBufs {
		p.free <- make([]byte, 0, pipeBufSize)
	}
	go func() {
		defer close(p.done)
		for b := range p.full {
			p.h.Write(b)
			p.free <- b[:0]
		}
		p.sum = p.h.Sum(nil)
		release()
	}()
	return p
}

func (p *md5Pipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut {
		return 0, errPipeClosed
	}
	n := len(b)
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = <-p.free
		}
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur, b = p.cur[:len(p.cur)+k], b[k:]
		if len(p.cur) == cap(p.cur) {
			p.full <- p.cur
			p.cur = nil
		}
	}
	return n, nil
}

// Sum flushes, waits for the hasher and returns the digest.
func (p *md5Pipe) Sum() []byte {
	p.mu.Lock()
	if !p.shut && len(p.cur) > 0 {
		p.full <- p.cur
		p.cur = nil
	}
	p.mu.Unlock()
	p.Close()
	return p.sum
}

// Close stops the hasher and waits for it. Safe to call more than once.
func (p *md5Pipe) Close() {
	p.mu.Lock()
	if !p.shut {
		p.shut = true
		close(p.full)
	}
	p.mu.Unlock()
	<-p.done
}
