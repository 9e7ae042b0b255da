/*
 * graphql-js's mode, chosen apart from NODE_ENV. graphql 16 decides once, when its
 * `jsutils/instanceOf.js` is first loaded, whether every type check also looks for a copy of
 * graphql-js loaded twice (a cost on every field of every request: 7 % of a facts pull), and it
 * decides by `process.env.NODE_ENV === 'production'`. Our NODE_ENV means other things
 * (introspection, the demo sign-in, CLOCK_OVERRIDE, the IDE: src/common/config.ts), so this
 * module, imported FIRST by every entry point that serves (src/main.ts, the benchmarks, the
 * torture runner), loads that file itself with NODE_ENV set to `production` (`development` with
 * GRAPHQL_DEV_CHECKS=true) for that one moment, then puts NODE_ENV back as it was. The development
 * checks stay where a developer asks for them: `GRAPHQL_DEV_CHECKS=true`, or the test runner
 * (vitest loads graphql-js without this module, under its own NODE_ENV=test).
 * docs/decisions.md, "Issue 19: graphql-js's mode".
 */
const INSTANCE_OF = require.resolve('graphql/jsutils/instanceOf.js');
/** Whether graphql-js had already been loaded when this module ran (then NODE_ENV chose its mode). */
const loadedBefore = INSTANCE_OF in require.cache;

if (!loadedBefore) {
  const previous = process.env.NODE_ENV;
  // graphql-js's checks are on for anything but `production`.
  process.env.NODE_ENV = process.env.GRAPHQL_DEV_CHECKS === 'true' ? 'development' : 'production';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(INSTANCE_OF);
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
}

/**
 * The mode graphql-js runs in, by what it does: its development build of `instanceOf` throws on a
 * value that looks like an instance of a class without being one (a second copy of graphql-js);
 * the production build just answers false.
 */
export function graphqlJsMode(): 'production' | 'development' {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { instanceOf } = require(INSTANCE_OF) as { instanceOf: (value: unknown, constructor: new () => unknown) => boolean };
  class Probe {
    get [Symbol.toStringTag](): string {
      return 'GraphqlModeProbe';
    }
  }
  try {
    instanceOf({ [Symbol.toStringTag]: 'GraphqlModeProbe' }, Probe);
    return 'production';
  } catch {
    return 'development';
  }
}
