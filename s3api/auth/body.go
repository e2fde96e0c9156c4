package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
)

// lengthReader passes a body through and reports a body that ends before
// want bytes (want < 0: unknown) as ErrIncompleteBody.
type lengthReader struct {
	r    io.Reader
	want int64
	n    int64
	err  error
}

func (l *lengthReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.ErrUnexpectedEOF):
		l.err = fmt.Errorf("%w: body ended after %d bytes: %v", ErrIncompleteBody, l.n, err)
		err = l.err
	case err == io.EOF:
		if l.want >= 0 && l.n != l.want {
			l.err = fmt.Errorf("%w: body has %d bytes, Content-Length %d", ErrIncompleteBody, l.n, l.want)
			err = l.err
		}
	}
	return n, err
}

// sha256Reader hashes the body as it passes and fails at EOF when the hash
// is not want. With a known size the check happens on the Read that
// delivers the last byte, so a consumer that stops after size bytes still
// sees a mismatch.
type sha256Reader struct {
	r    io.Reader
	want [32]byte
	size int64 // -1 when unknown
	n    int64
	h    hash.Hash
	err  error
}

func (s *sha256Reader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.h == nil {
		s.h = sha256.New()
	}
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	last := err == nil && n > 0 && s.n == s.size
	if err == io.EOF || last {
		var got [32]byte
		s.h.Sum(got[:0])
		if subtle.ConstantTimeCompare(got[:], s.want[:]) != 1 {
			err = fmt.Errorf("%w: body sha256 %x, declared %x", ErrContentSHA256Mismatch, got, s.want)
		}
	}
	if last && err == nil {
		// Verified; the underlying reader reports EOF (or a longer body).
		return n, nil
	}
	if err != nil {
		s.err = err
		if errors.Is(err, ErrContentSHA256Mismatch) {
			// Withhold this Read's bytes so that io.ReadFull, which drops
			// an error that comes with the bytes it needs, reports it.
			return 0, err
		}
	}
	return n, err
}
