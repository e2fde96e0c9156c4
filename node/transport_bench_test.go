package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"runtime"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/mem"
	"github.com/tessera-store/tessera/store/remote"
	"github.com/tessera-store/tessera/store/storetest"
)

// This file backs the transport choice (docs/arch/store.md): the same
// ranged read over plain HTTP/1.1 (the shipped protocol) and over a minimal
// gRPC unary call with a raw-bytes codec (no protobuf cost), both serving a
// mem store so only the transport differs.

// rawCodec passes *[]byte through unchanged.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	p := v.(*[]byte)
	if len(*p) < len(data) {
		*p = make([]byte, len(data))
	}
	*p = (*p)[:copy(*p, data)]
	return nil
}
func (rawCodec) Name() string { return "raw" }

const benchGRPCMethod = "/tessera.bench.Shard/Read"

func grpcReadServer(st store.Store, id store.ShardID) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: "tessera.bench.Shard",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Read",
			Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var req []byte
				if err := dec(&req); err != nil {
					return nil, err
				}
				if len(req) != 16 {
					return nil, errors.New("bad request")
				}
				off := int64(binary.LittleEndian.Uint64(req))
				n := int(binary.LittleEndian.Uint64(req[8:]))
				p := make([]byte, n)
				if err := st.ReadAt(ctx, id, p, off); err != nil {
					return nil, err
				}
				return &p, nil
			},
		}},
	}
}

type grpcReader struct{ cc *grpc.ClientConn }

func (g grpcReader) read(ctx context.Context, p []byte, off int64) error {
	req := make([]byte, 16)
	binary.LittleEndian.PutUint64(req, uint64(off))
	binary.LittleEndian.PutUint64(req[8:], uint64(len(p)))
	resp := p[:0]
	if err := g.cc.Invoke(ctx, benchGRPCMethod, &req, &resp); err != nil {
		return err
	}
	if len(resp) != len(p) {
		return fmt.Errorf("got %d bytes", len(resp))
	}
	return nil
}

func BenchmarkTransport(b *testing.B) {
	const shardSize = 8 << 20
	m, _ := mem.New(mem.Options{})
	id := store.ShardID{Pack: pack.NewID()}
	storetest.Put(b, m, id, storetest.Data(1, shardSize))

	// HTTP/1.1.
	hs := httptest.NewServer(&Server{Store: m})
	defer hs.Close()
	hc, _ := remote.New(hs.URL, remote.Options{})
	defer hc.Close()
	httpRead := func(ctx context.Context, p []byte, off int64) error { return hc.ReadAt(ctx, id, p, off) }

	// gRPC.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.MaxSendMsgSize(32<<20),
		grpc.InitialWindowSize(8<<20), grpc.InitialConnWindowSize(16<<20))
	gs.RegisterService(grpcReadServer(m, id), nil)
	go gs.Serve(l)
	defer gs.Stop()
	cc, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(32<<20)),
		grpc.WithInitialWindowSize(8<<20), grpc.WithInitialConnWindowSize(16<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	grpcRead := grpcReader{cc}.read

	for _, tr := range []struct {
		name string
		read func(context.Context, []byte, int64) error
	}{{"http", httpRead}, {"grpc", grpcRead}} {
		for _, size := range []int{64 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%dKiB", tr.name, size>>10), func(b *testing.B) {
				ctx := context.Background()
				p := make([]byte, size)
				if err := tr.read(ctx, p, 0); err != nil { // warm up the connection
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 1))
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := tr.read(ctx, p, int64(rng.IntN(shardSize/size))*int64(size)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(tr.name+"/parallel16/1MiB", func(b *testing.B) {
			const size = 1 << 20
			b.SetBytes(size)
			b.ReportAllocs()
			b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				p := make([]byte, size)
				rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
				for pb.Next() {
					if err := tr.read(ctx, p, int64(rng.IntN(shardSize/size))*size); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
