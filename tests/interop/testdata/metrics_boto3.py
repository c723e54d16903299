"""boto3 against a Riffle server: enable/disable enhanced monitoring and check
what GET /metrics reports, stream-level and shard-level.

Usage: python3 metrics_boto3.py ENDPOINT STREAM
Exits 1 with a message on the first failed check, else prints a JSON summary
for the Go test to check.
"""
import json
import re
import sys
import time
import urllib.request

from rifflecheck import ClientError, Config, boto3, check

ALL = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
]

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(endpoint):
    """Returns [(name, labels, value)] from GET /metrics."""
    with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as resp:
        check(resp.status == 200, "GET /metrics status %d" % resp.status)
        text = resp.read().decode()
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m is not None, "unparsable metrics line %r" % line)
        labels = dict(LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def total(samples, name, stream):
    """Sum and count of the samples of name for stream."""
    vals = [v for n, l, v in samples if n == name and l.get("stream") == stream]
    return sum(vals), len(vals)


def shard_series(samples, stream):
    return [(n, l.get("shard")) for n, l, _ in samples if n.startswith("riffle_kinesis_shard_") and l.get("stream") == stream]


def main():
    endpoint, stream = sys.argv[1], sys.argv[2]
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30),
    )
    client.create_stream(StreamName=stream, ShardCount=2)
    deadline = time.time() + 30
    while client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        check(time.time() < deadline, "stream not ACTIVE after 30s")
        time.sleep(0.1)

    def put(prefix, n):
        entries = [{"Data": b"y" * (50 + i), "PartitionKey": "%s-%d" % (prefix, i)} for i in range(n)]
        out = client.put_records(StreamName=stream, Records=entries)
        check(out.get("FailedRecordCount", 0) == 0, "FailedRecordCount %r" % out.get("FailedRecordCount"))
        return sum(len(e["Data"]) + len(e["PartitionKey"]) for e in entries)

    size1 = put("a", 10)
    m = scrape(endpoint)
    check(total(m, "riffle_kinesis_incoming_records_total", stream) == (10, 1), "incoming records %r" % (total(m, "riffle_kinesis_incoming_records_total", stream),))
    check(total(m, "riffle_kinesis_incoming_bytes_total", stream) == (size1, 1), "incoming bytes %r, want %d" % (total(m, "riffle_kinesis_incoming_bytes_total", stream), size1))
    check(shard_series(m, stream) == [], "shard series before enabling: %r" % shard_series(m, stream))

    # ALL enables every metric; the output lists them expanded.
    out = client.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["ALL"])
    check(out["StreamName"] == stream, "StreamName %r" % out.get("StreamName"))
    check(out["StreamARN"].endswith(":stream/" + stream), "StreamARN %r" % out.get("StreamARN"))
    check(out["CurrentShardLevelMetrics"] == [], "Current %r" % out.get("CurrentShardLevelMetrics"))
    check(sorted(out["DesiredShardLevelMetrics"]) == sorted(ALL), "Desired %r" % out.get("DesiredShardLevelMetrics"))
    enabled = client.describe_stream(StreamName=stream)["StreamDescription"]["EnhancedMonitoring"][0]["ShardLevelMetrics"]
    check(sorted(enabled) == sorted(ALL), "DescribeStream EnhancedMonitoring %r" % enabled)

    size2 = put("b", 15)
    m = scrape(endpoint)
    check(total(m, "riffle_kinesis_incoming_records_total", stream)[0] == 25, "incoming records after enabling")
    shard_records, n = total(m, "riffle_kinesis_shard_incoming_records_total", stream)
    check(shard_records == 15 and n == 2, "shard incoming records %r over %d shards, want 15 over 2" % (shard_records, n))
    shard_bytes, _ = total(m, "riffle_kinesis_shard_incoming_bytes_total", stream)
    check(shard_bytes == size2, "shard incoming bytes %r, want %d" % (shard_bytes, size2))

    # Disabling one metric removes only its series.
    out = client.disable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["IncomingBytes"])
    check(sorted(out["CurrentShardLevelMetrics"]) == sorted(ALL), "Current after disable %r" % out["CurrentShardLevelMetrics"])
    check(sorted(out["DesiredShardLevelMetrics"]) == sorted(set(ALL) - {"IncomingBytes"}), "Desired after disable %r" % out["DesiredShardLevelMetrics"])
    m = scrape(endpoint)
    check(total(m, "riffle_kinesis_shard_incoming_bytes_total", stream)[1] == 0, "IncomingBytes shard series after disabling it")
    check(total(m, "riffle_kinesis_shard_incoming_records_total", stream)[1] == 2, "IncomingRecords shard series gone with IncomingBytes")

    out = client.disable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["ALL"])
    check(out["DesiredShardLevelMetrics"] == [], "Desired after disabling ALL %r" % out["DesiredShardLevelMetrics"])
    m = scrape(endpoint)
    check(shard_series(m, stream) == [], "shard series after disabling ALL: %r" % shard_series(m, stream))

    # Errors as AWS reports them.
    try:
        client.enable_enhanced_monitoring(StreamName="missing-" + stream, ShardLevelMetrics=["IncomingBytes"])
        check(False, "enable_enhanced_monitoring on a missing stream succeeded")
    except ClientError as e:
        err = e.response["Error"]
        check(err["Code"] == "ResourceNotFoundException", "missing stream: %r" % err)
        check(err["Message"] == "Stream missing-%s under account 000000000000 not found." % stream, "missing stream message %r" % err["Message"])

    print(json.dumps({"Records": int(total(m, "riffle_kinesis_incoming_records_total", stream)[0]),
                      "ShardRecords": int(shard_records), "Enabled": sorted(enabled)}))


if __name__ == "__main__":
    main()
