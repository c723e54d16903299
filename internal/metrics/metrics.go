package metrics

import (
	"net/http"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/riffle-streams/riffle/internal/engine"
	"github.com/riffle-streams/riffle/internal/store"
)

// StreamSource lists the live streams and their enabled shard-level metrics;
// *engine.Engine is one. Metrics asks it at every scrape, to drop the series
// of deleted streams and disabled metrics.
type StreamSource interface {
	StreamLabels() []engine.StreamLabel
}

// StatsSource reports storage counters; *store.Store is one.
type StatsSource interface {
	Stats() store.Stats
}

// Metrics is the registry of a server's metrics and the engine.Observer that
// feeds it. All methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	k   *kinesisCollector
}

var _ engine.Observer = (*Metrics)(nil)

// New returns the metrics of a server whose storage is stats (nil: none).
// Until WatchStreams is called, no series is ever dropped.
func New(stats StatsSource) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), k: newKinesisCollector()}
	m.reg.MustRegister(m.k, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if stats != nil {
		m.reg.MustRegister(newStoreCollector(stats))
	}
	return m
}

// WatchStreams makes every later scrape drop the series of streams src no
// longer lists and the shard-level series of metrics no longer enabled. The
// engine is opened after its observer exists, hence this separate step.
func (m *Metrics) WatchStreams(src StreamSource) {
	m.k.mu.Lock()
	m.k.source = src
	m.k.mu.Unlock()
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gatherer gives access to the metrics without HTTP, for tests and tools.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// ShardTraffic implements engine.Observer.
func (m *Metrics) ShardTraffic(t engine.ShardTraffic) { m.k.shardTraffic(t) }

// Call implements engine.Observer.
func (m *Metrics) Call(c engine.CallMeasure) { m.k.call(c) }

var (
	streamLabels = []string{"account", "region", "stream"}
	shardLabels  = []string{"account", "region", "stream", "shard"}
	// latencyBuckets span 0.25 ms to 8 s: a put waits for an fsync, which
	// takes from well under a millisecond (NVMe) to seconds (a stalled disk).
	latencyBuckets = prometheus.ExponentialBuckets(0.00025, 2, 16)
)

// Calls the engine reports in CallMeasure.Op.
const (
	opPutRecord             = "PutRecord"
	opPutRecords            = "PutRecords"
	opGetRecords            = "GetRecords"
	opSubscribeToShardEvent = "SubscribeToShardEvent"
)

// deleter is a metric vector whose series can be removed by label.
type deleter interface {
	prometheus.Collector
	DeletePartialMatch(prometheus.Labels) int
}

// kinesisCollector holds the stream- and shard-level series. It is a
// collector of its own so that each scrape first reconciles the series with
// the engine's streams.
type kinesisCollector struct {
	// Stream level.
	incomingBytes, incomingRecords                                 *prometheus.CounterVec
	writeExceeded, readExceeded                                    *prometheus.CounterVec
	putRecordBytes, putRecordRequests, putRecordSuccess            *prometheus.CounterVec
	putRecordsBytes, putRecordsRequests, putRecordsSuccess         *prometheus.CounterVec
	putRecordsRecords, putRecordsSuccessful                        *prometheus.CounterVec
	putRecordsFailed, putRecordsThrottled                          *prometheus.CounterVec
	getRecordsBytes, getRecordsRecords                             *prometheus.CounterVec
	getRecordsRequests, getRecordsSuccess                          *prometheus.CounterVec
	subscribeBytes, subscribeRecords, subscribeEvents, subscribeOK *prometheus.CounterVec
	putRecordLatency, putRecordsLatency, getRecordsLatency         *prometheus.HistogramVec
	iteratorAge                                                    *prometheus.GaugeVec

	// Shard level, by CloudWatch metric name (engine.ShardLevelMetricNames).
	shard map[string]deleter

	all []deleter // every vector, for Describe, Collect and deletion

	collectMu sync.Mutex // serializes scrapes, so reconciliations do not interleave

	mu      sync.Mutex
	source  StreamSource              // guarded by mu
	epoch   uint64                    // guarded by mu; counts scrapes
	streams map[streamID]*streamState // guarded by mu
}

type streamID struct{ account, region, name string }

func idOf(l engine.StreamLabel) streamID { return streamID{l.Account, l.Region, l.Stream} }

func (id streamID) labels() prometheus.Labels {
	return prometheus.Labels{"account": id.account, "region": id.region, "stream": id.name}
}

// streamState is what the collector knows of one stream: its stream-level
// series, resolved once, and which shard-level series it has made.
type streamState struct {
	// born is the scrape epoch the state was made in. A reconciliation
	// drops only states born before it, since a newer one may belong to a
	// stream created after the engine was asked for its streams.
	born uint64
	// shardOn maps each shard-level metric with series to the epoch its
	// first series was made in (same reason as born).
	shardOn map[string]uint64
	// ages is the last iterator age each shard's readers reported, in
	// milliseconds; the stream-level gauge shows the largest.
	ages map[string]int64

	incomingBytes, incomingRecords             prometheus.Counter
	putRecordBytes, putRecordReq, putRecordOK  prometheus.Counter
	putRecordsBytes, putRecordsReq, putRecsOK  prometheus.Counter
	putRecordsRecs, putRecordsOKRecs           prometheus.Counter
	putRecordsFailed                           prometheus.Counter
	getRecordsBytes, getRecordsRecs            prometheus.Counter
	getRecordsReq, getRecordsOK                prometheus.Counter
	subBytes, subRecords, subEvents, subOK     prometheus.Counter
	putRecordLat, putRecordsLat, getRecordsLat prometheus.Observer
	iteratorAge                                prometheus.Gauge
}

func newKinesisCollector() *kinesisCollector {
	k := &kinesisCollector{streams: make(map[streamID]*streamState), shard: make(map[string]deleter)}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "riffle", Subsystem: "kinesis", Name: name, Help: help}, labels)
		k.all = append(k.all, v)
		return v
	}
	histogram := func(name, help string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "riffle", Subsystem: "kinesis", Name: name, Help: help,
			Buckets: latencyBuckets}, streamLabels)
		k.all = append(k.all, v)
		return v
	}
	gauge := func(name, help string, labels []string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "riffle", Subsystem: "kinesis", Name: name, Help: help}, labels)
		k.all = append(k.all, v)
		return v
	}
	k.incomingBytes = counter("incoming_bytes_total", "Bytes written to the stream (CloudWatch IncomingBytes).", streamLabels)
	k.incomingRecords = counter("incoming_records_total", "Records written to the stream (CloudWatch IncomingRecords).", streamLabels)
	k.writeExceeded = counter("write_provisioned_throughput_exceeded_total", "Records refused for exceeding shard write throughput (CloudWatch WriteProvisionedThroughputExceeded).", streamLabels)
	k.readExceeded = counter("read_provisioned_throughput_exceeded_total", "GetRecords calls refused for exceeding shard read throughput (CloudWatch ReadProvisionedThroughputExceeded).", streamLabels)
	k.putRecordBytes = counter("put_record_bytes_total", "Bytes written by successful PutRecord calls (CloudWatch PutRecord.Bytes).", streamLabels)
	k.putRecordRequests = counter("put_record_requests_total", "PutRecord calls that reached the stream.", streamLabels)
	k.putRecordSuccess = counter("put_record_success_total", "Successful PutRecord calls (CloudWatch PutRecord.Success).", streamLabels)
	k.putRecordsBytes = counter("put_records_bytes_total", "Bytes in PutRecords calls (CloudWatch PutRecords.Bytes).", streamLabels)
	k.putRecordsRequests = counter("put_records_requests_total", "PutRecords calls that reached the stream.", streamLabels)
	k.putRecordsSuccess = counter("put_records_success_total", "PutRecords calls that stored at least one record (CloudWatch PutRecords.Success).", streamLabels)
	k.putRecordsRecords = counter("put_records_records_total", "Records in PutRecords calls (CloudWatch PutRecords.TotalRecords).", streamLabels)
	k.putRecordsSuccessful = counter("put_records_successful_records_total", "Records PutRecords stored (CloudWatch PutRecords.SuccessfulRecords).", streamLabels)
	k.putRecordsFailed = counter("put_records_failed_records_total", "Records PutRecords failed to store (CloudWatch PutRecords.FailedRecords).", streamLabels)
	k.putRecordsThrottled = counter("put_records_throttled_records_total", "Records PutRecords refused for throughput (CloudWatch PutRecords.ThrottledRecords).", streamLabels)
	k.getRecordsBytes = counter("get_records_bytes_total", "Bytes returned by GetRecords (CloudWatch GetRecords.Bytes).", streamLabels)
	k.getRecordsRecords = counter("get_records_records_total", "Records returned by GetRecords (CloudWatch GetRecords.Records).", streamLabels)
	k.getRecordsRequests = counter("get_records_requests_total", "GetRecords calls that reached the stream.", streamLabels)
	k.getRecordsSuccess = counter("get_records_success_total", "Successful GetRecords calls (CloudWatch GetRecords.Success).", streamLabels)
	k.subscribeBytes = counter("subscribe_to_shard_event_bytes_total", "Bytes sent in SubscribeToShard events (CloudWatch SubscribeToShardEvent.Bytes).", streamLabels)
	k.subscribeRecords = counter("subscribe_to_shard_event_records_total", "Records sent in SubscribeToShard events (CloudWatch SubscribeToShardEvent.Records).", streamLabels)
	k.subscribeEvents = counter("subscribe_to_shard_event_events_total", "SubscribeToShard events attempted.", streamLabels)
	k.subscribeOK = counter("subscribe_to_shard_event_success_total", "SubscribeToShard events sent (CloudWatch SubscribeToShardEvent.Success).", streamLabels)
	k.putRecordLatency = histogram("put_record_latency_seconds", "Time to serve PutRecord, durability included (CloudWatch PutRecord.Latency).")
	k.putRecordsLatency = histogram("put_records_latency_seconds", "Time to serve PutRecords, durability included (CloudWatch PutRecords.Latency).")
	k.getRecordsLatency = histogram("get_records_latency_seconds", "Time to serve GetRecords (CloudWatch GetRecords.Latency).")
	k.iteratorAge = gauge("get_records_iterator_age_milliseconds", "Largest last-reported lag of the stream's readers behind the tip (CloudWatch GetRecords.IteratorAgeMilliseconds).", streamLabels)

	k.shard["IncomingBytes"] = counter("shard_incoming_bytes_total", "Bytes written to the shard (CloudWatch shard-level IncomingBytes).", shardLabels)
	k.shard["IncomingRecords"] = counter("shard_incoming_records_total", "Records written to the shard (CloudWatch shard-level IncomingRecords).", shardLabels)
	k.shard["OutgoingBytes"] = counter("shard_outgoing_bytes_total", "Bytes read from the shard (CloudWatch shard-level OutgoingBytes).", shardLabels)
	k.shard["OutgoingRecords"] = counter("shard_outgoing_records_total", "Records read from the shard (CloudWatch shard-level OutgoingRecords).", shardLabels)
	k.shard["WriteProvisionedThroughputExceeded"] = counter("shard_write_provisioned_throughput_exceeded_total", "Writes to the shard refused for throughput (CloudWatch shard-level WriteProvisionedThroughputExceeded).", shardLabels)
	k.shard["ReadProvisionedThroughputExceeded"] = counter("shard_read_provisioned_throughput_exceeded_total", "Reads of the shard refused for throughput (CloudWatch shard-level ReadProvisionedThroughputExceeded).", shardLabels)
	k.shard["IteratorAgeMilliseconds"] = gauge("shard_iterator_age_milliseconds", "Last-reported lag of the shard's readers behind the tip (CloudWatch shard-level IteratorAgeMilliseconds).", shardLabels)
	for _, name := range engine.ShardLevelMetricNames {
		if k.shard[name] == nil {
			panic("metrics: no series for shard-level metric " + name)
		}
	}
	return k
}

