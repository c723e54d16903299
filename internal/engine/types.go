package engine

import "time"

// The request and response types of the operations, named and shaped as in
// the Kinesis service model, so that the API layer can map them to and from
// the wire by field name. Optional inputs are pointers; in outputs, empty
// strings, nil pointers and nil slices are omitted on the wire.

// StreamRef names a stream by name or by ARN, as every operation allows.
type StreamRef struct {
	StreamName string
	StreamARN  string
}

// CreateStreamInput is the input of CreateStream.
type CreateStreamInput struct {
	StreamName          string
	ShardCount          *int
	StreamModeDetails   *StreamModeDetails
	Tags                map[string]string
	WarmThroughputMiBps *int
	MaxRecordSizeInKiB  *int
}

// StreamModeDetails holds a stream's capacity mode.
type StreamModeDetails struct {
	StreamMode string
}

// DeleteStreamInput is the input of DeleteStream.
type DeleteStreamInput struct {
	StreamRef
	EnforceConsumerDeletion *bool
}

// DescribeStreamInput is the input of DescribeStream.
type DescribeStreamInput struct {
	StreamRef
	Limit                 *int
	ExclusiveStartShardId string
}

// DescribeStreamOutput is the output of DescribeStream.
type DescribeStreamOutput struct {
	StreamDescription StreamDescription
}

// StreamDescription describes a stream and a page of its shards.
type StreamDescription struct {
	StreamName              string
	StreamARN               string
	StreamStatus            string
	StreamModeDetails       *StreamModeDetails
	Shards                  []Shard
	HasMoreShards           bool
	RetentionPeriodHours    int
	StreamCreationTimestamp time.Time
	EnhancedMonitoring      []EnhancedMetrics
	EncryptionType          string
	KeyId                   string
}

// EnhancedMetrics lists the shard-level metrics enabled.
type EnhancedMetrics struct {
	ShardLevelMetrics []string
}

// Shard describes one shard.
type Shard struct {
	ShardId               string
	ParentShardId         string
	AdjacentParentShardId string
	HashKeyRange          HashKeyRange
	SequenceNumberRange   SequenceNumberRange
}

// HashKeyRange is an inclusive range of hash keys, as decimal strings.
type HashKeyRange struct {
	StartingHashKey string
	EndingHashKey   string
}

// SequenceNumberRange is a shard's range of sequence numbers; the ending
// number is set only once the shard is closed.
type SequenceNumberRange struct {
	StartingSequenceNumber string
	EndingSequenceNumber   string
}

// DescribeStreamSummaryInput is the input of DescribeStreamSummary.
type DescribeStreamSummaryInput struct {
	StreamRef
}

// DescribeStreamSummaryOutput is the output of DescribeStreamSummary.
type DescribeStreamSummaryOutput struct {
	StreamDescriptionSummary StreamDescriptionSummary
}

// StreamDescriptionSummary summarizes a stream without its shards.
type StreamDescriptionSummary struct {
	StreamName              string
	StreamARN               string
	StreamId                string
	StreamStatus            string
	StreamModeDetails       *StreamModeDetails
	RetentionPeriodHours    int
	StreamCreationTimestamp time.Time
	EnhancedMonitoring      []EnhancedMetrics
	EncryptionType          string
	KeyId                   string
	OpenShardCount          int
	ConsumerCount           int
	MaxRecordSizeInKiB      int
	WarmThroughput          *WarmThroughputObject
}

// ListStreamsInput is the input of ListStreams.
type ListStreamsInput struct {
	Limit                    *int
	ExclusiveStartStreamName string
	NextToken                string
}

// ListStreamsOutput is the output of ListStreams.
type ListStreamsOutput struct {
	StreamNames     []string
	HasMoreStreams  bool
	NextToken       string
	StreamSummaries []StreamSummary
}

// StreamSummary is one stream in ListStreams.
type StreamSummary struct {
	StreamName              string
	StreamARN               string
	StreamStatus            string
	StreamModeDetails       *StreamModeDetails
	StreamCreationTimestamp time.Time
}

// ListShardsInput is the input of ListShards.
type ListShardsInput struct {
	StreamRef
	NextToken               string
	ExclusiveStartShardId   string
	MaxResults              *int
	StreamCreationTimestamp *time.Time
	ShardFilter             *ShardFilter
}

// ShardFilter selects shards in ListShards.
type ShardFilter struct {
	Type      string
	ShardId   string
	Timestamp *time.Time
}

// ListShardsOutput is the output of ListShards.
type ListShardsOutput struct {
	Shards    []Shard
	NextToken string
}

// PutRecordInput is the input of PutRecord.
type PutRecordInput struct {
	StreamRef
	Data                      []byte
	PartitionKey              string
	ExplicitHashKey           string
	SequenceNumberForOrdering string
}

// PutRecordOutput is the output of PutRecord.
type PutRecordOutput struct {
	ShardId        string
	SequenceNumber string
	EncryptionType string
}

// PutRecordsInput is the input of PutRecords.
type PutRecordsInput struct {
	StreamRef
	Records []PutRecordsRequestEntry
}

