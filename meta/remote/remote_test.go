package remote

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/metapb"
	"github.com/tessera-store/tessera/meta/metatest"
	"github.com/tessera-store/tessera/meta/server"
)

// serve starts a gRPC server for svc on 127.0.0.1:0 and returns its address.
func serve(t testing.TB, svc meta.Service, admin AdminHooks) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(ServerOptions()...)
	NewServer(svc, admin).Register(g)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func openLocal(t testing.TB) *local.Service {
	t.Helper()
	svc, err := local.Open("meta", server.Options{FS: vfs.NewMem(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

func dial(t testing.TB, addrs ...string) *Client {
	t.Helper()
	c, err := Dial(addrs, Options{RetryFor: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Service {
		return dial(t, serve(t, openLocal(t), nil))
	})
}

// notLeader answers every call with ErrNotLeader and a leader hint.
type notLeader struct {
	meta.Service
	hint string
}

func (n notLeader) GetBucket(context.Context, string) (meta.Bucket, error) {
	return meta.Bucket{}, meta.ErrNotLeader
}

func (n notLeader) Status(context.Context) (Status, error) { return Status{ID: "f"}, nil }
func (n notLeader) Join(context.Context, string, string, string) error {
	return meta.ErrNotLeader
}
func (n notLeader) RemoveVoter(context.Context, string) error { return meta.ErrNotLeader }
func (n notLeader) LeaderAPI() string                         { return n.hint }

func TestFollowLeaderHint(t *testing.T) {
	ctx := context.Background()
	svc := openLocal(t)
	if err := svc.CreateBucket(ctx, "r1", 1, meta.Bucket{Name: "bkt", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	leader := serve(t, svc, nil)
	follower := serve(t, notLeader{hint: leader}, notLeader{hint: leader})
	// A dead address first: the client must skip it.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	c := dial(t, deadAddr, follower)
	b, err := c.GetBucket(ctx, "bkt")
	if err != nil || b.Owner != "u" {
		t.Fatalf("GetBucket via hint = %+v, %v", b, err)
	}
	// The leader address was learned: it is now the target.
	if a, _, _, _ := c.pick(); a != leader {
		t.Fatalf("target %s, want leader %s", a, leader)
	}
}

func TestGiveUp(t *testing.T) {
	follower := serve(t, notLeader{}, notLeader{})
	c := dial(t, follower)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GetBucket(ctx, "bkt")
	if !errors.Is(err, meta.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no leader: %v, want ErrUnavailable and DeadlineExceeded", err)
	}
}

func TestErrorsCrossTheWire(t *testing.T) {
	ctx := context.Background()
	c := dial(t, serve(t, openLocal(t), nil))
	if err := c.CreateBucket(ctx, "r1", 1, meta.Bucket{Name: "bkt", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	missing := []chunk.Addr{metatest.Addr(1), metatest.Addr(2)}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"no such bucket", func() error { _, err := c.GetBucket(ctx, "nope"); return err }, meta.ErrNoSuchBucket},
		{"bad bucket name", func() error { return c.CreateBucket(ctx, "r2", 1, meta.Bucket{Name: "A_B", Owner: "u"}) }, meta.ErrInvalidBucketName},
		{"no such key", func() error { _, err := c.GetObject(ctx, "bkt", "k"); return err }, meta.ErrNoSuchKey},
		{"missing chunks", func() error {
			return c.PutObject(ctx, &meta.PutObjectRequest{ReqID: "r3", Time: 2, Object: meta.Object{
				Bucket: "bkt", Key: "k", Size: 2, Chunks: []meta.ChunkRef{{Addr: missing[0], Size: 1}, {Addr: missing[1], Size: 1}}}})
		}, meta.ErrMissingChunks},
		{"oversize", func() error {
			_, err := c.LookupChunks(ctx, make([]chunk.Addr, MaxMessageBytes/32+1))
			return err
		}, meta.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var mce *meta.MissingChunksError
			if errors.As(err, &mce) && len(mce.Addrs) != 2 {
				t.Fatalf("MissingChunksError carries %v, want 2 addrs", mce.Addrs)
			}
		})
	}
}

// rawCodec sends bytes as they are, to put corrupt requests on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, errors.New("rawCodec: only *[]byte")
}
func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*[]byte); ok {
		*b = append((*b)[:0], data...)
		return nil
	}
	return nil
}
func (rawCodec) Name() string { return "proto" }

func TestCorruptRequests(t *testing.T) {
	addr := serve(t, openLocal(t), nil)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	tests := []struct {
		name   string
		method string
		body   []byte
		want   codes.Code
		code   uint32 // meta code in the details, 0: none
	}{
		{"garbage", "PutObject", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, codes.Internal, 0},
		{"truncated", "GetBucket", []byte{0x0a, 0x10, 'a'}, codes.Internal, 0},
		// LookupChunks with 33 address bytes.
		{"ragged addrs", "LookupChunks", append([]byte{0x0a, 33}, make([]byte, 33)...), codes.InvalidArgument, meta.Code(meta.ErrInvalidArgument)},
		// GetPacks with a 3-byte ID list.
		{"ragged ids", "GetPacks", []byte{0x0a, 3, 1, 2, 3}, codes.InvalidArgument, meta.Code(meta.ErrInvalidArgument)},
		// GetBucket of an unknown bucket.
		{"unknown bucket", "GetBucket", []byte{0x0a, 3, 'x', 'y', 'z'}, codes.NotFound, meta.Code(meta.ErrNoSuchBucket)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out []byte
			err := cc.Invoke(context.Background(), "/tessera.meta.v1.Meta/"+tt.method, &tt.body, &out)
			st, _ := status.FromError(err)
			if st.Code() != tt.want {
				t.Fatalf("code %v (%v), want %v", st.Code(), err, tt.want)
			}
			var got uint32
			for _, d := range st.Details() {
				if e, ok := d.(*metapb.Error); ok {
					got = e.GetCode()
				}
			}
			if got != tt.code {
				t.Fatalf("meta code %d, want %d", got, tt.code)
			}
			if !strings.Contains(fromStatus(err).Error(), "meta") {
				t.Fatalf("decoded error %v", fromStatus(err))
			}
		})
	}
}

func FuzzObjectFromWire(f *testing.F) {
	f.Add([]byte{}, []byte{1, 2})
	f.Add(make([]byte, 64), []byte{7, 9})
	f.Fuzz(func(t *testing.T, addrs []byte, sizes []byte) {
		o := &metapb.Object{ChunkAddrs: addrs}
		for _, s := range sizes {
			o.ChunkSizes = append(o.ChunkSizes, uint32(s))
		}
		got, err := objectFromWire(o)
		if err != nil {
			if !errors.Is(err, meta.ErrInvalidArgument) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		back := objectToWire(&got)
		if string(back.ChunkAddrs) != string(addrs) || len(back.ChunkSizes) != len(sizes) {
			t.Fatal("manifest does not round-trip")
		}
	})
}