// stateLocked returns the state of a stream, making it and all its
// stream-level series on first use. Callers hold k.mu.
func (k *kinesisCollector) stateLocked(id streamID) *streamState {
	if st := k.streams[id]; st != nil {
		return st
	}
	l := []string{id.account, id.region, id.name}
	st := &streamState{
		born:             k.epoch,
		shardOn:          make(map[string]uint64),
		ages:             make(map[string]int64),
		incomingBytes:    k.incomingBytes.WithLabelValues(l...),
		incomingRecords:  k.incomingRecords.WithLabelValues(l...),
		putRecordBytes:   k.putRecordBytes.WithLabelValues(l...),
		putRecordReq:     k.putRecordRequests.WithLabelValues(l...),
		putRecordOK:      k.putRecordSuccess.WithLabelValues(l...),
		putRecordsBytes:  k.putRecordsBytes.WithLabelValues(l...),
		putRecordsReq:    k.putRecordsRequests.WithLabelValues(l...),
		putRecsOK:        k.putRecordsSuccess.WithLabelValues(l...),
		putRecordsRecs:   k.putRecordsRecords.WithLabelValues(l...),
		putRecordsOKRecs: k.putRecordsSuccessful.WithLabelValues(l...),
		putRecordsFailed: k.putRecordsFailed.WithLabelValues(l...),
		getRecordsBytes:  k.getRecordsBytes.WithLabelValues(l...),
		getRecordsRecs:   k.getRecordsRecords.WithLabelValues(l...),
		getRecordsReq:    k.getRecordsRequests.WithLabelValues(l...),
		getRecordsOK:     k.getRecordsSuccess.WithLabelValues(l...),
		subBytes:         k.subscribeBytes.WithLabelValues(l...),
		subRecords:       k.subscribeRecords.WithLabelValues(l...),
		subEvents:        k.subscribeEvents.WithLabelValues(l...),
		subOK:            k.subscribeOK.WithLabelValues(l...),
		putRecordLat:     k.putRecordLatency.WithLabelValues(l...),
		putRecordsLat:    k.putRecordsLatency.WithLabelValues(l...),
		getRecordsLat:    k.getRecordsLatency.WithLabelValues(l...),
		iteratorAge:      k.iteratorAge.WithLabelValues(l...),
	}
	// Made at zero so that alerts on them have a series to watch.
	k.writeExceeded.WithLabelValues(l...)
	k.readExceeded.WithLabelValues(l...)
	k.putRecordsThrottled.WithLabelValues(l...)
	k.streams[id] = st
	return st
}

