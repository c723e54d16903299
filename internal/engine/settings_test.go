package engine

import (
	"bytes"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riffle-streams/riffle/internal/store"
	"github.com/riffle-streams/riffle/internal/vfs"
)

func accountSettings(t *testing.T, e *Engine) *MinimumThroughputBillingCommitmentOutput {
	t.Helper()
	return must[*DescribeAccountSettingsOutput](t)(e.DescribeAccountSettings(ctx, &DescribeAccountSettingsInput{})).MinimumThroughputBillingCommitment
}

func setCommitment(t *testing.T, e *Engine, status string) *MinimumThroughputBillingCommitmentOutput {
	t.Helper()
	return must[*UpdateAccountSettingsOutput](t)(e.UpdateAccountSettings(ctx, &UpdateAccountSettingsInput{
		MinimumThroughputBillingCommitment: &MinimumThroughputBillingCommitmentInput{Status: status},
	})).MinimumThroughputBillingCommitment
}

func TestAccountSettingsCommitment(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		if got := accountSettings(t, v.e); got.Status != CommitmentDisabled || !got.StartedAt.IsZero() || !got.EarliestAllowedEndAt.IsZero() {
			t.Fatalf("settings of a new account: %+v", got)
		}
		start := v.clock.Now()
		got := setCommitment(t, v.e, CommitmentEnabled)
		if got.Status != CommitmentEnabled || !got.StartedAt.Equal(start) || !got.EarliestAllowedEndAt.Equal(start.Add(24*time.Hour)) {
			t.Fatalf("after enable: %+v", got)
		}
		v.restart()
		if got := accountSettings(t, v.e); got.Status != CommitmentEnabled || !got.StartedAt.Equal(start) {
			t.Fatalf("after restart: %+v", got)
		}
		// Another account (or region) has its own settings.
		other := WithCaller(ctx, Caller{Account: "111111111111", Region: "us-east-1"})
		o := must[*DescribeAccountSettingsOutput](t)(v.e.DescribeAccountSettings(other, &DescribeAccountSettingsInput{}))
		if o.MinimumThroughputBillingCommitment.Status != CommitmentDisabled {
			t.Fatalf("other account: %+v", o.MinimumThroughputBillingCommitment)
		}

		// Disabling within 24 hours schedules the end; enabling cancels it.
		v.clock.Advance(time.Hour)
		if got := setCommitment(t, v.e, CommitmentDisabled); got.Status != CommitmentEndingLater || !got.EndedAt.IsZero() {
			t.Fatalf("early disable: %+v", got)
		}
		if got := setCommitment(t, v.e, CommitmentEnabled); got.Status != CommitmentEnabled || !got.StartedAt.Equal(start) {
			t.Fatalf("enable while ending: %+v", got)
		}
		setCommitment(t, v.e, CommitmentDisabled)
		v.restart()
		v.clock.Advance(23 * time.Hour)
		got = accountSettings(t, v.e)
		if got.Status != CommitmentDisabled || !got.EndedAt.Equal(start.Add(24*time.Hour)) || !got.StartedAt.Equal(start) {
			t.Fatalf("after the earliest end: %+v", got)
		}

		// A new commitment starts afresh; disabling it after 24 hours ends it at once.
		v.clock.Advance(time.Hour)
		start = v.clock.Now()
		if got := setCommitment(t, v.e, CommitmentEnabled); !got.StartedAt.Equal(start) || !got.EndedAt.IsZero() {
			t.Fatalf("re-enable: %+v", got)
		}
		v.clock.Advance(25 * time.Hour)
		if got := setCommitment(t, v.e, CommitmentDisabled); got.Status != CommitmentDisabled || !got.EndedAt.Equal(v.clock.Now()) {
			t.Fatalf("late disable: %+v", got)
		}
		_, err := v.e.UpdateAccountSettings(ctx, &UpdateAccountSettingsInput{
			MinimumThroughputBillingCommitment: &MinimumThroughputBillingCommitmentInput{Status: "MAYBE"}})
		wantKind(t, err, KindValidation, "Member must satisfy enum value set: [ENABLED, DISABLED]")
	})
}

func TestDescribeLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "a", 3)
		create(t, v.e, "b", 2)
		if err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "od", StreamModeDetails: &StreamModeDetails{StreamMode: ModeOnDemand}}); err != nil {
			t.Fatal(err)
		}
		v.restart()
		got := must[*DescribeLimitsOutput](t)(v.e.DescribeLimits(ctx, &DescribeLimitsInput{}))
		want := DescribeLimitsOutput{ShardLimit: 500, OpenShardCount: 9, OnDemandStreamCount: 1, OnDemandStreamCountLimit: 50}
		if *got != want {
			t.Fatalf("limits: %+v, want %+v", *got, want)
		}
		other := WithCaller(ctx, Caller{Account: "111111111111", Region: "us-east-1"})
		got = must[*DescribeLimitsOutput](t)(v.e.DescribeLimits(other, &DescribeLimitsInput{}))
		if got.OpenShardCount != 0 || got.OnDemandStreamCount != 0 || got.ShardLimit != 500 {
			t.Fatalf("other account's limits: %+v", *got)
		}
	})
}

func TestUpdateMaxRecordSize(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "big", 1)
		ref := StreamRef{StreamName: "big"}
		arn := "arn:aws:kinesis:us-east-1:000000000000:stream/big"
		maxSize := func() int {
			t.Helper()
			return must[*DescribeStreamSummaryOutput](t)(v.e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: ref})).StreamDescriptionSummary.MaxRecordSizeInKiB
		}
		tenMiB := bytes.Repeat([]byte{'x'}, 10<<20)
		_, err := v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: tenMiB})
		wantKind(t, err, KindValidation, "Member must have length less than or equal to 1048576")
		if err := v.e.UpdateMaxRecordSize(ctx, &UpdateMaxRecordSizeInput{StreamARN: arn, MaxRecordSizeInKiB: ptr(10240)}); err != nil {
			t.Fatal(err)
		}
		v.restart()
		if got := maxSize(); got != 10240 {
			t.Fatalf("MaxRecordSizeInKiB after update and restart: %d", got)
		}
		put := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: tenMiB}))
		recs := readAll(t, v.e, iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: put.ShardId, ShardIteratorType: IteratorTrimHorizon}), 0)
		if len(recs) != 1 || !bytes.Equal(recs[0].Data, tenMiB) {
			t.Fatalf("read back %d records", len(recs))
		}
		_, err = v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: append(tenMiB, 'y')})
		wantKind(t, err, KindValidation, "Member must have length less than or equal to 10485760")

		err = v.e.UpdateMaxRecordSize(ctx, &UpdateMaxRecordSizeInput{StreamARN: arn, MaxRecordSizeInKiB: ptr(1023)})
		wantKind(t, err, KindValidation, "Member must have value greater than or equal to 1024")
		err = v.e.UpdateMaxRecordSize(ctx, &UpdateMaxRecordSizeInput{StreamARN: arn, MaxRecordSizeInKiB: ptr(10241)})
		wantKind(t, err, KindValidation, "Member must have value less than or equal to 10240")
		err = v.e.UpdateMaxRecordSize(ctx, &UpdateMaxRecordSizeInput{StreamARN: arn + "x", MaxRecordSizeInKiB: ptr(2048)})
		wantKind(t, err, KindResourceNotFound, "Stream bigx under account 000000000000 not found.")
		err = v.e.UpdateMaxRecordSize(ctx, &UpdateMaxRecordSizeInput{MaxRecordSizeInKiB: ptr(2048)})
		wantKind(t, err, KindInvalidArgument, "StreamARN")
		if got := maxSize(); got != 10240 {
			t.Fatalf("refused updates changed the size to %d", got)
		}
	})
}

