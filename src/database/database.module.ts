import { DynamicModule, Global, Inject, Module, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, DbType } from '../config/config';
import { configureSessions, dataSourceOptions, queryTimeoutOptions } from './data-source';
import { TransactionService } from './transaction.service';

/**
 * The pool (entities are registered by their own modules through TypeOrmModule.forFeature and
 * picked up by autoLoadEntities) and the TransactionService every use case opens its transaction with.
 */
@Global()
@Module({})
export class DatabaseModule implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  static forRoot(config: AppConfig, type: DbType): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(config, type), ...queryTimeoutOptions(config), autoLoadEntities: true, retryAttempts: 0 })],
      providers: [TransactionService],
      exports: [TransactionService],
    };
  }

  async onModuleInit(): Promise<void> {
    await configureSessions(this.dataSource, this.config);
  }
}