func (k *kinesisCollector) call(c engine.CallMeasure) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := k.stateLocked(idOf(c.StreamLabel))
	switch c.Op {
	case opPutRecord:
		st.putRecordReq.Inc()
		st.putRecordLat.Observe(c.Latency.Seconds())
		if c.OK {
			st.putRecordOK.Inc()
			st.putRecordBytes.Add(float64(c.Bytes))
		}
	case opPutRecords:
		st.putRecordsReq.Inc()
		st.putRecordsLat.Observe(c.Latency.Seconds())
		if !c.OK {
			break
		}
		if c.FailedRecords < c.Records {
			st.putRecsOK.Inc()
		}
		st.putRecordsBytes.Add(float64(c.Bytes))
		st.putRecordsRecs.Add(float64(c.Records))
		st.putRecordsOKRecs.Add(float64(c.Records - c.FailedRecords))
		st.putRecordsFailed.Add(float64(c.FailedRecords))
	case opGetRecords:
		st.getRecordsReq.Inc()
		st.getRecordsLat.Observe(c.Latency.Seconds())
		if c.OK {
			st.getRecordsOK.Inc()
			st.getRecordsBytes.Add(float64(c.Bytes))
			st.getRecordsRecs.Add(float64(c.Records))
		}
	case opSubscribeToShardEvent:
		st.subEvents.Inc()
		if c.OK {
			st.subOK.Inc()
			st.subBytes.Add(float64(c.Bytes))
			st.subRecords.Add(float64(c.Records))
		}
	}
}

