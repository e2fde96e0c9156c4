package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"github.com/tessera-store/tessera/meta/raftmeta"
	"github.com/tessera-store/tessera/meta/remote"
)

// config is metad's configuration, from flags.
type config struct {
	ID, Data, RaftAddr, Listen, Join string
	Bootstrap                        bool
	Logger                           *slog.Logger
}

var errUsage = errors.New("metad: usage")

// run serves one member until ctx ends, then shuts down gracefully.
func run(ctx context.Context, cfg config) error {
	if cfg.Data == "" {
		return fmt.Errorf("%w: --data is required", errUsage)
	}
	if cfg.Bootstrap && cfg.Join != "" {
		return fmt.Errorf("%w: --bootstrap and --join exclude each other", errUsage)
	}
	if cfg.ID == "" {
		cfg.ID = cfg.RaftAddr
	}
	_, err := os.Stat(filepath.Join(cfg.Data, "raft"))
	fresh := errors.Is(err, os.ErrNotExist)
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("metad: listen: %w", err)
	}
	node, err := raftmeta.Open(raftmeta.Config{
		ID: cfg.ID, Dir: cfg.Data, RaftAddr: cfg.RaftAddr, APIAddr: lis.Addr().String(),
		Bootstrap: cfg.Bootstrap || (fresh && cfg.Join == ""), Logger: cfg.Logger,
	})
	if err != nil {
		lis.Close()
		return err
	}
	g := grpc.NewServer(remote.ServerOptions()...)
	remote.NewServer(node.Service(), node).Register(g)
	serveErr := make(chan error, 1)
	go func() { serveErr <- g.Serve(lis) }()
	cfg.Logger.Info("metad serving", "id", cfg.ID, "api", lis.Addr().String(), "raft", node.RaftAddr(), "data", cfg.Data)

	if cfg.Join != "" && fresh {
		if err := join(ctx, cfg, node, lis.Addr().String()); err != nil {
			g.Stop()
			return errors.Join(err, node.Close())
		}
	}
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	cfg.Logger.Info("metad shutting down", "id", cfg.ID)
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		g.Stop()
	}
	return errors.Join(err, node.Close())
}

// join asks the group (through any member; the client follows the leader)
// to add this member as a voter.
func join(ctx context.Context, cfg config, node *raftmeta.Node, api string) error {
	cl, err := remote.Dial([]string{cfg.Join}, remote.Options{Logger: cfg.Logger, RetryFor: time.Minute})
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Join(ctx, cfg.ID, node.RaftAddr(), api); err != nil {
		return fmt.Errorf("metad: join via %s: %w", cfg.Join, err)
	}
	cfg.Logger.Info("metad joined the group", "via", cfg.Join)
	return nil
}
