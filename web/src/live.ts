/* Live updates (graphql-ws over the same origin's /graphql): the views subscribe to domain events
 * and the router ends their subscriptions when the page changes. */
import { createClient, type Client } from 'graphql-ws/client';
import { session } from './api';

let client: Client | null = null;
let clientToken: string | null = null;
const leaving: Array<() => void> = [];

function connection(): Client {
  const token = session.token();
  if (!client || clientToken !== token) {
    void client?.dispose();
    clientToken = token;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    client = createClient({ url, lazy: true, retryAttempts: 5, connectionParams: () => ({ authorization: `Bearer ${session.token() ?? ''}` }) });
  }
  return client;
}

export interface LiveEvent {
  id: string;
  type: string;
  summary: string;
  occurredAt: string;
  agreementKey: string | null;
}

/** Calls `onEvent` for each domain event the principal may read, until the page changes. */
export function onEvents(onEvent: (e: LiveEvent) => void, types?: string[]): void {
  const stop = connection().subscribe<{ events: LiveEvent }>(
    { query: 'subscription DashboardEvents($types: [String!]) { events(types: $types) { id type summary occurredAt agreementKey } }', variables: { types } },
    {
      next: (m) => {
        if (m.data) onEvent(m.data.events);
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  leaving.push(stop);
}

/** Ends the subscriptions of the page being left (the router calls this before drawing the next). */
export function leavePage(): void {
  for (const stop of leaving.splice(0)) stop();
}

/** Closes the connection (on sign-out). */
export function disconnect(): void {
  leavePage();
  void client?.dispose();
  client = null;
}
