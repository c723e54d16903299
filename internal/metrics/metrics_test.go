package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/riffle-streams/riffle/internal/engine"
	"github.com/riffle-streams/riffle/internal/store"
)

// fakeStreams stands in for the engine's list of streams.
type fakeStreams struct {
	mu      sync.Mutex
	streams map[string][]string // name → enabled shard-level metrics
}

func (f *fakeStreams) StreamLabels() []engine.StreamLabel {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.StreamLabel
	for name, on := range f.streams {
		out = append(out, label(name, on...))
	}
	return out
}

func (f *fakeStreams) set(name string, on ...string) {
	f.mu.Lock()
	f.streams[name] = on
	f.mu.Unlock()
}

func (f *fakeStreams) drop(name string) {
	f.mu.Lock()
	delete(f.streams, name)
	f.mu.Unlock()
}

func label(name string, on ...string) engine.StreamLabel {
	return engine.StreamLabel{Account: "000000000000", Region: "us-east-1", Stream: name, ShardLevelMetrics: on}
}

// series is one scraped sample: its labels and value.
type series struct {
	labels map[string]string
	value  float64
}

// scrape gathers m and returns the samples of each metric family by name.
func scrape(t *testing.T, m *Metrics) map[string][]series {
	t.Helper()
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(map[string][]series)
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			s := series{labels: make(map[string]string)}
			for _, lp := range mt.GetLabel() {
				s.labels[lp.GetName()] = lp.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				s.value = mt.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.value = mt.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				s.value = float64(mt.GetHistogram().GetSampleCount())
			case dto.MetricType_SUMMARY:
				s.value = float64(mt.GetSummary().GetSampleCount())
			}
			out[f.GetName()] = append(out[f.GetName()], s)
		}
	}
	return out
}

// value returns the sample of name whose labels include want, failing the
// test if there is none.
func value(t *testing.T, got map[string][]series, name string, want map[string]string) float64 {
	t.Helper()
	for _, s := range got[name] {
		if matches(s.labels, want) {
			return s.value
		}
	}
	t.Fatalf("no series %s%v; have %v", name, want, got[name])
	return 0
}

func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// count returns how many samples of name have labels including want.
func count(got map[string][]series, name string, want map[string]string) int {
	n := 0
	for _, s := range got[name] {
		if matches(s.labels, want) {
			n++
		}
	}
	return n
}

func stream(name string) map[string]string { return map[string]string{"stream": name} }

func shard(name, id string) map[string]string { return map[string]string{"stream": name, "shard": id} }

