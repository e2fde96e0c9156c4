package erasure_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tessera-store/tessera/erasure"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

// Example walks the data path: frames into a pack, the pack into 4+2
// shards, then one chunk read back while its data shard is lost.
func Example() {
	b, _ := pack.NewBuilder(pack.Options{Codec: pack.CodecZstd})
	chunk := bytes.Repeat([]byte("tessera "), 4096)
	var where pack.Frame
	for i := range 100 {
		f, err := b.Add(append(chunk, byte(i)))
		if err != nil {
			panic(err)
		}
		if i == 42 {
			where = f
		}
	}
	code, _ := erasure.NewCode(4, 2)
	shards := make([][]byte, code.N())
	packLen := int64(b.Len())
	if err := code.Encode(b.Bytes(), shards); err != nil { // in place: no copy
		panic(err)
	}

	spans, _ := code.Plan(packLen, where.Offset, int64(where.Length))
	lost := spans[0].Shard
	r := erasure.ShardReaderFunc(func(ctx context.Context, i int, p []byte, off int64) error {
		if i == lost {
			return store.ErrNotFound
		}
		copy(p, shards[i][off:])
		return nil
	})
	frame := make([]byte, where.Length)
	if err := code.ReadRange(context.Background(), r, packLen, frame, where.Offset); err != nil {
		panic(err)
	}
	plain, err := pack.DecodeFrame(nil, frame, len(chunk)+1)
	fmt.Println(err, bytes.Equal(plain, append(chunk, 42)), frame[0] == pack.TagZstd)

	r2 := erasure.ShardReaderFunc(func(ctx context.Context, i int, p []byte, off int64) error {
		return fmt.Errorf("node down: %w", store.ErrUnavailable)
	})
	err = code.ReadRange(context.Background(), r2, packLen, frame, where.Offset)
	var tf *erasure.TooFewShardsError
	fmt.Println(errors.Is(err, erasure.ErrTooFewShards), errors.Is(err, store.ErrUnavailable), errors.As(err, &tf) && len(tf.Failed) == 3)
	// Output:
	// <nil> true true
	// true true true
}
