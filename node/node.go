package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/disk"
)

// Registrar is the part of the metadata service a node talks to (a subset of
// meta.Service; meta/remote implements it).
type Registrar interface {
	// RegisterNode upserts the node's record.
	RegisterNode(ctx context.Context, reqID string, n meta.Node) error
	// Heartbeat updates capacity, health and LastSeen.
	Heartbeat(ctx context.Context, reqID string, n meta.Node) error
}

// Config configures Run.
type Config struct {
	// Drives are the drive folders; at least one. The node ID is kept in
	// the first.
	Drives []string
	// Listen is the address to serve on ("host:port"); ignored when
	// Listener is set.
	Listen   string
	Listener net.Listener
	// Advertise is the address registered with metad; "" means the
	// listener's address.
	Advertise string
	// ID is the node ID; "" means the one stored in the first drive,
	// generated on first start.
	ID string
	// Failure-domain labels and device class ("hdd" or "ssd").
	Region, Zone, Rack, Host, Class string
	// Meta receives registration and heartbeats; nil runs without metad
	// (tests, tools).
	Meta Registrar
	// HeartbeatInterval; 0 means 5 s.
	HeartbeatInterval time.Duration
	// Scrub configures the background scrubber; OnBadShard receives its
	// findings.
	Scrub      ScrubOptions
	OnBadShard BadShardFunc
	// Disk options for every drive (Logger defaults to Logger).
	Disk disk.Options
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Ready, if set, is called with the serving address once the node
	// accepts requests.
	Ready func(addr string)
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case len(c.Drives) == 0:
		return errors.New("node: no drives")
	case c.Listener == nil && c.Listen == "":
		return errors.New("node: no listen address")
	case c.Class != "" && c.Class != "hdd" && c.Class != "ssd":
		return fmt.Errorf("node: device class %q (want hdd or ssd)", c.Class)
	case c.HeartbeatInterval < 0:
		return fmt.Errorf("node: heartbeat interval %v", c.HeartbeatInterval)
	}
	if err := c.Scrub.Validate(); err != nil {
		return err
	}
	return c.Disk.Validate()
}

const idFile = "node-id"

// LoadID returns the node ID stored in dir, creating a new random one
// (written durably) if there is none.
func LoadID(dir string) (string, error) {
	path := filepath.Join(dir, idFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" {
			return "", fmt.Errorf("node: empty node id in %s", path)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node: read node id: %w", err)
	}
	var r [8]byte
	rand.Read(r[:])
	id := "n-" + hex.EncodeToString(r[:])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("node: write node id: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", fmt.Errorf("node: write node id: %w", err)
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		var d *os.File
		if d, err = os.Open(dir); err == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("node: write node id: %w", err)
	}
	return id, nil
}

// Run runs a storage node until ctx is done: it opens the drives, serves the
// shard protocol, registers with metad and heartbeats, and scrubs in the
// background. It returns nil after a clean shutdown.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Disk.Logger == nil {
		cfg.Disk.Logger = log
	}
	if cfg.Scrub.Logger == nil {
		cfg.Scrub.Logger = log
	}
	id := cfg.ID
	if id == "" {
		var err error
		if id, err = LoadID(cfg.Drives[0]); err != nil {
			return err
		}
	}
	log = log.With("node", id)
	set, err := disk.OpenSet(cfg.Drives, cfg.Disk)
	if err != nil {
		return err
	}
	defer set.Close()
	l := cfg.Listener
	if l == nil {
		if l, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("node: listen: %w", err)
		}
	}
	addr := cfg.Advertise
	if addr == "" {
		addr = l.Addr().String()
	}
	srv := &http.Server{
		Handler:           &Server{Store: set, Options: ServerOptions{Logger: log}},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("node: serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	if cfg.Meta != nil {
		hb := &heartbeater{cfg: cfg, store: set, log: log, node: meta.Node{
			ID: id, Addr: addr, Region: cfg.Region, Zone: cfg.Zone, Rack: cfg.Rack, Host: cfg.Host, Class: cfg.Class,
		}}
		g.Go(func() error { hb.run(gctx); return nil })
	}
	scr := &Scrubber{Store: set, Options: cfg.Scrub, OnBad: cfg.OnBadShard}
	g.Go(func() error { return scr.Run(gctx) })
	log.Info("node: serving", "op", "start", "addr", addr, "drives", len(cfg.Drives))
	if cfg.Ready != nil {
		cfg.Ready(l.Addr().String())
	}
	err = g.Wait()
	log.Info("node: stopped", "op", "stop", "err", err)
	return err
}

// heartbeater registers the node, then heartbeats every interval,
// re-registering when metad forgot the node.
type heartbeater struct {
	cfg   Config
	store store.Store
	log   *slog.Logger
	node  meta.Node
	seq   atomic.Int64
}

func (h *heartbeater) reqID(kind string) string {
	return fmt.Sprintf("%s-%s-%d-%d", h.node.ID, kind, time.Now().UnixNano(), h.seq.Add(1))
}

// fill sets the node's capacity fields from the store.
func (h *heartbeater) fill(ctx context.Context) meta.Node {
	n := h.node
	u, err := usageOf(ctx, h.store)
	if err != nil {
		h.log.Warn("node: usage", "op", "heartbeat", "err", err)
	}
	n.Capacity, n.Free, n.Used, n.Shards, n.Failed = u.TotalBytes, u.FreeBytes, u.UsedBytes, u.Shards, u.Failed
	n.LastSeen = time.Now().UnixNano()
	return n
}

func (h *heartbeater) run(ctx context.Context) {
	every := h.cfg.HeartbeatInterval
	if every == 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	registered := false
	for {
		rctx, cancel := context.WithTimeout(ctx, every)
		n := h.fill(rctx)
		var err error
		if !registered {
			if err = h.cfg.Meta.RegisterNode(rctx, h.reqID("reg"), n); err == nil {
				registered = true
				h.log.Info("node: registered", "op", "register", "addr", n.Addr)
			}
		} else {
			err = h.cfg.Meta.Heartbeat(rctx, h.reqID("hb"), n)
			if errors.Is(err, meta.ErrNoSuchNode) {
				registered = false
			}
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			h.log.Warn("node: metad unreachable", "op", "heartbeat", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
