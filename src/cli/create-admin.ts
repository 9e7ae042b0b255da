/* `npm run create-admin -- --name "Ada Admin" --email ada@example.com [--token-name "laptop"]`
 * Creates the first ADMIN user and a token on a database that has no users yet, and prints the
 * token's secret once. Later users and tokens are created through the API by an admin. */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../common/config';
import { openOrm } from '../db/orm';
import { issueToken } from '../modules/auth/auth.service';
import { generateToken } from '../modules/auth/tokens';
import { Role } from '../common/role';
import { User } from '../modules/auth/user.entity';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: 'string' }, email: { type: 'string' }, 'token-name': { type: 'string' } } });
  const problems: string[] = [];
  if (!values.name?.trim()) problems.push("--name: expected the admin's name");
  if (!values.email || !/^[^\s@]+@[^\s@]+$/.test(values.email)) problems.push('--email: expected an e-mail address');
  if (problems.length) throw new Error(problems.join('\n'));
  const config = loadConfig();
  const { orm } = await openOrm(config);
  try {
    const em = orm.em.fork();
    const users = await em.count(User, {});
    if (users > 0) throw new Error(`the database already has ${users} user(s); an admin creates further users and tokens through the API (createUser, createApiToken)`);
    const user = em.create(User, { name: (values.name as string).trim(), email: (values.email as string).toLowerCase(), role: Role.ADMIN, department: null });
    const secret = generateToken();
    issueToken(em, user, values['token-name'] ?? 'first admin token', secret, null);
    await em.flush();
    process.stdout.write(`created admin ${user.email}\ntoken (shown once; send as Authorization: Bearer <token>):\n${secret}\n`);
  } finally {
    await orm.close(true);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof ConfigError ? e.message : e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
