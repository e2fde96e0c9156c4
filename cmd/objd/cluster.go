package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"

	"github.com/tessera-store/tessera/gateway"
	"github.com/tessera-store/tessera/meta/remote"
	"github.com/tessera-store/tessera/node"
)

func runGateway(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("objd gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg gateway.GatewayConfig
	var metaAddrs, domains, logLevel string
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:9000", "S3 listen address")
	fs.StringVar(&metaAddrs, "meta", "", "metad API addresses, comma separated (required)")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "S3 region name")
	fs.StringVar(&domains, "domain", "", "comma-separated base domains for virtual-host-style requests")
	fs.StringVar(&cfg.AdminListen, "admin-listen", "", "address for pprof and /metrics (off when empty)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key file (PEM)")
	fs.StringVar(&cfg.Pool, "pool", "default", "pool for new data (created if missing)")
	fs.IntVar(&cfg.K, "k", 4, "data shards of a new pool")
	fs.IntVar(&cfg.M, "m", 2, "parity shards of a new pool")
	fs.StringVar(&cfg.FailureDomain, "failure-domain", "host", "failure-domain level of a new pool: host, rack, zone, region")
	fs.StringVar(&cfg.KeyringFile, "keyring", "", "file with the key sealing user secrets (default: derived from the root secret)")
	fs.DurationVar(&cfg.HeartbeatTimeout, "heartbeat-timeout", 0, "a node silent this long counts as down (default 15s)")
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
	if metaAddrs != "" {
		cfg.Meta = strings.Split(metaAddrs, ",")
	}
	if domains != "" {
		cfg.Domains = strings.Split(domains, ",")
	}
	cfg.Logger, cfg.Stdout, cfg.Getenv = log, stdout, os.Getenv
	cfg.ChunkCacheBytes = *cacheMiB << 20
	if *cacheMiB <= 0 {
		cfg.ChunkCacheBytes = -1
	}
	return gateway.RunGateway(ctx, cfg)
}

func runNode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return node.Main(ctx, args, stdout, stderr, func(addrs []string) (node.Registrar, error) {
		return remote.Dial(addrs, remote.Options{})
	})
}
