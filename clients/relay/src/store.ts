// Relay's normalised store against the live server, as a Relay app uses it: sign in, run a
// backtest, save its result, list the saved results once into the store, rename the result
// with `updateMetadata`; the list read back from the store (no request) must show the new name,
// because Relay keys every record by its global `id` and the mutation's payload updates the
// record the list points at.
//
// The operations are the `graphql` literals below. relay-compiler (relay.config.json) reads
// them and writes one artifact per operation to src/__generated__/<name>.graphql.ts; the
// script imports those artifacts directly, so no Babel plugin is needed to replace the
// literals (the local `graphql` tag only gives the compiler something to find).
//
//   npx relay-compiler && npx tsc -p tsconfig.json
//   node dist/store.js http://127.0.0.1:PORT EMAIL PASSWORD

import relay from 'relay-runtime';
import type { FetchFunction, GraphQLResponse, GraphQLTaggedNode, MutationParameters, Snapshot } from 'relay-runtime';

import LoginMutation from './__generated__/storeLoginMutation.graphql.js';
import type { storeLoginMutation } from './__generated__/storeLoginMutation.graphql.js';
import RunBacktestMutation from './__generated__/storeRunBacktestMutation.graphql.js';
import type { storeRunBacktestMutation } from './__generated__/storeRunBacktestMutation.graphql.js';
import SaveResultMutation from './__generated__/storeSaveResultMutation.graphql.js';
import type { storeSaveResultMutation } from './__generated__/storeSaveResultMutation.graphql.js';
import SavedResultsQuery from './__generated__/storeSavedResultsQuery.graphql.js';
import type {
  storeSavedResultsQuery,
  storeSavedResultsQuery$data,
} from './__generated__/storeSavedResultsQuery.graphql.js';
import UpdateMetadataMutation from './__generated__/storeUpdateMetadataMutation.graphql.js';
import type { storeUpdateMetadataMutation } from './__generated__/storeUpdateMetadataMutation.graphql.js';

// relay-runtime is CommonJS: its exports come through the default import under Node's ESM.
const { Environment, Network, RecordSource, Store, commitMutation, createOperationDescriptor, fetchQuery } = relay;

const graphql = (_literal: TemplateStringsArray): void => undefined;

graphql`
  mutation storeLoginMutation($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      token
      user { id email }
    }
  }
`;

graphql`
  mutation storeRunBacktestMutation($input: BacktestInput!) {
    runBacktest(input: $input) {
      backtestSession { id sessionId status }
    }
  }
`;

graphql`
  mutation storeSaveResultMutation($input: SaveResultInput!) {
    saveResult(input: $input) {
      savedResult { id resultId name tags }
    }
  }
`;

graphql`
  query storeSavedResultsQuery($first: Int) {
    savedResults(first: $first) {
      edges { node { id resultId name tags } }
    }
  }
`;

graphql`
  mutation storeUpdateMetadataMutation($resultId: ID!, $input: MetadataInput!) {
    updateMetadata(resultId: $resultId, input: $input) {
      savedResult { id name tags }
    }
  }
`;

const [base, email, password] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error('usage: node dist/store.js BASE_URL EMAIL PASSWORD');
  process.exit(2);
}

const failures: string[] = [];
function check(condition: boolean, what: string): void {
  if (!condition) failures.push(what);
}
function finish(details: Record<string, unknown>): never {
  if (failures.length > 0) {
    console.log(JSON.stringify({ ok: false, failures, ...details }));
    process.exit(1);
  }
  console.log(JSON.stringify({ ok: true, ...details }));
  process.exit(0);
}

// Every request Relay makes goes through here: counted, with the bearer token once signed in.
let token = '';
const requests: string[] = [];
const fetchFn: FetchFunction = async (params, variables) => {
  requests.push(params.name);
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: params.text, variables, operationName: params.name }),
  });
  const body = (await response.json()) as GraphQLResponse;
  if ('errors' in body && Array.isArray(body.errors) && body.errors.length > 0) {
    throw new Error(`${params.name}: HTTP ${response.status}: ${JSON.stringify(body.errors)}`);
  }
  return body;
};

const environment = new Environment({
  network: Network.create(fetchFn),
  store: new Store(new RecordSource()),
});

function mutate<T extends MutationParameters>(
  mutation: GraphQLTaggedNode,
  variables: T['variables'],
): Promise<T['response']> {
  return new Promise((resolve, reject) => {
    commitMutation<T>(environment, {
      mutation,
      variables,
      onCompleted: (response, errors) => {
        if (errors && errors.length > 0) reject(new Error(JSON.stringify(errors)));
        else resolve(response);
      },
      onError: reject,
    });
  });
}

