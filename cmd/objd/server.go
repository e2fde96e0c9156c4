package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"

	"github.com/tessera-store/tessera/gateway"
)

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("objd server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg gateway.ServerConfig
	var drives stringList
	var domains, logLevel string
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:9000", "S3 listen address")
	fs.StringVar(&cfg.Data, "data", "./data", "data folder (metadata, credentials, default drives)")
	fs.Var(&drives, "drive", "drive folder (repeat, or a pattern like /mnt/disk{1...6}); default 6 folders inside --data")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "S3 region name")
	fs.StringVar(&domains, "domain", "", "comma-separated base domains for virtual-host-style requests")
	fs.StringVar(&cfg.AdminListen, "admin-listen", "", "address for pprof and /metrics (off when empty)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (PEM); serves HTTPS when set")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key file (PEM)")
	fs.DurationVar(&cfg.GCGrace, "gc-grace", 0, "grace period before unreferenced chunks and orphan shards are deleted (default 1h)")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	cacheMiB := fs.Int64("chunk-cache-mib", 256, "decoded-chunk cache size in MiB (0 turns it off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(logLevel, stderr)
	if err != nil {
		return err
	}
	if cfg.Drives, err = gateway.ExpandDrives(drives); err != nil {
		return err
	}
	if domains != "" {
		cfg.Domains = strings.Split(domains, ",")
	}
	cfg.Logger, cfg.Stdout, cfg.Getenv = log, stdout, os.Getenv
	cfg.ChunkCacheBytes = *cacheMiB << 20
	if *cacheMiB <= 0 {
		cfg.ChunkCacheBytes = -1
	}
	return gateway.RunServer(ctx, cfg)
}