// PutRecordsRequestEntry is one record of a PutRecords request.
type PutRecordsRequestEntry struct {
	Data            []byte
	PartitionKey    string
	ExplicitHashKey string
}

// PutRecordsOutput is the output of PutRecords.
type PutRecordsOutput struct {
	FailedRecordCount int
	Records           []PutRecordsResultEntry
	EncryptionType    string
}

// PutRecordsResultEntry is the outcome of one record of PutRecords: a
// sequence number and shard, or an error code and message.
type PutRecordsResultEntry struct {
	SequenceNumber string
	ShardId        string
	ErrorCode      string
	ErrorMessage   string
}

// GetShardIteratorInput is the input of GetShardIterator.
type GetShardIteratorInput struct {
	StreamRef
	ShardId                string
	ShardIteratorType      string
	StartingSequenceNumber string
	Timestamp              *time.Time
}

// GetShardIteratorOutput is the output of GetShardIterator.
type GetShardIteratorOutput struct {
	ShardIterator string
}

// GetRecordsInput is the input of GetRecords.
type GetRecordsInput struct {
	ShardIterator string
	Limit         *int
	StreamARN     string
}

// GetRecordsOutput is the output of GetRecords.
type GetRecordsOutput struct {
	Records            []Record
	NextShardIterator  string
	MillisBehindLatest int64
	ChildShards        []ChildShard
}

// Record is one data record as consumers see it.
type Record struct {
	SequenceNumber              string
	ApproximateArrivalTimestamp time.Time
	Data                        []byte
	PartitionKey                string
	EncryptionType              string
}

// ChildShard names a child of a closed shard, returned at its end.
type ChildShard struct {
	ShardId      string
	ParentShards []string
	HashKeyRange HashKeyRange
}

// SplitShardInput is the input of SplitShard.
type SplitShardInput struct {
	StreamRef
	ShardToSplit       string
	NewStartingHashKey string
}

// MergeShardsInput is the input of MergeShards.
type MergeShardsInput struct {
	StreamRef
	ShardToMerge         string
	AdjacentShardToMerge string
}

// UpdateShardCountInput is the input of UpdateShardCount.
type UpdateShardCountInput struct {
	StreamRef
	TargetShardCount *int
	ScalingType      string
}

// UpdateShardCountOutput is the output of UpdateShardCount.
type UpdateShardCountOutput struct {
	StreamName        string
	StreamARN         string
	CurrentShardCount int
	TargetShardCount  int
}

// RetentionPeriodInput is the input of IncreaseStreamRetentionPeriod and
// DecreaseStreamRetentionPeriod.
type RetentionPeriodInput struct {
	StreamRef
	RetentionPeriodHours *int
}

// UpdateStreamModeInput is the input of UpdateStreamMode.
type UpdateStreamModeInput struct {
	StreamARN           string
	StreamModeDetails   *StreamModeDetails
	WarmThroughputMiBps *int
}

// RegisterStreamConsumerInput is the input of RegisterStreamConsumer.
type RegisterStreamConsumerInput struct {
	StreamARN    string
	ConsumerName string
	Tags         map[string]string
}

// RegisterStreamConsumerOutput is the output of RegisterStreamConsumer.
type RegisterStreamConsumerOutput struct {
	Consumer Consumer
}

// Consumer is a registered enhanced fan-out consumer.
type Consumer struct {
	ConsumerName              string
	ConsumerARN               string
	ConsumerStatus            string
	ConsumerCreationTimestamp time.Time
}

// ConsumerRef names a consumer by ARN, or by stream ARN and name.
type ConsumerRef struct {
	StreamARN    string
	ConsumerName string
	ConsumerARN  string
}

// DescribeStreamConsumerOutput is the output of DescribeStreamConsumer.
type DescribeStreamConsumerOutput struct {
	ConsumerDescription ConsumerDescription
}

// ConsumerDescription describes a consumer and its stream.
type ConsumerDescription struct {
	ConsumerName              string
	ConsumerARN               string
	ConsumerStatus            string
	ConsumerCreationTimestamp time.Time
	StreamARN                 string
}

// ListStreamConsumersInput is the input of ListStreamConsumers.
type ListStreamConsumersInput struct {
	StreamARN               string
	NextToken               string
	MaxResults              *int
	StreamCreationTimestamp *time.Time
}

// ListStreamConsumersOutput is the output of ListStreamConsumers.
type ListStreamConsumersOutput struct {
	Consumers []Consumer
	NextToken string
}

// SubscribeToShardInput is the input of SubscribeToShard.
type SubscribeToShardInput struct {
	ConsumerARN      string
	ShardId          string
	StartingPosition *StartingPosition
}

// StartingPosition is where a subscription starts.
type StartingPosition struct {
	Type           string
	SequenceNumber string
	Timestamp      *time.Time
}

// SubscribeToShardEvent is one event of a subscription.
type SubscribeToShardEvent struct {
	Records                    []Record
	ContinuationSequenceNumber string
	MillisBehindLatest         int64
	ChildShards                []ChildShard
}
