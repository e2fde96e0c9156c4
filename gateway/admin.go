package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"time"

	"github.com/tessera-store/tessera/durability"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/object"
	"github.com/tessera-store/tessera/s3api/auth"
)

// AdminPrefix is the path prefix of the admin API on the S3 port. "-" cannot
// start a bucket name, so no S3 request is ever routed here.
const AdminPrefix = "/-/admin/v1/"

// StatsReport is what `objd admin stats --json` prints.
type StatsReport struct {
	Objects      int64   `json:"objects"`
	Buckets      int64   `json:"buckets"`
	LogicalBytes int64   `json:"logical_bytes"`
	StoredBytes  int64   `json:"stored_bytes"`
	RawBytes     int64   `json:"raw_bytes"`
	Chunks       int64   `json:"chunks"`
	UniqueChunks int64   `json:"unique_chunks"`
	Packs        int64   `json:"packs"`
	Uploads      int64   `json:"uploads"`
	DedupRatio   float64 `json:"dedup_ratio"`
}

// NodeReport is one row of `objd admin nodes`.
type NodeReport struct {
	ID       string `json:"id"`
	Addr     string `json:"addr"`
	Zone     string `json:"zone"`
	Rack     string `json:"rack,omitempty"`
	State    string `json:"state"`
	Capacity int64  `json:"capacity"`
	Used     int64  `json:"used"`
	Free     int64  `json:"free"`
	Shards   int64  `json:"shards"`
}

// PoolReport is one pool in `objd admin status`, with the durability its
// code gives by the two models of package durability (at the stated shard
// failure rate and repair time; correlated failures are outside both).
type PoolReport struct {
	Name          string  `json:"name"`
	K             int     `json:"k"`
	M             int     `json:"m"`
	FailureDomain string  `json:"failure_domain"`
	AFR           float64 `json:"assumed_afr"`
	RepairHours   float64 `json:"assumed_repair_hours"`
	Stripes       int64   `json:"stripes"`
	MarkovLoss    float64 `json:"markov_annual_loss_per_stripe"`
	MarkovNines   float64 `json:"markov_nines"`
	PoissonLoss   float64 `json:"poisson_annual_loss_per_stripe"`
	PoissonNines  float64 `json:"poisson_nines"`
	FleetNines    float64 `json:"fleet_nines"` // any of Stripes lost in a year, Markov
}

// StatusReport is `objd admin status`.
type StatusReport struct {
	Mode  string       `json:"mode"` // "server" (all-in-one) or "cluster"
	Pools []PoolReport `json:"pools"`
	Nodes int          `json:"nodes"`
	Stats StatsReport  `json:"stats"`
	Note  string       `json:"note"`
}

// UserReport is one row of `objd admin user list`; NewSecret only on add.
type UserReport struct {
	Name      string `json:"name"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key,omitempty"`
	Created   string `json:"created"`
}

// admin serves the admin API. Every request must be SigV4-signed by root.
type admin struct {
	meta    meta.Service
	keyring object.Keyring
	root    Credentials
	verify  *auth.Verifier
	log     *slog.Logger
	// nodes lists storage nodes; nil in all-in-one mode, where the drives
	// are reported instead.
	nodes func(ctx context.Context) ([]NodeReport, error)
	// pools lists the pools and their failure-domain level; mode names
	// the process kind.
	pools func(ctx context.Context) ([]meta.Pool, error)
	mode  string
}

func newAdmin(m meta.Service, k object.Keyring, root Credentials, nodes func(context.Context) ([]NodeReport, error),
	pools func(context.Context) ([]meta.Pool, error), mode string, log *slog.Logger) *admin {
	a := &admin{meta: m, keyring: k, root: root, nodes: nodes, pools: pools, mode: mode, log: log}
	a.verify = auth.NewVerifier(func(_ context.Context, key string) (string, error) {
		if key != root.AccessKey {
			return "", fmt.Errorf("admin API takes root credentials only: %w", auth.ErrInvalidAccessKeyID)
		}
		return root.SecretKey, nil
	}, auth.Options{AnyRegion: true})
	return a
}

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

