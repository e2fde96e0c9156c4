package meta

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tessera-store/tessera/chunk"
)

func TestCodeRoundTrip(t *testing.T) {
	for i, s := range codes {
		code := Code(fmt.Errorf("op: %w", s))
		if code != uint32(i)+2 {
			t.Fatalf("Code(%v) = %d, want %d", s, code, i+2)
		}
		back := FromCode(code, "remote: "+s.Error())
		if !errors.Is(back, s) || back.Error() != "remote: "+s.Error() {
			t.Fatalf("FromCode(%d) = %v", code, back)
		}
	}
	if Code(nil) != CodeOK || FromCode(CodeOK, "x") != nil {
		t.Fatal("nil does not map to CodeOK")
	}
	if Code(errors.New("disk on fire")) != CodeUnknown {
		t.Fatal("unknown error")
	}
	if err := FromCode(CodeUnknown, "disk on fire"); err == nil || err.Error() != "disk on fire" {
		t.Fatalf("FromCode(unknown) = %v", err)
	}
	if err := FromCode(9999, ""); err == nil {
		t.Fatal("FromCode(9999) = nil")
	}
	mce := &MissingChunksError{Addrs: []chunk.Addr{{1}}}
	if Code(fmt.Errorf("put: %w", mce)) != Code(ErrMissingChunks) {
		t.Fatal("MissingChunksError code")
	}
	if Code(context.DeadlineExceeded) != 23 || !errors.Is(FromCode(23, ""), context.DeadlineExceeded) {
		t.Fatal("deadline code")
	}
}

// TestCodesStable pins the table: codes are persisted in clients, so a
// change here breaks the wire.
func TestCodesStable(t *testing.T) {
	pinned := map[uint32]error{2: ErrNoSuchBucket, 8: ErrNoSuchKey, 14: ErrMissingChunks, 19: ErrInvalidArgument, 21: ErrUnavailable}
	for code, want := range pinned {
		if Code(want) != code {
			t.Errorf("Code(%v) = %d, pinned %d", want, Code(want), code)
		}
	}
}

func TestValidBucketName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"abc", true}, {"my.bucket-1", true}, {"0ab", true}, {"abc9", true},
		{"ab", false}, {"", false}, {"Abc", false}, {"ab_c", false}, {"-ab", false}, {"ab.", false},
		{"a..b", false}, {"10.0.0.1", false}, {"192.168.010.1", false}, {"xn--ab", false}, {"sthree-x", false},
		{"x-s3alias", false}, {"x--ol-s3", false}, {"ab\x00", false}, {"a/b", false}, {"1.2.3", true},
	}
	for _, tt := range tests {
		err := ValidBucketName(tt.name)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidBucketName)) {
			t.Errorf("ValidBucketName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func FuzzValidBucketName(f *testing.F) {
	for _, s := range []string{"abc", "a..b", "1.2.3.4", "xn--x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidBucketName(s); err != nil && !errors.Is(err, ErrInvalidBucketName) {
			t.Fatal(err)
		}
	})
}
