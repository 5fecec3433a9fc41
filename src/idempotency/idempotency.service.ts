import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isDuplicateKey } from '../common/db-errors';
import { IdempotencyKeyInFlightError } from '../common/errors';
import { Tx } from '../database/transaction.service';

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A key stored IDEMPOTENCY_WINDOW_MS ago or earlier is forgotten: a request with it runs as new. */
function isForgotten(row: { created_at: Date }, now: number): boolean {
  return row.created_at.getTime() <= now - IDEMPOTENCY_WINDOW_MS;
}

/**
 * How long a claim is held for a request still working on it. Far longer than any request can run
 * (a queued hold is answered within HOLD_QUEUE_TIMEOUT_MS, a transaction gives up after four lock
 * waits), so it only ever lapses for a request whose instance died: its retries are 409 in flight
 * until then, and run afresh afterwards.
 */
export const IDEMPOTENCY_CLAIM_LEASE_MS = 60_000;

/** A request that carries an Idempotency-Key and holds its claim: only it may answer the key. */
export interface IdempotencyClaim {
  scope: string;
  key: string;
  hash: string;
  /** Random per request; the row's `claim_token` while this request holds the claim. */
  token: string;
}

export interface StoredAnswer {
  hash: string;
  status: number;
  body: unknown;
}

/** The answer an effect's transaction records for its claim. */
export interface ClaimAnswer {
  claim: IdempotencyClaim;
  status: number;
  body: unknown;
}

/**
 * Raised inside an effect's transaction when its claim is no longer its own (its lease lapsed and
 * another request took the key over); the effect rolls back and the caller replays or says 409.
 */
export class IdempotencyKeyTakenError extends Error {
  constructor() {
    super('idempotency key claimed by another request');
  }
}

interface KeyRow {
  request_hash: string;
  status_code: number | string | null;
  response_body: string | null;
  claim_token: string | null;
  claimed_until: Date | null;
  created_at: Date;
}

