import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyKey } from './idempotency-key.entity';
import { IdempotencyPurgeJob } from './idempotency-purge.job';
import { IdempotencyService } from './idempotency.service';

/**
 * Owns the idempotency_keys table: Idempotency-Key handling for the routes marked
 * @Idempotent(scope), the recording of answers inside the effects' transactions, and the purge job.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([IdempotencyKey])],
  providers: [IdempotencyService, IdempotencyPurgeJob],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
