package shard

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
)

// writeBatch is the target size of one write to the underlying writer:
// several blocks with their checksums go out in one call.
const writeBatch = 256 << 10

// Writer frames a shard's data onto an io.Writer: the header first, then each
// block followed by its checksum. It buffers at most max(BlockSize, 256 KiB)
// plus checksums. Not safe for concurrent use.
type Writer struct {
	w       io.Writer
	h       Header
	bs      int
	buf     []byte // pending output: whole framed blocks, then the open block
	open    int    // bytes of the open (unfinished) block at the end of buf
	block   int64  // number of the open block
	written int64  // data bytes accepted
	err     error  // sticky
}

// NewWriter returns a Writer framing a shard described by h onto w. An
// invalid header makes every Write and Close fail with an error matching
// ErrInvalid. Close must be called to flush the last block; it does not
// close w.
func NewWriter(w io.Writer, h Header) *Writer {
	sw := &Writer{w: w, h: h, bs: h.blockSize()}
	if err := h.Validate(); err != nil {
		sw.err = err
		return sw
	}
	per := sw.bs + ChecksumSize
	n := max(1, writeBatch/per)
	if int64(n) > h.Blocks() {
		n = max(1, int(h.Blocks()))
	}
	sw.buf = make([]byte, 0, HeaderSize+n*per)
	hb := h.Marshal()
	sw.buf = append(sw.buf, hb[:]...)
	return sw
}

// Write accepts data bytes. Writing past Header.Length fails with ErrLength.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if int64(len(p)) > w.h.Length-w.written {
		w.err = fmt.Errorf("%w: more than %d bytes", ErrLength, w.h.Length)
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		c := min(len(p), w.bs-w.open)
		w.buf = append(w.buf, p[:c]...)
		w.open += c
		n += c
		w.written += int64(c)
		p = p[c:]
		if w.open == w.bs {
			w.finishBlock()
			if len(w.buf)+w.bs+ChecksumSize > cap(w.buf) {
				if err := w.flush(); err != nil {
					return n, err
				}
			}
		}
	}
	return n, nil
}

// finishBlock appends the checksum of the open block.
func (w *Writer) finishBlock() {
	data := w.buf[len(w.buf)-w.open:]
	w.buf = binary.LittleEndian.AppendUint32(w.buf, blockSum(data, w.block))
	w.block++
	w.open = 0
}

func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = err
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// Close writes the last block. It fails with ErrLength if fewer than
// Header.Length bytes were written. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.written != w.h.Length {
		w.err = fmt.Errorf("%w: wrote %d of %d bytes", ErrLength, w.written, w.h.Length)
		return w.err
	}
	if w.open > 0 {
		w.finishBlock()
	}
	if err := w.flush(); err != nil {
		return err
	}
	w.err = fmt.Errorf("shard: writer closed")
	return nil
}

// Written returns the number of data bytes accepted so far.
func (w *Writer) Written() int64 { return w.written }

// ReadFrom reads data from r straight into the frame buffer until
// Header.Length bytes were accepted or r returns an error; r returning
// io.EOF early is not an error here (Close reports the short length). It
// reads no byte past Header.Length.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for w.err == nil && w.written < w.h.Length {
		room := int64(w.bs - w.open)
		room = min(room, w.h.Length-w.written)
		start := len(w.buf)
		m, err := r.Read(w.buf[start : start+int(room)])
		w.buf = w.buf[:start+m]
		w.open += m
		w.written += int64(m)
		total += int64(m)
		if w.open == w.bs {
			w.finishBlock()
			if len(w.buf)+w.bs+ChecksumSize > cap(w.buf) {
				if err := w.flush(); err != nil {
					return total, err
				}
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	return total, w.err
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Frame writes the framed shard described by h to dst, reading exactly
// h.Length data bytes from r. It stops with ctx's error once ctx is done,
// and fails with an error matching ErrLength (and io.ErrUnexpectedEOF) if r
// ends early. On error dst holds a partial frame the caller must discard.
func Frame(ctx context.Context, dst io.Writer, h Header, r io.Reader) error {
	w := NewWriter(dst, h)
	if _, err := w.ReadFrom(ctxReader{ctx, r}); err != nil {
		return err
	}
	if w.Written() < h.Length {
		return fmt.Errorf("%w: %w after %d of %d bytes", ErrLength, io.ErrUnexpectedEOF, w.Written(), h.Length)
	}
	return w.Close()
}