/**
 * Idempotency-Key records, shared by all instances through the database, in two steps:
 *
 * 1. `claim`, before any work: one committed row per (scope, key) says who is answering it (the
 *    scope: the route, and the buyer when there is one; buyerKeyScope). A retry on any instance
 *    finds the row: the stored answer to replay, or a claim in flight (409).
 * 2. The answer is filled in by the claimant only: a successful effect in its own transaction
 *    (`fill`), so an effect never exists without its answer; a refusal (4xx) afterwards
 *    (`recordAnswer`); a failure (5xx) gives the claim up (`release`).
 *
 * A claimant that dies leaves an unanswered claim; it lapses after IDEMPOTENCY_CLAIM_LEASE_MS and
 * the next request with the key takes it over. Every fill is conditional on the claim being still
 * the filler's own, so a taken-over claim can never get two answers or two effects.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims the key for this request, or returns its stored answer (same or other body: the caller
   * compares hashes). Throws IdempotencyKeyInFlightError while another request holds the claim.
   * A stored answer older than 24 h, or a claim past its lease, is taken over.
   */
  async claim(scope: string, key: string, hash: string): Promise<{ claim: IdempotencyClaim } | { stored: StoredAnswer }> {
    const claim: IdempotencyClaim = { scope, key, hash, token: randomBytes(16).toString('hex') };
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = new Date();
      const leaseEnd = new Date(now.getTime() + IDEMPOTENCY_CLAIM_LEASE_MS);
      try {
        await this.dataSource.query(
          `INSERT INTO idempotency_keys (scope, idem_key, request_hash, claim_token, claimed_until, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          [scope, key, hash, claim.token, leaseEnd, now],
        );
        return { claim };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const row = await this.read(scope, key);
      if (!row) continue; // purged meanwhile: claim again
      const forgotten = isForgotten(row, now.getTime());
      const abandoned = row.status_code === null && (row.claimed_until === null || row.claimed_until.getTime() <= now.getTime());
      if (!forgotten && !abandoned) {
        if (row.status_code === null) throw new IdempotencyKeyInFlightError();
        return { stored: toStored(row) };
      }
      // Take the key over, only if nobody changed the row since it was read.
      const res: { affectedRows: number } = await this.dataSource.query(
        `UPDATE idempotency_keys
            SET request_hash = ?, status_code = NULL, response_body = NULL, claim_token = ?, claimed_until = ?, created_at = ?
          WHERE scope = ? AND idem_key = ? AND created_at = ? AND claim_token <=> ? AND status_code <=> ?`,
        [hash, claim.token, leaseEnd, now, scope, key, row.created_at, row.claim_token, row.status_code],
      );
      if (res.affectedRows === 1) return { claim };
    }
    throw new IdempotencyKeyInFlightError();
  }

  /**
   * The answer stored for a key, or undefined while it is only claimed (or unknown, or forgotten:
   * older than 24 h, as `claim` judges it, so the next request runs as new and is no replay).
   */
  async find(scope: string, key: string): Promise<StoredAnswer | undefined> {
    const row = await this.read(scope, key);
    if (!row || row.status_code === null) return undefined;
    return isForgotten(row, Date.now()) ? undefined : toStored(row);
  }

  /**
   * Records the answers of successful effects inside the effects' own transaction, with one
   * statement for all of them. Throws IdempotencyKeyTakenError (rolling the effects back) when a
   * claim is no longer its request's own; `stillClaimed` then tells which ones are.
   */
  async fill(tx: Tx, answers: ClaimAnswer[]): Promise<void> {
    if (answers.length === 0) return;
    for (const scope of new Set(answers.map((a) => a.claim.scope))) {
      const list = answers.filter((a) => a.claim.scope === scope);
      const marks = list.map(() => '?').join(', ');
      const res: { affectedRows: number } = await tx.manager.query(
        `UPDATE idempotency_keys
            SET status_code = CASE idem_key ${list.map(() => 'WHEN ? THEN ?').join(' ')} END,
                response_body = CASE idem_key ${list.map(() => 'WHEN ? THEN ?').join(' ')} END,
                claimed_until = NULL
          WHERE scope = ? AND idem_key IN (${marks}) AND claim_token IN (${marks}) AND status_code IS NULL`,
        [
          ...list.flatMap((a) => [a.claim.key, a.status]),
          ...list.flatMap((a) => [a.claim.key, JSON.stringify(a.body)]),
          scope,
          ...list.map((a) => a.claim.key),
          ...list.map((a) => a.claim.token),
        ],
      );
      if (res.affectedRows !== list.length) throw new IdempotencyKeyTakenError();
    }
  }

  /** Which of these claims are still their requests' own and unanswered. */
  async stillClaimed(claims: IdempotencyClaim[]): Promise<Set<IdempotencyClaim>> {
    const out = new Set<IdempotencyClaim>();
    for (const c of claims) {
      const row = await this.read(c.scope, c.key);
      if (row && row.status_code === null && row.claim_token === c.token) out.add(c);
    }
    return out;
  }

  /**
   * Records a refusal (any 4xx) as the key's answer, on its own. Returns false when the claim is
   * no longer this request's: its answer is then not the key's, and must not be sent.
   */
  async recordAnswer(claim: IdempotencyClaim, status: number, body: unknown): Promise<boolean> {
    const res: { affectedRows: number } = await this.dataSource.query(
      `UPDATE idempotency_keys SET status_code = ?, response_body = ?, claimed_until = NULL
        WHERE scope = ? AND idem_key = ? AND claim_token = ? AND status_code IS NULL`,
      [status, JSON.stringify(body), claim.scope, claim.key, claim.token],
    );
    return res.affectedRows === 1;
  }

  /** Gives up an unanswered claim (the request failed with 5xx), so a retry runs at once. */
  async release(claim: IdempotencyClaim): Promise<void> {
    await this.dataSource.query('DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND claim_token = ? AND status_code IS NULL', [
      claim.scope,
      claim.key,
      claim.token,
    ]);
  }

  private async read(scope: string, key: string): Promise<KeyRow | undefined> {
    const rows: KeyRow[] = await this.dataSource.query(
      `SELECT request_hash, status_code, response_body, claim_token, claimed_until, created_at
         FROM idempotency_keys WHERE scope = ? AND idem_key = ?`,
      [scope, key],
    );
    return rows[0];
  }
}

function toStored(row: KeyRow): StoredAnswer {
  return { hash: row.request_hash, status: Number(row.status_code), body: JSON.parse(row.response_body ?? 'null') as unknown };
}
