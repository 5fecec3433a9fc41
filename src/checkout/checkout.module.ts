import { Module } from '@nestjs/common';
import { HoldModule } from '../hold/hold.module';
import { OrderModule } from '../order/order.module';
import { PaymentModule } from '../payment/payment.module';
import { ProductModule } from '../product/product.module';
import { CheckoutController } from './checkout.controller';
import { HoldExpiryJob } from './hold-expiry.job';
import { PlaceHoldService } from './place-hold.service';
import { PlaceOrderService } from './place-order.service';
import { SettlePaymentService } from './settle-payment.service';

/**
 * The use cases that span modules, each one transaction opened here and passed down to the
 * owning services: place a hold, place an order, settle a payment, expire lapsed holds. Nothing
 * below imports this module.
 */
@Module({
  imports: [ProductModule, HoldModule, OrderModule, PaymentModule],
  controllers: [CheckoutController],
  providers: [PlaceHoldService, PlaceOrderService, SettlePaymentService, HoldExpiryJob],
  exports: [HoldExpiryJob],
})
export class CheckoutModule {}
