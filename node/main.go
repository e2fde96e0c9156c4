package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Dialer connects to the metadata service at addrs (the lead wires
// meta/remote here).
type Dialer func(addrs []string) (Registrar, error)

// Main implements
//
//	objd node --drive DIR [--drive DIR ...] --meta ADDRS --listen ADDR --zone Z
//	          [--region R] [--rack R] [--host H] [--class hdd|ssd] [--id ID]
//	          [--advertise ADDR] [--heartbeat 5s] [--scrub-rate BYTES/S]
//	          [--scrub-interval 24h] [--log-level info]
//
// args excludes the program and subcommand names. It runs until ctx is
// done. Usage errors are reported on stderr and returned.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, dial Dialer) error {
	fs := flag.NewFlagSet("objd node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		drives              stringList
		cfg                 Config
		metaAddrs, logLevel string
		scrubRate           int64
	)
	fs.Var(&drives, "drive", "drive folder (repeat for several drives)")
	fs.StringVar(&metaAddrs, "meta", "", "metadata service addresses, comma separated")
	fs.StringVar(&cfg.Listen, "listen", "", "address to serve on, host:port")
	fs.StringVar(&cfg.Advertise, "advertise", "", "address registered with metad (default: the listen address)")
	fs.StringVar(&cfg.Region, "region", "", "failure domain: region")
	fs.StringVar(&cfg.Zone, "zone", "", "failure domain: zone (required)")
	fs.StringVar(&cfg.Rack, "rack", "", "failure domain: rack")
	fs.StringVar(&cfg.Host, "host", "", "failure domain: host")
	fs.StringVar(&cfg.Class, "class", "hdd", "device class: hdd or ssd")
	fs.StringVar(&cfg.ID, "id", "", "node ID (default: generated once, kept in the first drive)")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat", 5*time.Second, "heartbeat interval")
	fs.Int64Var(&scrubRate, "scrub-rate", 32<<20, "scrub read rate, bytes per second")
	fs.DurationVar(&cfg.Scrub.Interval, "scrub-interval", 24*time.Hour, "time between scrub passes")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(fs, "unexpected arguments %q", fs.Args())
	}
	cfg.Drives = drives
	cfg.Scrub.BytesPerSecond = scrubRate
	switch {
	case len(drives) == 0:
		return usageErr(fs, "at least one --drive is required")
	case cfg.Listen == "":
		return usageErr(fs, "--listen is required")
	case cfg.Zone == "":
		return usageErr(fs, "--zone is required")
	case metaAddrs == "":
		return usageErr(fs, "--meta is required")
	case scrubRate <= 0:
		return usageErr(fs, "--scrub-rate must be positive")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return usageErr(fs, "--log-level %q", logLevel)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := cfg.Validate(); err != nil {
		return usageErr(fs, "%v", err)
	}
	if dial == nil {
		return errors.New("node: no metadata dialer")
	}
	var addrs []string
	for _, a := range strings.Split(metaAddrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	reg, err := dial(addrs)
	if err != nil {
		return fmt.Errorf("node: connect to metadata service: %w", err)
	}
	cfg.Meta = reg
	if mk, ok := reg.(shardMarker); ok {
		cfg.OnBadShard = func(ctx context.Context, info store.ShardInfo, err error) {
			// Record the shard missing so reads go around it and repair
			// rebuilds it. A pack the metadata service does not know (an
			// orphan awaiting GC) makes this fail harmlessly.
			if merr := mk.MarkShardsMissing(ctx, newReqID(), info.ID.Pack, []int{info.ID.Index}); merr != nil {
				cfg.Logger.Warn("could not record bad shard", "pack", info.ID.Pack.String(), "shard", info.ID.Index, "err", merr)
				return
			}
			cfg.Logger.Warn("bad shard recorded missing", "pack", info.ID.Pack.String(), "shard", info.ID.Index, "err", err)
		}
	}
	cfg.Ready = func(addr string) { fmt.Fprintf(stdout, "node serving on %s\n", addr) }
	return Run(ctx, cfg)
}

// shardMarker is the part of the metadata service the scrubber reports to.
type shardMarker interface {
	MarkShardsMissing(ctx context.Context, reqID string, id pack.ID, shards []int) error
}

func newReqID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ErrUsage marks command line errors.
var ErrUsage = errors.New("node: usage")

func usageErr(fs *flag.FlagSet, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(fs.Output(), "objd node:", msg)
	fs.Usage()
	return fmt.Errorf("%w: %s", ErrUsage, msg)
}
