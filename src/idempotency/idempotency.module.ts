import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyKey } from './idempotency-key.entity';
import { IdempotencyPurgeJob } from './idempotency-purge.job';
import { IdempotencyService } from './idempotency.service';
import { STORED_ANSWERS } from '../http/rate-limit';

/**
 * Owns the idempotency_keys table: Idempotency-Key handling for the routes marked
 * @Idempotent(scope), the recording of answers inside the effects' transactions, and the purge job.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([IdempotencyKey])],
  // STORED_ANSWERS: the rate limits let a replay through uncounted (src/http/rate-limit.ts).
  providers: [IdempotencyService, IdempotencyPurgeJob, { provide: STORED_ANSWERS, useExisting: IdempotencyService }],
  exports: [IdempotencyService, STORED_ANSWERS],
})
export class IdempotencyModule {}
