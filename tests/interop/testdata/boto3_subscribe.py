"""boto3 (HTTP/1.1, through urllib3) subscribes to a shard of a Riffle server:
records from TRIM_HORIZON and pushed live, continuation numbers, a heartbeat
when idle, a second subscription within 5 s refused with
ResourceInUseException and one after 5 s taking over, and deregistration.

Usage: python3 boto3_subscribe.py ENDPOINT STREAM
Exits 1 with a message on the first failed check, else prints a JSON summary
for the Go test to check.
"""
import datetime
import json
import sys
import threading
import time

from rifflecheck import ClientError, Config, boto3, check


def wait_for(what, pred, timeout=15):
    deadline = time.time() + timeout
    while not pred():
        check(time.time() < deadline, "timed out waiting for " + what)
        time.sleep(0.05)


def main():
    endpoint, stream = sys.argv[1], sys.argv[2]
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        # read_timeout above the 5 s heartbeat interval: an idle subscription
        # must not time out.
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=15),
    )
    summary = {}
    client.create_stream(StreamName=stream, ShardCount=1)
    wait_for("stream ACTIVE", lambda: client.describe_stream_summary(StreamName=stream)[
        "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    stream_arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    shard = "shardId-000000000000"

    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    for i in range(5):
        client.put_record(StreamName=stream, PartitionKey="k", Data=("b%d" % i).encode())

    consumer = client.register_stream_consumer(StreamARN=stream_arn, ConsumerName="boto-app")["Consumer"]
    arn = consumer["ConsumerARN"]
    check(arn.startswith(stream_arn + "/consumer/boto-app:"), "consumer ARN %s" % arn)
    wait_for("consumer ACTIVE", lambda: client.describe_stream_consumer(ConsumerARN=arn)[
        "ConsumerDescription"]["ConsumerStatus"] == "ACTIVE")

    sub = client.subscribe_to_shard(ConsumerARN=arn, ShardId=shard, StartingPosition={"Type": "TRIM_HORIZON"})
    subscribed_at = time.time()
    check(sub["ResponseMetadata"]["HTTPStatusCode"] == 200, "SubscribeToShard status %r" % sub["ResponseMetadata"])

    # The same consumer and shard again within 5 s: refused before any stream.
    try:
        client.subscribe_to_shard(ConsumerARN=arn, ShardId=shard, StartingPosition={"Type": "LATEST"})
        check(False, "a second subscribe_to_shard within 5 s succeeded")
    except ClientError as e:
        code = e.response["Error"]["Code"]
        check(code == "ResourceInUseException", "second subscription within 5 s: %s %s" % (code, e))
        summary["second_within_5s"] = code

    def produce():
        time.sleep(0.2)
        for i in range(5, 10):
            client.put_record(StreamName=stream, PartitionKey="k", Data=("b%d" % i).encode())

    producer = threading.Thread(target=produce)
    producer.start()

    events = iter(sub["EventStream"])
    got, conts, last = [], [], None
    while len(got) < 10:
        ev = next(events, None)
        check(ev is not None, "the event stream ended after %r" % got)
        check(list(ev) == ["SubscribeToShardEvent"], "unexpected event %r" % ev)
        e = ev["SubscribeToShardEvent"]
        cont = e["ContinuationSequenceNumber"]
        check(cont.isdigit(), "ContinuationSequenceNumber %r" % cont)
        if last is not None and e["Records"]:
            check(int(cont) > int(last), "continuation went from %s to %s" % (last, cont))
        last = cont
        conts.append(cont)
        check(isinstance(e["MillisBehindLatest"], int), "MillisBehindLatest %r" % e.get("MillisBehindLatest"))
        for r in e["Records"]:
            ts = r["ApproximateArrivalTimestamp"]
            now = datetime.datetime.now(datetime.timezone.utc)
            check(isinstance(ts, datetime.datetime) and before <= ts <= now + datetime.timedelta(seconds=1),
                  "record %r arrival time %r" % (r["Data"], ts))
            got.append(r["Data"].decode())
    producer.join()
    check(got == ["b%d" % i for i in range(10)], "received %r" % got)
    summary["records"] = got
    summary["continuations_increasing"] = True

    # Idle: a heartbeat event (no records) comes within 5 s; its continuation
    # number does not go back.
    idle_since = time.time()
    ev = next(events, None)
    waited = time.time() - idle_since
    check(ev is not None and "SubscribeToShardEvent" in ev, "no heartbeat while idle: %r" % ev)
    hb = ev["SubscribeToShardEvent"]
    check(hb["Records"] == [], "heartbeat with records %r" % hb["Records"])
    check(waited <= 6, "heartbeat after %.1f s of idleness, want at most 5 s" % waited)
    check(int(hb["ContinuationSequenceNumber"]) >= int(last),
          "heartbeat continuation %s is before %s" % (hb["ContinuationSequenceNumber"], last))
    check(hb["MillisBehindLatest"] == 0, "heartbeat MillisBehindLatest %r" % hb["MillisBehindLatest"])
    summary["heartbeat_after_s"] = round(waited, 1)

    # After 5 s a new subscription takes over, continuing after the last
    # record; the old one ends.
    time.sleep(max(0, subscribed_at + 5.5 - time.time()))
    sub2 = client.subscribe_to_shard(ConsumerARN=arn, ShardId=shard, StartingPosition={
        "Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": hb["ContinuationSequenceNumber"]})
    client.put_record(StreamName=stream, PartitionKey="k", Data=b"after-takeover")
    new_events = iter(sub2["EventStream"])
    taken = []
    while not taken:
        ev = next(new_events, None)
        check(ev is not None, "the new subscription ended without records")
        taken += [r["Data"].decode() for r in ev["SubscribeToShardEvent"]["Records"]]
    check(taken == ["after-takeover"], "new subscription received %r" % taken)
    summary["takeover"] = taken

    old_end, start = "ended", time.time()
    try:
        for ev in events:
            check(time.time() - start < 10, "the old subscription goes on after the takeover")
    except Exception as e:  # noqa: BLE001 - report how the old stream ended
        old_end = "%s: %s" % (type(e).__name__, e)
    summary["old_subscription"] = old_end
    sub["EventStream"].close()
    sub2["EventStream"].close()

    client.deregister_stream_consumer(ConsumerARN=arn)

    def gone():
        try:
            client.describe_stream_consumer(ConsumerARN=arn)
            return False
        except ClientError as e:
            check(e.response["Error"]["Code"] == "ResourceNotFoundException", "describe after deregister: %s" % e)
            return True

    wait_for("consumer deregistered", gone)
    check(client.list_stream_consumers(StreamARN=stream_arn).get("Consumers") == [], "consumers left after deregister")
    summary["deregistered"] = True
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
