package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	data := t.TempDir()
	ds := filepath.Join(data, "versions")
	if err := os.Mkdir(ds, 0o755); err != nil {
		t.Fatal(err)
	}
	var key [32]byte
	base := make([]byte, 3<<20)
	_, _ = rand.NewChaCha8(key).Read(base)
	// Three "versions": the same bytes with a small edit each.
	for i := range 3 {
		v := bytes.Clone(base)
		copy(v[(i+1)<<20:], "edited")
		if err := os.WriteFile(filepath.Join(ds, "v"+string(rune('0'+i))), v, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-data", data, "-datasets", "versions", "-j", "2"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.HasPrefix(line, "| versions |") {
			continue
		}
		rows++
		cells := strings.Split(line, "|")
		net, err := strconv.ParseFloat(strings.TrimSpace(cells[len(cells)-2]), 64)
		// Three near-identical versions: small chunks dedup them well,
		// chunks as large as a file cannot.
		want := 1.0
		if strings.Contains(line, "fastcdc-32KiB") {
			want = 2.5
		}
		if err != nil || net < want {
			t.Errorf("net ratio %v (%v), want >= %v: %s", net, err, want, line)
		}
	}
	if rows != len(configs()) {
		t.Fatalf("%d rows, want %d:\n%s", rows, len(configs()), out.String())
	}
}

func TestRunMissingDataset(t *testing.T) {
	err := run(context.Background(), []string{"-data", t.TempDir(), "-datasets", "nope"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("no error for a missing dataset")
	}
}
