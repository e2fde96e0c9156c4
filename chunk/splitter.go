package chunk

import (
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/zeebo/blake3"
)

// Chunk is one piece of a stream.
type Chunk struct {
	// Offset is the position of the chunk's first byte in the stream.
	Offset int64
	// Data holds the chunk's bytes in the buffer passed to Next (a new
	// one when that buffer's capacity is too small). The Splitter does not
	// touch it after Next returns: it stays valid until the caller reuses
	// the buffer.
	Data []byte
	// Addr is the chunk's identity: BLAKE3-256 of Data, keyed in a
	// private domain.
	Addr Addr
}

// minWindowSlack is the least read space the window keeps beyond Max, so
// that small Max values still read in large strides.
const minWindowSlack = 1 << 20

// maxEmptyReads bounds consecutive (0, nil) reads before the Splitter gives
// up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// pipelineMin is the least chunk length hashed on the helper goroutine;
// below it the hand-off costs more than the overlap gains.
const pipelineMin = 8 << 10

// Splitter cuts a stream into content-defined chunks. It is not safe for
// concurrent use; Reset lets one Splitter (and its window) serve many
// streams.
//
// Unless Options.Serial is set and when GOMAXPROCS > 1, a Splitter hashes
// each chunk on a helper goroutine while it scans for the next cut point.
// Close stops that goroutine; a Splitter that is dropped without Close stops
// it when garbage collected.
type Splitter struct {
	r io.Reader

	min, avg, max int
	maskS, maskL  uint64

	// win holds read-ahead; win[pos:end] is not yet returned as chunks.
	win      []byte
	pos, end int
	// off is the stream offset of win[pos].
	off int64
	// rerr is the sticky read error: io.EOF at the end of the stream, or a
	// wrapped reader error.
	rerr error
	// oerr is the Options validation error; it makes every Next fail.
	oerr error

	// ahead records that the next chunk's cut (or terminal error) was
	// already found while the helper hashed the previous chunk.
	ahead    bool
	aheadCut int
	aheadErr error

	// h is used by the calling goroutine or by the helper, never both at
	// once: Next waits for the helper's result before returning.
	h        *blake3.Hasher
	sum      [32]byte
	pipeline bool
	w        *hashWorker
	cleanup  runtime.Cleanup
	noHash   bool // benchmarks only: measure cutting alone
}

// hashWorker is the helper goroutine's side: chunks in, addresses out. It
// holds no reference to its Splitter, so that an abandoned Splitter can be
// collected and its cleanup can stop the worker.
type hashWorker struct {
	in  chan []byte
	out chan Addr
}

func startHashWorker(h *blake3.Hasher) *hashWorker {
	w := &hashWorker{in: make(chan []byte), out: make(chan Addr)}
	go func() {
		defer close(w.out)
		var sum [32]byte
		for p := range w.in {
			h.Reset()
			_, _ = h.Write(p)
			h.Sum(sum[:0])
			w.out <- sum
		}
	}()
	return w
}

// NewSplitter returns a Splitter reading r with opt. Invalid options do not
// panic: every call to Next then returns the Validate error, so callers that
// take options from users should call opt.Validate first.
func NewSplitter(r io.Reader, opt Options) *Splitter {
	s := &Splitter{r: r}
	if err := opt.Validate(); err != nil {
		s.oerr = err
		return s
	}
	opt = opt.withDefaults()
	s.min, s.avg, s.max = opt.Min, opt.Avg, opt.Max
	s.maskS, s.maskL = masks(opt.Avg)
	s.win = make([]byte, s.max+max(s.max, minWindowSlack))
	s.pipeline = !opt.Serial && runtime.GOMAXPROCS(0) > 1
	if opt.Key != nil {
		var err error
		s.h, err = blake3.NewKeyed(opt.Key)
		if err != nil { // unreachable: Validate checked the length
			s.oerr = fmt.Errorf("%w: %v", ErrBadOptions, err)
		}
	} else {
		s.h = blake3.New()
	}
	return s
}

// Reset makes s read a new stream r from offset 0, keeping its options and
// window.
func (s *Splitter) Reset(r io.Reader) {
	s.r = r
	s.pos, s.end, s.off = 0, 0, 0
	s.rerr = nil
	s.ahead, s.aheadCut, s.aheadErr = false, 0, nil
}

// Close stops the hashing helper goroutine, if one runs, and waits for it.
// It always returns nil. The Splitter stays usable; a later Next starts a
// new helper.
func (s *Splitter) Close() error {
	if s.w != nil {
		s.cleanup.Stop()
		close(s.w.in)
		for range s.w.out {
		}
		s.w = nil
	}
	return nil
}

