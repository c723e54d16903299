package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/spf13/cobra"
)

// waitTimeout bounds how long a command waits for a stream or consumer to
// become ACTIVE.
const waitTimeout = 5 * time.Minute

// streamRef splits a STREAM argument into the StreamName or StreamARN
// member of a request: every command takes either.
func streamRef(s string) (name, arn *string) {
	if strings.HasPrefix(s, "arn:") {
		return nil, aws.String(s)
	}
	return aws.String(s), nil
}

// completeStreams completes a STREAM argument with the names ListStreams
// returns; errors (no server) complete nothing.
func (g *globals) completeStreams(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := g.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
	defer cancel()
	names, _ := listStreams(ctx, c)
	return names, cobra.ShellCompDirectiveNoFileComp
}

func listStreams(ctx context.Context, c *kinesis.Client) ([]string, error) {
	var names []string
	p := kinesis.NewListStreamsPaginator(c, &kinesis.ListStreamsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return names, err
		}
		names = append(names, out.StreamNames...)
	}
	return names, nil
}

func newStreamCmd(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "stream",
		Short: "Create, list, describe, reshard and delete streams",
		Long: `Manage streams. STREAM is a stream name or ARN.

Commands that change a stream wait until it is ACTIVE again (at most 5 minutes)
unless --no-wait is given.`,
	})
	var noWait bool
	cmd.PersistentFlags().BoolVar(&noWait, "no-wait", false, "return as soon as the request is accepted, without waiting for ACTIVE")
	wait := func(ctx context.Context, c *kinesis.Client, stream string) error {
		if noWait {
			return nil
		}
		return waitStreamActive(ctx, c, stream)
	}

	var shards int32
	var onDemand bool
	create := &cobra.Command{
		Use:   "create STREAM",
		Short: "Create a stream",
		Example: `  riffle stream create orders --shards 4
  riffle stream create events --on-demand`,
		Args: exactArgs("STREAM"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if onDemand && cmd.Flags().Changed("shards") {
				return usagef("--shards and --on-demand are exclusive")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			in := &kinesis.CreateStreamInput{StreamName: aws.String(args[0])}
			if onDemand {
				in.StreamModeDetails = &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}
			} else {
				in.ShardCount = aws.Int32(shards)
			}
			if _, err := c.CreateStream(cmd.Context(), in); err != nil {
				return err
			}
			if err := wait(cmd.Context(), c, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Stdout, "created stream %s\n", args[0])
			return nil
		}),
	}
	create.Flags().Int32Var(&shards, "shards", 1, "number of shards (provisioned mode)")
	create.Flags().BoolVar(&onDemand, "on-demand", false, "create the stream in ON_DEMAND capacity mode")

	list := &cobra.Command{
		Use:   "list",
		Short: "List stream names, one per line",
		Args:  noArgs,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			names, err := listStreams(cmd.Context(), c)
			if err != nil {
				return err
			}
			for _, n := range names {
				fmt.Fprintln(g.io.Stdout, n)
			}
			return nil
		}),
	}

	var asJSON bool
	describe := &cobra.Command{
		Use:               "describe STREAM",
		Short:             "Show a stream's settings and shards",
		Args:              exactArgs("STREAM"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return describeStream(cmd.Context(), c, args[0], asJSON, g.io)
		}),
	}
	describe.Flags().BoolVar(&asJSON, "json", false, "print the DescribeStreamSummary and ListShards results as JSON")

	var force bool
	del := &cobra.Command{
		Use:               "delete STREAM",
		Short:             "Delete a stream",
		Args:              exactArgs("STREAM"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			name, arn := streamRef(args[0])
			if _, err := c.DeleteStream(cmd.Context(), &kinesis.DeleteStreamInput{StreamName: name, StreamARN: arn, EnforceConsumerDeletion: aws.Bool(force)}); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Stdout, "deleting stream %s\n", args[0])
			return nil
		}),
	}
	del.Flags().BoolVar(&force, "force", false, "also deregister the stream's consumers (EnforceConsumerDeletion)")

	scale := &cobra.Command{
		Use:               "scale STREAM SHARDS",
		Short:             "Change the number of open shards (UpdateShardCount, uniform scaling)",
		Args:              exactArgs("STREAM", "SHARDS"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseInt(args[1], 10, 32)
			if err != nil || n < 1 {
				return usagef("SHARDS %q: want a positive number", args[1])
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			name, arn := streamRef(args[0])
			if _, err := c.UpdateShardCount(cmd.Context(), &kinesis.UpdateShardCountInput{
				StreamName: name, StreamARN: arn, TargetShardCount: aws.Int32(int32(n)), ScalingType: types.ScalingTypeUniformScaling,
			}); err != nil {
				return err
			}
			if err := wait(cmd.Context(), c, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Stdout, "scaled stream %s to %d shards\n", args[0], n)
			return nil
		}),
	}

	var hashKey string
	split := &cobra.Command{
		Use:               "split STREAM SHARD",
		Short:             "Split a shard in two (at the middle of its hash key range unless --hash-key)",
		Args:              exactArgs("STREAM", "SHARD"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			key := hashKey
			if key == "" {
				if key, err = midpoint(cmd.Context(), c, args[0], args[1]); err != nil {
					return err
				}
			}
			name, arn := streamRef(args[0])
			if _, err := c.SplitShard(cmd.Context(), &kinesis.SplitShardInput{
				StreamName: name, StreamARN: arn, ShardToSplit: aws.String(args[1]), NewStartingHashKey: aws.String(key),
			}); err != nil {
				return err
			}
			if err := wait(cmd.Context(), c, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Stdout, "split %s of stream %s at hash key %s\n", args[1], args[0], key)
			return nil
		}),
	}
	split.Flags().StringVar(&hashKey, "hash-key", "", "first hash key of the new upper shard (decimal)")

	merge := &cobra.Command{
		Use:               "merge STREAM SHARD ADJACENT-SHARD",
		Short:             "Merge two adjacent shards",
		Args:              exactArgs("STREAM", "SHARD", "ADJACENT-SHARD"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			name, arn := streamRef(args[0])
			if _, err := c.MergeShards(cmd.Context(), &kinesis.MergeShardsInput{
				StreamName: name, StreamARN: arn, ShardToMerge: aws.String(args[1]), AdjacentShardToMerge: aws.String(args[2]),
			}); err != nil {
				return err
			}
			if err := wait(cmd.Context(), c, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Stdout, "merged %s and %s of stream %s\n", args[1], args[2], args[0])
			return nil
		}),
	}

	retention := &cobra.Command{
		Use:               "retention STREAM HOURS",
		Short:             "Set the retention period (24 to 8760 hours)",
		Args:              exactArgs("STREAM", "HOURS"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			h, err := strconv.ParseInt(args[1], 10, 32)
			if err != nil {
				return usagef("HOURS %q: want a whole number of hours", args[1])
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			name, arn := streamRef(args[0])
			sum, err := c.DescribeStreamSummary(cmd.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: name, StreamARN: arn})
			if err != nil {
				return err
			}
			cur := aws.ToInt32(sum.StreamDescriptionSummary.RetentionPeriodHours)
			switch {
			case int32(h) > cur:
				_, err = c.IncreaseStreamRetentionPeriod(cmd.Context(), &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, StreamARN: arn, RetentionPeriodHours: aws.Int32(int32(h))})
			case int32(h) < cur:
				_, err = c.DecreaseStreamRetentionPeriod(cmd.Context(), &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, StreamARN: arn, RetentionPeriodHours: aws.Int32(int32(h))})
			}
			if err != nil {
				return err
			}
			if err := wait(cmd.Context(), c, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Stdout, "retention of stream %s is %d hours\n", args[0], h)
			return nil
		}),
	}
	cmd.AddCommand(create, list, describe, del, scale, split, merge, retention)
	return cmd
}

