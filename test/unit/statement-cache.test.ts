import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CONSTANT_MAX_LENGTH, cacheStatements } from '../../src/db/statement-cache';

describe('cacheStatements (a better-sqlite3 connection keeps its prepared statements)', () => {
  it('answers a text prepared before with the same statement, and it still runs with new parameters', () => {
    const db = new Database(':memory:');
    cacheStatements(db);
    db.exec('create table t (x integer)');
    const insert = db.prepare('insert into t (x) values (?)');
    expect(db.prepare('insert into t (x) values (?)')).toBe(insert);
    insert.run(1);
    db.prepare('insert into t (x) values (?)').run(2);
    expect(db.prepare('select x from t order by x').all()).toEqual([{ x: 1 }, { x: 2 }]);
    db.close();
  });

  it('keeps at most its size, evicting the least recently prepared text', () => {
    const db = new Database(':memory:');
    cacheStatements(db, 2);
    const a = db.prepare('select ? + 1');
    const b = db.prepare('select ? + 2');
    expect(db.prepare('select ? + 1')).toBe(a); // now '… + 2' is the coldest
    db.prepare('select ? + 3');
    expect(db.prepare('select ? + 1')).toBe(a);
    expect(db.prepare('select ? + 2')).not.toBe(b);
    db.close();
  });

  it('keeps short texts without placeholders (BEGIN;, COMMIT;, constant reads) in a cache of their own', () => {
    const db = new Database(':memory:');
    cacheStatements(db, 2, 2);
    const commit = db.prepare('select 1');
    expect(db.prepare('select 1')).toBe(commit);
    const withParam = db.prepare('select ? + 1');
    // Texts with inlined values come and go in their own cache: the one with a placeholder stays.
    for (let i = 0; i < 5; i++) db.prepare(`select 'inlined ${i}'`);
    expect(db.prepare('select ? + 1')).toBe(withParam);
    expect(db.prepare('select 1')).not.toBe(commit);
    db.close();
  });

  it('keeps no long text without placeholders (values MikroORM inlined, seldom the same twice)', () => {
    const db = new Database(':memory:');
    cacheStatements(db);
    const long = `select '${'x'.repeat(CONSTANT_MAX_LENGTH)}'`;
    expect(db.prepare(long)).not.toBe(db.prepare(long));
    db.close();
  });

  it('runs BEGIN; and COMMIT; prepared once, transaction after transaction', () => {
    const db = new Database(':memory:');
    cacheStatements(db);
    db.exec('create table t (x integer)');
    for (let i = 0; i < 3; i++) {
      db.prepare('BEGIN;').run();
      db.prepare('insert into t (x) values (?)').run(i);
      db.prepare('COMMIT;').run();
    }
    expect(db.prepare('BEGIN;')).toBe(db.prepare('BEGIN;'));
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 3 });
    db.close();
  });

  it('sees a schema change: a cached statement runs against the altered table', () => {
    const db = new Database(':memory:');
    cacheStatements(db);
    db.exec('create table t (x integer)');
    db.prepare('insert into t (x) values (?)').run(1);
    db.exec('alter table t add column y integer default 7');
    expect(db.prepare('select * from t').all()).toEqual([{ x: 1, y: 7 }]);
    db.prepare('insert into t (x) values (?)').run(2);
    expect(db.prepare('select * from t').all()).toEqual([
      { x: 1, y: 7 },
      { x: 2, y: 7 },
    ]);
    db.close();
  });
});
