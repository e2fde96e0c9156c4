package main

import (
	"context"
	"io"
	"os"

	"github.com/tessera-store/tessera/internal/admincmd"
	"github.com/tessera-store/tessera/internal/benchcmd"
	"github.com/tessera-store/tessera/internal/chunkcmd"
	"github.com/tessera-store/tessera/internal/durabilitycmd"
)

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return admincmd.Run(ctx, args, stdout, stderr, os.Getenv)
}

func runChunk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return chunkcmd.Run(ctx, args, stdout, stderr)
}

func runDurability(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return durabilitycmd.Run(ctx, args, stdout, stderr)
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return benchcmd.Run(ctx, args, stdout, stderr, os.Getenv)
}
