import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { STORED_ANSWERS } from '../http/rate-limit';
import { IdempotencyGate } from './idempotency-gate';
import { IdempotencyKey } from './idempotency-key.entity';
import { IdempotencyPurgeJob } from './idempotency-purge.job';
import { IdempotencyService } from './idempotency.service';

/**
 * Owns the idempotency_keys table: Idempotency-Key handling for the routes that run their work
 * through IdempotencyGate, the recording of answers inside the effects' transactions, and the purge job.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([IdempotencyKey])],
  // STORED_ANSWERS: the rate limits let a replay through uncounted (src/http/rate-limit.ts).
  providers: [IdempotencyService, IdempotencyGate, IdempotencyPurgeJob, { provide: STORED_ANSWERS, useExisting: IdempotencyService }],
  exports: [IdempotencyService, IdempotencyGate, STORED_ANSWERS],
})
export class IdempotencyModule {}
