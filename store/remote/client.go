package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

// Options configure a Client. The zero value is valid.
type Options struct {
	// Transport overrides the HTTP transport (tests); nil means a transport
	// tuned for many concurrent requests to one node.
	Transport http.RoundTripper
	// MaxIdleConnsPerHost of the default transport; 0 means 256. Readers
	// fanning out to a node keep this many connections warm.
	MaxIdleConnsPerHost int
	// DialTimeout of the default transport; 0 means 5 s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout of the default transport: how long a node may
	// take to answer once a request is sent (a Put's answer follows its
	// fsyncs); 0 means 30 s. A hung node then fails with ErrUnavailable
	// even when the caller's ctx has no deadline.
	ResponseHeaderTimeout time.Duration
	// MaxRead splits ReadAt into GETs of at most this many bytes; 0 means
	// 8 MiB. At most MaxRead (the protocol's limit).
	MaxRead int
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.MaxIdleConnsPerHost < 0 || o.DialTimeout < 0 || o.ResponseHeaderTimeout < 0 || o.MaxRead < 0 || o.MaxRead > MaxRead {
		return fmt.Errorf("remote: invalid options %+v", o)
	}
	return nil
}

// Client is a store.Store on a remote storage node. Safe for concurrent use.
type Client struct {
	base    string // "http://host:port"
	hc      *http.Client
	maxRead int
}

var (
	_ store.Store  = (*Client)(nil)
	_ store.Usager = (*Client)(nil)
)

// New returns a client for the node at addr ("host:port" or an http:// URL).
// It does not connect until the first request.
func New(addr string, opt Options) (*Client, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(addr, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		base = "http://" + base
	}
	rt := opt.Transport
	if rt == nil {
		rt = NewTransport(opt)
	}
	c := &Client{base: base, hc: &http.Client{Transport: rt}, maxRead: opt.MaxRead}
	if c.maxRead == 0 {
		c.maxRead = 8 << 20
	}
	return c, nil
}

