package placement

import (
	"errors"
	"fmt"
	"math"
)

// Errors. Match with errors.Is.
var (
	// ErrCannotPlace: the nodes cannot hold the pool's layout. The error is a
	// *CannotPlaceError that says why.
	ErrCannotPlace = errors.New("placement: cannot place")
	// ErrInvalidPool: a pool field is out of range.
	ErrInvalidPool = errors.New("placement: invalid pool")
	// ErrInvalidNode: a node has no ID, a duplicate ID, a bad weight or state.
	ErrInvalidNode = errors.New("placement: invalid node")
	// ErrBadPG: a placement group number outside [0, PGs).
	ErrBadPG = errors.New("placement: placement group out of range")
	// ErrUnrecoverable: a pack lost more than m shards; repair cannot rebuild it.
	ErrUnrecoverable = errors.New("placement: pack has fewer than k shards")
	// ErrInvalidDamage: a damaged-pack record is malformed (shard indexes out
	// of range or repeated, node list not k+m long).
	ErrInvalidDamage = errors.New("placement: invalid damaged pack")
)

// Reason says why a layout cannot be placed.
type Reason int

// Reasons for ErrCannotPlace.
const (
	// ReasonNoClass: no usable node has the pool's device class.
	ReasonNoClass Reason = iota + 1
	// ReasonTooFewNodes: fewer usable nodes than k+m.
	ReasonTooFewNodes
	// ReasonTooFewDomains: the failure domains cannot hold k+m shards with at
	// most m in each, so losing one domain would lose data.
	ReasonTooFewDomains
	// ReasonNoRedundancy: m = 0 cannot survive losing any domain; such a pool
	// must set BestEffort.
	ReasonNoRedundancy
)

func (r Reason) String() string {
	switch r {
	case ReasonNoClass:
		return "no usable nodes of the class"
	case ReasonTooFewNodes:
		return "too few usable nodes"
	case ReasonTooFewDomains:
		return "too few failure domains"
	case ReasonNoRedundancy:
		return "m=0 cannot survive a domain loss"
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// CannotPlaceError reports a layout the nodes cannot hold. It matches
// ErrCannotPlace.
type CannotPlaceError struct {
	Pool   string
	Reason Reason
	// Need and Have quantify the shortfall: nodes for ReasonTooFewNodes,
	// shards per domain (needed cap vs m) for ReasonTooFewDomains.
	Need, Have int
}

func (e *CannotPlaceError) Error() string {
	return fmt.Sprintf("placement: cannot place pool %q: %v (need %d, have %d)", e.Pool, e.Reason, e.Need, e.Have)
}

// Is makes errors.Is(err, ErrCannotPlace) hold.
func (e *CannotPlaceError) Is(target error) bool { return target == ErrCannotPlace }

// Level is a failure-domain level. Higher levels contain lower ones.
type Level int

// Failure-domain levels.
const (
	LevelNode Level = iota // every node is its own domain (drives of one server)
	LevelHost
	LevelRack
	LevelZone
	LevelRegion
)

var levelNames = [...]string{"node", "host", "rack", "zone", "region"}

func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// ParseLevel parses a level name; "" is LevelHost.
func ParseLevel(s string) (Level, error) {
	if s == "" {
		return LevelHost, nil
	}
	for i, n := range levelNames {
		if n == s {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown failure-domain level %q", ErrInvalidPool, s)
}

// State is a node's health as placement sees it.
type State int

// Node states. Only StateUp nodes receive new shards.
const (
	StateUp State = iota
	StateDown
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateDown:
		return "down"
	case StateFailed:
		return "failed"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Node is a storage node (or one drive of a server, with LevelNode pools).
type Node struct {
	ID                       string
	Region, Zone, Rack, Host string // failure-domain labels; "" is a value like any other
	Class                    string // device class, e.g. "hdd", "ssd"
	// Weight is the node's share of new data, usually its capacity in any
	// unit. 0 takes no new shards (draining).
	Weight float64
	State  State
}

// domain returns the node's failure domain at level l. Labels of higher
// levels are included, so rack "r1" in two zones is two domains.
func (n *Node) domain(l Level) string {
	switch l {
	case LevelNode:
		return "n/" + n.ID
	case LevelHost:
		return "h/" + n.Region + "/" + n.Zone + "/" + n.Rack + "/" + n.Host
	case LevelRack:
		return "k/" + n.Region + "/" + n.Zone + "/" + n.Rack
	case LevelZone:
		return "z/" + n.Region + "/" + n.Zone
	default:
		return "r/" + n.Region
	}
}

func (n *Node) validate() error {
	switch {
	case n.ID == "":
		return fmt.Errorf("%w: empty id", ErrInvalidNode)
	case math.IsNaN(n.Weight) || math.IsInf(n.Weight, 0) || n.Weight < 0:
		return fmt.Errorf("%w: %s: weight %v", ErrInvalidNode, n.ID, n.Weight)
	case n.State < StateUp || n.State > StateFailed:
		return fmt.Errorf("%w: %s: %v", ErrInvalidNode, n.ID, n.State)
	}
	return nil
}

// MaxWidth bounds k+m (the erasure code's shard count is at most 256; wider
// stripes make no sense for placement either).
const MaxWidth = 256

// MaxPGs bounds a pool's placement group count.
const MaxPGs = 1 << 24

// Pool is a placement pool.
type Pool struct {
	Name string
	// K data and M parity shards; K=1 with M=n-1 is n-way replication.
	K, M  int
	Codec string // compression codec of the pool's packs ("zstd", "s2", "none"); recorded, not used here
	Class string // device class; "" = any
	// Domain is the failure-domain level no domain of which may hold more
	// than M shards of a placement group.
	Domain Level
	PGs    int // placement group count, 1..MaxPGs
	// BestEffort accepts topologies that cannot survive a whole-domain loss
	// (too few domains, or M = 0) and spreads shards as evenly as they allow.
	BestEffort bool
}

// Width returns k+m, the number of shards (and nodes) of a placement group.
func (p Pool) Width() int { return p.K + p.M }

// Validate checks the pool's fields.
func (p Pool) Validate() error {
	switch {
	case p.K < 1 || p.M < 0 || p.K+p.M > MaxWidth:
		return fmt.Errorf("%w: %q: k=%d m=%d", ErrInvalidPool, p.Name, p.K, p.M)
	case p.PGs < 1 || p.PGs > MaxPGs:
		return fmt.Errorf("%w: %q: %d placement groups", ErrInvalidPool, p.Name, p.PGs)
	case p.Domain < LevelNode || p.Domain > LevelRegion:
		return fmt.Errorf("%w: %q: %v", ErrInvalidPool, p.Name, p.Domain)
	}
	return nil
}
