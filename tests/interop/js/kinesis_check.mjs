// Drives Riffle with the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis)
// exactly as an application would: the client is built with no custom
// request handler, so it uses the SDK's default for Kinesis, NodeHttp2Handler,
// which over an http:// endpoint speaks HTTP/2 with prior knowledge (h2c).
//
// Usage: node kinesis_check.mjs ENDPOINT STREAM
// Exits non-zero with a message on stderr at the first failed check; on
// success prints a JSON summary on stdout for the Go test to assert on.
import assert from "node:assert/strict";
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ListShardsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  ListStreamConsumersCommand,
  DeregisterStreamConsumerCommand,
  SubscribeToShardCommand,
  DeleteStreamCommand,
} from "@aws-sdk/client-kinesis";

const [endpoint, stream] = process.argv.slice(2);
if (!endpoint || !stream) {
  console.error("usage: node kinesis_check.mjs ENDPOINT STREAM");
  process.exit(2);
}

const client = new KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDINTEROP", secretAccessKey: "interop-secret" },
  // One attempt, so an error case sees the server's first answer.
  maxAttempts: 1,
});

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The request handler the SDK picked by default; the summary reports it so
// the Go test can insist it is the HTTP/2 one (the server log shows the
// protocol of each request as well).
const handler = await client.config.requestHandler;
const summary = {
  handler: handler.constructor.name,
  handlerProtocol: handler.metadata?.handlerProtocol,
};

async function waitFor(what, check) {
  const deadline = Date.now() + 15000;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// Control plane and the pull path.
await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
await waitFor("stream ACTIVE", async () => {
  const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  return d.StreamDescriptionSummary.StreamStatus === "ACTIVE";
});
const streamARN = (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream })))
  .StreamDescriptionSummary.StreamARN;

const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards;
assert.deepEqual(shards.map((s) => s.ShardId), ["shardId-000000000000", "shardId-000000000001"]);
const shard0 = shards[0];

// Every record goes to shard 0 through ExplicitHashKey 0, so one
// subscription sees them all, in order.
const before = Date.now() - 1000;
const one = await client.send(new PutRecordCommand({
  StreamName: stream, PartitionKey: "pk", ExplicitHashKey: "0", Data: enc.encode("js-0"),
}));
assert.equal(one.ShardId, shard0.ShardId);
assert.match(one.SequenceNumber, /^\d+$/);
const batch = await client.send(new PutRecordsCommand({
  StreamName: stream,
  Records: [1, 2, 3].map((i) => ({ PartitionKey: `pk${i}`, ExplicitHashKey: "0", Data: enc.encode(`js-${i}`) })),
}));
assert.equal(batch.FailedRecordCount, 0);
assert.equal(batch.Records.length, 3);

const it = await client.send(new GetShardIteratorCommand({
  StreamName: stream, ShardId: shard0.ShardId, ShardIteratorType: "TRIM_HORIZON",
}));
const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
assert.deepEqual(got.Records.map((r) => dec.decode(r.Data)), ["js-0", "js-1", "js-2", "js-3"]);
for (const r of got.Records) checkArrival(r);
assert.equal(typeof got.NextShardIterator, "string");
summary.getRecords = got.Records.length;

function checkArrival(r) {
  const ts = r.ApproximateArrivalTimestamp;
  assert.ok(ts instanceof Date, `ApproximateArrivalTimestamp is ${typeof ts}, want a Date`);
  assert.ok(ts.getTime() >= before && ts.getTime() <= Date.now() + 1000,
    `ApproximateArrivalTimestamp ${ts.toISOString()} is not near now`);
}

// An error case: the SDK must map the server's error to its named exception.
try {
  await client.send(new DescribeStreamSummaryCommand({ StreamName: `${stream}-missing` }));
  throw new Error("DescribeStreamSummary of a missing stream succeeded");
} catch (err) {
  assert.equal(err.name, "ResourceNotFoundException", `error ${err.name}: ${err.message}`);
  assert.equal(err.$metadata.httpStatusCode, 400);
  summary.errorName = err.name;
  summary.errorMessage = err.message;
}

// Consumers.
const reg = await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: "js-app" }));
const consumerARN = reg.Consumer.ConsumerARN;
assert.ok(consumerARN.startsWith(`${streamARN}/consumer/js-app:`), consumerARN);
assert.ok(reg.Consumer.ConsumerCreationTimestamp instanceof Date);
await waitFor("consumer ACTIVE", async () => {
  const d = await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumerARN }));
  return d.ConsumerDescription.ConsumerStatus === "ACTIVE";
});
const listed = await client.send(new ListStreamConsumersCommand({ StreamARN: streamARN }));
assert.deepEqual(listed.Consumers.map((c) => c.ConsumerName), ["js-app"]);

