#!/usr/bin/env node
// Round trip through an SQS-compatible endpoint with the AWS SDK for JavaScript v3, a second real
// client besides boto3 (AWS JSON 1.0 protocol, query-compatible mode).
//
//   node sqs_roundtrip.mjs http://127.0.0.1:9700      (or POSTROOM_ENDPOINT=... node sqs_roundtrip.mjs)
//
// Creates a standard and a FIFO queue, sends messages carrying message attributes of every kind
// (String, Number, Binary, custom types such as Number.float / String.custom / Binary.gif,
// unicode values, XML-special characters and control whitespace in bodies), SendMessageBatch
// with attributes, an AWSTraceHeader message system attribute, receives with
// MessageAttributeNames ["All"] and MessageSystemAttributeNames ["All"], checks that bodies,
// attributes, group ids and per-group order come back equal, deletes everything, deletes the
// queues, and prints "JS SDK ROUNDTRIP OK" on success. Any failure prints
// "JS SDK ROUNDTRIP FAILED: <why>" on stderr and exits 1.
//
// MD5 verification (read from node_modules/@aws-sdk/middleware-sdk-sqs 3.972.50, pulled in by
// @aws-sdk/client-sqs 3.1175.0): the client's resolved config has `md5: config?.md5 ?? Md5`, so
// verification is ON by default; it is switched off only by passing `md5: false`, which this
// script never does. What the SDK checks, and throws on mismatch:
//   - SendMessage:       MD5OfMessageBody              -> Error("InvalidChecksumError")
//   - SendMessageBatch:  MD5OfMessageBody per entry    -> Error("Invalid MD5 checksum on messages: ...")
//   - ReceiveMessage:    MD5OfBody per message         -> Error("Invalid MD5 checksum on messages: ...")
// It does NOT check MD5OfMessageAttributes or MD5OfMessageSystemAttributes (the Java SDK does;
// botocore checks no SQS digest at all). So this script checks those itself, with an
// independent implementation of AWS's attribute digest (md5OfAttributes below), on every send
// response and every received message. It also proves the SDK check is live: a client with a
// middleware that corrupts MD5OfMessageBody in the response must get InvalidChecksumError.

import { createHash, randomUUID } from "node:crypto";
import {
  SQSClient,
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  DeleteMessageBatchCommand,
} from "@aws-sdk/client-sqs";

const SUCCESS = "JS SDK ROUNDTRIP OK";
const endpoint = process.argv[2] || process.env.POSTROOM_ENDPOINT;
if (!endpoint) {
  console.error("JS SDK ROUNDTRIP FAILED: usage: node sqs_roundtrip.mjs <endpoint URL> (or set POSTROOM_ENDPOINT)");
  process.exit(2);
}

class CheckError extends Error {}

function check(cond, what) {
  if (!cond) throw new CheckError(what);
}

function show(v) {
  return JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? `<bytes ${Buffer.from(x).toString("hex")}>` : x));
}

function eq(actual, expected, what) {
  check(actual === expected, `${what}: expected ${show(expected)}, got ${show(actual)}`);
}

const md5Hex = (data) => createHash("md5").update(data).digest("hex");

// AWS's digest of message (or message system) attributes: names sorted; per attribute the UTF-8
// name, the UTF-8 data type (each prefixed with a 4-byte big-endian length), one transport byte
// (1 for String/Number, 2 for Binary), then the length-prefixed value bytes.
function md5OfAttributes(attrs) {
  const parts = [];
  const put = (buf) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(buf.length);
    parts.push(len, buf);
  };
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name];
    put(Buffer.from(name, "utf8"));
    put(Buffer.from(a.DataType, "utf8"));
    if (a.DataType.startsWith("Binary")) {
      parts.push(Buffer.from([2]));
      put(Buffer.from(a.BinaryValue));
    } else {
      parts.push(Buffer.from([1]));
      put(Buffer.from(a.StringValue, "utf8"));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

function sameAttributes(got, want, what) {
  got = got || {};
  eq(Object.keys(got).sort().join(","), Object.keys(want).sort().join(","), `${what}: attribute names`);
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    eq(g.DataType, w.DataType, `${what}: ${name}.DataType`);
    if (w.DataType.startsWith("Binary")) {
      check(g.BinaryValue !== undefined, `${what}: ${name} has no BinaryValue (${show(g)})`);
      check(Buffer.from(g.BinaryValue).equals(Buffer.from(w.BinaryValue)),
        `${what}: ${name}.BinaryValue: expected ${show(w.BinaryValue)}, got ${show(g.BinaryValue)}`);
      check(g.StringValue === undefined, `${what}: ${name} carries a StringValue as well`);
    } else {
      eq(g.StringValue, w.StringValue, `${what}: ${name}.StringValue`);
      check(g.BinaryValue === undefined, `${what}: ${name} carries a BinaryValue as well`);
    }
  }
}

const TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
const traceAttrs = { AWSTraceHeader: { DataType: "String", StringValue: TRACE_HEADER } };
const UNICODE = "héllo wörld ✓ Ελληνικά 日本語 עברית 😀🚀";
const XML_BODY = `<?xml version="1.0"?><a b="c&amp;d">&lt;&gt;&amp;&quot;&apos; ' " & < > ]]> <![CDATA[x]]></a>`;

// Every attribute flavour on one message (and subsets elsewhere).
function allAttributes(i) {
  return {
    Str: { DataType: "String", StringValue: `plain string ${i}` },
    Num: { DataType: "Number", StringValue: `${-12345 - i}` },
    "Num.float": { DataType: "Number.float", StringValue: "3.14159265358979" },
    Big: { DataType: "Number", StringValue: "12345678901234567890123456789012345678" },
    Bin: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 2, 127, 128, 254, 255, i & 255]) },
    "Bin.gif": { DataType: "Binary.gif", BinaryValue: new Uint8Array(Buffer.from("GIF89a\x00\x01\xff", "latin1")) },
    Custom: { DataType: "String.custom", StringValue: "custom typed value" },
    Uni: { DataType: "String", StringValue: UNICODE },
    Xml: { DataType: "String", StringValue: `<x a='1'>&amp; "q" </x>` },
    "dotted.name-with_dash": { DataType: "String", StringValue: " leading and trailing spaces " },
  };
}

const client = new SQSClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});

const createdQueues = [];

async function createQueue(name, attributes) {
  const out = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  check(typeof out.QueueUrl === "string" && out.QueueUrl.includes(name), `CreateQueue ${name}: QueueUrl ${out.QueueUrl}`);
  createdQueues.push(out.QueueUrl);
  return out.QueueUrl;
}

// Sends one message; checks the response digests itself (the SDK has checked the body digest).
async function sendOne(queueUrl, spec) {
  const input = { QueueUrl: queueUrl, MessageBody: spec.body };
  if (spec.attrs) input.MessageAttributes = spec.attrs;
  if (spec.sys) input.MessageSystemAttributes = spec.sys;
  if (spec.group) input.MessageGroupId = spec.group;
  if (spec.dedup) input.MessageDeduplicationId = spec.dedup;
  const out = await client.send(new SendMessageCommand(input));
  checkSendDigests(out, spec, `SendMessage ${spec.key}`);
  return { ...spec, id: out.MessageId, seq: out.SequenceNumber };
}

function checkSendDigests(out, spec, what) {
  check(typeof out.MessageId === "string" && out.MessageId.length > 0, `${what}: no MessageId`);
  eq(out.MD5OfMessageBody, md5Hex(Buffer.from(spec.body, "utf8")), `${what}: MD5OfMessageBody`);
  if (spec.attrs && Object.keys(spec.attrs).length) {
    eq(out.MD5OfMessageAttributes, md5OfAttributes(spec.attrs), `${what}: MD5OfMessageAttributes`);
  } else {
    eq(out.MD5OfMessageAttributes, undefined, `${what}: MD5OfMessageAttributes without attributes`);
  }
  if (spec.sys) {
    eq(out.MD5OfMessageSystemAttributes, md5OfAttributes(spec.sys), `${what}: MD5OfMessageSystemAttributes`);
  }
  if (spec.group) {
    check(typeof out.SequenceNumber === "string" && /^\d+$/.test(out.SequenceNumber),
      `${what}: FIFO send has no numeric SequenceNumber (${show(out.SequenceNumber)})`);
  }
}