// Next returns the next chunk, copying its bytes into buf (growing it when
// cap(buf) < the chunk length; pass cap >= Max to avoid allocation). At the
// end of the stream it returns io.EOF; an empty stream has no chunks. A read
// error is returned once every chunk whose cut point lies before the failure
// has been returned, and then again on every call; it wraps the reader's
// error.
func (s *Splitter) Next(buf []byte) (Chunk, error) {
	if s.oerr != nil {
		return Chunk{}, s.oerr
	}
	var cut int
	var err error
	if s.ahead {
		cut, err, s.ahead = s.aheadCut, s.aheadErr, false
	} else {
		cut, err = s.nextCut()
	}
	if err != nil {
		return Chunk{}, err
	}
	data := append(buf[:0], s.win[s.pos:s.pos+cut]...)
	c := Chunk{Offset: s.off, Data: data}
	s.pos += cut
	s.off += int64(cut)
	switch {
	case s.noHash:
	case s.pipeline && cut >= pipelineMin:
		if s.w == nil {
			s.w = startHashWorker(s.h)
			s.cleanup = runtime.AddCleanup(s, func(in chan []byte) { close(in) }, s.w.in)
		}
		s.w.in <- data
		s.aheadCut, s.aheadErr = s.nextCut()
		s.ahead = true
		c.Addr = <-s.w.out
	default:
		s.h.Reset()
		_, _ = s.h.Write(data) // never fails
		s.h.Sum(s.sum[:0])
		c.Addr = s.sum
	}
	return c, nil
}

// nextCut returns the length of the chunk at win[pos], reading more input
// when needed, or the error that ends the stream.
func (s *Splitter) nextCut() (int, error) {
	if s.end-s.pos < s.max && s.rerr == nil {
		s.fill()
	}
	n := s.end - s.pos
	if n == 0 {
		return 0, s.rerr
	}
	cut := s.cut(s.win[s.pos:s.end])
	if cut == n && n < s.max && s.rerr != io.EOF {
		// The chunk ends only because the reader failed; the true cut
		// may lie further on.
		return 0, s.rerr
	}
	return cut, nil
}

// fill reads until win holds at least max unreturned bytes or the reader
// reports an error (then recorded in rerr).
func (s *Splitter) fill() {
	if len(s.win)-s.pos < s.max {
		s.end = copy(s.win, s.win[s.pos:s.end])
		s.pos = 0
	}
	empty := 0
	for s.end-s.pos < s.max {
		n, err := s.r.Read(s.win[s.end:])
		if n < 0 || n > len(s.win)-s.end {
			s.rerr = fmt.Errorf("chunk: read: %w", errBadRead)
			return
		}
		s.end += n
		if err == io.EOF {
			s.rerr = io.EOF
			return
		}
		if err != nil {
			s.rerr = fmt.Errorf("chunk: read: %w", err)
			return
		}
		if n == 0 {
			if empty++; empty >= maxEmptyReads {
				s.rerr = fmt.Errorf("chunk: read: %w", io.ErrNoProgress)
				return
			}
		} else {
			empty = 0
		}
	}
}

// errBadRead reports a reader that returned an impossible count.
var errBadRead = errors.New("invalid read count")

// cut returns the length of the chunk at the start of p, which holds either
// at least max bytes or the rest of the stream.
func (s *Splitter) cut(p []byte) int {
	n := len(p)
	if n <= s.min {
		return n
	}
	if n > s.max {
		n = s.max
	}
	normal := min(s.avg, n)
	k, h := scan(p[s.min:normal], 0, s.maskS)
	if k >= 0 {
		return s.min + k
	}
	if k, _ = scan(p[normal:n], h, s.maskL); k >= 0 {
		return normal + k
	}
	return n
}

// scan rolls the gear hash h over p and returns how many bytes it consumed
// when h&mask first became zero (-1 if it never did) and the final hash.
//
// The loop takes eight bytes per iteration as four pairs. The hash after a
// pair is h<<2 + (g0<<1 + g1), whose parenthesized part does not depend on
// h, so the loop-carried dependency is one shift-add (LEA) per two bytes;
// the hash after the first byte of a pair branches off it for its test.
// Results are identical to the one-byte recurrence h = h<<1 + gear[b]
// (TestScanMatchesReference); BenchmarkScan measures about twice its speed.
//
// scan only reads p and the immutable gear table; it is excluded from race
// instrumentation, which would make it some 20 times slower in -race tests.
//
//go:norace
func scan(p []byte, h, mask uint64) (int, uint64) {
	tab := &gear
	i := 0
	for ; i+8 <= len(p); i += 8 {
		q := p[i : i+8 : i+8]
		g0, g1, g2, g3 := tab[q[0]], tab[q[1]], tab[q[2]], tab[q[3]]
		g4, g5, g6, g7 := tab[q[4]], tab[q[5]], tab[q[6]], tab[q[7]]
		h1 := h<<1 + g0
		h2 := h<<2 + (g0<<1 + g1)
		h3 := h2<<1 + g2
		h4 := h2<<2 + (g2<<1 + g3)
		h5 := h4<<1 + g4
		h6 := h4<<2 + (g4<<1 + g5)
		h7 := h6<<1 + g6
		h8 := h6<<2 + (g6<<1 + g7)
		if h1&mask == 0 {
			return i + 1, h1
		}
		if h2&mask == 0 {
			return i + 2, h2
		}
		if h3&mask == 0 {
			return i + 3, h3
		}
		if h4&mask == 0 {
			return i + 4, h4
		}
		if h5&mask == 0 {
			return i + 5, h5
		}
		if h6&mask == 0 {
			return i + 6, h6
		}
		if h7&mask == 0 {
			return i + 7, h7
		}
		if h8&mask == 0 {
			return i + 8, h8
		}
		h = h8
	}
	for ; i < len(p); i++ {
		h = h<<1 + tab[p[i]]
		if h&mask == 0 {
			return i + 1, h
		}
	}
	return -1, h
}