// SubscribeToShard from TRIM_HORIZON: the four records above, then four put
// while the subscription is open.
const sub = await client.send(new SubscribeToShardCommand({
  ConsumerARN: consumerARN, ShardId: shard0.ShardId, StartingPosition: { Type: "TRIM_HORIZON" },
}));
assert.equal(sub.$metadata.httpStatusCode, 200);

// A second subscription of the same consumer and shard within 5 s is refused.
try {
  await client.send(new SubscribeToShardCommand({
    ConsumerARN: consumerARN, ShardId: shard0.ShardId, StartingPosition: { Type: "LATEST" },
  }));
  throw new Error("a second SubscribeToShard within 5 s succeeded");
} catch (err) {
  assert.equal(err.name, "ResourceInUseException", `error ${err.name}: ${err.message}`);
  summary.secondSubscription = err.name;
}

const producer = (async () => {
  await sleep(200);
  for (let i = 4; i < 8; i++) {
    await client.send(new PutRecordCommand({
      StreamName: stream, PartitionKey: "pk", ExplicitHashKey: "0", Data: enc.encode(`js-${i}`),
    }));
  }
})();

const pushed = [];
let events = 0;
let lastCont = "";
const deadline = setTimeout(() => {
  console.error(`SubscribeToShard: only ${JSON.stringify(pushed)} after 20 s`);
  process.exit(1);
}, 20000);
for await (const ev of sub.EventStream) {
  const e = ev.SubscribeToShardEvent;
  assert.ok(e, `unexpected event ${JSON.stringify(Object.keys(ev))}`);
  events++;
  assert.match(e.ContinuationSequenceNumber, /^\d+$/);
  if (lastCont !== "" && e.Records.length > 0) {
    assert.ok(BigInt(e.ContinuationSequenceNumber) > BigInt(lastCont),
      `continuation went from ${lastCont} to ${e.ContinuationSequenceNumber}`);
  }
  lastCont = e.ContinuationSequenceNumber;
  assert.equal(typeof e.MillisBehindLatest, "number");
  for (const r of e.Records) {
    checkArrival(r);
    assert.match(r.SequenceNumber, /^\d+$/);
    pushed.push(dec.decode(r.Data));
  }
  if (pushed.length >= 8) break;
}
clearTimeout(deadline);
await producer;
assert.deepEqual(pushed, ["js-0", "js-1", "js-2", "js-3", "js-4", "js-5", "js-6", "js-7"]);
summary.subscribed = pushed;
summary.events = events;

// AT_TIMESTAMP: the SDK sends the Date as epoch seconds with a fraction; a
// subscription from the arrival time of js-4 starts at js-4. It uses a second
// consumer, since the first one's subscription was open less than 5 s ago.
const reg2 = await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: "js-app-2" }));
await waitFor("second consumer ACTIVE", async () => {
  const d = await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: reg2.Consumer.ConsumerARN }));
  return d.ConsumerDescription.ConsumerStatus === "ACTIVE";
});
const all = (await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))).Records;
const sub2 = await client.send(new SubscribeToShardCommand({
  ConsumerARN: reg2.Consumer.ConsumerARN, ShardId: shard0.ShardId,
  StartingPosition: { Type: "AT_TIMESTAMP", Timestamp: all[4].ApproximateArrivalTimestamp },
}));
const fromTimestamp = [];
for await (const ev of sub2.EventStream) {
  for (const r of ev.SubscribeToShardEvent.Records) fromTimestamp.push(dec.decode(r.Data));
  if (fromTimestamp.length >= 4) break;
}
assert.deepEqual(fromTimestamp, ["js-4", "js-5", "js-6", "js-7"]);
summary.atTimestamp = fromTimestamp;

await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: reg2.Consumer.ConsumerARN }));
await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: consumerARN }));
await waitFor("consumer gone", async () => {
  const l = await client.send(new ListStreamConsumersCommand({ StreamARN: streamARN }));
  return (l.Consumers ?? []).length === 0;
});

await client.send(new DeleteStreamCommand({ StreamName: stream }));
await waitFor("stream deleted", async () => {
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    return false;
  } catch (err) {
    assert.equal(err.name, "ResourceNotFoundException", `after DeleteStream: ${err.name}: ${err.message}`);
    return true;
  }
});

client.destroy();
console.log(JSON.stringify(summary));
