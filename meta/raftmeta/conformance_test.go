package raftmeta

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/metatest"
)

func noSync(c *Config) { c.NoSync = true }

// TestConformance runs the meta suite against a single-voter group reached
// over gRPC: server.State under Raft, remote.Server, remote.Client.
func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Service {
		return newCluster(t, 1, noSync).client(t)
	})
}

func TestBadInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := newCluster(t, 1, noSync)
	cl := c.client(t)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown bucket", func() error {
			return cl.PutObject(ctx, &meta.PutObjectRequest{ReqID: "p1", Time: 1, Object: meta.Object{Bucket: "nope", Key: "k"}})
		}, meta.ErrNoSuchBucket},
		{"bad key", func() error { _, err := cl.GetObject(ctx, "nope", "\xff"); return err }, meta.ErrInvalidKey},
		{"lookup of an unknown chunk", func() error {
			_, err := cl.LookupChunks(ctx, []chunk.Addr{{}})
			return err
		}, nil},
		{"join without address", func() error { return cl.Join(ctx, "x", "", "") }, meta.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no id", Config{Dir: "d", RaftAddr: "127.0.0.1:0"}},
		{"no dir", Config{ID: "a", RaftAddr: "127.0.0.1:0"}},
		{"no raft addr", Config{ID: "a", Dir: "d"}},
		{"too many entries", Config{ID: "a", Dir: "d", RaftAddr: "x:1", MaxAppendEntries: 5000}},
		{"lease above heartbeat", Config{ID: "a", Dir: "d", RaftAddr: "x:1", HeartbeatTimeout: time.Second, LeaderLeaseTimeout: 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate = %v, want ErrConfig", err)
			}
		})
	}
}
