CREATE TABLE "workers" (
	"id" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"version" text NOT NULL,
	"slots" integer NOT NULL,
	"busy" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "stalls" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "tier" text;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "aspect_ratio" text;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "revenue_usd" real;--> statement-breakpoint
ALTER TABLE "productions" ADD COLUMN "processing_cost_usd" real;