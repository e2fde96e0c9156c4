package auth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// aws-chunked framing (Content-Encoding: aws-chunked), signed form:
//
//	<hex size>;chunk-signature=<64 hex>\r\n <size bytes> \r\n   (repeated)
//	0;chunk-signature=<64 hex>\r\n
//	[<trailer name>:<value>\r\n ... x-amz-trailer-signature:<64 hex>\r\n]
//	\r\n
//
// Unsigned form (STREAMING-UNSIGNED-PAYLOAD-TRAILER): "<hex size>\r\n" chunk
// headers, "0\r\n", the trailers, "\r\n". Trailer lines may end in "\n" or
// "\r\n" and blank lines between them are skipped (minio-go writes
// "name:value\n\r\n").
//
// Chunk i's signature is HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" date
// "\n" scope "\n" sig(i-1) "\n" hex(sha256("")) "\n" hex(sha256(chunk i))),
// with sig(0) the seed signature of the Authorization header. The trailer
// signature is HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n"
// sig(final chunk) "\n" hex(sha256(trailer lines as "name:value\n"))).

const (
	// chunkedBufSize is the read buffer of a chunked body; bodies smaller
	// than it get size+minChunkedBuf, which holds any valid header line and
	// the whole trailer section.
	chunkedBufSize = 64 << 10
	minChunkedBuf  = 8 << 10
	// maxChunkLine bounds a chunk header line: 16 hex digits,
	// ";chunk-signature=", 64 hex digits and CRLF need 99 bytes.
	maxChunkLine = 256
	// maxTrailerBytes bounds everything after the final chunk.
	maxTrailerBytes = 4 << 10
	// maxChunkSizeDigits bounds the hex size (no overflow of int64).
	maxChunkSizeDigits = 15
)

type chunkedOptions struct {
	signed   bool     // chunk signatures present (STREAMING-AWS4-HMAC-SHA256-*)
	trailer  bool     // trailers allowed (*-TRAILER)
	declared []string // x-amz-trailer names, lower case
	size     int64    // x-amz-decoded-content-length
	key      []byte   // signing key (signed only)
	amzDate  string
	scope    string
	seed     [32]byte // seed signature
}

// chunkedReader decodes and verifies an aws-chunked body while it streams.
// Chunk data is passed through as it arrives; a chunk whose signature fails
// makes the Read that completes it return (0, ErrSignatureDoesNotMatch).
// The Read that completes the last declared byte also checks the final
// chunk and the trailers, and io.EOF comes only after all of that and the
// decoded length checked out. Not safe for concurrent use.
type chunkedReader struct {
	br  *bufio.Reader
	o   chunkedOptions
	mac hash.Hash // HMAC-SHA256 with the signing key
	h   hash.Hash // SHA-256 of the current chunk

	prefix []byte   // "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n"
	prev   [32]byte // previous signature in the chain
	want   [32]byte // current chunk's declared signature
	sum    [32]byte // scratch for hash sums
	hx     [64]byte // scratch for hex encodings

	left    int64 // bytes left in the current chunk
	decoded int64 // payload bytes passed so far
	err     error // sticky; io.EOF when done

	trailerName, alg, value string // the trailing checksum, if any
}

func newChunkedReader(r io.Reader, o chunkedOptions) *chunkedReader {
	// Small bodies get a buffer just larger than their framing needs.
	bufSize := chunkedBufSize
	if o.size < chunkedBufSize-minChunkedBuf {
		bufSize = int(o.size) + minChunkedBuf
	}
	c := &chunkedReader{br: bufio.NewReaderSize(r, bufSize), o: o, prev: o.seed}
	if o.signed {
		c.mac = hmac.New(sha256.New, o.key)
		c.h = sha256.New()
		c.prefix = []byte("AWS4-HMAC-SHA256-PAYLOAD\n" + o.amzDate + "\n" + o.scope + "\n")
	}
	return c
}

func (c *chunkedReader) trailerChecksum() (alg, value string, ok bool) {
	if c.err != io.EOF || c.alg == "" {
		return "", "", false
	}
	return c.alg, c.value, true
}

func (c *chunkedReader) fail(err error) error {
	c.err = err
	return err
}

