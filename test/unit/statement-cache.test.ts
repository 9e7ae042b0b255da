import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cacheStatements } from '../../src/db/statement-cache';

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

  it('keeps no text without placeholders (statements with their values inlined, as MikroORM sends them)', () => {
    const db = new Database(':memory:');
    cacheStatements(db);
    expect(db.prepare("select 'a'")).not.toBe(db.prepare("select 'a'"));
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
