// Command metad runs one member of the Tessera metadata service: a Raft
// group (meta/raftmeta) served over gRPC (meta/remote).
//
//	metad --data DIR                      single voter on 127.0.0.1:7000 (raft) and :7001 (API)
//	metad --id m2 --data DIR2 --raft-addr 127.0.0.1:7010 --listen 127.0.0.1:7011 --join 127.0.0.1:7001
//
// A new data directory bootstraps a single-voter group unless --join names
// the API address of a member; the leader then adds this member as a voter.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var cfg config
	var level string
	flag.StringVar(&cfg.ID, "id", "", "server ID, unique in the group (default: the raft address)")
	flag.StringVar(&cfg.Data, "data", "", "data directory (required)")
	flag.StringVar(&cfg.RaftAddr, "raft-addr", "127.0.0.1:7000", "Raft listen and advertise address")
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:7001", "gRPC API listen address")
	flag.BoolVar(&cfg.Bootstrap, "bootstrap", false, "form a new single-voter group (implied for a new data dir without --join)")
	flag.StringVar(&cfg.Join, "join", "", "API address of a group member to join through")
	flag.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	flag.Parse()
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		fmt.Fprintln(os.Stderr, "metad: bad --log-level:", err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		cfg.Logger.Error("metad failed", "err", err)
		os.Exit(1)
	}
}
