// graphql-ws publishes `graphql-ws/use/ws` through its package.json "exports" only, which this
// project's `moduleResolution: node` does not read; Node's require does (it loads dist/use/ws.cjs).
// The types are those the package ships for that entry point.
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws';
}