async function sendBatch(queueUrl, specs) {
  const entries = specs.map((s, i) => {
    const e = { Id: `e${i}`, MessageBody: s.body };
    if (s.attrs) e.MessageAttributes = s.attrs;
    if (s.sys) e.MessageSystemAttributes = s.sys;
    if (s.group) e.MessageGroupId = s.group;
    if (s.dedup) e.MessageDeduplicationId = s.dedup;
    if (s.delay !== undefined) e.DelaySeconds = s.delay;
    return e;
  });
  const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  check(!out.Failed || out.Failed.length === 0, `SendMessageBatch: failed entries ${show(out.Failed)}`);
  eq((out.Successful || []).length, specs.length, "SendMessageBatch: successful entries");
  const byId = Object.fromEntries(out.Successful.map((r) => [r.Id, r]));
  return specs.map((s, i) => {
    const r = byId[`e${i}`];
    check(r, `SendMessageBatch: no result for entry e${i}`);
    checkSendDigests(r, s, `SendMessageBatch entry ${s.key}`);
    return { ...s, id: r.MessageId, seq: r.SequenceNumber };
  });
}

// Checks a received message against what was sent.
function checkReceived(m, sent, fifo) {
  const what = `received ${sent.key} (${m.MessageId})`;
  eq(m.Body, sent.body, `${what}: Body`);
  eq(m.MD5OfBody, md5Hex(Buffer.from(sent.body, "utf8")), `${what}: MD5OfBody`);
  const attrs = sent.attrs || {};
  sameAttributes(m.MessageAttributes, attrs, what);
  if (Object.keys(attrs).length) {
    eq(m.MD5OfMessageAttributes, md5OfAttributes(attrs), `${what}: MD5OfMessageAttributes (from sent attributes)`);
    eq(m.MD5OfMessageAttributes, md5OfAttributes(m.MessageAttributes), `${what}: MD5OfMessageAttributes (from received)`);
  } else {
    eq(m.MD5OfMessageAttributes, undefined, `${what}: MD5OfMessageAttributes without attributes`);
  }
  check(typeof m.ReceiptHandle === "string" && m.ReceiptHandle.length > 0, `${what}: no ReceiptHandle`);
  const sys = m.Attributes || {};
  for (const name of ["SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"]) {
    check(sys[name] !== undefined, `${what}: system attribute ${name} missing with MessageSystemAttributeNames All (got ${show(sys)})`);
  }
  eq(sys.ApproximateReceiveCount, "1", `${what}: ApproximateReceiveCount`);
  check(/^\d{13}$/.test(sys.SentTimestamp), `${what}: SentTimestamp is not epoch milliseconds: ${sys.SentTimestamp}`);
  if (sent.sys) eq(sys.AWSTraceHeader, TRACE_HEADER, `${what}: AWSTraceHeader`);
  else eq(sys.AWSTraceHeader, undefined, `${what}: AWSTraceHeader on a message sent without one`);
  if (fifo) {
    eq(sys.MessageGroupId, sent.group, `${what}: MessageGroupId`);
    eq(sys.MessageDeduplicationId, sent.dedup, `${what}: MessageDeduplicationId`);
    eq(sys.SequenceNumber, sent.seq, `${what}: SequenceNumber`);
  }
}

async function receiveBatch(queueUrl, wait) {
  const out = await client.send(new ReceiveMessageCommand({
    QueueUrl: queueUrl,
    MaxNumberOfMessages: 10,
    WaitTimeSeconds: wait,
    VisibilityTimeout: 60,
    MessageAttributeNames: ["All"],
    MessageSystemAttributeNames: ["All"],
  }));
  return out.Messages || [];
}

async function approxCounts(queueUrl) {
  const out = await client.send(new GetQueueAttributesCommand({
    QueueUrl: queueUrl,
    AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
  }));
  const a = out.Attributes || {};
  return [Number(a.ApproximateNumberOfMessages), Number(a.ApproximateNumberOfMessagesNotVisible)];
}

// ---------------------------------------------------------------------------------------------

