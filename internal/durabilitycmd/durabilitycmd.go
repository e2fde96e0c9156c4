// Package durabilitycmd implements "objd durability": it prints the annual
// data-loss probability and the nines of an erasure code by the durability
// package's Markov and Poisson models.
package durabilitycmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/tessera-store/tessera/durability"
)

// ErrUsage reports bad flags or arguments; the usage went to stderr.
var ErrUsage = errors.New("durabilitycmd: usage")

// Correlated is the caveat printed under every report.
const Correlated = "Correlated failures (zone outages, firmware bugs, bad batches of drives, operator error) are outside both models; they dominate real losses."

// Run parses args (the flags after "objd durability") and prints the report
// to stdout. -h returns flag.ErrHelp; bad input returns an error matching
// ErrUsage or durability.ErrInvalid.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fs := flag.NewFlagSet("objd durability", flag.ContinueOnError)
	fs.SetOutput(stderr)
	k := fs.Int("k", 10, "data shards per stripe")
	m := fs.Int("m", 4, "parity shards per stripe")
	afr := fs.Float64("afr", 0.02, "annual failure rate of one shard's drive (0.02 = 2%)")
	repair := fs.Duration("repair", 24*time.Hour, "time to rebuild a lost shard")
	stripes := fs.Int64("stripes", 1, "number of stripes (packs) for the fleet figure")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: objd durability --k 10 --m 4 --afr 0.02 --repair 24h [--stripes N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	r, err := durability.Compute(*k, *m, *afr, *repair, *stripes)
	if err != nil {
		return err
	}
	return print(stdout, r)
}

func print(w io.Writer, r durability.Report) error {
	fmt.Fprintf(w, "code %d+%d (survives %d lost shards), shard AFR %.6g%%, repair %v, %d stripes\n",
		r.K, r.M, r.M, 100*r.AFR, r.Repair, r.Stripes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "model\tloss/stripe/year\tnines\tloss/%d stripes/year\tnines\n", r.Stripes)
	for _, md := range []durability.Model{r.Markov, r.Poisson} {
		fmt.Fprintf(tw, "%s\t%.3e\t%s\t%.3e\t%s\n", md.Name, md.StripeLoss, nines(md.StripeLoss), md.FleetLoss, nines(md.FleetLoss))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "markov: Markov chain over failed shards, repair rate i*mu (parallel rebuilds), MTTDL %.3g years\n"+
		"poisson: Backblaze 2018 method, more than m of n shards failing within one repair window\n%s\n",
		r.Markov.MTTDLYears, Correlated)
	return err
}

// nines formats the count of nines as quoted (the floor) and -log10 p.
func nines(p float64) string {
	n := durability.Nines(p)
	if math.IsInf(n, 1) {
		return "inf"
	}
	return fmt.Sprintf("%d (%.2f)", int(math.Floor(n)), n)
}
