package durabilitycmd

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/tessera-store/tessera/durability"
)

func TestRun(t *testing.T) {
	var out, errb bytes.Buffer
	err := Run(t.Context(), []string{"--k", "17", "--m", "3", "--afr", "0.00405", "--repair", "156h", "--stripes", "1000000"}, &out, &errb)
	if err != nil {
		t.Fatalf("Run: %v (stderr %q)", err, errb.String())
	}
	t.Log("\n" + out.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 7", len(lines))
	}
	for _, want := range []string{
		"code 17+3 (survives 3 lost shards), shard AFR 0.405%, repair 156h0m0s, 1000000 stripes",
		"loss/1000000 stripes/year",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The poisson row: Backblaze's 7.35e-12 per stripe-year, 11 nines; a
	// million stripes: 7.35e-06, 5 nines.
	if f := strings.Fields(lines[3]); f[0] != "poisson" || f[1] != "7.354e-12" || f[2] != "11" || f[4] != "7.354e-06" || f[5] != "5" {
		t.Errorf("poisson row %q", lines[3])
	}
	if f := strings.Fields(lines[2]); f[0] != "markov" || f[1] != "2.939e-11" || f[2] != "10" {
		t.Errorf("markov row %q", lines[2])
	}
	if lines[6] != Correlated || !strings.Contains(lines[6], "outside both models") {
		t.Errorf("last line %q", lines[6])
	}
}

func TestRunDefaults(t *testing.T) {
	var out bytes.Buffer
	if err := Run(t.Context(), nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "code 10+4 (survives 4 lost shards), shard AFR 2%, repair 24h0m0s, 1 stripes\n") {
		t.Errorf("output %q", out.String())
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		args []string
		err  error
	}{
		{[]string{"--k", "x"}, ErrUsage},
		{[]string{"--bogus"}, ErrUsage},
		{[]string{"extra"}, ErrUsage},
		{[]string{"--repair", "soon"}, ErrUsage},
		{[]string{"--k", "0"}, durability.ErrInvalid},
		{[]string{"--afr", "-1"}, durability.ErrInvalid},
		{[]string{"--repair", "0s"}, durability.ErrInvalid},
		{[]string{"--stripes", "0"}, durability.ErrInvalid},
		{[]string{"-h"}, flag.ErrHelp},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if err := Run(t.Context(), tt.args, &out, &errb); !errors.Is(err, tt.err) {
			t.Errorf("%v: %v, want %v", tt.args, err, tt.err)
		}
		if out.Len() != 0 {
			t.Errorf("%v: stdout %q", tt.args, out.String())
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Run(ctx, nil, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
