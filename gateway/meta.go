package gateway

import (
	"context"
	"log/slog"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/server"
)

// openEmbeddedMeta opens the all-in-one server's metadata service.
func openEmbeddedMeta(_ context.Context, dir string, log *slog.Logger) (meta.Service, func() error, error) {
	s, err := local.Open(dir, server.Options{Logger: log, Sync: true})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}
