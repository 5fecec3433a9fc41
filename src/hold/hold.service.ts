import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { HoldNotFoundError } from '../common/errors';
import { partTag, type SqlPart } from '../common/sql-part';
import { Tx } from '../database/transaction.service';
import { lapsedHoldSql, lapsedHoldUnitsRead } from './hold-lapse';
import { Hold } from './hold.entity';

/** A position in the (expires_at, id) order of holds. */
export interface HoldCursor {
  id: number;
  expiresAt: Date;
}

export interface ExpiredHolds {
  holds: number;
  units: number;
  /** The holds ended, each with its units (for their movements); absent on totals. */
  ended?: Array<{ id: number; qty: number }>;
}

function ended(claimed: Array<{ id: number | string; qty: number | string }>): Required<ExpiredHolds> {
  const rows = claimed.map((h) => ({ id: Number(h.id), qty: Number(h.qty) }));
  return { holds: rows.length, units: rows.reduce((sum, h) => sum + h.qty, 0), ended: rows };
}

/**
 * The holds table: every statement that reads or writes it outside a listing is here. Methods that
 * take a `tx` run inside the caller's transaction; the caller holds the lock each one names.
 * Raw SQL stays on the reservation path (it runs under a hot product's row lock, once per batch)
 * and where a locking read needs SKIP LOCKED; the rest goes through the repository.
 */
@Injectable()
export class HoldService {
  constructor(@InjectRepository(Hold) private readonly holds: Repository<Hold>) {}

  /**
   * The read of the product's lapsed hold units (rows `part`, `buyer`, `units`: see
   * lapseRule.unitsRead), as a part of the reservation's statement (StockService.reserve). A
   * locking read with SKIP LOCKED: a hold that an order transaction holds right now is not counted
   * (it may be turning into an order), and the holds counted stay locked until the caller's
   * transaction ends, so none of them can be converted meanwhile. Under-counting for a moment is
   * safe; counting a converted hold would oversell. It runs under the product's row lock, in the
   * statement that takes it. With `buyers`, these buyers' lapsed units come in rows of their own.
   */
  lapsedUnitsRead(productId: number, now: Date, part: number, buyers?: string[]): SqlPart {
    return lapsedHoldUnitsRead(productId, now, part, buyers);
  }

  /**
   * The read of these buyers' holds of the product stored `active`, lapsed or not (rows `part`,
   * `buyer`, `units`), as a part of the per-buyer count (BuyerLimitService), which takes off the
   * lapsed ones the reservation's own read has locked: what is left are the unlapsed holds and the
   * lapsed ones another transaction holds right now (an order being made of one at its last
   * instant), which may still count. It runs under the product's row lock, which every hold insert
   * of the product takes first.
   */
  buyerUnitsRead(productId: number, buyers: string[], part: number): SqlPart {
    return {
      sql: `SELECT ${partTag(part)} AS part, h.buyer, h.qty AS units FROM holds h WHERE h.product_id = ? AND h.buyer IN (?) AND h.status = 'active'`,
      params: [productId, buyers],
    };
  }

  /**
   * Inserts active holds of one product, one per quantity, with one multi-row INSERT, and returns
   * them with their ids. The caller holds the product's row lock, so no other hold of this
   * product is inserted meanwhile: MariaDB hands the ids back (RETURNING); on MySQL, which lacks
   * it, they are read back as the first `qtys.length` ids of this product from the first one.
   */
  async insertMany(tx: Tx, productId: number, qtys: number[], now: Date, expiresAt: Date, buyers?: Array<string | null>): Promise<Hold[]> {
    if (qtys.length === 0) return [];
    const rows = qtys.map((qty, i) => [productId, qty, 'active', expiresAt, now, buyers?.[i] ?? null]);
    const insert = 'INSERT INTO holds (product_id, qty, status, expires_at, created_at, buyer) VALUES ?';
    let ids: number[];
    if (tx.manager.connection.options.type === 'mariadb') {
      const returned: Array<{ id: number | string }> = await tx.manager.query(`${insert} RETURNING id`, [rows]);
      ids = returned.map((r) => Number(r.id));
    } else {
      const result: { insertId: number } = await tx.manager.query(insert, [rows]);
      const read: Array<{ id: number | string }> = await tx.manager.query(
        'SELECT id FROM holds FORCE INDEX (PRIMARY) WHERE id >= ? AND product_id = ? ORDER BY id LIMIT ?',
        [Number(result.insertId), productId, qtys.length],
      );
      ids = read.map((r) => Number(r.id));
    }
    return qtys.map((qty, i) =>
      Object.assign(new Hold(), { id: ids[i], productId, qty, status: 'active', expiresAt, createdAt: now, buyer: buyers?.[i] ?? null }),
    );
  }

  /** Locks one hold (pessimistic_write) so it can become an order; null when there is none. */
  lockForOrder(tx: Tx, id: number): Promise<Hold | null> {
    return tx.manager.getRepository(Hold).createQueryBuilder('h').where('h.id = :id', { id }).setLock('pessimistic_write').getOne();
  }

