import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
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
  providers: [IdempotencyService, IdempotencyGate, IdempotencyPurgeJob],
  exports: [IdempotencyService, IdempotencyGate],
})
export class IdempotencyModule {}
