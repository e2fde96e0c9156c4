package admincmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tessera-store/tessera/meta/remote"
)

const metaUsage = `usage: objd admin meta --meta ADDRS COMMAND
commands (talk to metad's gRPC API directly):
  members                       the Raft group: members, roles, leader, indexes
  add-voter ID RAFTADDR APIADDR add a voter (it must be running, started without --bootstrap)
  remove-voter ID               remove a voter`

// runMeta runs `objd admin meta`: membership changes of the metadata group.
func runMeta(ctx context.Context, addrs string, args []string, stdout io.Writer) error {
	if addrs == "" {
		return errors.New("admin meta: --meta ADDRS (metad API addresses, comma separated) is required\n" + metaUsage)
	}
	c, err := remote.Dial(strings.Split(addrs, ","), remote.Options{RetryFor: 10 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch {
	case len(args) == 1 && args[0] == "members":
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "leader %s (%s), term %d, commit index %d\n", st.LeaderID, st.LeaderAPI, st.Term, st.CommitIndex)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRAFT ADDR\tAPI ADDR\tVOTER\tLEADER")
		for _, m := range st.Members {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\n", m.ID, m.RaftAddr, m.APIAddr, m.Voter, m.ID == st.LeaderID)
		}
		return tw.Flush()
	case len(args) == 4 && args[0] == "add-voter":
		if err := c.Join(ctx, args[1], args[2], args[3]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added voter %s\n", args[1])
		return nil
	case len(args) == 2 && args[0] == "remove-voter":
		if err := c.RemoveVoter(ctx, args[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed voter %s\n", args[1])
		return nil
	}
	return fmt.Errorf("admin meta: unknown command %q\n%s", strings.Join(args, " "), metaUsage)
}