function typename(id: string): unknown {
  return environment.getStore().getSource().get(id)?.__typename;
}

try {
  // 1. Sign in; the token goes on every later request.
  const login = await mutate<storeLoginMutation>(LoginMutation, { email, password });
  token = login.login.token;
  const userId = login.login.user.id;
  check(token !== '', 'signed in');
  check(login.login.user.email === email, 'the signed-in user');

  // 2. A backtest (wait defaults to true: it returns COMPLETED).
  const run = await mutate<storeRunBacktestMutation>(RunBacktestMutation, {
    input: {
      ticker: 'SPY',
      mode: 'LIQUIDATION_REENTRY',
      startDate: '2010-01-04',
      endDate: '2024-12-31',
      leverage: 2,
      accountType: 'REG_T',
      initialInvestment: 100_000,
    },
  });
  const session = run.runBacktest.backtestSession;
  check(session.status === 'COMPLETED', `the backtest completed (got ${session.status})`);

  // 3. Save it, by the session's UUID.
  const saved = await mutate<storeSaveResultMutation>(SaveResultMutation, {
    input: { sessionId: session.sessionId, name: 'relay run', tags: ['relay'] },
  });
  const result = saved.saveResult.savedResult;
  check(result.name === 'relay run', 'saved under its name');

  // 4. The list, retained (so the store's garbage collector keeps it) and fetched once.
  const listVariables = { first: 10 };
  const operation = createOperationDescriptor(SavedResultsQuery, listVariables);
  const retained = environment.retain(operation);
  await fetchQuery<storeSavedResultsQuery>(environment, SavedResultsQuery, listVariables).toPromise();
  const listed = environment.lookup(operation.fragment);
  const nameIn = (snapshot: Snapshot) =>
    (snapshot.data as storeSavedResultsQuery$data | null)?.savedResults.edges.find(
      (edge) => edge.node.id === result.id,
    )?.node.name;
  check(!listed.isMissingData, 'the list is complete in the store');
  check(nameIn(listed) === 'relay run', `the stored list holds the saved result (got ${nameIn(listed)})`);
  // What a component does: subscribe to the list's snapshot and re-render on change.
  const notified: (string | undefined)[] = [];
  const subscription = environment.subscribe(listed, (snapshot) => notified.push(nameIn(snapshot)));

  // 5. Rename it, by the global id.
  const requestsBefore = requests.length;
  const updated = await mutate<storeUpdateMetadataMutation>(UpdateMetadataMutation, {
    resultId: result.id,
    input: { name: 'relay run, renamed' },
  });
  check(updated.updateMetadata.savedResult.id === result.id, 'the same record renamed');
  check(requests.length === requestsBefore + 1, 'one request: the mutation');

  // 6. The list again, from the store only: no request may be made.
  const reread = environment.lookup(operation.fragment);
  check(requests.length === requestsBefore + 1, `no refetch (requests: ${requests.join(', ')})`);
  check(!reread.isMissingData, 'the list is still complete in the store');
  check(nameIn(reread) === 'relay run, renamed', `the stored list shows the new name (got ${nameIn(reread)})`);
  check(
    notified.includes('relay run, renamed'),
    `the list's subscriber was told the new name (got ${JSON.stringify(notified)})`,
  );
  const record = environment.getStore().getSource().get(result.id);
  check(record?.name === 'relay run, renamed', 'the SavedResult record holds the new name');

  // One record per global id, each with its own type: the ids are unique across types.
  const ids = [userId, session.id, result.id];
  check(new Set(ids).size === 3, `distinct global ids (${ids.join(', ')})`);
  check(typename(userId) === 'User', `${userId} is a User record (got ${String(typename(userId))})`);
  check(
    typename(session.id) === 'BacktestSession',
    `${session.id} is a BacktestSession record (got ${String(typename(session.id))})`,
  );
  check(
    typename(result.id) === 'SavedResult',
    `${result.id} is a SavedResult record (got ${String(typename(result.id))})`,
  );

  subscription.dispose();
  retained.dispose();
  finish({
    requests: requests.length,
    operations: requests,
    notifications: notified.length,
    ids: { user: userId, backtestSession: session.id, savedResult: result.id },
  });
} catch (error) {
  failures.push(String(error instanceof Error ? error.message : error));
  finish({ requests: requests.length, operations: requests });
}
