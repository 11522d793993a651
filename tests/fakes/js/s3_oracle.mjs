// Oracle for tests/fakes/fake_s3.py: the official AWS JS SDK S3 client
// (@aws-sdk/client-s3, path-style) against the fake. Runs put, get, head,
// list with continuation, conditional puts (If-None-Match: *, If-Match),
// delete and an error answer, and prints what the SDK parsed as one JSON
// object on stdout (tests/fakes/test_fake_s3.py checks it). A fake whose
// answers the SDK cannot parse makes this script fail.
// Usage: node s3_oracle.mjs <endpoint> <bucket>   (credentials from env)
import {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, DeleteObjectCommand,
} from "@aws-sdk/client-s3";

const [endpoint, bucket] = process.argv.slice(2);
const s3 = new S3Client({
  endpoint, region: process.env.AWS_REGION || "us-east-1",
  forcePathStyle: true, maxAttempts: 1,
});
const out = {};
const errName = async (p) => {
  try { await p; return null; } catch (e) {
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
};

const key = "pre/session_s1/agents/agent_default/messages/message_0.json";
const put = await s3.send(new PutObjectCommand({
  Bucket: bucket, Key: key, Body: '{"message": 0}', IfNoneMatch: "*" }));
out.put_etag = put.ETag;
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
out.get_body = await got.Body.transformToString();
out.get_etag = got.ETag;
const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
out.head_length = head.ContentLength;
out.put_again = await errName(s3.send(new PutObjectCommand({
  Bucket: bucket, Key: key, Body: "x", IfNoneMatch: "*" })));
out.put_if_match_wrong = await errName(s3.send(new PutObjectCommand({
  Bucket: bucket, Key: key, Body: "x", IfMatch: '"0123"' })));
const upd = await s3.send(new PutObjectCommand({
  Bucket: bucket, Key: key, Body: '{"message": 1}', IfMatch: put.ETag }));
out.put_if_match_ok = upd.ETag;
for (let i = 1; i <= 4; i++)
  await s3.send(new PutObjectCommand({
    Bucket: bucket, Key: `pre/session_s1/k${i}`, Body: `b${i}` }));
const keys = [];
let token, pages = 0;
do {
  const r = await s3.send(new ListObjectsV2Command({
    Bucket: bucket, Prefix: "pre/session_s1/", MaxKeys: 2,
    ContinuationToken: token }));
  pages++;
  for (const c of r.Contents || []) keys.push([c.Key, c.ETag, c.Size]);
  token = r.IsTruncated ? r.NextContinuationToken : undefined;
} while (token && pages < 10);
out.list_keys = keys;
out.list_pages = pages;
out.get_missing = await errName(s3.send(new GetObjectCommand({
  Bucket: bucket, Key: "pre/none" })));
await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
out.get_deleted = await errName(s3.send(new GetObjectCommand({
  Bucket: bucket, Key: key })));
const bad = new S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID,
                 secretAccessKey: "wrong-secret",
                 sessionToken: process.env.AWS_SESSION_TOKEN } });
out.bad_signature = await errName(bad.send(new GetObjectCommand({
  Bucket: bucket, Key: "pre/session_s1/k1" })));
console.log(JSON.stringify(out));
