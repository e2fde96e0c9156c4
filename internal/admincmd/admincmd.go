// Package admincmd is `objd admin`: the admin CLI, a client of the admin
// API that gateways serve under /-/admin/v1/ (SigV4-signed with the root
// credentials).
package admincmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tessera-store/tessera/gateway"
	"github.com/tessera-store/tessera/s3api/auth"
)

const usage = `usage: objd admin [--endpoint URL] [--data DIR] COMMAND
commands:
  user add NAME       create a user; prints its access key and secret key
  user list           list users
  user remove NAME    remove a user
  stats [--json]      objects, logical and stored bytes, chunks, dedup ratio
  status [--json]     pools with their computed durability (nines), nodes
  nodes [--json]      storage nodes (cluster mode)
  meta members|add-voter|remove-voter   metadata Raft group membership (with --meta ADDRS)
Root credentials come from TESSERA_ACCESS_KEY and TESSERA_SECRET_KEY, or
else from DIR/root-credentials.json (--data, default ./data).`

// Run runs the admin CLI.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("objd admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	endpoint := fs.String("endpoint", "http://127.0.0.1:9000", "S3 endpoint of a server or gateway")
	data := fs.String("data", "./data", "data folder holding root-credentials.json, if the environment has no credentials")
	metaAddrs := fs.String("meta", "", "metad API addresses, for `objd admin meta ...`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return errors.New("admin: missing command")
	}
	if rest[0] == "meta" {
		return runMeta(ctx, *metaAddrs, rest[1:], stdout)
	}
	c, err := newClient(*endpoint, *data, getenv)
	if err != nil {
		return err
	}
	jsonOut := false
	pos := rest[:0:0]
	for _, a := range rest {
		if a == "--json" || a == "-json" {
			jsonOut = true
		} else {
			pos = append(pos, a)
		}
	}
	switch {
	case len(pos) == 3 && pos[0] == "user" && pos[1] == "add":
		var u gateway.UserReport
		if err := c.do(ctx, "POST", "users", url.Values{"name": {pos[2]}}, &u); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user: %s\naccess key: %s\nsecret key: %s\n", u.Name, u.AccessKey, u.SecretKey)
	case len(pos) == 2 && pos[0] == "user" && pos[1] == "list":
		var us []gateway.UserReport
		if err := c.do(ctx, "GET", "users", nil, &us); err != nil {
			return err
		}
		if jsonOut {
			return printJSON(stdout, us)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tACCESS KEY\tCREATED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.AccessKey, u.Created)
		}
		return tw.Flush()
	case len(pos) == 3 && pos[0] == "user" && (pos[1] == "remove" || pos[1] == "rm"):
		if err := c.do(ctx, "DELETE", "users", url.Values{"name": {pos[2]}}, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed user %s\n", pos[2])
	case len(pos) == 1 && pos[0] == "stats":
		var s gateway.StatsReport
		if err := c.do(ctx, "GET", "stats", nil, &s); err != nil {
			return err
		}
		if jsonOut {
			return printJSON(stdout, s)
		}
		fmt.Fprintf(stdout, "buckets        %d\nobjects        %d\nlogical bytes  %d\nstored bytes   %d\nraw bytes      %d\nchunks         %d\nunique chunks  %d\npacks          %d\nuploads        %d\ndedup ratio    %.2f\n",
			s.Buckets, s.Objects, s.LogicalBytes, s.StoredBytes, s.RawBytes, s.Chunks, s.UniqueChunks, s.Packs, s.Uploads, s.DedupRatio)
	case len(pos) == 1 && pos[0] == "status":
		var s gateway.StatusReport
		if err := c.do(ctx, "GET", "status", nil, &s); err != nil {
			return err
		}
		if jsonOut {
			return printJSON(stdout, s)
		}
		fmt.Fprintf(stdout, "mode %s, %d nodes, %d objects, %d logical bytes, %d stored bytes (dedup %.2fx)\n",
			s.Mode, s.Nodes, s.Stats.Objects, s.Stats.LogicalBytes, s.Stats.StoredBytes, s.Stats.DedupRatio)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "POOL\tCODE\tDOMAIN\tSTRIPES\tLOSS/STRIPE/YR (MARKOV)\tNINES\tLOSS/STRIPE/YR (POISSON)\tNINES\tFLEET NINES")
		for _, p := range s.Pools {
			fmt.Fprintf(tw, "%s\t%d+%d\t%s\t%d\t%.3g\t%.2f\t%.3g\t%.2f\t%.2f\n", p.Name, p.K, p.M, p.FailureDomain, p.Stripes,
				p.MarkovLoss, p.MarkovNines, p.PoissonLoss, p.PoissonNines, p.FleetNines)
		}
		tw.Flush()
		if len(s.Pools) > 0 {
			fmt.Fprintf(stdout, "assumed: device AFR %.1f%%, repair %.0fh. %s\n", s.Pools[0].AFR*100, s.Pools[0].RepairHours, s.Note)
		}
	case len(pos) == 1 && pos[0] == "nodes":
		var ns []gateway.NodeReport
		if err := c.do(ctx, "GET", "nodes", nil, &ns); err != nil {
			return err
		}
		if jsonOut {
			return printJSON(stdout, ns)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tADDR\tZONE\tSTATE\tCAPACITY\tUSED\tSHARDS")
		for _, n := range ns {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", n.ID, n.Addr, n.Zone, n.State, n.Capacity, n.Used, n.Shards)
		}
		return tw.Flush()
	default:
		fs.Usage()
		return fmt.Errorf("admin: unknown command %q", strings.Join(pos, " "))
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type client struct {
	base *url.URL
	cred gateway.Credentials
	http *http.Client
}

func newClient(endpoint, data string, getenv func(string) string) (*client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("admin: bad --endpoint %q (want http://host:port)", endpoint)
	}
	c := gateway.Credentials{AccessKey: getenv("TESSERA_ACCESS_KEY"), SecretKey: getenv("TESSERA_SECRET_KEY")}
	if c.AccessKey == "" || c.SecretKey == "" {
		b, err := os.ReadFile(filepath.Join(data, "root-credentials.json"))
		if err != nil {
			return nil, errors.New("admin: set TESSERA_ACCESS_KEY and TESSERA_SECRET_KEY to the root credentials")
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("admin: %s: %w", filepath.Join(data, "root-credentials.json"), err)
		}
	}
	return &client{base: u, cred: c, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

func (c *client) do(ctx context.Context, method, op string, q url.Values, out any) error {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + gateway.AdminPrefix + op
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	auth.SignRequest(req, c.cred.AccessKey, c.cred.SecretKey, "us-east-1", emptySHA256, time.Now())
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e gateway.AdminError
		if json.Unmarshal(body, &e) == nil && e.Code != "" {
			return fmt.Errorf("admin: %s: %s", e.Code, e.Message)
		}
		return fmt.Errorf("admin: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("admin: decode answer: %w", err)
	}
	return nil
}
