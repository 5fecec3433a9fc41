import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaymentEvent } from './payment-event.entity';
import { PaymentService } from './payment.service';

/** Owns the payment_events table. The webhook itself is a use case of src/checkout. */
@Module({
  imports: [TypeOrmModule.forFeature([PaymentEvent])],
  providers: [PaymentService],
  exports: [PaymentService],
})
export class PaymentModule {}
