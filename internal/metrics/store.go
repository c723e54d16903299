package metrics

import "github.com/prometheus/client_golang/prometheus"

// storeCollector reports the store's counters, read once per scrape: they
// are kept by the store itself, so nothing is counted twice.
type storeCollector struct {
	src                                   StatsSource
	journalBytes, journalSegments, shards *prometheus.Desc
	fsyncDuration, checkpoints            *prometheus.Desc
}

func newStoreCollector(src StatsSource) *storeCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("riffle", "store", name), help, nil, nil)
	}
	return &storeCollector{
		src:             src,
		journalBytes:    desc("journal_bytes", "Bytes in retained journal (write-ahead log) segments."),
		journalSegments: desc("journal_segments", "Retained journal segments."),
		shards:          desc("shards", "Shard logs present in the store, closed shards included."),
		fsyncDuration:   desc("fsync_duration_seconds", "Journal fsyncs: how many (_count) and their total time (_sum)."),
		checkpoints:     desc("checkpoints_total", "Completed checkpoints of shard logs, after which the journal is truncated."),
	}
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.journalBytes
	ch <- c.journalSegments
	ch <- c.shards
	ch <- c.fsyncDuration
	ch <- c.checkpoints
}

// Collect implements prometheus.Collector.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	ch <- prometheus.MustNewConstMetric(c.journalBytes, prometheus.GaugeValue, float64(s.JournalBytes))
	ch <- prometheus.MustNewConstMetric(c.journalSegments, prometheus.GaugeValue, float64(s.JournalSegments))
	ch <- prometheus.MustNewConstMetric(c.shards, prometheus.GaugeValue, float64(s.Shards))
	ch <- prometheus.MustNewConstSummary(c.fsyncDuration, s.Fsyncs, s.FsyncTime.Seconds(), nil)
	ch <- prometheus.MustNewConstMetric(c.checkpoints, prometheus.CounterValue, float64(s.Checkpoints))
}