func TestWarmThroughput(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "prov", 1)
		if err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "od", StreamModeDetails: &StreamModeDetails{StreamMode: ModeOnDemand}}); err != nil {
			t.Fatal(err)
		}
		od := StreamRef{StreamName: "od"}
		warm := func(ref StreamRef) *WarmThroughputObject {
			t.Helper()
			return must[*DescribeStreamSummaryOutput](t)(v.e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: ref})).StreamDescriptionSummary.WarmThroughput
		}
		update := func(ref StreamRef, mibps int) (*UpdateStreamWarmThroughputOutput, error) {
			return v.e.UpdateStreamWarmThroughput(ctx, &UpdateStreamWarmThroughputInput{StreamRef: ref, WarmThroughputMiBps: &mibps})
		}
		if w := warm(od); w != nil {
			t.Fatalf("WarmThroughput without the commitment: %+v", w)
		}
		_, err := update(od, 100)
		wantKind(t, err, KindInvalidArgument, "MinimumThroughputBillingCommitment")
		setCommitment(t, v.e, CommitmentEnabled)
		_, err = update(StreamRef{StreamName: "prov"}, 100)
		wantKind(t, err, KindInvalidArgument, "only supported for streams in ON_DEMAND mode")
		_, err = update(od, MaxWarmThroughputMiBps+1)
		wantKind(t, err, KindLimitExceeded, "exceeds the limit of 10240 MiBps")
		if w := warm(od); w == nil || *w != (WarmThroughputObject{}) {
			t.Fatalf("WarmThroughput with the commitment, before any update: %+v", w)
		}
		out := must[*UpdateStreamWarmThroughputOutput](t)(update(od, 250))
		if out.StreamName != "od" || out.StreamARN != "arn:aws:kinesis:us-east-1:000000000000:stream/od" ||
			out.WarmThroughput == nil || *out.WarmThroughput != (WarmThroughputObject{TargetMiBps: 250, CurrentMiBps: 250}) {
			t.Fatalf("update output: %+v %+v", out, out.WarmThroughput)
		}
		v.restart()
		if w := warm(od); w == nil || *w != (WarmThroughputObject{TargetMiBps: 250, CurrentMiBps: 250}) {
			t.Fatalf("WarmThroughput after restart: %+v", w)
		}
		if w := warm(StreamRef{StreamName: "prov"}); w != nil {
			t.Fatalf("provisioned stream reports WarmThroughput %+v", w)
		}
		_, err = update(StreamRef{StreamName: "nope"}, 1)
		wantKind(t, err, KindResourceNotFound, "Stream nope under account 000000000000 not found.")
	})
}

// TestWarmThroughputUpdating checks that with --update-stream-delay the
// stream is UPDATING, still reporting the former CurrentMiBps, until the
// delay has passed.
func TestWarmThroughputUpdating(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.Open(vfs.NewMem(), "data", store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.UpdateStreamDelay = time.Second
		e, err := Open(cfg, st)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		defer e.Close()
		setCommitment(t, e, CommitmentEnabled)
		if err := e.CreateStream(ctx, &CreateStreamInput{StreamName: "od", StreamModeDetails: &StreamModeDetails{StreamMode: ModeOnDemand}}); err != nil {
			t.Fatal(err)
		}
		ref := StreamRef{StreamName: "od"}
		summary := func() StreamDescriptionSummary {
			return must[*DescribeStreamSummaryOutput](t)(e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: ref})).StreamDescriptionSummary
		}
		out := must[*UpdateStreamWarmThroughputOutput](t)(e.UpdateStreamWarmThroughput(ctx, &UpdateStreamWarmThroughputInput{StreamRef: ref, WarmThroughputMiBps: ptr(500)}))
		if *out.WarmThroughput != (WarmThroughputObject{TargetMiBps: 500, CurrentMiBps: 0}) {
			t.Fatalf("update output: %+v", out.WarmThroughput)
		}
		if s := summary(); s.StreamStatus != StatusUpdating || *s.WarmThroughput != (WarmThroughputObject{TargetMiBps: 500}) {
			t.Fatalf("right after the update: %s %+v", s.StreamStatus, s.WarmThroughput)
		}
		_, err = e.UpdateStreamWarmThroughput(ctx, &UpdateStreamWarmThroughputInput{StreamRef: ref, WarmThroughputMiBps: ptr(600)})
		wantKind(t, err, KindResourceInUse, "not ACTIVE, instead in state UPDATING")
		time.Sleep(time.Second)
		synctest.Wait()
		if s := summary(); s.StreamStatus != StatusActive || *s.WarmThroughput != (WarmThroughputObject{TargetMiBps: 500, CurrentMiBps: 500}) {
			t.Fatalf("after the delay: %s %+v", s.StreamStatus, s.WarmThroughput)
		}
	})
}
