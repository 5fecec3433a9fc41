import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The order listing filtered by status and product together (`GET /api/orders?status=…&product_id=…`)
 * reads `(product_id, status, id)`: the product's orders of that status, already in id order, so
 * a page reads about as many rows as it shows. Before it, such a page walked `(status, id)` over
 * every order of that status, filtering on the product (on a year of drops, tens of thousands of
 * rows for one page). The listing names the index it wants (OrderService.list).
 */
export class OrderListingIndexes1764000000007 implements MigrationInterface {
  name = 'OrderListingIndexes1764000000007';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders ADD KEY idx_orders_product_status_id (product_id, status, id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders DROP KEY idx_orders_product_status_id');
  }
}
