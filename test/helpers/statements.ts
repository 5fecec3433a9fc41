import { DataSource } from 'typeorm';

/**
 * Counts the SQL statements the application sends through TypeORM (every query of every query
 * runner passes through the data source's logger) while `work` runs. `match` narrows the count,
 * e.g. to reads of one table.
 */
export async function countStatements<T>(dataSource: DataSource, work: () => Promise<T>, match: RegExp = /./): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const logger = dataSource.logger;
  const original = logger.logQuery.bind(logger);
  logger.logQuery = (query, parameters, runner) => {
    if (match.test(query)) statements.push(query);
    return original(query, parameters, runner);
  };
  try {
    const result = await work();
    return { result, statements };
  } finally {
    logger.logQuery = original;
  }
}
