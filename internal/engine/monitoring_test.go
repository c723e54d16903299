package engine

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riffle-streams/riffle/internal/store"
	"github.com/riffle-streams/riffle/internal/vfs"
)

func enabledMetrics(t *testing.T, e *Engine, name string) []string {
	t.Helper()
	d := must[*DescribeStreamSummaryOutput](t)(e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: StreamRef{StreamName: name}}))
	em := d.StreamDescriptionSummary.EnhancedMonitoring
	if len(em) != 1 {
		t.Fatalf("EnhancedMonitoring has %d entries, want 1", len(em))
	}
	return em[0].ShardLevelMetrics
}

func TestEnhancedMonitoring(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 2)
		ref := StreamRef{StreamName: "s"}
		arn := "arn:aws:kinesis:us-east-1:000000000000:stream/s"
		set := func(enable bool, in EnhancedMonitoringInput) *EnhancedMonitoringOutput {
			t.Helper()
			f := v.e.DisableEnhancedMonitoring
			if enable {
				f = v.e.EnableEnhancedMonitoring
			}
			return must[*EnhancedMonitoringOutput](t)(f(ctx, &in))
		}
		check := func(out *EnhancedMonitoringOutput, current, desired []string) {
			t.Helper()
			if out.StreamName != "s" || out.StreamARN != arn {
				t.Errorf("output names %q %q", out.StreamName, out.StreamARN)
			}
			if !slices.Equal(out.CurrentShardLevelMetrics, current) || !slices.Equal(out.DesiredShardLevelMetrics, desired) {
				t.Errorf("current %v desired %v, want %v %v", out.CurrentShardLevelMetrics, out.DesiredShardLevelMetrics, current, desired)
			}
			if out.CurrentShardLevelMetrics == nil || out.DesiredShardLevelMetrics == nil {
				t.Errorf("empty lists must be present on the wire, as []: %#v", out)
			}
		}
		if got := enabledMetrics(t, v.e, "s"); len(got) != 0 {
			t.Fatalf("new stream has metrics enabled: %v", got)
		}

		out := set(true, EnhancedMonitoringInput{StreamRef: ref, ShardLevelMetrics: []string{"IteratorAgeMilliseconds", "IncomingRecords"}})
		check(out, []string{}, []string{"IncomingRecords", "IteratorAgeMilliseconds"})
		// Enabling again adds to the set; by ARN works the same.
		out = set(true, EnhancedMonitoringInput{StreamRef: StreamRef{StreamARN: arn}, ShardLevelMetrics: []string{"IncomingRecords", "IncomingBytes"}})
		check(out, []string{"IncomingRecords", "IteratorAgeMilliseconds"}, []string{"IncomingBytes", "IncomingRecords", "IteratorAgeMilliseconds"})
		if got := enabledMetrics(t, v.e, "s"); !slices.Equal(got, []string{"IncomingBytes", "IncomingRecords", "IteratorAgeMilliseconds"}) {
			t.Fatalf("DescribeStreamSummary reports %v", got)
		}

		v.restart()
		if got := enabledMetrics(t, v.e, "s"); !slices.Equal(got, []string{"IncomingBytes", "IncomingRecords", "IteratorAgeMilliseconds"}) {
			t.Fatalf("after restart: %v", got)
		}

		// ALL expands to every metric.
		out = set(true, EnhancedMonitoringInput{StreamRef: ref, ShardLevelMetrics: []string{"ALL"}})
		check(out, []string{"IncomingBytes", "IncomingRecords", "IteratorAgeMilliseconds"}, ShardLevelMetricNames)
		d := must[*DescribeStreamOutput](t)(v.e.DescribeStream(ctx, &DescribeStreamInput{StreamRef: ref})).StreamDescription
		if got := d.EnhancedMonitoring[0].ShardLevelMetrics; !slices.Equal(got, ShardLevelMetricNames) {
			t.Fatalf("DescribeStream after ALL: %v", got)
		}

		// Disabling removes only what is named; a metric that is not enabled is no error.
		out = set(false, EnhancedMonitoringInput{StreamRef: ref, ShardLevelMetrics: []string{"OutgoingBytes", "IncomingBytes"}})
		rest := []string{"IncomingRecords", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}
		check(out, ShardLevelMetricNames, rest)
		out = set(false, EnhancedMonitoringInput{StreamRef: ref, ShardLevelMetrics: []string{"OutgoingBytes"}})
		check(out, rest, rest)

		v.restart()
		if got := enabledMetrics(t, v.e, "s"); !slices.Equal(got, rest) {
			t.Fatalf("after second restart: %v", got)
		}
		out = set(false, EnhancedMonitoringInput{StreamRef: ref, ShardLevelMetrics: []string{"ALL"}})
		check(out, rest, []string{})
		v.restart()
		if got := enabledMetrics(t, v.e, "s"); len(got) != 0 {
			t.Fatalf("after disabling ALL and restart: %v", got)
		}

		_, err := v.e.EnableEnhancedMonitoring(ctx, &EnhancedMonitoringInput{StreamRef: StreamRef{StreamName: "missing"}, ShardLevelMetrics: []string{"ALL"}})
		wantKind(t, err, KindResourceNotFound, "Stream missing under account 000000000000 not found.")
		_, err = v.e.DisableEnhancedMonitoring(ctx, &EnhancedMonitoringInput{ShardLevelMetrics: []string{"ALL"}})
		wantKind(t, err, KindInvalidArgument, "Either StreamName or StreamARN must be provided.")
	})
}