func (a *admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := a.verify.Verify(r)
	if err == nil && req.Anonymous {
		err = auth.ErrAccessDenied
	}
	if err != nil {
		writeJSONError(w, http.StatusForbidden, "AccessDenied", err.Error())
		return
	}
	ctx := r.Context()
	switch op := r.Method + " " + r.URL.Path[len(AdminPrefix)-1:]; op {
	case "GET /stats":
		rep, err := a.stats(ctx)
		if err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, rep)
	case "GET /status":
		rep, err := a.status(ctx)
		if err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, rep)
	case "GET /nodes":
		if a.nodes == nil {
			writeJSONError(w, http.StatusNotFound, "NoNodes", "not a cluster")
			return
		}
		ns, err := a.nodes(ctx)
		if err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, ns)
	case "GET /users":
		us, err := a.meta.ListUsers(ctx)
		if err != nil {
			a.fail(w, err)
			return
		}
		out := make([]UserReport, 0, len(us))
		for _, u := range us {
			out = append(out, UserReport{Name: u.Name, AccessKey: u.AccessKey, Created: time.Unix(0, u.Created).UTC().Format(time.RFC3339)})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		writeJSON(w, out)
	case "POST /users":
		name := r.URL.Query().Get("name")
		if !userNameRE.MatchString(name) || name == RootUser {
			writeJSONError(w, http.StatusBadRequest, "InvalidUserName", fmt.Sprintf("user name %q: 1-64 letters, digits, '.', '_', '@' or '-', not %q", name, RootUser))
			return
		}
		c := NewCredentials()
		sealed, err := a.keyring.Seal([]byte(c.SecretKey))
		if err != nil {
			a.fail(w, err)
			return
		}
		now := time.Now()
		u := meta.User{Name: name, AccessKey: c.AccessKey, SecretEnc: sealed, Created: now.UnixNano()}
		if err := a.meta.PutUser(ctx, newReqID(), u); err != nil {
			a.fail(w, err)
			return
		}
		a.log.Info("user added", "op", "user-add", "user", name)
		writeJSON(w, UserReport{Name: name, AccessKey: c.AccessKey, SecretKey: c.SecretKey, Created: now.UTC().Format(time.RFC3339)})
	case "DELETE /users":
		name := r.URL.Query().Get("name")
		if err := a.meta.DeleteUser(ctx, newReqID(), name); err != nil {
			a.fail(w, err)
			return
		}
		a.log.Info("user removed", "op", "user-remove", "user", name)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSONError(w, http.StatusNotFound, "NoSuchAdminOperation", op)
	}
}

func (a *admin) stats(ctx context.Context) (StatsReport, error) {
	st, err := a.meta.Stats(ctx)
	if err != nil {
		return StatsReport{}, err
	}
	rep := StatsReport{Objects: st.Objects, Buckets: st.Buckets, LogicalBytes: st.LogicalBytes,
		StoredBytes: st.StoredBytes, RawBytes: st.RawBytes, Chunks: st.Chunks,
		UniqueChunks: st.UniqueChunks, Packs: st.Packs, Uploads: st.Uploads}
	if st.StoredBytes > 0 {
		rep.DedupRatio = float64(st.LogicalBytes) / float64(st.StoredBytes)
	}
	return rep, nil
}

// Assumptions of the displayed durability: a 2% annual failure rate per
// device (about what large fleets report for hard drives) and a 24-hour
// repair. `objd durability` computes other cases.
const (
	statusAFR    = 0.02
	statusRepair = 24 * time.Hour
)

func (a *admin) status(ctx context.Context) (StatusReport, error) {
	st, err := a.stats(ctx)
	if err != nil {
		return StatusReport{}, err
	}
	rep := StatusReport{Mode: a.mode, Stats: st,
		Note: "durability computed for independent device failures at the assumed AFR and repair time; correlated failures (zone outages, firmware bugs, bad batches) are outside both models"}
	if a.nodes != nil {
		ns, err := a.nodes(ctx)
		if err != nil {
			return StatusReport{}, err
		}
		rep.Nodes = len(ns)
	}
	pools, err := a.pools(ctx)
	if err != nil {
		return StatusReport{}, err
	}
	for _, p := range pools {
		stripes := max(st.Packs, 1)
		d, err := durability.Compute(p.K, p.M, statusAFR, statusRepair, stripes)
		if err != nil {
			return StatusReport{}, err
		}
		rep.Pools = append(rep.Pools, PoolReport{
			Name: p.Name, K: p.K, M: p.M, FailureDomain: p.Domain, AFR: statusAFR,
			RepairHours: statusRepair.Hours(), Stripes: stripes,
			MarkovLoss: d.Markov.StripeLoss, MarkovNines: durability.Nines(d.Markov.StripeLoss),
			PoissonLoss: d.Poisson.StripeLoss, PoissonNines: durability.Nines(d.Poisson.StripeLoss),
			FleetNines: durability.Nines(d.Markov.FleetLoss),
		})
	}
	return rep, nil
}

func (a *admin) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, meta.ErrNoSuchUser):
		writeJSONError(w, http.StatusNotFound, "NoSuchUser", err.Error())
	case errors.Is(err, meta.ErrUserExists):
		writeJSONError(w, http.StatusConflict, "UserExists", err.Error())
	case errors.Is(err, meta.ErrInvalidArgument):
		writeJSONError(w, http.StatusBadRequest, "InvalidArgument", err.Error())
	default:
		a.log.Error("admin request failed", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "InternalError", err.Error())
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// AdminError is the body of a failed admin request.
type AdminError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(AdminError{Code: code, Message: msg})
}
