// Apollo Client's normalised cache against the live server, as an SPA uses it: the saved
// results listed once, then renamed with `updateMetadata`; the cached list must show the new
// name without a refetch (the cache keys every object by `__typename` and global `id`). Then
// Apollo's persisted-query link: the first request sends the hash alone and is told to send
// the query, every later one sends the hash alone.
//
//   node dist/cache.js http://127.0.0.1:PORT EMAIL PASSWORD

import { createHash } from 'node:crypto';

import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';

import {
  LoginDocument,
  RunBacktestDocument,
  SaveResultDocument,
  SavedResultsDocument,
  UpdateMetadataDocument,
} from './generated/graphql.js';

const [base, email, password] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error('usage: node dist/cache.js BASE_URL EMAIL PASSWORD');
  process.exit(2);
}

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(`check failed: ${what}`);
  }
}

const sent: string[] = [];
const recordingFetch: typeof fetch = async (input, init) => {
  if (typeof init?.body === 'string') sent.push(init.body);
  return fetch(input, init);
};

let token = '';
const headers = () => ({ authorization: `Bearer ${token}` });
const client = new ApolloClient({
  link: new HttpLink({ uri: `${base}/graphql`, fetch: recordingFetch, headers: {} }),
  cache: new InMemoryCache(),
});

const login = await client.mutate({ mutation: LoginDocument, variables: { email, password } });
token = login.data?.login.token ?? '';
check(token !== '', 'signed in');
const context = { headers: headers() };

const run = await client.mutate({
  mutation: RunBacktestDocument,
  variables: {
    input: {
      ticker: 'SPY',
      mode: 'FRESH_CAPITAL',
      startDate: '2019-01-02',
      endDate: '2019-12-31',
      leverage: 1.5,
      accountType: 'REG_T',
      initialInvestment: 25_000,
    },
    wait: true,
  },
  context,
});
const sessionId = run.data?.runBacktest.backtestSession.sessionId ?? '';
const saved = await client.mutate({
  mutation: SaveResultDocument,
  variables: { input: { sessionId, name: 'before' } },
  context,
});
const resultId = saved.data?.saveResult.savedResult.resultId ?? '';

const listed = await client.query({ query: SavedResultsDocument, variables: { first: 20, after: null }, context });
check(
  listed.data.savedResults.edges.some((e) => e.node.resultId === resultId && e.node.name === 'before'),
  'the list holds the saved result',
);

const requestsBefore = sent.length;
await client.mutate({
  mutation: UpdateMetadataDocument,
  variables: { resultId, input: { name: 'after' } },
  context,
});
check(sent.length === requestsBefore + 1, 'one request: the mutation');
// From the cache only: no request may be made.
const cached = client.readQuery({ query: SavedResultsDocument, variables: { first: 20, after: null } });
const entry = cached?.savedResults.edges.find((e) => e.node.resultId === resultId);
check(entry?.node.name === 'after', `the cached list shows the new name (got ${entry?.node.name})`);
check(sent.length === requestsBefore + 1, 'no refetch');

// Persisted queries through Apollo's link.
const persistedSent: { query?: string; extensions?: unknown }[] = [];
const persisted = new ApolloClient({
  link: createPersistedQueryLink({
    sha256: (text: string) => createHash('sha256').update(text).digest('hex'),
  }).concat(
    new HttpLink({
      uri: `${base}/graphql`,
      fetch: async (input, init) => {
        if (typeof init?.body === 'string') persistedSent.push(JSON.parse(init.body));
        return fetch(input, init);
      },
    }),
  ),
  cache: new InMemoryCache(),
});
for (let i = 0; i < 2; i += 1) {
  const page = await persisted.query({
    query: SavedResultsDocument,
    variables: { first: 5, after: null },
    context,
    fetchPolicy: 'network-only',
  });
  check(page.data.savedResults.totalCount >= 1, 'the persisted query ran');
}
check(persistedSent.length === 3, `hash, hash and query, hash (got ${persistedSent.length} requests)`);
check(persistedSent[0]?.query === undefined, 'first: the hash alone');
check(typeof persistedSent[1]?.query === 'string', 'then: the query with its hash');
check(persistedSent[2]?.query === undefined, 'later: the hash alone');

console.log(JSON.stringify({ ok: true, requests: sent.length, persisted: persistedSent.length }));
