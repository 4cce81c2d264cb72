// Runs graphql-http's audit against the server at argv[2] and prints one JSON array of
// { id, name, status, reason } (status: ok, warn or error) for the e2e test to judge.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}
const results = await auditServer({ url });
console.log(
  JSON.stringify(results.map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason ?? null }))),
);
