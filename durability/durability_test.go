package durability

import (
	"errors"
	"math"
	"math/big"
	"testing"
	"time"
)

func near(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

// TestBackblaze17p3 reproduces Backblaze's published example: a 17+3 stripe,
// 0.405% annual drive failure rate, 156-hour rebuild. Their method gives
// about 7.4e-12 per stripe-year, 11 nines.
func TestBackblaze17p3(t *testing.T) {
	r, err := Compute(17, 3, 0.00405, 156*time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := r.Poisson.StripeLoss; !near(p, 7.4e-12, 0.03) || math.Floor(Nines(p)) != 11 {
		t.Fatalf("poisson: %.4g per stripe-year (%.2f nines), want ~7.4e-12, 11 nines", p, Nines(p))
	}
	// The Markov chain (repair rate i·mu) counts m+1 failures in any
	// window of length T, not in fixed windows: about (m+1) times more.
	ratio := r.Markov.StripeLoss / r.Poisson.StripeLoss
	if !near(ratio, 4, 0.02) || math.Floor(Nines(r.Markov.StripeLoss)) != 10 {
		t.Fatalf("markov: %.4g (%.2f nines), %.3f times poisson", r.Markov.StripeLoss, Nines(r.Markov.StripeLoss), ratio)
	}
	sliding := SlidingWindowLoss(20, 3, 0.00405, 156*time.Hour)
	if !near(sliding/r.Poisson.StripeLoss, 4, 0.02) || !near(sliding, r.Markov.StripeLoss, 0.02) {
		t.Fatalf("sliding window %.4g: want 4x poisson %.4g and about markov %.4g", sliding, r.Poisson.StripeLoss, r.Markov.StripeLoss)
	}
	t.Logf("17+3, AFR 0.405%%, 156h: sliding window %.3e", sliding)
	t.Logf("17+3, AFR 0.405%%, 156h: poisson %.3e (%.2f nines), markov %.3e (%.2f nines, MTTDL %.3e years)",
		r.Poisson.StripeLoss, Nines(r.Poisson.StripeLoss), r.Markov.StripeLoss, Nines(r.Markov.StripeLoss), r.Markov.MTTDLYears)
}

// TestMTTDLLinearSolve checks the recurrence against Gaussian elimination of
// the absorbing chain's equations, (-Q) T = 1 over the transient states, in
// 512-bit floating point (float64 elimination loses digits when λ/μ is tiny:
// 0.3% on the 12,4,1e-4,1 case).
func TestMTTDLLinearSolve(t *testing.T) {
	tests := []struct {
		n, m       int
		lambda, mu float64
	}{
		{6, 2, 0.01, 1}, {3, 1, 0.1, 0.5}, {20, 3, 0.001, 0.2}, {14, 4, 0.01, 0.05}, {5, 0, 0.3, 1},
		{12, 4, 1e-4, 1}, {20, 3, 0.00405 / 8760, 1.0 / 156}, {14, 4, 0.02 / 8760, 1.0 / 24},
	}
	f := func(x float64) *big.Float { return new(big.Float).SetPrec(512).SetFloat64(x) }
	for _, tt := range tests {
		s := tt.m + 1
		a := make([][]*big.Float, s)
		for i := range a {
			a[i] = make([]*big.Float, s+1)
			for j := range a[i] {
				a[i][j] = f(0)
			}
			up, down := float64(tt.n-i)*tt.lambda, float64(i)*tt.mu
			a[i][i] = f(0).Add(f(up), f(down))
			if i+1 < s {
				a[i][i+1] = f(-up)
			}
			if i > 0 {
				a[i][i-1] = f(-down)
			}
			a[i][s] = f(1)
		}
		for c := range s { // no pivoting needed: diagonally dominant
			for r := c + 1; r < s; r++ {
				q := f(0).Quo(a[r][c], a[c][c])
				for j := c; j <= s; j++ {
					a[r][j].Sub(a[r][j], f(0).Mul(q, a[c][j]))
				}
			}
		}
		x := make([]*big.Float, s)
		for r := s - 1; r >= 0; r-- {
			v := f(0).Set(a[r][s])
			for j := r + 1; j < s; j++ {
				v.Sub(v, f(0).Mul(a[r][j], x[j]))
			}
			x[r] = v.Quo(v, a[r][r])
		}
		want, _ := x[0].Float64()
		if got := MTTDL(tt.n, tt.m, tt.lambda, tt.mu); !near(got, want, 1e-12) {
			t.Errorf("%+v: recurrence %v, linear solve %v", tt, got, want)
		}
	}
	// Closed forms: m=0 is 1/(nλ); m=1 is ((2n-1)λ+μ)/(n(n-1)λ²).
	if got := MTTDL(4, 0, 0.5, 9); !near(got, 0.5, 1e-12) {
		t.Errorf("m=0: %v", got)
	}
	n, l, mu := 6.0, 0.01, 2.0
	if got, want := MTTDL(6, 1, l, mu), ((2*n-1)*l+mu)/(n*(n-1)*l*l); !near(got, want, 1e-12) {
		t.Errorf("m=1: %v, want %v", got, want)
	}
}

func TestFleet(t *testing.T) {
	r, err := Compute(10, 4, 0.02, 24*time.Hour, 1_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Model{r.Markov, r.Poisson} {
		// For N·p << 1, 1-(1-p)^N ≈ N·p.
		if !near(m.FleetLoss, 1e9*m.StripeLoss, 1e-3) {
			t.Errorf("%s: fleet %v, stripe %v", m.Name, m.FleetLoss, m.StripeLoss)
		}
	}
	if got := AnyOf(1e-15, 3); !near(got, 3e-15, 1e-9) {
		t.Errorf("AnyOf(1e-15, 3) = %v", got)
	}
	if got := AnyOf(0.5, 2); !near(got, 0.75, 1e-12) {
		t.Errorf("AnyOf(0.5, 2) = %v", got)
	}
	if got := AnyOf(1, 5); got != 1 {
		t.Errorf("AnyOf(1, 5) = %v", got)
	}
	if got := AnyOf(1e-3, 1e7); !near(got, 1, 1e-12) {
		t.Errorf("AnyOf(1e-3, 1e7) = %v", got)
	}
}

// TestMonotone: more parity, a lower AFR or a faster repair never loses
// durability.
func TestMonotone(t *testing.T) {
	base, _ := Compute(8, 3, 0.02, 48*time.Hour, 1)
	for _, c := range []struct {
		k, m int
		afr  float64
		rep  time.Duration
	}{
		{8, 4, 0.02, 48 * time.Hour}, {8, 3, 0.01, 48 * time.Hour}, {8, 3, 0.02, 12 * time.Hour}, {6, 3, 0.02, 48 * time.Hour},
	} {
		r, err := Compute(c.k, c.m, c.afr, c.rep, 1)
		if err != nil {
			t.Fatal(err)
		}
		if r.Markov.StripeLoss >= base.Markov.StripeLoss || r.Poisson.StripeLoss >= base.Poisson.StripeLoss {
			t.Errorf("%+v: %v/%v not below %v/%v", c, r.Markov.StripeLoss, r.Poisson.StripeLoss, base.Markov.StripeLoss, base.Poisson.StripeLoss)
		}
	}
	// No redundancy: a stripe dies with its first shard, 1-exp(-n·afr).
	r, _ := Compute(4, 0, 0.1, time.Hour, 1)
	if want := -math.Expm1(-0.4); !near(r.Markov.StripeLoss, want, 1e-12) || !near(r.Poisson.StripeLoss, want, 1e-3) {
		t.Errorf("4+0: markov %v poisson %v, want %v", r.Markov.StripeLoss, r.Poisson.StripeLoss, want)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		k, m    int
		afr     float64
		rep     time.Duration
		stripes int64
	}{
		{"k=0", 0, 2, 0.02, time.Hour, 1},
		{"m<0", 4, -1, 0.02, time.Hour, 1},
		{"wide", 1000, 100, 0.02, time.Hour, 1},
		{"afr=0", 4, 2, 0, time.Hour, 1},
		{"afr nan", 4, 2, math.NaN(), time.Hour, 1},
		{"afr inf", 4, 2, math.Inf(1), time.Hour, 1},
		{"afr<0", 4, 2, -0.1, time.Hour, 1},
		{"repair=0", 4, 2, 0.02, 0, 1},
		{"stripes=0", 4, 2, 0.02, time.Hour, 0},
	}
	for _, tt := range tests {
		if _, err := Compute(tt.k, tt.m, tt.afr, tt.rep, tt.stripes); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestNines(t *testing.T) {
	if got := Nines(1e-11); !near(got, 11, 1e-12) {
		t.Errorf("Nines(1e-11) = %v", got)
	}
	if !math.IsInf(Nines(0), 1) || Nines(1) != 0 {
		t.Error("Nines(0) or Nines(1)")
	}
}
