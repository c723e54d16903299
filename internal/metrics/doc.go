// Package metrics exposes Riffle's measurements in the Prometheus text
// format, under the names of the CloudWatch metrics that Kinesis users
// already graph, made Prometheus-safe: snake case, a riffle_kinesis_ prefix,
// _total on counters, latencies in seconds.
//
// Metrics implements engine.Observer: the engine reports every data-plane
// call and the traffic of every shard, and Metrics counts them. It also
// reads the store's counters on every scrape.
//
// # Stream-level metrics
//
// Labels: account, region, stream. A stream's series appear at its first
// data-plane call, all of them at once (at zero where nothing happened), and
// disappear at the first scrape after the stream is deleted.
//
//	CloudWatch name                          Prometheus name (type)
//	IncomingBytes                            riffle_kinesis_incoming_bytes_total (counter)
//	IncomingRecords                          riffle_kinesis_incoming_records_total (counter)
//	PutRecord.Bytes                          riffle_kinesis_put_record_bytes_total (counter)
//	PutRecord.Latency                        riffle_kinesis_put_record_latency_seconds (histogram)
//	PutRecord.Success                        riffle_kinesis_put_record_success_total / riffle_kinesis_put_record_requests_total
//	PutRecords.Bytes                         riffle_kinesis_put_records_bytes_total (counter)
//	PutRecords.Latency                       riffle_kinesis_put_records_latency_seconds (histogram)
//	PutRecords.Success                       riffle_kinesis_put_records_success_total / riffle_kinesis_put_records_requests_total
//	PutRecords.TotalRecords                  riffle_kinesis_put_records_records_total (counter)
//	PutRecords.SuccessfulRecords             riffle_kinesis_put_records_successful_records_total (counter)
//	PutRecords.FailedRecords                 riffle_kinesis_put_records_failed_records_total (counter)
//	PutRecords.ThrottledRecords              riffle_kinesis_put_records_throttled_records_total (counter)
//	GetRecords.Bytes                         riffle_kinesis_get_records_bytes_total (counter)
//	GetRecords.Records                       riffle_kinesis_get_records_records_total (counter)
//	GetRecords.Latency                       riffle_kinesis_get_records_latency_seconds (histogram)
//	GetRecords.Success                       riffle_kinesis_get_records_success_total / riffle_kinesis_get_records_requests_total
//	GetRecords.IteratorAgeMilliseconds       riffle_kinesis_get_records_iterator_age_milliseconds (gauge)
//	SubscribeToShardEvent.Bytes              riffle_kinesis_subscribe_to_shard_event_bytes_total (counter)
//	SubscribeToShardEvent.Records            riffle_kinesis_subscribe_to_shard_event_records_total (counter)
//	SubscribeToShardEvent.Success            riffle_kinesis_subscribe_to_shard_event_success_total / riffle_kinesis_subscribe_to_shard_event_events_total
//	WriteProvisionedThroughputExceeded       riffle_kinesis_write_provisioned_throughput_exceeded_total (counter)
//	ReadProvisionedThroughputExceeded        riffle_kinesis_read_provisioned_throughput_exceeded_total (counter)
//
// CloudWatch's ".Success" metrics are averages of 1 (success) and 0
// (failure); here they are two counters whose rate ratio is that average.
// Calls refused before they reach a stream (validation errors, unknown
// streams) are not counted, as CloudWatch has no stream to count them under.
// GetRecords.IteratorAgeMilliseconds is the largest of the last age reported
// by each shard's readers (0 when they are caught up). The throughput and
// ThrottledRecords counters count refusals for a shard's throughput: they
// stay at zero unless limits are enforced (--enforce-limits) or
// ProvisionedThroughputExceeded faults injected (--fault-rate).
//
// # Shard-level metrics (enhanced monitoring)
//
// Labels: account, region, stream, shard. A shard-level series exists only
// while its metric is enabled on the stream (EnableEnhancedMonitoring); it
// appears at the shard's first traffic after that and disappears at the first
// scrape after the metric is disabled or the stream is deleted, so that a
// series counts exactly the traffic seen while it was enabled. The names
// carry "shard" because a Prometheus metric keeps one set of label names.
//
//	CloudWatch name                          Prometheus name (type)
//	IncomingBytes                            riffle_kinesis_shard_incoming_bytes_total (counter)
//	IncomingRecords                          riffle_kinesis_shard_incoming_records_total (counter)
//	OutgoingBytes                            riffle_kinesis_shard_outgoing_bytes_total (counter)
//	OutgoingRecords                          riffle_kinesis_shard_outgoing_records_total (counter)
//	WriteProvisionedThroughputExceeded       riffle_kinesis_shard_write_provisioned_throughput_exceeded_total (counter)
//	ReadProvisionedThroughputExceeded        riffle_kinesis_shard_read_provisioned_throughput_exceeded_total (counter)
//	IteratorAgeMilliseconds                  riffle_kinesis_shard_iterator_age_milliseconds (gauge)
//
// Bytes are the bytes of data and partition key, as Kinesis counts them.
//
// # Server internals
//
// Read from the store at each scrape:
//
//	riffle_store_journal_bytes (gauge)             bytes in retained journal segments
//	riffle_store_journal_segments (gauge)          retained journal segments
//	riffle_store_fsync_duration_seconds (summary)  journal fsyncs: _count and _sum
//	riffle_store_checkpoints_total (counter)       completed checkpoints
//	riffle_store_shards (gauge)                    shards present in the store
//
// plus the Go runtime (go_*) and process (process_*) collectors.
package metrics
