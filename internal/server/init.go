package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riffle-streams/riffle/internal/config"
	"github.com/riffle-streams/riffle/internal/engine"
)

// initTimeout bounds the wait for a stream created by --init to become
// ACTIVE (it is instant unless --create-stream-delay says otherwise).
const initTimeout = time.Minute

// startOps prepares the engine for serving: it creates the streams of the
// --init file, then turns on limits and fault injection as configured (in
// that order, so that creating many streams is not throttled).
func startOps(eng *engine.Engine, cfg config.Config, log *slog.Logger) error {
	if cfg.InitFile != "" {
		f, err := config.ReadInitFile(cfg.InitFile)
		if err != nil {
			return err
		}
		if err := applyInit(eng, cfg, f, log); err != nil {
			return err
		}
	}
	eng.SetEnforceLimits(cfg.EnforceLimits)
	if err := eng.SetFaults(engine.Faults{Rate: cfg.FaultRate, Types: cfg.FaultTypeList()}); err != nil {
		return fmt.Errorf("--fault-rate, --fault-types: %w", err)
	}
	if cfg.EnforceLimits || cfg.FaultRate > 0 {
		log.Info("throttling and faults", "enforce_limits", cfg.EnforceLimits, "fault_rate", cfg.FaultRate, "fault_types", cfg.FaultTypeList())
	}
	return nil
}

// applyInit creates the streams and consumers of an --init file that do not
// exist yet. It runs before the server serves and before limits are
// enforced, through the engine's own operations, so that what it creates is
// exactly what a client creating it would get. Streams that exist are left
// as they are, except that their missing consumers are registered: running
// it again with the same file changes nothing.
func applyInit(eng *engine.Engine, cfg config.Config, f *config.InitFile, log *slog.Logger) error {
	for _, s := range f.Streams {
		caller := engine.Caller{Account: s.AccountID, Region: s.Region}
		if caller.Account == "" {
			caller.Account = cfg.AccountID
		}
		if caller.Region == "" {
			caller.Region = cfg.Region
		}
		ctx := engine.WithCaller(context.Background(), caller)
		if err := initStream(ctx, eng, cfg, s, log); err != nil {
			return fmt.Errorf("--init: stream %s (account %s, region %s): %w", s.Name, caller.Account, caller.Region, err)
		}
	}
	return nil
}

func initStream(ctx context.Context, eng *engine.Engine, cfg config.Config, s config.InitStream, log *slog.Logger) error {
	ref := engine.StreamRef{StreamName: s.Name}
	sum, err := eng.DescribeStreamSummary(ctx, &engine.DescribeStreamSummaryInput{StreamRef: ref})
	switch {
	case engine.KindOf(err) == engine.KindResourceNotFound:
		in := &engine.CreateStreamInput{StreamName: s.Name, Tags: s.Tags}
		if s.Mode == engine.ModeOnDemand {
			in.StreamModeDetails = &engine.StreamModeDetails{StreamMode: engine.ModeOnDemand}
		} else {
			n := max(s.Shards, 1)
			in.ShardCount = &n
		}
		if err := eng.CreateStream(ctx, in); err != nil {
			return fmt.Errorf("create: %w", err)
		}
		log.Info("init: created stream", "stream", s.Name, "shards", s.Shards, "mode", s.Mode)
		if sum, err = waitActive(ctx, eng, ref, cfg.CreateStreamDelay); err != nil {
			return err
		}
		if s.RetentionHours > engine.DefaultRetentionHours {
			if err := eng.IncreaseStreamRetentionPeriod(ctx, &engine.RetentionPeriodInput{StreamRef: ref, RetentionPeriodHours: &s.RetentionHours}); err != nil {
				return fmt.Errorf("set retention: %w", err)
			}
			if sum, err = waitActive(ctx, eng, ref, cfg.UpdateStreamDelay); err != nil {
				return err
			}
		}
		if s.EncryptionKeyID != "" {
			if err := eng.StartStreamEncryption(ctx, &engine.StartStreamEncryptionInput{StreamRef: ref, EncryptionType: "KMS", KeyId: s.EncryptionKeyID}); err != nil {
				return fmt.Errorf("start encryption: %w", err)
			}
			if sum, err = waitActive(ctx, eng, ref, cfg.UpdateStreamDelay); err != nil {
				return err
			}
		}
	case err != nil:
		return fmt.Errorf("describe: %w", err)
	}
	if len(s.Consumers) == 0 {
		return nil
	}
	arn := sum.StreamDescriptionSummary.StreamARN
	have := make(map[string]bool)
	for token := ""; ; {
		in := &engine.ListStreamConsumersInput{StreamARN: arn, NextToken: token}
		out, err := eng.ListStreamConsumers(ctx, in)
		if err != nil {
			return fmt.Errorf("list consumers: %w", err)
		}
		for _, c := range out.Consumers {
			have[c.ConsumerName] = true
		}
		if token = out.NextToken; token == "" {
			break
		}
	}
	for _, name := range s.Consumers {
		if have[name] {
			continue
		}
		if _, err := eng.RegisterStreamConsumer(ctx, &engine.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: name}); err != nil {
			return fmt.Errorf("register consumer %s: %w", name, err)
		}
		log.Info("init: registered consumer", "stream", s.Name, "consumer", name)
	}
	return nil
}

// waitActive waits for a stream to leave CREATING or UPDATING, which takes
// the configured delay.
func waitActive(ctx context.Context, eng *engine.Engine, ref engine.StreamRef, delay time.Duration) (*engine.DescribeStreamSummaryOutput, error) {
	deadline := time.Now().Add(delay + initTimeout)
	for {
		sum, err := eng.DescribeStreamSummary(ctx, &engine.DescribeStreamSummaryInput{StreamRef: ref})
		if err != nil {
			return nil, fmt.Errorf("describe: %w", err)
		}
		if sum.StreamDescriptionSummary.StreamStatus == engine.StatusActive {
			return sum, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("still %s after %s", sum.StreamDescriptionSummary.StreamStatus, delay+initTimeout)
		}
		time.Sleep(min(delay/10+time.Millisecond, 100*time.Millisecond))
	}
}
