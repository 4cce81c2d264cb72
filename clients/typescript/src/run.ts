// Runs the typed operations against a live server, as an SPA would: log in, calculate, run a
// backtest (typed summary, daily columns and figures), save it, rename it, page through the
// saved results, and follow a second run's progress over graphql-ws. Every response is typed
// by the generated code, so a schema change that breaks these operations fails `tsc` first
// and this run second.
//
//   node dist/run.js http://127.0.0.1:PORT EMAIL PASSWORD

import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import {
  BacktestProgressDocument,
  CalculateDocument,
  LoginDocument,
  RunBacktestDocument,
  SaveResultDocument,
  SavedResultsDocument,
  UpdateMetadataDocument,
  type BacktestInput,
} from './generated/graphql.js';

const [base, email, password] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error('usage: node dist/run.js BASE_URL EMAIL PASSWORD');
  process.exit(2);
}

let token: string | null = null;

async function request<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: R; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) {
    throw new Error(`${response.status}: ${JSON.stringify(body.errors)}`);
  }
  return body.data;
}

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(`check failed: ${what}`);
  }
}

const input: BacktestInput = {
  ticker: 'SPY',
  mode: 'LIQUIDATION_REENTRY',
  startDate: '2020-01-02',
  endDate: '2021-12-31',
  leverage: 1.5,
  accountType: 'REG_T',
  initialInvestment: 50_000,
};

const login = await request(LoginDocument, { email, password });
token = login.login.token;
check(login.login.user.isApproved, 'the user is approved');

const calc = await request(CalculateDocument, {
  input: {
    ticker: 'SPY',
    investmentAmount: 100_000,
    leverage: 2,
    currentPrice: 450,
    interestRate: 5.5,
    holdingPeriodMonths: 12,
  },
});
const callPrice: number = calc.calculate.marginCalculation.result.marginCallPrice;
check(callPrice > 0 && callPrice < 450, 'a margin-call price below the price');

const run = await request(RunBacktestDocument, { input, wait: true });
const session = run.runBacktest.backtestSession;
check(session.status === 'COMPLETED', 'the run completed');
const result = session.result;
check(result !== null, 'a completed run has a result');
if (result) {
  const finalEquity: number = result.summary.finalEquity;
  check(finalEquity > 0, 'final equity');
  const daily = result.daily;
  check(daily.dates.length <= 301 && daily.every >= 1, 'daily sampled to about 300 points');
  const equity = daily.columns.find((c) => c.column === 'EQUITY');
  check((equity?.numbers?.length ?? 0) === daily.dates.length, 'one equity number per date');
  check(result.figures.length === 2, 'the two figures asked for');
  check(result.exports.dailyCsv.endsWith('/daily.csv'), 'an export URL');
}

const saved = await request(SaveResultDocument, {
  input: { sessionId: session.sessionId, name: 'typed client', tags: ['ci'] },
});
const renamed = await request(UpdateMetadataDocument, {
  resultId: saved.saveResult.savedResult.resultId,
  input: { name: 'typed client, renamed' },
});
check(renamed.updateMetadata.savedResult.id === saved.saveResult.savedResult.id, 'the same object, by global id');
check(renamed.updateMetadata.savedResult.name === 'typed client, renamed', 'renamed');

const page = await request(SavedResultsDocument, { first: 10, after: null });
check(page.savedResults.totalCount >= 1, 'totalCount');
check(
  page.savedResults.edges.some((e) => e.node.name === 'typed client, renamed'),
  'the list shows the new name',
);

// Progress of a second run over graphql-ws (graphql-transport-ws).
const started = await request(RunBacktestDocument, {
  input: { ...input, initialInvestment: 50_001 },
  wait: false,
});
const ws = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql/ws`,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  lazy: true,
  retryAttempts: 0,
});
const kinds: string[] = [];
await new Promise<void>((resolve, reject) => {
  ws.subscribe(
    {
      query: print(BacktestProgressDocument),
      variables: { sessionId: started.runBacktest.backtestSession.sessionId },
    },
    {
      next: (message) => {
        const progress = (message.data as { backtestProgress?: { kind: string } } | null)
          ?.backtestProgress;
        if (progress) kinds.push(progress.kind);
      },
      error: reject,
      complete: resolve,
    },
  );
});
await ws.dispose();
check(kinds.length > 0, 'progress messages arrived');

console.log(JSON.stringify({ ok: true, callPrice, progress: kinds.length }));