// midpoint is the middle of a shard's hash key range, the usual split point.
func midpoint(ctx context.Context, c *kinesis.Client, stream, shardID string) (string, error) {
	shards, err := listShards(ctx, c, stream)
	if err != nil {
		return "", err
	}
	for _, s := range shards {
		if aws.ToString(s.ShardId) != shardID {
			continue
		}
		lo, ok1 := new(big.Int).SetString(aws.ToString(s.HashKeyRange.StartingHashKey), 10)
		hi, ok2 := new(big.Int).SetString(aws.ToString(s.HashKeyRange.EndingHashKey), 10)
		if !ok1 || !ok2 {
			return "", fmt.Errorf("shard %s has an unreadable hash key range", shardID)
		}
		mid := new(big.Int).Add(lo, hi)
		mid.Rsh(mid, 1)
		return mid.Add(mid, big.NewInt(1)).String(), nil
	}
	return "", fmt.Errorf("stream %s has no shard %s", stream, shardID)
}

// listShards lists every shard the stream still has, closed ones included.
func listShards(ctx context.Context, c *kinesis.Client, stream string) ([]types.Shard, error) {
	name, arn := streamRef(stream)
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: name, StreamARN: arn}
	for {
		out, err := c.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			return shards, nil
		}
		// NextToken must be sent without the stream.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// waitStreamActive polls until the stream is ACTIVE.
func waitStreamActive(ctx context.Context, c *kinesis.Client, stream string) error {
	name, arn := streamRef(stream)
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name, StreamARN: arn})
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("stream %s did not become ACTIVE within %s", stream, waitTimeout)
			}
			return err
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return nil
		}
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("stream %s did not become ACTIVE within %s (still %s)", stream, waitTimeout, out.StreamDescriptionSummary.StreamStatus)
		}
		delay = min(delay*2, time.Second)
	}
}