// recorder is an Observer that keeps the shard traffic it sees.
type recorder struct {
	mu      sync.Mutex
	traffic []ShardTraffic
}

func (r *recorder) ShardTraffic(t ShardTraffic) {
	r.mu.Lock()
	r.traffic = append(r.traffic, t)
	r.mu.Unlock()
}

func (r *recorder) Call(CallMeasure) {}

func (r *recorder) last() ShardTraffic {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.traffic[len(r.traffic)-1]
}

func TestEnhancedMonitoringReachesObserver(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		rec := &recorder{}
		v.cfg.Observer = rec
		v.restart()
		create(t, v.e, "s", 1)
		create(t, v.e, "gone", 1)
		ref := StreamRef{StreamName: "s"}
		put := func() {
			t.Helper()
			must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte("x")}))
		}
		put()
		if got := rec.last().ShardLevelMetrics; len(got) != 0 {
			t.Fatalf("measurement carries %v before enabling", got)
		}
		must[*EnhancedMonitoringOutput](t)(v.e.EnableEnhancedMonitoring(ctx, &EnhancedMonitoringInput{StreamRef: ref, ShardLevelMetrics: []string{"IncomingRecords"}}))
		put()
		if got := rec.last().ShardLevelMetrics; !slices.Equal(got, []string{"IncomingRecords"}) {
			t.Fatalf("measurement carries %v after enabling IncomingRecords", got)
		}
		held := rec.last().ShardLevelMetrics
		must[*EnhancedMonitoringOutput](t)(v.e.DisableEnhancedMonitoring(ctx, &EnhancedMonitoringInput{StreamRef: ref, ShardLevelMetrics: []string{"ALL"}}))
		if !slices.Equal(held, []string{"IncomingRecords"}) {
			t.Fatalf("a measurement's list changed under it: %v", held)
		}

		// StreamLabels lists live streams with their settings, for collectors.
		if err := v.e.DeleteStream(ctx, &DeleteStreamInput{StreamRef: StreamRef{StreamName: "gone"}}); err != nil {
			t.Fatal(err)
		}
		must[*EnhancedMonitoringOutput](t)(v.e.EnableEnhancedMonitoring(ctx, &EnhancedMonitoringInput{StreamRef: ref, ShardLevelMetrics: []string{"OutgoingBytes"}}))
		labels := v.e.StreamLabels()
		if len(labels) != 1 || labels[0].Stream != "s" || labels[0].Account != "000000000000" || labels[0].Region != "us-east-1" ||
			!slices.Equal(labels[0].ShardLevelMetrics, []string{"OutgoingBytes"}) {
			t.Fatalf("StreamLabels: %+v", labels)
		}
	})
}

func TestEnhancedMonitoringNeedsActiveStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.Open(vfs.NewMem(), "data", store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.CreateStreamDelay, cfg.UpdateStreamDelay = time.Second, 2*time.Second
		e, err := Open(cfg, st)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		defer e.Close()
		create(t, e, "s", 1)
		in := &EnhancedMonitoringInput{StreamRef: StreamRef{StreamName: "s"}, ShardLevelMetrics: []string{"IncomingBytes"}}
		_, err = e.EnableEnhancedMonitoring(ctx, in)
		wantKind(t, err, KindResourceInUse, "Stream s under account 000000000000 not ACTIVE, instead in state CREATING")
		time.Sleep(time.Second)
		synctest.Wait()

		// The change shows the stream UPDATING for the update delay.
		if _, err := e.EnableEnhancedMonitoring(ctx, in); err != nil {
			t.Fatal(err)
		}
		status := func() string {
			return must[*DescribeStreamSummaryOutput](t)(e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: in.StreamRef})).StreamDescriptionSummary.StreamStatus
		}
		if s := status(); s != StatusUpdating {
			t.Fatalf("status right after enabling: %s", s)
		}
		_, err = e.DisableEnhancedMonitoring(ctx, in)
		wantKind(t, err, KindResourceInUse, "Stream s under account 000000000000 not ACTIVE, instead in state UPDATING")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if s := status(); s != StatusActive {
			t.Fatalf("status after the update delay: %s", s)
		}
		// A call that changes nothing does not make the stream UPDATING.
		if _, err := e.EnableEnhancedMonitoring(ctx, in); err != nil {
			t.Fatal(err)
		}
		if s := status(); s != StatusActive {
			t.Fatalf("status after a no-op enable: %s", s)
		}
	})
}