func (k *kinesisCollector) shardTraffic(t engine.ShardTraffic) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id := idOf(t.StreamLabel)
	st := k.stateLocked(id)
	if !t.Out {
		st.incomingBytes.Add(float64(t.Bytes))
		st.incomingRecords.Add(float64(t.Records))
	} else {
		// The stream's gauge (the largest of these) is set at scrape time:
		// a max over every shard on each read would cost a stream of 10,000
		// shards that much per GetRecords.
		st.ages[t.ShardID] = t.IteratorAgeMillis
	}
	if len(t.ShardLevelMetrics) == 0 {
		return
	}
	// The shard-level metrics this direction of traffic feeds.
	names := [...]string{"IncomingBytes", "IncomingRecords", "WriteProvisionedThroughputExceeded"}
	values := [...]float64{float64(t.Bytes), float64(t.Records), 0}
	if t.Out {
		names = [...]string{"OutgoingBytes", "OutgoingRecords", "ReadProvisionedThroughputExceeded"}
	}
	labels := []string{id.account, id.region, id.name, t.ShardID}
	for i, name := range names {
		if !slices.Contains(t.ShardLevelMetrics, name) {
			continue
		}
		k.shard[name].(*prometheus.CounterVec).WithLabelValues(labels...).Add(values[i])
		k.markLocked(st, name)
	}
	if t.Out && slices.Contains(t.ShardLevelMetrics, "IteratorAgeMilliseconds") {
		k.shard["IteratorAgeMilliseconds"].(*prometheus.GaugeVec).WithLabelValues(labels...).Set(float64(t.IteratorAgeMillis))
		k.markLocked(st, "IteratorAgeMilliseconds")
	}
}

