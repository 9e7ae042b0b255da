/*
 * The baseline of bench/typename.ts, in a process of its own: a bare Apollo Server 5
 * (`startStandaloneServer`, a one-field schema, `{ hello }`), as its documentation starts one.
 * Prints one JSON line `{"url": …}` once it listens; stops on SIGTERM.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

async function main(): Promise<void> {
  const bare = new ApolloServer({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } });
  const { url } = await startStandaloneServer(bare, { listen: { host: '127.0.0.1', port: 0 } });
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  process.once('SIGTERM', () => {
    void bare.stop().then(() => process.exit(0));
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
