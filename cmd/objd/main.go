// Command objd is Tessera's object store daemon and tools:
//
//	objd server      all-in-one: S3 + embedded metadata + local drives
//	objd gateway     S3 gateway of a cluster (metad + storage nodes)
//	objd node        storage node
//	objd admin       admin CLI (users, stats, nodes)
//	objd chunk       predict dedup savings on files
//	objd durability  computed durability of an erasure code
//	objd bench       S3 load benchmark
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `usage: objd COMMAND [flags]
commands:
  server      run the all-in-one store (S3 on 127.0.0.1:9000, data in ./data)
  gateway     run an S3 gateway in front of a cluster
  node        run a storage node
  admin       admin CLI: user add|list|remove, stats, nodes
  chunk       chunk files and predict dedup and compression savings
  durability  compute the durability of a k+m code
  bench       S3 load benchmark against an endpoint
Run 'objd COMMAND -h' for a command's flags.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "objd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("missing command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "server":
		return runServer(ctx, rest, stdout, stderr)
	case "gateway":
		return runGateway(ctx, rest, stdout, stderr)
	case "node":
		return runNode(ctx, rest, stdout, stderr)
	case "admin":
		return runAdmin(ctx, rest, stdout, stderr)
	case "chunk":
		return runChunk(ctx, rest, stdout, stderr)
	case "durability":
		return runDurability(ctx, rest, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q (debug, info, warn, error)", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