func describeStream(ctx context.Context, c *kinesis.Client, stream string, asJSON bool, stdio IO) error {
	name, arn := streamRef(stream)
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name, StreamARN: arn})
	if err != nil {
		return err
	}
	shards, err := listShards(ctx, c, stream)
	if err != nil {
		return err
	}
	d := sum.StreamDescriptionSummary
	if asJSON {
		enc := json.NewEncoder(stdio.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			StreamDescriptionSummary *types.StreamDescriptionSummary
			Shards                   []types.Shard
		}{d, shards})
	}
	mode := ""
	if d.StreamModeDetails != nil {
		mode = string(d.StreamModeDetails.StreamMode)
	}
	tw := tabwriter.NewWriter(stdio.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Stream:\t%s\n", aws.ToString(d.StreamName))
	fmt.Fprintf(tw, "ARN:\t%s\n", aws.ToString(d.StreamARN))
	fmt.Fprintf(tw, "Status:\t%s\n", d.StreamStatus)
	fmt.Fprintf(tw, "Mode:\t%s\n", mode)
	fmt.Fprintf(tw, "Retention:\t%d hours\n", aws.ToInt32(d.RetentionPeriodHours))
	fmt.Fprintf(tw, "Encryption:\t%s\n", d.EncryptionType)
	fmt.Fprintf(tw, "Open shards:\t%d\n", aws.ToInt32(d.OpenShardCount))
	fmt.Fprintf(tw, "Consumers:\t%d\n", aws.ToInt32(d.ConsumerCount))
	if d.StreamCreationTimestamp != nil {
		fmt.Fprintf(tw, "Created:\t%s\n", d.StreamCreationTimestamp.UTC().Format(time.RFC3339))
	}
	tw.Flush()
	fmt.Fprintln(stdio.Stdout)
	tw = tabwriter.NewWriter(stdio.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SHARD\tSTATE\tPARENTS\tHASH KEYS\tSEQUENCE NUMBERS")
	for _, s := range shards {
		state := "open"
		seqs := aws.ToString(s.SequenceNumberRange.StartingSequenceNumber) + "-"
		if e := s.SequenceNumberRange.EndingSequenceNumber; e != nil {
			state = "closed"
			seqs += *e
		}
		parents := strings.Join(nonEmpty(aws.ToString(s.ParentShardId), aws.ToString(s.AdjacentParentShardId)), ",")
		if parents == "" {
			parents = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s-%s\t%s\n", aws.ToString(s.ShardId), state, parents,
			aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey), seqs)
	}
	return tw.Flush()
}

func nonEmpty(vals ...string) []string {
	var out []string
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newConsumerCmd(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "consumer",
		Short: "List, register and deregister enhanced fan-out consumers",
	})
	list := &cobra.Command{
		Use:               "list STREAM",
		Short:             "List a stream's consumers: name, status, ARN (tab-separated)",
		Args:              exactArgs("STREAM"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			c, arn, err := g.clientForStream(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			p := kinesis.NewListStreamConsumersPaginator(c, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arn)})
			for p.HasMorePages() {
				out, err := p.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				for _, co := range out.Consumers {
					fmt.Fprintf(g.io.Stdout, "%s\t%s\t%s\n", aws.ToString(co.ConsumerName), co.ConsumerStatus, aws.ToString(co.ConsumerARN))
				}
			}
			return nil
		}),
	}
	register := &cobra.Command{
		Use:               "register STREAM NAME",
		Short:             "Register a consumer, wait until it is ACTIVE and print its ARN",
		Args:              exactArgs("STREAM", "NAME"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			c, arn, err := g.clientForStream(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out, err := c.RegisterStreamConsumer(cmd.Context(), &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String(args[1])})
			if err != nil {
				return err
			}
			if err := waitConsumerActive(cmd.Context(), c, aws.ToString(out.Consumer.ConsumerARN)); err != nil {
				return err
			}
			fmt.Fprintln(g.io.Stdout, aws.ToString(out.Consumer.ConsumerARN))
			return nil
		}),
	}
	deregister := &cobra.Command{
		Use:               "deregister STREAM NAME",
		Short:             "Deregister a consumer",
		Args:              exactArgs("STREAM", "NAME"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			c, arn, err := g.clientForStream(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if _, err := c.DeregisterStreamConsumer(cmd.Context(), &kinesis.DeregisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String(args[1])}); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Stdout, "deregistering consumer %s\n", args[1])
			return nil
		}),
	}
	cmd.AddCommand(list, register, deregister)
	return cmd
}

// clientForStream returns a client and the ARN of the stream named by name
// or ARN, for the operations that take only ARNs.
func (g *globals) clientForStream(ctx context.Context, stream string) (*kinesis.Client, string, error) {
	c, err := g.client()
	if err != nil {
		return nil, "", err
	}
	arn, err := resolveStreamARN(ctx, c, stream)
	return c, arn, err
}

// resolveStreamARN returns the stream's ARN, asking the server for it when
// given a name (consumer operations take only ARNs).
func resolveStreamARN(ctx context.Context, c *kinesis.Client, stream string) (string, error) {
	if strings.HasPrefix(stream, "arn:") {
		return stream, nil
	}
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.StreamDescriptionSummary.StreamARN), nil
}

// waitConsumerActive polls until the consumer is ACTIVE.
func waitConsumerActive(ctx context.Context, c *kinesis.Client, consumerARN string) error {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		out, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(consumerARN)})
		if err != nil {
			return err
		}
		if out.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			return nil
		}
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("consumer %s did not become ACTIVE within %s", consumerARN, waitTimeout)
		}
		delay = min(delay*2, time.Second)
	}
}