func TestStreamCountersMatchObservations(t *testing.T) {
	m := New(nil)
	a := label("a")
	m.ShardTraffic(engine.ShardTraffic{StreamLabel: a, ShardID: "shardId-000000000000", Records: 1, Bytes: 10})
	m.Call(engine.CallMeasure{StreamLabel: a, Op: "PutRecord", Latency: 2 * time.Millisecond, OK: true, Records: 1, Bytes: 10})
	m.Call(engine.CallMeasure{StreamLabel: a, Op: "PutRecord", Latency: time.Millisecond, Records: 1, Bytes: 7, FailedRecords: 1})
	m.ShardTraffic(engine.ShardTraffic{StreamLabel: a, ShardID: "shardId-000000000000", Records: 2, Bytes: 30})
	m.ShardTraffic(engine.ShardTraffic{StreamLabel: a, ShardID: "shardId-000000000001", Records: 1, Bytes: 5})
	m.Call(engine.CallMeasure{StreamLabel: a, Op: "PutRecords", Latency: time.Millisecond, OK: true, Records: 4, Bytes: 50, FailedRecords: 1})
	m.ShardTraffic(engine.ShardTraffic{StreamLabel: a, ShardID: "shardId-000000000000", Out: true, Records: 3, Bytes: 40, IteratorAgeMillis: 1500})
	m.ShardTraffic(engine.ShardTraffic{StreamLabel: a, ShardID: "shardId-000000000001", Out: true, Records: 0, Bytes: 0, IteratorAgeMillis: 0})
	m.Call(engine.CallMeasure{StreamLabel: a, Op: "GetRecords", Latency: time.Millisecond, OK: true, Records: 3, Bytes: 40})
	m.Call(engine.CallMeasure{StreamLabel: a, Op: "GetRecords", Latency: time.Millisecond})
	m.Call(engine.CallMeasure{StreamLabel: a, Op: "SubscribeToShardEvent", OK: true, Records: 2, Bytes: 9})

	got := scrape(t, m)
	for name, want := range map[string]float64{
		"riffle_kinesis_incoming_records_total":                      4,
		"riffle_kinesis_incoming_bytes_total":                        45,
		"riffle_kinesis_put_record_requests_total":                   2,
		"riffle_kinesis_put_record_success_total":                    1,
		"riffle_kinesis_put_record_bytes_total":                      10,
		"riffle_kinesis_put_record_latency_seconds":                  2, // observations
		"riffle_kinesis_put_records_requests_total":                  1,
		"riffle_kinesis_put_records_success_total":                   1,
		"riffle_kinesis_put_records_records_total":                   4,
		"riffle_kinesis_put_records_successful_records_total":        3,
		"riffle_kinesis_put_records_failed_records_total":            1,
		"riffle_kinesis_put_records_bytes_total":                     50,
		"riffle_kinesis_put_records_throttled_records_total":         0,
		"riffle_kinesis_get_records_requests_total":                  2,
		"riffle_kinesis_get_records_success_total":                   1,
		"riffle_kinesis_get_records_records_total":                   3,
		"riffle_kinesis_get_records_bytes_total":                     40,
		"riffle_kinesis_get_records_latency_seconds":                 2,
		"riffle_kinesis_get_records_iterator_age_milliseconds":       1500,
		"riffle_kinesis_subscribe_to_shard_event_records_total":      2,
		"riffle_kinesis_subscribe_to_shard_event_bytes_total":        9,
		"riffle_kinesis_write_provisioned_throughput_exceeded_total": 0,
		"riffle_kinesis_read_provisioned_throughput_exceeded_total":  0,
	} {
		if v := value(t, got, name, map[string]string{"account": "000000000000", "region": "us-east-1", "stream": "a"}); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	for name := range got {
		if strings.HasPrefix(name, "riffle_kinesis_shard_") {
			t.Errorf("shard-level series %s without enhanced monitoring: %v", name, got[name])
		}
	}
}

func TestShardSeriesFollowEnabledMetrics(t *testing.T) {
	src := &fakeStreams{streams: map[string][]string{"a": nil, "b": nil}}
	m := New(nil)
	m.WatchStreams(src)
	put := func(name, shardID string, records, bytes int, on ...string) {
		m.ShardTraffic(engine.ShardTraffic{StreamLabel: label(name, on...), ShardID: shardID, Records: records, Bytes: bytes})
	}
	put("a", "shardId-000000000000", 1, 10)
	put("b", "shardId-000000000000", 1, 10)

	// Enabled: series for the enabled metric only, from then on.
	src.set("a", "IncomingRecords")
	put("a", "shardId-000000000000", 2, 20, "IncomingRecords")
	put("a", "shardId-000000000001", 3, 30, "IncomingRecords")
	got := scrape(t, m)
	if v := value(t, got, "riffle_kinesis_shard_incoming_records_total", shard("a", "shardId-000000000000")); v != 2 {
		t.Errorf("shard 0 incoming records = %v, want 2", v)
	}
	if v := value(t, got, "riffle_kinesis_shard_incoming_records_total", shard("a", "shardId-000000000001")); v != 3 {
		t.Errorf("shard 1 incoming records = %v, want 3", v)
	}
	if v := value(t, got, "riffle_kinesis_incoming_records_total", stream("a")); v != 6 {
		t.Errorf("stream incoming records = %v, want 6", v)
	}
	if n := count(got, "riffle_kinesis_shard_incoming_bytes_total", nil); n != 0 {
		t.Errorf("%d IncomingBytes shard series, not enabled", n)
	}
	if n := count(got, "riffle_kinesis_shard_incoming_records_total", stream("b")); n != 0 {
		t.Errorf("%d shard series of stream b, not enabled", n)
	}

	// ALL as the engine stores it: every name; reads feed the read side.
	all := engine.ShardLevelMetricNames
	src.set("b", all...)
	m.ShardTraffic(engine.ShardTraffic{StreamLabel: label("b", all...), ShardID: "shardId-000000000000", Out: true, Records: 4, Bytes: 44, IteratorAgeMillis: 7})
	got = scrape(t, m)
	for name, want := range map[string]float64{
		"riffle_kinesis_shard_outgoing_records_total":                     4,
		"riffle_kinesis_shard_outgoing_bytes_total":                       44,
		"riffle_kinesis_shard_iterator_age_milliseconds":                  7,
		"riffle_kinesis_shard_read_provisioned_throughput_exceeded_total": 0,
	} {
		if v := value(t, got, name, shard("b", "shardId-000000000000")); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}

	// Disabled: gone at the next scrape, and a re-enable starts afresh.
	src.set("a")
	got = scrape(t, m)
	if n := count(got, "riffle_kinesis_shard_incoming_records_total", stream("a")); n != 0 {
		t.Errorf("%d shard series of stream a after disable", n)
	}
	src.set("a", "IncomingRecords")
	put("a", "shardId-000000000000", 1, 10, "IncomingRecords")
	got = scrape(t, m)
	if v := value(t, got, "riffle_kinesis_shard_incoming_records_total", shard("a", "shardId-000000000000")); v != 1 {
		t.Errorf("shard 0 incoming records after re-enable = %v, want 1", v)
	}

	// Deleted: every series of the stream goes, the other stream stays.
	src.drop("b")
	got = scrape(t, m)
	for name, ss := range got {
		if n := count(got, name, stream("b")); n != 0 {
			t.Errorf("%s keeps %d series of deleted stream b: %v", name, n, ss)
		}
	}
	if v := value(t, got, "riffle_kinesis_incoming_records_total", stream("a")); v != 7 {
		t.Errorf("stream a incoming records = %v, want 7", v)
	}
}

func TestSeriesOfNewStreamSurviveConcurrentScrape(t *testing.T) {
	// A stream created after the engine was asked for its streams must not
	// lose its counts to the scrape that asked.
	src := &fakeStreams{streams: map[string][]string{}}
	m := New(nil)
	m.WatchStreams(listHook{src, func() {
		m.ShardTraffic(engine.ShardTraffic{StreamLabel: label("new"), ShardID: "shardId-000000000000", Records: 1, Bytes: 1})
	}})
	got := scrape(t, m)
	if v := value(t, got, "riffle_kinesis_incoming_records_total", stream("new")); v != 1 {
		t.Errorf("incoming records of a stream born during the scrape = %v, want 1", v)
	}
}

// listHook runs after the source has answered, as traffic racing a scrape.
type listHook struct {
	src   StreamSource
	after func()
}

func (h listHook) StreamLabels() []engine.StreamLabel {
	l := h.src.StreamLabels()
	h.after()
	return l
}

type fakeStats store.Stats

func (f fakeStats) Stats() store.Stats { return store.Stats(f) }

func TestStoreAndHandler(t *testing.T) {
	m := New(fakeStats{JournalBytes: 4096, JournalSegments: 2, Fsyncs: 10, FsyncTime: 50 * time.Millisecond, Checkpoints: 3, Shards: 5})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range []string{
		"riffle_store_journal_bytes 4096",
		"riffle_store_journal_segments 2",
		"riffle_store_fsync_duration_seconds_count 10",
		"riffle_store_fsync_duration_seconds_sum 0.05",
		"riffle_store_checkpoints_total 3",
		"riffle_store_shards 5",
		"# TYPE riffle_store_fsync_duration_seconds summary",
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("scrape lacks %q:\n%s", line, body)
		}
	}
	if !strings.Contains(string(body), "go_goroutines ") {
		t.Errorf("scrape lacks the Go runtime collector")
	}
}

func TestConcurrentObservationsAndScrapes(t *testing.T) {
	src := &fakeStreams{streams: map[string][]string{"a": {"IncomingRecords"}}}
	m := New(nil)
	m.WatchStreams(src)
	var wg sync.WaitGroup
	const writers, puts = 4, 200
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < puts; i++ {
				m.ShardTraffic(engine.ShardTraffic{StreamLabel: label("a", "IncomingRecords"), ShardID: "shardId-000000000000", Records: 1, Bytes: 3})
				m.Call(engine.CallMeasure{StreamLabel: label("a"), Op: "PutRecord", OK: true, Records: 1, Bytes: 3})
			}
		}()
	}
	for i := 0; i < 20; i++ {
		scrape(t, m)
	}
	wg.Wait()
	got := scrape(t, m)
	if v := value(t, got, "riffle_kinesis_shard_incoming_records_total", shard("a", "shardId-000000000000")); v != writers*puts {
		t.Errorf("shard incoming records = %v, want %d", v, writers*puts)
	}
}
