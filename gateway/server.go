// Package gateway assembles Tessera's processes from its packages: the
// all-in-one server (S3 gateway, embedded single-voter metadata, storage on
// local drive folders) and the cluster gateway (S3 in front of metad and
// storage nodes). Both serve the same object layer; only where metadata and
// shards live differs.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-store/tessera/internal/keyring"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/object"
	"github.com/tessera-store/tessera/placement"
	"github.com/tessera-store/tessera/s3api"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/disk"
)

// ServerConfig configures `objd server`.
type ServerConfig struct {
	Listen      string   // S3 address (127.0.0.1:9000)
	Data        string   // data folder (./data)
	Drives      []string // drive folders; default 6 inside Data
	Region      string   // us-east-1
	Domains     []string // virtual-host style base domains
	AdminListen string   // pprof and metrics; "" = off
	TLSCert     string
	TLSKey      string
	GCGrace     time.Duration // 0 = 1h
	// ChunkCacheBytes bounds the decoded-chunk cache (0 = 256 MiB, < 0 = off).
	ChunkCacheBytes int64
	GCEvery         time.Duration // 0 = 1m
	Logger          *slog.Logger
	Stdout          io.Writer // where the banner goes
	Getenv          func(string) string
	// Ready, if set, receives the bound S3 address once serving.
	Ready func(addr string)
}

func (c *ServerConfig) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:9000"
	}
	if c.Data == "" {
		c.Data = "./data"
	}
	if len(c.Drives) == 0 {
		for i := 1; i <= 6; i++ {
			c.Drives = append(c.Drives, filepath.Join(c.Data, fmt.Sprintf("drive%d", i)))
		}
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.GCGrace == 0 {
		c.GCGrace = time.Hour
	}
	if c.GCEvery == 0 {
		c.GCEvery = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
}

// ExpandDrives expands "{1...N}" patterns (as in /mnt/disk{1...6}).
func ExpandDrives(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		i := strings.Index(p, "{")
		j := strings.Index(p, "}")
		if i < 0 || j < i {
			out = append(out, p)
			continue
		}
		var lo, hi int
		if _, err := fmt.Sscanf(p[i:j+1], "{%d...%d}", &lo, &hi); err != nil || lo > hi || hi-lo >= 1024 {
			return nil, fmt.Errorf("gateway: bad drive pattern %q (want like /mnt/disk{1...6})", p)
		}
		for n := lo; n <= hi; n++ {
			out = append(out, fmt.Sprintf("%s%d%s", p[:i], n, p[j+1:]))
		}
	}
	return out, nil
}

