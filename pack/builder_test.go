package pack

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tessera-store/tessera/erasure"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want error
	}{
		{"zero", Options{}, nil},
		{"min", Options{TargetSize: MinTargetSize, Codec: CodecS2}, nil},
		{"max", Options{TargetSize: MaxTargetSize, Codec: CodecZstdBetter}, nil},
		{"small", Options{TargetSize: MinTargetSize - 1}, ErrBadOptions},
		{"big", Options{TargetSize: MaxTargetSize + 1}, ErrBadOptions},
		{"negative", Options{TargetSize: -1}, ErrBadOptions},
		{"codec", Options{Codec: 77}, ErrBadCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			if _, err2 := NewBuilder(tt.o); !errors.Is(err2, tt.want) {
				t.Fatalf("NewBuilder = %v, want %v", err2, tt.want)
			}
		})
	}
}

func TestBuilder(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			b, err := NewBuilder(Options{TargetSize: MinTargetSize, Codec: c})
			if err != nil {
				t.Fatal(err)
			}
			capBefore := cap(b.Bytes())
			for round := range 2 {
				var chunks [][]byte
				var frames []Frame
				for i := uint64(0); !b.Full(); i++ {
					var plain []byte
					if i%2 == 0 {
						plain = syntheticText(i+uint64(round), 5000+int(i)*100)
					} else {
						plain = randomBytes(i, 3000)
					}
					f, err := b.Add(plain)
					if err != nil {
						t.Fatal(err)
					}
					if len(frames) > 0 {
						if prev := frames[len(frames)-1]; f.Offset != prev.Offset+int64(prev.Length) {
							t.Fatalf("frame %d at %d, previous ends at %d", i, f.Offset, prev.Offset+int64(prev.Length))
						}
					}
					chunks, frames = append(chunks, plain), append(frames, f)
				}
				if _, err := b.Add([]byte("more")); !errors.Is(err, ErrPackFull) {
					t.Fatalf("Add on a full pack: %v", err)
				}
				pack := b.Bytes()
				if b.Frames() != len(frames) || b.Len() != len(pack) || len(pack) >= b.TargetSize()+MaxFrameLen {
					t.Fatalf("frames %d/%d, len %d/%d", b.Frames(), len(frames), b.Len(), len(pack))
				}
				for i, f := range frames {
					got, err := DecodeFrame(nil, pack[f.Offset:f.Offset+int64(f.Length)], len(chunks[i]))
					if err != nil || !bytes.Equal(got, chunks[i]) {
						t.Fatalf("frame %d: %v", i, err)
					}
				}
				b.Reset()
				if b.Len() != 0 || b.Frames() != 0 || cap(b.Bytes()) != capBefore {
					t.Fatalf("Reset: len %d frames %d cap %d", b.Len(), b.Frames(), cap(b.Bytes()))
				}
			}
		})
	}
	b, _ := NewBuilder(Options{})
	if b.TargetSize() != DefaultTargetSize {
		t.Fatalf("default target %d", b.TargetSize())
	}
	if _, err := b.Add(make([]byte, MaxPlainLen+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize chunk: %v", err)
	}
}

// TestBuilderEncodeInPlace checks that a full pack, even one ending in a
// maximal incompressible frame, is coded without copying for any scheme.
func TestBuilderEncodeInPlace(t *testing.T) {
	b, _ := NewBuilder(Options{TargetSize: MinTargetSize, Codec: CodecS2})
	if _, err := b.Add(syntheticText(1, MinTargetSize-1)); err != nil {
		t.Fatal(err)
	}
	for !b.Full() {
		if _, err := b.Add(randomBytes(2, MaxPlainLen)); err != nil {
			t.Fatal(err)
		}
	}
	pack := b.Bytes()
	for _, km := range [][2]int{{1, 2}, {4, 2}, {10, 4}, {64, 4}, {256, 0}} {
		c, err := erasure.NewCode(km[0], km[1])
		if err != nil {
			t.Fatal(err)
		}
		shards := make([][]byte, c.N())
		if err := c.Encode(pack, shards); err != nil {
			t.Fatal(err)
		}
		if &shards[0][0] != &pack[0] {
			t.Errorf("%s: pack of %d bytes (cap %d) was copied", c, len(pack), cap(pack))
		}
	}
}

func TestBuilderAddAllocs(t *testing.T) {
	b, _ := NewBuilder(Options{Codec: CodecZstd})
	text := syntheticText(3, 64<<10)
	b.Add(text)
	allocs := testing.AllocsPerRun(50, func() {
		if b.Full() {
			b.Reset()
		}
		if _, err := b.Add(text); err != nil {
			t.Fatal(err)
		}
	})
	if !raceEnabled && allocs > 0 {
		t.Fatalf("%.1f allocs per Add", allocs)
	}
}
