CREATE TABLE "budget_alerts" (
	"scope" text NOT NULL,
	"month" text NOT NULL,
	"threshold" real NOT NULL,
	"tenant_id" text,
	"budget_usd" real NOT NULL,
	"spent_usd" real NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_alerts_scope_month_threshold_pk" PRIMARY KEY("scope","month","threshold")
);
--> statement-breakpoint
CREATE TABLE "exports" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_tenant_id" text NOT NULL,
	"tenant_id" text,
	"requested_by" text,
	"format" text NOT NULL,
	"status" text NOT NULL,
	"from_at" timestamp with time zone NOT NULL,
	"to_at" timestamp with time zone NOT NULL,
	"statuses" jsonb,
	"rows" integer,
	"bytes" bigint,
	"storage_key" text,
	"filename" text,
	"error" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"worker_id" text,
	"heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"day" date NOT NULL,
	"tenant_id" text NOT NULL,
	"tier" text NOT NULL,
	"template" text NOT NULL,
	"aspect_ratio" text NOT NULL,
	"status" text NOT NULL,
	"productions" integer NOT NULL,
	"video_sec" double precision NOT NULL,
	"render_sec" double precision NOT NULL,
	"provider_usd" double precision NOT NULL,
	"processing_usd" double precision NOT NULL,
	"revenue_usd" double precision NOT NULL,
	"compared" integer NOT NULL,
	"estimated_usd" double precision NOT NULL,
	"actual_usd" double precision NOT NULL,
	CONSTRAINT "usage_daily_day_tenant_id_tier_template_aspect_ratio_status_pk" PRIMARY KEY("day","tenant_id","tier","template","aspect_ratio","status")
);
--> statement-breakpoint
CREATE TABLE "usage_daily_providers" (
	"day" date NOT NULL,
	"tenant_id" text NOT NULL,
	"tier" text NOT NULL,
	"template" text NOT NULL,
	"aspect_ratio" text NOT NULL,
	"status" text NOT NULL,
	"provider" text NOT NULL,
	"productions" integer NOT NULL,
	"video_sec" double precision NOT NULL,
	"render_sec" double precision NOT NULL,
	"provider_usd" double precision NOT NULL,
	"processing_usd" double precision NOT NULL,
	"revenue_usd" double precision NOT NULL,
	"compared" integer NOT NULL,
	"estimated_usd" double precision NOT NULL,
	"actual_usd" double precision NOT NULL,
	CONSTRAINT "usage_daily_providers_day_tenant_id_tier_template_aspect_ratio_status_provider_pk" PRIMARY KEY("day","tenant_id","tier","template","aspect_ratio","status","provider")
);
--> statement-breakpoint
CREATE TABLE "usage_rollup_state" (
	"id" integer PRIMARY KEY NOT NULL,
	"rolled_through" date NOT NULL,
	"refreshed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "experiments" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "auto_retries" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "stuck" jsonb;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "budget_thresholds" jsonb;--> statement-breakpoint
ALTER TABLE "exports" ADD CONSTRAINT "exports_owner_tenant_id_tenants_id_fk" FOREIGN KEY ("owner_tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "exports_owner_created_idx" ON "exports" USING btree ("owner_tenant_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "exports_expires_idx" ON "exports" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "usage_daily_tenant_day_idx" ON "usage_daily" USING btree ("tenant_id","day");--> statement-breakpoint
CREATE INDEX "usage_daily_providers_tenant_day_idx" ON "usage_daily_providers" USING btree ("tenant_id","day");--> statement-breakpoint
CREATE INDEX "productions_updated_idx" ON "productions" USING btree ("updated_at");