async function standardQueue(tag) {
  const url = await createQueue(`js-std-${tag}`, { VisibilityTimeout: "30" });
  const sent = [];
  sent.push(await sendOne(url, { key: "all-attrs", body: `all attribute types ${UNICODE}`, attrs: allAttributes(1) }));
  sent.push(await sendOne(url, { key: "xml-body", body: XML_BODY, attrs: { Xml: { DataType: "String", StringValue: XML_BODY } } }));
  sent.push(await sendOne(url, { key: "whitespace", body: "tab\there\nnewline\r\ncrlf and a trailing space " }));
  sent.push(await sendOne(url, {
    key: "trace", body: "traced message", attrs: { Num: { DataType: "Number", StringValue: "0" } }, sys: traceAttrs,
  }));
  sent.push(await sendOne(url, { key: "unicode-only", body: "😀".repeat(64) + UNICODE }));
  const batchSpecs = [];
  for (let i = 0; i < 10; i++) {
    const attrs = {};
    if (i % 2 === 0) attrs.Str = { DataType: "String", StringValue: `batch ${i} ${UNICODE}` };
    if (i % 3 === 0) attrs.Bin = { DataType: "Binary", BinaryValue: new Uint8Array([i, 255 - i, 0]) };
    if (i % 4 === 0) attrs["Num.float"] = { DataType: "Number.float", StringValue: `${i}.5` };
    if (i === 9) Object.assign(attrs, allAttributes(9));
    const spec = { key: `batch-${i}`, body: `batch body ${i} <&> "${UNICODE}"`, attrs };
    if (i === 5) spec.sys = traceAttrs;
    batchSpecs.push(spec);
  }
  sent.push(...(await sendBatch(url, batchSpecs)));

  const byId = new Map(sent.map((s) => [s.id, s]));
  eq(byId.size, sent.length, "standard queue: distinct MessageIds");
  const got = new Map();
  const deadline = Date.now() + 30000;
  while (got.size < sent.length && Date.now() < deadline) {
    for (const m of await receiveBatch(url, 1)) {
      const s = byId.get(m.MessageId);
      check(s, `standard queue: received unknown MessageId ${m.MessageId} (body ${show(m.Body)})`);
      check(!got.has(m.MessageId), `standard queue: ${s.key} received twice`);
      checkReceived(m, s, false);
      got.set(m.MessageId, m);
    }
  }
  const missing = sent.filter((s) => !got.has(s.id)).map((s) => s.key);
  check(missing.length === 0, `standard queue: not received within 30 s: ${missing.join(", ")}`);

  // Delete: a few singly, the rest in batches of up to 10.
  const handles = sent.map((s) => got.get(s.id).ReceiptHandle);
  for (const h of handles.slice(0, 3)) {
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: h }));
  }
  const rest = handles.slice(3);
  for (let i = 0; i < rest.length; i += 10) {
    const chunk = rest.slice(i, i + 10);
    const out = await client.send(new DeleteMessageBatchCommand({
      QueueUrl: url, Entries: chunk.map((h, j) => ({ Id: `d${j}`, ReceiptHandle: h })),
    }));
    check(!out.Failed || out.Failed.length === 0, `DeleteMessageBatch: failed entries ${show(out.Failed)}`);
    eq((out.Successful || []).length, chunk.length, "DeleteMessageBatch: successful entries");
  }
  const left = await receiveBatch(url, 0);
  eq(left.length, 0, "standard queue: messages left after deleting all");
  const [visible, inflight] = await approxCounts(url);
  check(visible === 0 && inflight === 0, `standard queue: counts after delete are ${visible} visible, ${inflight} in flight`);
  return sent.length;
}

