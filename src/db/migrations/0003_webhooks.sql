ALTER TABLE "tenants" ADD COLUMN "webhook_secret" text;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_production_idx" ON "webhook_deliveries" USING btree ("production_id","created_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "webhook_deliveries"."status" = 'pending';