// Read implements io.Reader.
func (c *chunkedReader) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if err := c.nextChunk(); err != nil {
			return 0, c.fail(err)
		}
	}
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	if c.o.signed {
		c.h.Write(p[:n])
	}
	c.left -= int64(n)
	c.decoded += int64(n)
	if err != nil {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: aws-chunked body ended inside a chunk after %d payload bytes", ErrIncompleteBody, c.decoded)
		}
		return 0, c.fail(err)
	}
	// A failed verdict returns 0 bytes: the bytes of this Read are withheld,
	// so even io.ReadFull, which drops an error that comes with the last
	// bytes it needs, reports it.
	if c.left == 0 {
		if err := c.endChunk(); err != nil {
			return 0, c.fail(err)
		}
		// All declared bytes are out: check the final chunk and the
		// trailers now, so that a consumer that stops after Size bytes
		// still gets the verdict with the last bytes.
		if c.decoded == c.o.size {
			if err := c.nextChunk(); err != io.EOF {
				if err == nil {
					err = fmt.Errorf("%w: data after x-amz-decoded-content-length bytes", ErrMalformedChunk)
				}
				return 0, c.fail(err)
			}
			c.err = io.EOF
		}
	}
	return n, nil
}

// endChunk consumes the CRLF after a chunk's data and checks its signature.
func (c *chunkedReader) endChunk() error {
	for _, want := range [2]byte{'\r', '\n'} {
		b, err := c.br.ReadByte()
		if err != nil {
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%w: aws-chunked body ended after chunk data", ErrIncompleteBody)
			}
			return err
		}
		if b != want {
			return fmt.Errorf("%w: chunk data not followed by CRLF", ErrMalformedChunk)
		}
	}
	if c.o.signed {
		c.h.Sum(c.sum[:0])
		c.h.Reset()
		return c.checkChunkSig()
	}
	return nil
}

// checkChunkSig verifies c.want against the chain with c.sum the chunk hash.
func (c *chunkedReader) checkChunkSig() error {
	c.mac.Reset()
	c.mac.Write(c.prefix)
	hex.Encode(c.hx[:], c.prev[:])
	c.mac.Write(c.hx[:])
	c.mac.Write(emptyHashLine)
	hex.Encode(c.hx[:], c.sum[:])
	c.mac.Write(c.hx[:])
	c.mac.Sum(c.sum[:0])
	if subtle.ConstantTimeCompare(c.sum[:], c.want[:]) != 1 {
		return fmt.Errorf("%w: chunk signature after %d payload bytes", ErrSignatureDoesNotMatch, c.decoded)
	}
	c.prev = c.want
	return nil
}

var emptyHashLine = []byte("\n" + emptySHA256Hex + "\n")