// markLocked records that st has series of a shard-level metric. Callers
// hold k.mu.
func (k *kinesisCollector) markLocked(st *streamState, metric string) {
	if _, ok := st.shardOn[metric]; !ok {
		st.shardOn[metric] = k.epoch
	}
}

// Describe implements prometheus.Collector.
func (k *kinesisCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range k.all {
		v.Describe(ch)
	}
}

// Collect implements prometheus.Collector: it reconciles the series with
// the engine's streams, then reports them.
func (k *kinesisCollector) Collect(ch chan<- prometheus.Metric) {
	k.collectMu.Lock()
	defer k.collectMu.Unlock()
	k.reconcile()
	k.setIteratorAges()
	for _, v := range k.all {
		v.Collect(ch)
	}
}

// setIteratorAges sets each stream's iterator-age gauge to the largest lag
// its shards' readers last reported.
func (k *kinesisCollector) setIteratorAges() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, st := range k.streams {
		oldest := int64(0)
		for _, a := range st.ages {
			oldest = max(oldest, a)
		}
		st.iteratorAge.Set(float64(oldest))
	}
}

// reconcile drops the series of streams the source no longer lists and the
// shard-level series of metrics no longer enabled.
func (k *kinesisCollector) reconcile() {
	k.mu.Lock()
	k.epoch++
	epoch, src := k.epoch, k.source
	k.mu.Unlock()
	if src == nil {
		return
	}
	// Asked without k.mu: the engine reports measurements while it holds
	// no lock, but this keeps the two lock domains apart for good.
	live := make(map[streamID][]string)
	for _, l := range src.StreamLabels() {
		live[idOf(l)] = l.ShardLevelMetrics
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, st := range k.streams {
		if st.born >= epoch {
			continue
		}
		enabled, ok := live[id]
		if !ok {
			for _, v := range k.all {
				v.DeletePartialMatch(id.labels())
			}
			delete(k.streams, id)
			continue
		}
		for metric, since := range st.shardOn {
			if since < epoch && !slices.Contains(enabled, metric) {
				k.shard[metric].DeletePartialMatch(id.labels())
				delete(st.shardOn, metric)
			}
		}
	}
}