  /** The locked, active hold has become an order. */
  async markConverted(tx: Tx, id: number): Promise<void> {
    await tx.manager.getRepository(Hold).update({ id, status: 'active' }, { status: 'converted' });
  }

  /** Products that have lapsed holds at `now`, for the expiry job. No locks. */
  async productsWithLapsedHolds(now: Date): Promise<number[]> {
    const rows = await this.holds
      .createQueryBuilder('h')
      .select('DISTINCT h.product_id', 'product_id')
      .where(lapsedHoldSql('h', ':now'), { now })
      .orderBy('h.product_id')
      .getRawMany<{ product_id: number | string }>();
    return rows.map((r) => Number(r.product_id));
  }

  /**
   * Claims up to `limit` of the product's lapsed holds with FOR UPDATE SKIP LOCKED (a hold that
   * another sweep or an order holds is left to it) and marks them expired; returns what it
   * claimed. A hold is only claimed while `active`, so never twice. The caller holds the product's
   * row lock and returns the units to it.
   */
  async expireLapsed(tx: Tx, productId: number, now: Date, limit: number): Promise<Required<ExpiredHolds>> {
    const claimed: Array<{ id: number | string; qty: number | string }> = await tx.manager.query(
      `SELECT id, qty FROM holds h
        WHERE h.product_id = ? AND ${lapsedHoldSql('h')}
        ORDER BY h.expires_at LIMIT ${Number(limit)} FOR UPDATE SKIP LOCKED`,
      [productId, now],
    );
    if (claimed.length === 0) return ended([]);
    const ids = claimed.map((h) => Number(h.id));
    await tx.manager.getRepository(Hold).update({ id: In(ids), status: 'active' }, { status: 'expired' });
    return ended(claimed);
  }

  /**
   * Ends these holds at `now` because nobody will use them (their clients left before hearing of
   * them): marks the ones still `active` expired, with `expires_at` now, and returns what it ended.
   * A hold converted meanwhile is left alone. The caller holds the product's row lock and returns
   * the units to it.
   */
  async endAbandoned(tx: Tx, ids: number[], now: Date): Promise<Required<ExpiredHolds>> {
    if (ids.length === 0) return ended([]);
    const claimed: Array<{ id: number | string; qty: number | string }> = await tx.manager.query(
      `SELECT id, qty FROM holds WHERE id IN (?) AND status = 'active' FOR UPDATE`,
      [ids],
    );
    if (claimed.length === 0) return ended([]);
    await tx.manager.query(`UPDATE holds SET status = 'expired', expires_at = ? WHERE id IN (?)`, [now, claimed.map((h) => Number(h.id))]);
    return ended(claimed);
  }

  /**
   * Deletes up to `limit` holds stored as `expired` whose `expires_at` is at or before `cutoff`
   * (their units were released when the expiry job marked them), oldest first; returns how many.
   * One statement, bounded: it locks only the rows it deletes, never an active hold, and
   * autocommits. A hold that is `active` past its `expires_at` (lapsed, not yet swept) is not
   * touched: its units are released by the sweep first. (Raw SQL: the repository API has no
   * DELETE … LIMIT.)
   */
  async deleteExpiredBefore(cutoff: Date, limit: number): Promise<number> {
    const res: { affectedRows: number } = await this.holds.query(
      `DELETE FROM holds WHERE status = 'expired' AND expires_at <= ? ORDER BY expires_at LIMIT ${Number(limit)}`,
      [cutoff],
    );
    return res.affectedRows;
  }

  /**
   * Up to `limit` converted holds whose `expires_at` is at or before `cutoff`, in (expires_at, id)
   * order after `after` (a cursor within one purge). Candidates only: whether their order has
   * ended is the order module's to say. No locks.
   */
  async convertedBefore(cutoff: Date, after: HoldCursor | undefined, limit: number): Promise<HoldCursor[]> {
    const cursor = after ? 'AND (expires_at > ? OR (expires_at = ? AND id > ?))' : '';
    const rows: Array<{ id: number | string; expires_at: Date }> = await this.holds.query(
      `SELECT id, expires_at FROM holds WHERE status = 'converted' AND expires_at <= ? ${cursor} ORDER BY expires_at, id LIMIT ${Number(limit)}`,
      after ? [cutoff, after.expiresAt, after.expiresAt, after.id] : [cutoff],
    );
    return rows.map((r) => ({ id: Number(r.id), expiresAt: r.expires_at }));
  }

  /** Deletes these converted holds (a converted hold never changes again); returns how many. */
  async deleteConverted(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const res = await this.holds.delete({ id: In(ids), status: 'converted' });
    return res.affected ?? 0;
  }

  /**
   * The hold as stored. With a `buyer` (BUYER_AUTH=jwt) only that buyer's hold: another buyer's
   * is not found, exactly as an unknown id. Throws HoldNotFoundError.
   */
  async findOne(id: number, buyer?: string | null): Promise<Hold> {
    const hold = await this.holds.findOneBy(buyer ? { id, buyer } : { id });
    if (!hold) throw new HoldNotFoundError();
    return hold;
  }
}
