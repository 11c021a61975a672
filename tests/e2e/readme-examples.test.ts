import { readFileSync } from 'node:fs';
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { SERVED_ACCESS, startDemoGateway, type TestGateway } from '../helpers/gateway.js';
import { wsClient } from '../helpers/subscriptions.js';

/**
 * Every GraphQL example of the README runs as written against the demo (`npm start`: the demo world,
 * models/demo, the world's image decoder, authentication on, mutations over HTTP only), in the README's
 * order, and answers without errors. They run as an admin would: with an admin key on every request
 * and in the WebSocket's connection payload.
 *
 * Each ```graphql block is one document: it must parse and validate as a whole (the block is sent
 * whole, with the operation's name), and each of its operations runs in turn: queries and mutations
 * over HTTP, subscriptions over graphql-ws until the server completes them (or MAX_EVENTS events).
 * An operation's `$variables` come from earlier answers, as a comment line above it says:
 * `# $job = generate.id` is `data.generate.id` of the latest answer with a `generate` field.
 */

const README = new URL('../../README.md', import.meta.url);
/** A subscription that has not completed after this many events has shown it works. */
const MAX_EVENTS = 5_000;
const SUBSCRIPTION_TIMEOUT_MS = 240_000;

interface Example {
  /** 1-based, in the README's order. */
  block: number;
  /** The whole block, sent as the document. */
  source: string;
  operation: OperationDefinitionNode;
  /** $variable -> path into an earlier answer (`root.field...`). */
  bindings: Map<string, string>;
  line: number;
}

/** The README's ```graphql blocks, and their operations in order. */
function readmeExamples(): Example[] {
  const markdown = readFileSync(README, 'utf8');
  const examples: Example[] = [];
  let block = 0;
  for (const match of markdown.matchAll(/^```graphql\n([\s\S]*?)^```$/gm)) {
    block += 1;
    const source = match[1]!;
    const line = markdown.slice(0, match.index).split('\n').length + 1;
    const document = parse(source);
    let previousEnd = 0;
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      // The comment lines between the previous definition and this one say where variables come from.
      const between = source.slice(previousEnd, definition.loc!.start);
      previousEnd = definition.loc!.end;
      const bindings = new Map<string, string>();
      for (const binding of between.matchAll(/^\s*#\s*\$(\w+)\s*=\s*([\w.]+)/gm))
        bindings.set(binding[1]!, binding[2]!);
      examples.push({
        block,
        source,
        operation: definition,
        bindings,
        line: line + source.slice(0, definition.loc!.start).split('\n').length - 1,
      });
    }
  }
  return examples;
}

const examples = readmeExamples();

function title(example: Example): string {
  const name = example.operation.name?.value ?? '(anonymous)';
  return `block ${example.block}, ${example.operation.operation} ${name} (README.md:${example.line})`;
}

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: unknown[];
}

describe('the README GraphQL examples, on the demo', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let client: Client;
  let key: string;
  /** The latest answer of each root field, for the variables of later examples. */
  const answers = new Map<string, unknown>();

  beforeAll(async () => {
    ({ database, gateway } = await startDemoGateway({ gateway: SERVED_ACCESS }));
    ({ key } = await gateway.services.apiKeys.create({ name: 'readme', role: 'admin' }));
    client = wsClient(gateway.wsUrl, key);
  }, 120_000);
  afterAll(async () => {
    await client?.dispose();
    await gateway?.stop();
    await database?.close();
  });

  it('finds the examples: queries, mutations and subscriptions, no placeholders', () => {
    expect(examples.length).toBeGreaterThanOrEqual(15);
    const kinds = new Set(examples.map((example) => example.operation.operation));
    expect([...kinds].sort()).toEqual(['mutation', 'query', 'subscription']);
    for (const example of examples) {
      // "<id>", "<job id>", "<endCursor>": a placeholder does not run as written.
      expect(example.source, title(example)).not.toMatch(/"<[^"]*>"/);
    }
  });

  function variablesOf(example: Example): Record<string, unknown> {
    const variables: Record<string, unknown> = {};
    for (const definition of example.operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      const path = example.bindings.get(name);
      if (path === undefined)
        throw new Error(`${title(example)}: $${name} has no "# $${name} = field.path" comment above it`);
      const [root, ...rest] = path.split('.');
      let value = answers.get(root!);
      for (const key of rest) value = (value as Record<string, unknown> | null | undefined)?.[key];
      if (value === undefined || value === null)
        throw new Error(`${title(example)}: $${name} = ${path}, but no earlier answer has it`);
      variables[name] = value;
    }
    return variables;
  }

  function remember(example: Example, answer: Answer) {
    expect(answer.errors, title(example)).toBeUndefined();
    expect(answer.data, title(example)).toBeTruthy();
    for (const [field, value] of Object.entries(answer.data!)) answers.set(field, value);
  }

  async function overHttp(example: Example, variables: Record<string, unknown>) {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({
        query: example.source,
        operationName: example.operation.name?.value,
        variables,
      }),
    });
    const answer = (await response.json()) as Answer;
    expect(answer.errors, title(example)).toBeUndefined();
    expect(response.status, title(example)).toBe(200);
    remember(example, answer);
  }

  function overWebSocket(example: Example, variables: Record<string, unknown>) {
    return new Promise<Answer[]>((resolve, reject) => {
      const events: Answer[] = [];
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`${title(example)}: no completion after ${events.length} events`));
      }, SUBSCRIPTION_TIMEOUT_MS);
      const unsubscribe = client.subscribe(
        { query: example.source, operationName: example.operation.name?.value, variables },
        {
          next: (event) => {
            events.push(event as Answer);
            if (events.length >= MAX_EVENTS) {
              clearTimeout(timer);
              unsubscribe();
              resolve(events);
            }
          },
          error: (error) => {
            clearTimeout(timer);
            reject(new Error(`${title(example)}: ${JSON.stringify(error)}`));
          },
          complete: () => {
            clearTimeout(timer);
            resolve(events);
          },
        },
      );
    });
  }

  for (const example of examples) {
    it(
      title(example),
      async () => {
        const variables = variablesOf(example);
        if (example.operation.operation !== 'subscription') {
          await overHttp(example, variables);
          return;
        }
        const events = await overWebSocket(example, variables);
        expect(events.length, title(example)).toBeGreaterThan(0);
        for (const event of events) expect(event.errors, title(example)).toBeUndefined();
        remember(example, events.at(-1)!);
      },
      SUBSCRIPTION_TIMEOUT_MS + 10_000,
    );
  }
});