async function fifoQueue(tag) {
  const url = await createQueue(`js-fifo-${tag}.fifo`, { FifoQueue: "true", ContentBasedDeduplication: "false" });
  // MessageGroupId allows ASCII letters, digits and punctuation only (1-128 characters).
  const groups = ["group-a", "G_b.!?~", "g:<&>\"'"];
  const sent = [];
  let n = 0;
  const next = (g, extra = {}) => ({
    key: `fifo-${n}`, body: `fifo ${n} in ${g} ${UNICODE} <&>`, group: g, dedup: `dedup-${tag}-${n++}`, ...extra,
  });
  for (let r = 0; r < 3; r++) {
    for (const g of groups) {
      const extra = r === 0 ? { attrs: allAttributes(r) } : { attrs: { Seq: { DataType: "Number", StringValue: String(r) } } };
      if (r === 1 && g === groups[0]) extra.sys = traceAttrs;
      sent.push(await sendOne(url, next(g, extra)));
    }
  }
  const batch = [];
  for (let i = 0; i < 10; i++) {
    const g = groups[i % groups.length];
    const extra = { attrs: { Idx: { DataType: "Number", StringValue: String(i) }, Uni: { DataType: "String", StringValue: UNICODE } } };
    if (i === 4) extra.sys = traceAttrs;
    batch.push(next(g, extra));
  }
  sent.push(...(await sendBatch(url, batch)));
  // Sequence numbers grow within a group, in send order.
  for (const g of groups) {
    const seqs = sent.filter((s) => s.group === g).map((s) => BigInt(s.seq));
    for (let i = 1; i < seqs.length; i++) check(seqs[i] > seqs[i - 1], `FIFO ${g}: SequenceNumbers not increasing`);
  }

  const byId = new Map(sent.map((s) => [s.id, s]));
  eq(byId.size, sent.length, "FIFO queue: distinct MessageIds");
  const order = Object.fromEntries(groups.map((g) => [g, []]));
  const deadline = Date.now() + 30000;
  let received = 0;
  while (received < sent.length && Date.now() < deadline) {
    const msgs = await receiveBatch(url, 1);
    for (const m of msgs) {
      const s = byId.get(m.MessageId);
      check(s, `FIFO queue: received unknown MessageId ${m.MessageId}`);
      checkReceived(m, s, true);
      order[s.group].push(s.key);
      received++;
    }
    if (msgs.length) {
      const out = await client.send(new DeleteMessageBatchCommand({
        QueueUrl: url, Entries: msgs.map((m, j) => ({ Id: `d${j}`, ReceiptHandle: m.ReceiptHandle })),
      }));
      check(!out.Failed || out.Failed.length === 0, `FIFO DeleteMessageBatch: failed entries ${show(out.Failed)}`);
    }
  }
  for (const g of groups) {
    const want = sent.filter((s) => s.group === g).map((s) => s.key);
    eq(order[g].join(","), want.join(","), `FIFO group ${g}: received order`);
  }
  eq(received, sent.length, "FIFO queue: messages received");
  const left = await receiveBatch(url, 0);
  eq(left.length, 0, "FIFO queue: messages left after deleting all");
  return sent.length;
}

// The SDK's own MD5 check must be live: corrupt MD5OfMessageBody in a SendMessage response and
// expect the SDK (not this script) to reject it.
async function sdkChecksumIsEnforced(queueUrl) {
  const tampering = new SQSClient({
    endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1,
  });
  check(typeof tampering.config.md5 === "function", `SQSClient config.md5 is ${show(tampering.config.md5)}, not a hash`);
  tampering.middlewareStack.add((next) => async (args) => {
    const res = await next(args);
    if (res.output && res.output.MD5OfMessageBody) res.output.MD5OfMessageBody = "0".repeat(32);
    return res;
  }, { step: "build", name: "corruptMd5ForSelfTest" });
  let err = null;
  try {
    await tampering.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "checksum self-test" }));
  } catch (e) {
    err = e;
  } finally {
    tampering.destroy();
  }
  check(err && /InvalidChecksumError/.test(String(err.message)),
    `the SDK did not reject a corrupted MD5OfMessageBody (got ${err ? err.message : "no error"})`);
}

async function main() {
  const tag = randomUUID().slice(0, 12);
  let nStd = 0;
  let nFifo = 0;
  try {
    nStd = await standardQueue(tag);
    nFifo = await fifoQueue(tag);
    const probe = await createQueue(`js-md5probe-${tag}`, {});
    await sdkChecksumIsEnforced(probe);
  } finally {
    for (const url of createdQueues) {
      try {
        await client.send(new DeleteQueueCommand({ QueueUrl: url }));
      } catch (e) {
        console.error(`warning: DeleteQueue ${url}: ${e.message}`);
      }
    }
    client.destroy();
  }
  console.log(`${SUCCESS}: ${nStd} standard + ${nFifo} FIFO messages round-tripped with attributes and MD5s checked ` +
    `(@aws-sdk/client-sqs body MD5 check enforced) against ${endpoint}`);
}

main().catch((e) => {
  const kind = e instanceof CheckError ? "" : `${e.name || "Error"}: `;
  console.error(`JS SDK ROUNDTRIP FAILED: ${kind}${e.message}`);
  if (!(e instanceof CheckError) && e.stack) console.error(e.stack);
  process.exit(1);
});
