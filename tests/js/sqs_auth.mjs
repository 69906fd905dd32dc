#!/usr/bin/env node
// SigV4 against a postroom server started with --credentials: the AWS SDK for JavaScript v3 signs
// with its own signer (@smithy/signature-v4), not botocore's.
//
//   node sqs_auth.mjs <endpoint> <access key id> <secret> [session token]
//
// Runs CreateQueue, SendMessage, a ReceiveMessage long poll and DeleteQueue, and prints one JSON
// line: {"ok": true, "account": "<account in the queue URL>"} on success, or
// {"ok": false, "name": "<error name>", "code": "<query error code>", "status": <HTTP status>,
// "message": "..."} for the first call that failed.

import { randomUUID } from "node:crypto";
import {
  SQSClient,
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";

const [endpoint, accessKeyId, secretAccessKey, sessionToken] = process.argv.slice(2);
const client = new SQSClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
  maxAttempts: 1,
});

try {
  const name = `js-auth-${randomUUID().slice(0, 8)}`;
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name }));
  await client.send(new SendMessageCommand({ QueueUrl, MessageBody: "signed by the JS SDK ✓" }));
  const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }));
  if (!Messages || Messages[0].Body !== "signed by the JS SDK ✓") throw new Error("message did not come back");
  await client.send(new DeleteQueueCommand({ QueueUrl }));
  console.log(JSON.stringify({ ok: true, account: new URL(QueueUrl).pathname.split("/")[1] }));
} catch (err) {
  console.log(JSON.stringify({
    ok: false,
    name: err.name,
    code: err.Code ?? err.code ?? null,
    status: err.$metadata?.httpStatusCode ?? null,
    message: err.message,
  }));
}
