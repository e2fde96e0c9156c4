package server

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/tessera-store/tessera/meta"
)

func sampleObject(nChunks int) *meta.Object {
	o := &meta.Object{Size: int64(nChunks) * 65536, ETag: "d41d8cd98f00b204e9800998ecf8427e", Modified: 1700000000000000000,
		ContentType: "application/octet-stream", Headers: map[string]string{"Cache-Control": "max-age=60"},
		UserMeta: map[string]string{"owner": "alice", "project": "x"}, Tags: map[string]string{"tier": "hot"},
		Checksums: map[string]string{"CRC32C": "yZRlqg=="}, ChecksumType: "FULL_OBJECT"}
	for i := 0; i < nChunks; i++ {
		var r meta.ChunkRef
		r.Addr[0], r.Addr[1], r.Addr[31] = byte(i), byte(i>>8), 7
		r.Size = 65536
		o.Chunks = append(o.Chunks, r)
	}
	return o
}

func TestObjectRoundTrip(t *testing.T) {
	tests := []*meta.Object{
		{},
		{Size: 3, Inline: []byte("abc"), PartSizes: []int64{1, 2}},
		sampleObject(1),
		sampleObject(1000),
	}
	for _, o := range tests {
		b := EncodeObject(o)
		got, err := DecodeObject(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, o)
		}
		if !bytes.Equal(EncodeObject(got), b) {
			t.Fatal("re-encoding differs")
		}
		step := 1
		if len(b) > 2000 {
			step = 97 // quadratic otherwise; the small records cover every cut
		}
		for i := 0; i < len(b); i += step {
			if _, err := DecodeObject(b[:i]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("truncated at %d/%d: %v", i, len(b), err)
			}
		}
	}
	if _, err := DecodeObject([]byte{2}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("version 2: %v", err)
	}
	// 1,000 chunks take 32+3 bytes each, plus the fixed part.
	if n := len(EncodeObject(sampleObject(1000))); n > 1000*35+200 {
		t.Fatalf("1000-chunk record is %d bytes", n)
	}
}

func FuzzDecodeObject(f *testing.F) {
	f.Add(EncodeObject(&meta.Object{}))
	f.Add(EncodeObject(sampleObject(3)))
	f.Add(EncodeObject(&meta.Object{Size: 2, Inline: []byte("hi")}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := DecodeObject(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if got := EncodeObject(o); !bytes.Equal(got, b) {
			t.Fatalf("encode(decode(x)) != x:\n%x\n%x", got, b)
		}
		if _, err := decodeObject(b, true); err != nil {
			t.Fatalf("listing decode failed where full decode worked: %v", err)
		}
	})
}

// FuzzDecodeRecords covers every other record type.
func FuzzDecodeRecords(f *testing.F) {
	seeds := [][]byte{
		encodeBucket(&meta.Bucket{Name: "abc", Owner: "o", DomainKey: make([]byte, 32)}),
		encodeChunk(&chunkRec{Offset: 5, Length: 9, Size: 20, Refs: 2, Dead: -3}),
		encodePack(&meta.Pack{K: 2, M: 1, Nodes: []string{"a", "b", "c"}, Missing: []int{1}, Length: 10}),
		encodeUpload(&meta.Upload{Bucket: "b", Key: "k", UploadID: "u", Object: *sampleObject(1)}),
		encodePart(&meta.Part{Number: 3, Size: 1, ETag: "e", Inline: []byte{1}}),
		encodeNode(&meta.Node{ID: "n", Failed: true}),
		encodePool(&meta.Pool{Name: "p", K: 1}),
		encodeUser(&meta.User{Name: "u", AccessKey: "k", Root: true}),
		encodeStats(&meta.Stats{Objects: 3}),
		encodeResult(7, 8, &meta.GCResult{CollectedChunks: 2, DeadPacks: []meta.Pack{{K: 1}}}),
		encodeResult(7, 8, sampleObject(2)),
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		var re []byte
		var err error
		switch kind % 11 {
		case 0:
			var v meta.Bucket
			if v, err = decodeBucket(b); err == nil {
				re = encodeBucket(&v)
			}
		case 1:
			var v chunkRec
			if v, err = decodeChunk(b); err == nil {
				re = encodeChunk(&v)
			}
		case 2:
			var v meta.Pack
			if v, err = decodePack(b); err == nil {
				re = encodePack(&v)
			}
		case 3:
			var v meta.Upload
			if v, err = decodeUpload(b); err == nil {
				re = encodeUpload(&v)
			}
		case 4:
			var v meta.Part
			if v, err = decodePart(b); err == nil {
				re = encodePart(&v)
			}
		case 5:
			var v meta.Node
			if v, err = decodeNode(b); err == nil {
				re = encodeNode(&v)
			}
		case 6:
			var v meta.Pool
			if v, err = decodePool(b); err == nil {
				re = encodePool(&v)
			}
		case 7:
			var v meta.User
			if v, err = decodeUser(b); err == nil {
				re = encodeUser(&v)
			}
		case 8:
			var v meta.Stats
			if v, err = decodeStats(b); err == nil {
				re = encodeStats(&v)
			}
		default:
			var idx uint64
			var tm int64
			var v any
			if idx, tm, v, err = decodeResult(b); err == nil {
				re = encodeResult(idx, tm, v)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("kind %d: encode(decode(x)) != x:\n%x\n%x", kind%11, re, b)
		}
	})
}
