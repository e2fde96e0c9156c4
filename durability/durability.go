// Package durability computes the annual probability that an erasure-coded
// stripe of k data and m parity shards loses data, by two models:
//
//   - Markov: a birth-death chain over the number of failed shards, solved
//     exactly for the mean time to data loss (MTTDL);
//   - Poisson (Backblaze 2018): the probability that more than m of the n
//     shards fail within one repair window, over the windows of a year.
//
// Both take shard failures as independent events at a constant rate (the
// annual failure rate, AFR, of the device holding a shard). Correlated
// failures (a zone outage, a firmware bug, a bad batch of drives, an
// operator's mistake) are outside both models, and in practice they dominate:
// the figures bound what independent device failures alone can do.
package durability

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// HoursPerYear is the year the models use: 365 days, as Backblaze's.
const HoursPerYear = 8760

// MaxShards bounds k+m.
const MaxShards = 1024

// ErrInvalid reports parameters out of range.
var ErrInvalid = errors.New("durability: invalid parameters")

// Model is one model's result.
type Model struct {
	Name string
	// StripeLoss is the probability that one stripe loses data in a year.
	StripeLoss float64
	// FleetLoss is the probability that at least one of Report.Stripes
	// stripes loses data in a year, 1-(1-StripeLoss)^Stripes, taking the
	// stripes as independent.
	FleetLoss float64
	// MTTDLYears is the mean time to data loss of one stripe (Markov only;
	// 0 for the Poisson model).
	MTTDLYears float64
}

// Report holds the parameters and both models' results.
type Report struct {
	K, M    int
	AFR     float64 // annual failure rate of one shard's device, 0.02 = 2%
	Repair  time.Duration
	Stripes int64
	Markov  Model
	Poisson Model
}

// Compute evaluates both models for a k+m code whose shards fail at annual
// rate afr and are rebuilt within repair, for one stripe and for stripes
// stripes.
func Compute(k, m int, afr float64, repair time.Duration, stripes int64) (Report, error) {
	switch {
	case k < 1 || m < 0 || k+m > MaxShards:
		return Report{}, fmt.Errorf("%w: k=%d m=%d", ErrInvalid, k, m)
	case !(afr > 0) || math.IsInf(afr, 0) || afr > 100:
		return Report{}, fmt.Errorf("%w: afr %v (want a rate in (0, 100], 0.02 = 2%%/year)", ErrInvalid, afr)
	case repair <= 0:
		return Report{}, fmt.Errorf("%w: repair time %v", ErrInvalid, repair)
	case stripes < 1:
		return Report{}, fmt.Errorf("%w: %d stripes", ErrInvalid, stripes)
	}
	n := k + m
	hours := repair.Hours()
	r := Report{K: k, M: m, AFR: afr, Repair: repair, Stripes: stripes}

	lambda := afr / HoursPerYear // per shard, per hour
	mttdl := MTTDL(n, m, lambda, 1/hours) / HoursPerYear
	r.Markov = Model{Name: "markov", StripeLoss: -math.Expm1(-1 / mttdl), MTTDLYears: mttdl}
	r.Markov.FleetLoss = AnyOf(r.Markov.StripeLoss, stripes)

	r.Poisson = Model{Name: "poisson", StripeLoss: PoissonLoss(n, m, afr, repair)}
	r.Poisson.FleetLoss = AnyOf(r.Poisson.StripeLoss, stripes)
	return r, nil
}

// MTTDL returns the mean time to data loss of an n-shard stripe that
// survives m failures, in the unit of 1/lambda, by the Markov chain whose
// state i (0..m) is the number of failed shards and m+1 is loss: state i
// moves to i+1 at rate (n-i)·lambda and to i-1 at rate i·mu. The repair rate
// is i·mu because each failed shard is rebuilt independently, in parallel,
// onto a different node (repair time 1/mu per shard).
//
// The expected time to absorption solves a tridiagonal linear system; its
// exact solution is the sum of the first-passage times τ_i from i to i+1:
// τ_0 = 1/λ_0 and τ_i = 1/λ_i + (μ_i/λ_i)·τ_{i-1}. Every term is positive,
// so the sum loses no precision even when MTTDL is 10^15 times the repair
// time.
func MTTDL(n, m int, lambda, mu float64) float64 {
	var tau, sum float64
	for i := 0; i <= m; i++ {
		li := float64(n-i) * lambda
		tau = 1/li + float64(i)*mu/li*tau
		sum += tau
	}
	return sum
}

// PoissonLoss is Backblaze's 2018 method ("Backblaze Durability is
// 99.999999999%"): each shard fails within one repair window of length
// repair with probability p = 1-exp(-afr·T) (Poisson, T in years); a window
// loses the stripe when more than m of its n shards fail in it, binomially;
// a year is 1/T windows, so the annual loss is 1-(1-P_window)^(1/T).
//
// Counting failures in fixed windows misses m+1 failures that straddle two
// windows; a sliding window (a first failure, then m more of the other n-1
// within T) gives about m+1 times more, close to the Markov figure.
func PoissonLoss(n, m int, afr float64, repair time.Duration) float64 {
	t := repair.Hours() / HoursPerYear
	p := -math.Expm1(-afr * t)
	window := binomialTail(n, m+1, p)
	return -math.Expm1(math.Log1p(-window) / t)
}

// SlidingWindowLoss is the first-failure reading of the Poisson model: shard
// failures start at n·afr per year, and each is fatal when at least m of the
// other n-1 shards fail within the repair window that follows it. The annual
// loss is 1-exp(-n·afr·P(Binomial(n-1, p) ≥ m)). It counts the straddling
// failures PoissonLoss misses and agrees with the Markov chain to first
// order; Compute does not report it separately.
func SlidingWindowLoss(n, m int, afr float64, repair time.Duration) float64 {
	t := repair.Hours() / HoursPerYear
	p := -math.Expm1(-afr * t)
	return -math.Expm1(-float64(n) * afr * binomialTail(n-1, m, p))
}

// binomialTail returns P(X ≥ j) for X ~ Binomial(n, p), summing the terms in
// log space (no cancellation for tiny p).
func binomialTail(n, j int, p float64) float64 {
	if j > n {
		return 0
	}
	if j <= 0 {
		return 1
	}
	if p >= 1 {
		return 1
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	sum := 0.0
	for i := j; i <= n; i++ {
		sum += math.Exp(lchoose(n, i) + float64(i)*lp + float64(n-i)*lq)
	}
	return min(sum, 1)
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// AnyOf returns 1-(1-p)^n, the probability that at least one of n
// independent events of probability p happens, without the cancellation of
// the direct formula.
func AnyOf(p float64, n int64) float64 {
	if p >= 1 {
		return 1
	}
	return -math.Expm1(float64(n) * math.Log1p(-p))
}

// Nines returns -log10(p): 11.1 for p = 7.4e-12 (durability 99.999999999%
// and a bit). The count of nines as usually quoted is its floor. p = 0 gives
// +Inf.
func Nines(p float64) float64 {
	if p <= 0 {
		return math.Inf(1)
	}
	return -math.Log10(p)
}
