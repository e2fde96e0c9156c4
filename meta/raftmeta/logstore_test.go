package raftmeta

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/hashicorp/raft"
)

func openTestStore(t *testing.T, fs vfs.FS) *Store {
	t.Helper()
	s, err := OpenStore("raft", StoreOptions{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mkLogs(lo, hi uint64) []*raft.Log {
	var out []*raft.Log
	for i := lo; i <= hi; i++ {
		out = append(out, &raft.Log{Index: i, Term: i / 3, Type: raft.LogCommand, Data: []byte{byte(i), 1, 2}, AppendedAt: time.Unix(0, int64(i)*1000)})
	}
	return out
}

func bounds(t *testing.T, s *Store) (uint64, uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	return f, l
}

func TestStoreLogs(t *testing.T) {
	fs := vfs.NewMem()
	s := openTestStore(t, fs)
	if f, l := bounds(t, s); f != 0 || l != 0 {
		t.Fatalf("empty store bounds %d %d", f, l)
	}
	var got raft.Log
	if err := s.GetLog(1, &got); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog on empty: %v", err)
	}
	if err := s.StoreLog(&raft.Log{Index: 1, Term: 1, Type: raft.LogConfiguration, Extensions: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLogs(mkLogs(2, 100)); err != nil {
		t.Fatal(err)
	}
	if f, l := bounds(t, s); f != 1 || l != 100 {
		t.Fatalf("bounds %d %d, want 1 100", f, l)
	}
	want := mkLogs(50, 50)[0]
	if err := s.GetLog(50, &got); err != nil {
		t.Fatal(err)
	}
	if got.Index != 50 || got.Term != want.Term || got.Type != want.Type || !bytes.Equal(got.Data, want.Data) || !got.AppendedAt.Equal(want.AppendedAt) {
		t.Fatalf("GetLog(50) = %+v, want %+v", got, want)
	}
	if err := s.GetLog(1, &got); err != nil || got.Type != raft.LogConfiguration || string(got.Extensions) != "x" || got.Data != nil {
		t.Fatalf("GetLog(1) = %+v, %v", got, err)
	}

	tests := []struct {
		name          string
		lo, hi        uint64
		first, last   uint64
		missing, kept uint64
	}{
		{"prefix", 1, 10, 11, 100, 10, 11},
		{"suffix", 91, 100, 11, 90, 91, 90},
		{"inner-noop", 200, 300, 11, 90, 150, 50},
		{"all", 11, 90, 0, 0, 11, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.DeleteRange(tt.lo, tt.hi); err != nil {
				t.Fatal(err)
			}
			if f, l := bounds(t, s); f != tt.first || l != tt.last {
				t.Fatalf("bounds %d %d, want %d %d", f, l, tt.first, tt.last)
			}
			if err := s.GetLog(tt.missing, &got); !errors.Is(err, raft.ErrLogNotFound) {
				t.Fatalf("GetLog(%d) after delete: %v", tt.missing, err)
			}
			if tt.kept != 0 {
				if err := s.GetLog(tt.kept, &got); err != nil {
					t.Fatalf("GetLog(%d): %v", tt.kept, err)
				}
			}
		})
	}
	// Reopen: bounds come back from disk.
	if err := s.StoreLogs(mkLogs(500, 520)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, fs)
	defer s.Close()
	if f, l := bounds(t, s); f != 500 || l != 520 {
		t.Fatalf("reopened bounds %d %d, want 500 520", f, l)
	}
}

func TestStableStore(t *testing.T) {
	s := openTestStore(t, vfs.NewMem())
	defer s.Close()
	v, err := s.Get([]byte("missing"))
	if err != nil || len(v) != 0 {
		t.Fatalf("Get(missing) = %q, %v", v, err)
	}
	n, err := s.GetUint64([]byte("missing"))
	if err != nil || n != 0 {
		t.Fatalf("GetUint64(missing) = %d, %v", n, err)
	}
	if err := s.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("term"), 42); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("Get(k) = %q, %v", v, err)
	}
	if n, err := s.GetUint64([]byte("term")); err != nil || n != 42 {
		t.Fatalf("GetUint64(term) = %d, %v", n, err)
	}
	if _, err := s.GetUint64([]byte("k")); !errors.Is(err, ErrCorruptLog) {
		t.Fatalf("GetUint64 of a 1-byte value: %v", err)
	}
	// Stable keys never show up as log entries.
	if f, l := bounds(t, s); f != 0 || l != 0 {
		t.Fatalf("stable writes moved log bounds to %d %d", f, l)
	}
}

func FuzzDecodeLog(f *testing.F) {
	for _, l := range mkLogs(1, 3) {
		f.Add(encodeLog(nil, l))
	}
	f.Add([]byte{logFormatV1, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var l raft.Log
		if err := decodeLog(b, &l); err != nil {
			return
		}
		if re := encodeLog(nil, &l); !bytes.Equal(re, b) {
			// Non-canonical varints may decode; they must still round-trip
			// to an equal entry.
			var l2 raft.Log
			if err := decodeLog(re, &l2); err != nil || l2.Term != l.Term || !bytes.Equal(l2.Data, l.Data) {
				t.Fatalf("re-encoding does not round-trip: %v", err)
			}
		}
	})
}

func BenchmarkStoreLogs(b *testing.B) {
	s, err := OpenStore(b.TempDir(), StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	logs := mkLogs(1, 64)
	for _, l := range logs {
		l.Data = make([]byte, 512)
	}
	b.SetBytes(64 * 512)
	b.ReportAllocs()
	next := uint64(1)
	for b.Loop() {
		for _, l := range logs {
			l.Index = next
			next++
		}
		if err := s.StoreLogs(logs); err != nil {
			b.Fatal(err)
		}
	}
}