// NewTransport returns the HTTP transport New uses by default; share one
// between the clients of many nodes to pool connections together.
func NewTransport(opt Options) *http.Transport {
	idle := opt.MaxIdleConnsPerHost
	if idle == 0 {
		idle = 256
	}
	dt := opt.DialTimeout
	if dt == 0 {
		dt = 5 * time.Second
	}
	rht := opt.ResponseHeaderTimeout
	if rht == 0 {
		rht = 30 * time.Second
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: dt, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          0, // no global cap
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // shard bytes do not compress
		ResponseHeaderTimeout: rht,
		WriteBufferSize:       64 << 10,
		ReadBufferSize:        64 << 10,
	}
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

func (c *Client) shardURL(id store.ShardID) string {
	return c.base + "/shard/" + id.Pack.String() + "/" + strconv.Itoa(id.Index)
}

// unavailable marks a transport error.
func unavailable(op string, id store.ShardID, err error) error {
	return fmt.Errorf("remote: %s %v/%d: %w: %w", op, id.Pack, id.Index, store.ErrUnavailable, err)
}

// statusError maps a non-success response to the store sentinel.
func statusError(op string, id store.ShardID, resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	code := resp.Header.Get(ErrorHeader)
	sentinel := codeError(code)
	if sentinel == nil {
		sentinel = store.ErrUnavailable // not our node, or a proxy in between
	}
	return fmt.Errorf("remote: %s %v/%d: %s (%s): %w", op, id.Pack, id.Index, strings.TrimSpace(string(msg)), resp.Status, sentinel)
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// Put implements store.Store.
func (c *Client) Put(ctx context.Context, info store.ShardInfo, r io.Reader) error {
	id := info.ID
	if info.Size < 0 {
		return fmt.Errorf("remote: put %v/%d: negative size %d: %w", id.Pack, id.Index, info.Size, ErrBadRequest)
	}
	u := c.shardURL(id) + "?k=" + strconv.Itoa(info.K) + "&m=" + strconv.Itoa(info.M) + "&size=" + strconv.FormatInt(info.Size, 10)
	body := &bodyReader{r: r, left: info.Size}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, body)
	if err != nil {
		return fmt.Errorf("remote: put %v/%d: %w", id.Pack, id.Index, err)
	}
	req.ContentLength = info.Size
	if info.Size == 0 {
		req.Body = http.NoBody
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		left, eof, berr := body.state()
		switch {
		case berr != nil:
			return fmt.Errorf("remote: put %v/%d: body: %w", id.Pack, id.Index, berr)
		case left > 0 && eof:
			return fmt.Errorf("remote: put %v/%d: body ended %d bytes short: %w", id.Pack, id.Index, left, io.ErrUnexpectedEOF)
		}
		return unavailable("put", id, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return statusError("put", id, resp)
	}
	return nil
}

// bodyReader passes at most left bytes of r, recording how r ended, so Put
// can tell a failing source from a failing network.
type bodyReader struct {
	r io.Reader
	// mu guards the fields below: the transport reads the body in its own
	// goroutine, which may still be running when Do returns an error.
	mu   sync.Mutex
	left int64
	eof  bool
	err  error
}

// state returns how the body ended.
func (b *bodyReader) state() (left int64, eof bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.left, b.eof, b.err
}

func (b *bodyReader) Read(p []byte) (int, error) {
	b.mu.Lock()
	left := b.left
	b.mu.Unlock()
	if left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p) // not under mu: it may block
	b.mu.Lock()
	defer b.mu.Unlock()
	b.left -= int64(n)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// ReadAt implements store.Store. Reads above MaxRead are split into
// sequential GETs; each streams straight into p.
func (c *Client) ReadAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	if off < 0 {
		return fmt.Errorf("remote: read %v/%d at %d: %w", id.Pack, id.Index, off, store.ErrOutOfRange)
	}
	for {
		n := min(len(p), c.maxRead)
		if err := c.readAt(ctx, id, p[:n], off); err != nil {
			return err
		}
		p, off = p[n:], off+int64(n)
		if len(p) == 0 {
			return nil
		}
	}
}

func (c *Client) readAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	u := c.shardURL(id) + "?off=" + strconv.FormatInt(off, 10) + "&len=" + strconv.Itoa(len(p))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("remote: read %v/%d: %w", id.Pack, id.Index, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return unavailable("read", id, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return statusError("read", id, resp)
	}
	if resp.ContentLength != int64(len(p)) {
		return unavailable("read", id, fmt.Errorf("response of %d bytes, want %d", resp.ContentLength, len(p)))
	}
	if _, err := io.ReadFull(resp.Body, p); err != nil {
		return unavailable("read", id, err)
	}
	return nil
}

// Stat implements store.Store.
func (c *Client) Stat(ctx context.Context, id store.ShardID) (store.ShardInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.shardURL(id), nil)
	if err != nil {
		return store.ShardInfo{}, fmt.Errorf("remote: stat %v/%d: %w", id.Pack, id.Index, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return store.ShardInfo{}, unavailable("stat", id, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return store.ShardInfo{}, statusError("stat", id, resp)
	}
	size, err1 := strconv.ParseInt(resp.Header.Get(SizeHeader), 10, 64)
	k, err2 := strconv.Atoi(resp.Header.Get(KHeader))
	m, err3 := strconv.Atoi(resp.Header.Get(MHeader))
	if err := errors.Join(err1, err2, err3); err != nil {
		return store.ShardInfo{}, unavailable("stat", id, err)
	}
	return store.ShardInfo{ID: id, Size: size, K: k, M: m}, nil
}

// Delete implements store.Store.
func (c *Client) Delete(ctx context.Context, id store.ShardID) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.shardURL(id), nil)
	if err != nil {
		return fmt.Errorf("remote: delete %v/%d: %w", id.Pack, id.Index, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return unavailable("delete", id, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent {
		return statusError("delete", id, resp)
	}
	return nil
}

// Walk implements store.Store. The listing streams; a listing cut short
// fails with store.ErrUnavailable.
func (c *Client) Walk(ctx context.Context, fn func(store.ShardInfo) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/shards", nil)
	if err != nil {
		return fmt.Errorf("remote: walk: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return unavailable("walk", store.ShardID{}, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError("walk", store.ShardID{}, resp)
	}
	dec := json.NewDecoder(bufio.NewReader(resp.Body))
	for {
		var l WalkLine
		if err := dec.Decode(&l); err != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
			return unavailable("walk", store.ShardID{}, fmt.Errorf("listing cut short: %w", err))
		}
		switch {
		case l.End:
			return nil
		case l.Error != "":
			sentinel := codeError(l.Code)
			if sentinel == nil {
				sentinel = store.ErrUnavailable
			}
			return fmt.Errorf("remote: walk: %s: %w", l.Error, sentinel)
		}
		p, err := pack.ParseID(l.Pack)
		if err != nil {
			return unavailable("walk", store.ShardID{}, err)
		}
		if err := fn(store.ShardInfo{ID: store.ShardID{Pack: p, Index: l.Index}, Size: l.Size, K: l.K, M: l.M}); err != nil {
			return err
		}
	}
}

// Usage implements store.Usager.
func (c *Client) Usage(ctx context.Context) (store.Usage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/usage", nil)
	if err != nil {
		return store.Usage{}, fmt.Errorf("remote: usage: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return store.Usage{}, unavailable("usage", store.ShardID{}, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return store.Usage{}, statusError("usage", store.ShardID{}, resp)
	}
	var u store.Usage
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&u); err != nil {
		return store.Usage{}, unavailable("usage", store.ShardID{}, err)
	}
	return u, nil
}