// RunServer runs the all-in-one server until ctx is done.
func RunServer(ctx context.Context, cfg ServerConfig) error {
	cfg.setDefaults()
	log := cfg.Logger
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return err
	}
	root, credSource, err := rootCredentials(cfg.Data, cfg.Getenv)
	if err != nil {
		return err
	}
	kr, _, err := keyring.LoadOrCreate(filepath.Join(cfg.Data, "keyring.key"))
	if err != nil {
		return err
	}

	ms, closeMeta, err := openEmbeddedMeta(ctx, filepath.Join(cfg.Data, "meta"), log)
	if err != nil {
		return err
	}
	defer closeMeta()

	stores := &storeMap{stores: make(map[string]store.Store)}
	var driveIDs []string
	for i, dir := range cfg.Drives {
		st, err := disk.Open(dir, disk.Options{Logger: log})
		if err != nil {
			return fmt.Errorf("gateway: open drive %s: %w", dir, err)
		}
		defer st.Close()
		id := fmt.Sprintf("drive%d", i+1)
		stores.stores[id] = st
		driveIDs = append(driveIDs, id)
	}
	k, m := placement.Adapt(len(driveIDs))
	layer, err := object.New(object.Options{
		Meta:       ms,
		Stores:     stores,
		Placement:  &driveRing{k: k, m: m, drives: driveIDs},
		Keyring:    kr,
		Logger:     log,
		CacheBytes: cfg.ChunkCacheBytes,
	})
	if err != nil {
		return err
	}
	gc := &collector{
		meta:   ms,
		nodes:  func(context.Context) ([]string, error) { return driveIDs, nil },
		store:  stores.Store,
		grace:  cfg.GCGrace,
		now:    time.Now,
		log:    log,
		repair: &repairer{meta: ms, store: stores.Store, targets: sameNodeTargets, log: log},
	}
	go gc.run(ctx, cfg.GCEvery)

	fmt.Fprintf(cfg.Stdout, "Tessera all-in-one server\n")
	fmt.Fprintf(cfg.Stdout, "  erasure code: %d+%d over %d drives (%s)\n", k, m, len(driveIDs), strings.Join(cfg.Drives, ", "))
	fmt.Fprintf(cfg.Stdout, "  credentials:  %s\n", credSource)
	if strings.HasPrefix(credSource, "generated") {
		fmt.Fprintf(cfg.Stdout, "  access key:   %s\n  secret key:   %s\n  (printed once; the file above keeps them)\n", root.AccessKey, root.SecretKey)
	}
	return serve(ctx, serveConfig{
		listen: cfg.Listen, adminListen: cfg.AdminListen, tlsCert: cfg.TLSCert, tlsKey: cfg.TLSKey,
		region: cfg.Region, domains: cfg.Domains, log: log, stdout: cfg.Stdout, ready: cfg.Ready,
		backend: &backend{Layer: layer, root: root}, meta: ms, keyring: kr, root: root,
		mode: "server",
		pools: func(context.Context) ([]meta.Pool, error) {
			return []meta.Pool{{Name: "drives", K: k, M: m, Domain: "drive"}}, nil
		},
	})
}

type serveConfig struct {
	listen, adminListen, tlsCert, tlsKey, region string
	domains                                      []string
	log                                          *slog.Logger
	stdout                                       io.Writer
	ready                                        func(string)
	backend                                      *backend
	meta                                         meta.Service
	keyring                                      object.Keyring
	root                                         Credentials
	nodes                                        func(context.Context) ([]NodeReport, error)
	pools                                        func(context.Context) ([]meta.Pool, error)
	mode                                         string
	// readyCheck, if set, must pass for /-/health/ready (cluster: the
	// placement map has nodes).
	readyCheck func() error
}

// serve runs the S3 endpoint (with admin, health and metrics under /-/).
func serve(ctx context.Context, sc serveConfig) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s3 := s3api.New(sc.backend, s3api.Options{Region: sc.region, Domains: sc.domains, Logger: sc.log, Registry: reg})
	adm := newAdmin(sc.meta, sc.keyring, sc.root, sc.nodes, sc.pools, sc.mode, sc.log)

	mux := http.NewServeMux()
	mux.Handle(AdminPrefix, adm)
	mux.HandleFunc("/-/health/live", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/-/health/ready", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := sc.meta.Stats(ctx); err != nil {
			http.Error(w, "metadata unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if sc.readyCheck != nil {
			if err := sc.readyCheck(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("/-/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	top := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/-/") {
			mux.ServeHTTP(w, r)
			return
		}
		s3.ServeHTTP(w, r)
	})

	ln, err := net.Listen("tcp", sc.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           top,
		ReadHeaderTimeout: 30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(sc.log.Handler(), slog.LevelWarn),
	}
	if sc.adminListen != "" {
		amux := http.NewServeMux()
		amux.HandleFunc("/debug/pprof/", pprof.Index)
		amux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		amux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		amux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		amux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		amux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		asrv := &http.Server{Addr: sc.adminListen, Handler: amux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := asrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				sc.log.Error("admin listener failed", "err", err)
			}
		}()
		defer asrv.Close()
	}
	scheme := "http"
	if sc.tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(sc.stdout, "  endpoint:     %s://%s\n", scheme, ln.Addr())
	fmt.Fprintf(sc.stdout, "ready: serving S3 on %s://%s\n", scheme, ln.Addr())
	if sc.ready != nil {
		sc.ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if sc.tlsCert != "" {
			errc <- srv.ServeTLS(ln, sc.tlsCert, sc.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}