// readLine returns the next line without its line ending, at most max bytes.
// The slice is valid until the next read.
func (c *chunkedReader) readLine(max int) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("%w: line longer than %d bytes", ErrMalformedChunk, max)
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("%w: aws-chunked body ended after %d payload bytes, want %d", ErrIncompleteBody, c.decoded, c.o.size)
	default:
		return nil, err
	}
	if len(line) > max {
		return nil, fmt.Errorf("%w: line longer than %d bytes", ErrMalformedChunk, max)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// nextChunk parses a chunk header; for the final chunk it also reads the
// trailers and returns io.EOF when everything checked out.
func (c *chunkedReader) nextChunk() error {
	line, err := c.readLine(maxChunkLine)
	if err != nil {
		return err
	}
	i := 0
	var size int64
	for ; i < len(line); i++ {
		d := unhex(line[i])
		if d < 0 {
			break
		}
		if i == maxChunkSizeDigits {
			return fmt.Errorf("%w: chunk size has more than %d hex digits", ErrMalformedChunk, maxChunkSizeDigits)
		}
		size = size<<4 | int64(d)
	}
	if i == 0 {
		return fmt.Errorf("%w: chunk header %q has no hex size", ErrMalformedChunk, trunc(string(line)))
	}
	ext := line[i:]
	if c.o.signed {
		const tag = ";chunk-signature="
		if len(ext) != len(tag)+64 || string(ext[:len(tag)]) != tag || !isLowerHex(ext[len(tag):]) {
			return fmt.Errorf("%w: chunk header %q lacks ;chunk-signature=<64 hex>", ErrMalformedChunk, trunc(string(line)))
		}
		if _, err := hex.Decode(c.want[:], ext[len(tag):]); err != nil {
			return fmt.Errorf("%w: chunk signature: %v", ErrMalformedChunk, err)
		}
	} else if len(ext) > 0 && ext[0] != ';' {
		return fmt.Errorf("%w: chunk header %q", ErrMalformedChunk, trunc(string(line)))
	}
	if size > c.o.size-c.decoded {
		return fmt.Errorf("%w: chunk of %d bytes exceeds x-amz-decoded-content-length %d", ErrMalformedChunk, size, c.o.size)
	}
	if size > 0 {
		c.left = size
		return nil
	}
	// Final chunk.
	if c.o.signed {
		copy(c.sum[:], emptySHA256[:])
		if err := c.checkChunkSig(); err != nil {
			return err
		}
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	if c.decoded != c.o.size {
		return fmt.Errorf("%w: aws-chunked body has %d payload bytes, x-amz-decoded-content-length %d", ErrIncompleteBody, c.decoded, c.o.size)
	}
	return io.EOF
}

var emptySHA256 = sha256.Sum256(nil)

func unhex(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

// readTrailers reads everything after the final chunk up to EOF.
func (c *chunkedReader) readTrailers() error {
	var canon []byte // trailer lines as "name:value\n", for the signature
	total := 0
	sawSig := false
	ended := false // the last line read was the blank terminator
	for {
		line, err := c.br.ReadSlice('\n')
		total += len(line)
		if total > maxTrailerBytes || errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%w: trailers longer than %d bytes", ErrMalformedChunk, maxTrailerBytes)
		}
		if err == io.EOF && len(line) == 0 {
			if !ended {
				return fmt.Errorf("%w: aws-chunked body lacks its final CRLF", ErrIncompleteBody)
			}
			break
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: aws-chunked body ended inside the trailers", ErrIncompleteBody)
		}
		if err != nil {
			return err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if ended = len(line) == 0; ended {
			continue
		}
		if !c.o.trailer {
			return fmt.Errorf("%w: data after the final chunk", ErrMalformedChunk)
		}
		if sawSig {
			return fmt.Errorf("%w: data after x-amz-trailer-signature", ErrMalformedChunk)
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("%w: trailer %q is not name:value", ErrMalformedChunk, trunc(string(line)))
		}
		// Names and the signature are taken exactly as sent: leniency here
		// would let a flipped bit through the signed trailer.
		if string(name) == "x-amz-trailer-signature" {
			if !c.o.signed {
				return fmt.Errorf("%w: trailer signature in an unsigned payload", ErrMalformedChunk)
			}
			if err := c.checkTrailerSig(canon, value); err != nil {
				return err
			}
			sawSig = true
			continue
		}
		if err := c.setTrailer(strings.ToLower(string(name)), string(bytes.TrimSpace(value))); err != nil {
			return err
		}
		canon = append(canon, line...)
		canon = append(canon, '\n')
	}
	if c.o.signed && c.o.trailer && c.alg != "" && !sawSig {
		// Indistinguishable from a body cut after the trailers.
		return fmt.Errorf("%w: trailers without x-amz-trailer-signature", ErrIncompleteBody)
	}
	if c.o.trailer && len(c.o.declared) > 0 && c.alg == "" {
		return fmt.Errorf("%w: declared trailer %s not sent", ErrMalformedChunk, c.o.declared[0])
	}
	return nil
}

// setTrailer records the trailing checksum header name: value.
func (c *chunkedReader) setTrailer(name, value string) error {
	suffix, ok := strings.CutPrefix(name, "x-amz-checksum-")
	if !ok || suffix == "" || len(suffix) > 16 {
		return fmt.Errorf("%w: unsupported trailer %q", ErrMalformedChunk, trunc(name))
	}
	for i := 0; i < len(suffix); i++ {
		if b := suffix[i]; !('a' <= b && b <= 'z' || '0' <= b && b <= '9') {
			return fmt.Errorf("%w: unsupported trailer %q", ErrMalformedChunk, trunc(name))
		}
	}
	if c.alg != "" {
		return fmt.Errorf("%w: more than one trailing checksum", ErrMalformedChunk)
	}
	if len(c.o.declared) > 0 {
		found := false
		for _, d := range c.o.declared {
			found = found || d == name
		}
		if !found {
			return fmt.Errorf("%w: trailer %s not declared in x-amz-trailer", ErrMalformedChunk, name)
		}
	}
	c.trailerName, c.alg, c.value = name, strings.ToUpper(suffix), value
	return nil
}

// checkTrailerSig verifies the trailer signature sig (hex) over canon.
func (c *chunkedReader) checkTrailerSig(canon, sig []byte) error {
	var want [32]byte
	if len(sig) != 64 || !isLowerHex(sig) {
		return fmt.Errorf("%w: x-amz-trailer-signature must be 64 lower-case hex digits", ErrMalformedChunk)
	}
	if _, err := hex.Decode(want[:], sig); err != nil {
		return fmt.Errorf("%w: x-amz-trailer-signature: %v", ErrMalformedChunk, err)
	}
	sum := sha256.Sum256(canon)
	c.mac.Reset()
	c.mac.Write([]byte("AWS4-HMAC-SHA256-TRAILER\n" + c.o.amzDate + "\n" + c.o.scope + "\n"))
	hex.Encode(c.hx[:], c.prev[:])
	c.mac.Write(c.hx[:])
	c.mac.Write([]byte{'\n'})
	hex.Encode(c.hx[:], sum[:])
	c.mac.Write(c.hx[:])
	var got [32]byte
	c.mac.Sum(got[:0])
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return fmt.Errorf("%w: trailer signature", ErrSignatureDoesNotMatch)
	}
	c.prev = want
	return nil
}
