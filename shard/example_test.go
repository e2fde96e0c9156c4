package shard_test

import (
	"bytes"
	"fmt"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/shard"
)

func Example() {
	data := bytes.Repeat([]byte("tessera "), 20000) // 160000 bytes
	h := shard.Header{Pack: pack.ID{1}, Index: 2, K: 4, M: 2, Length: int64(len(data))}
	var framed bytes.Buffer
	w := shard.NewWriter(&framed, h)
	w.Write(data)
	if err := w.Close(); err != nil {
		panic(err)
	}
	fmt.Println("framed bytes:", framed.Len(), "blocks:", h.Blocks())

	r, err := shard.NewReader(bytes.NewReader(framed.Bytes()), int64(framed.Len()))
	if err != nil {
		panic(err)
	}
	p := make([]byte, 16)
	if err := r.ReadRange(p, 65530); err != nil { // crosses blocks 0 and 1
		panic(err)
	}
	fmt.Printf("%q\n", p)

	b := framed.Bytes()
	b[shard.HeaderSize+70000] ^= 1 // flip a bit in block 1
	_, err = r.ReadAt(p, 65530)
	fmt.Println(err)
	// Output:
	// framed bytes: 160076 blocks: 3
	// "ssera tessera te"
	// shard: bad block: block 1 of 01000000000000000000000000000000/2: checksum 808a02e9, want fe228a75: store: shard corrupt
}
